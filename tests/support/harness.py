"""Pipelines of their own on a shared sandbox, run through the `wcpipe` command.

Tests share one sandbox, so each pipeline gets its own name (every physical name and the
ownership tag derive from it), its own VPC (so its security group, S3 gateway endpoint and
subnets are its alone) and its own warehouse database: `new_pipeline(sandbox, directory)`.
- `Pipeline.cli(...)`: `wcpipe -c <its spec> --endpoint-url <the sandbox> ...` in this process
  (`support.cli.run_cli`); `Pipeline.sh(...)` the same as a child process.
- `tagged(...)`: what the tagging API knows as the pipeline's; `wait_idle(...)`: let the
  sandbox's background work finish.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from support.cli import CliResult, run_cli
from support.paths import ROOT
from support.specs import rewrite_spec, write_spec

_names = itertools.count(1)


@dataclass
class Pipeline:
    sandbox: Any
    spec_path: Path
    name: str
    vpc_id: str
    database: str
    env: dict[str, str] = field(default_factory=dict)

    @property
    def args(self) -> tuple[str, ...]:
        return ("-c", str(self.spec_path), "--endpoint-url", self.sandbox.endpoint)

    def cli(self, *args: str) -> CliResult:
        """`wcpipe -c <spec> --endpoint-url <sandbox> <args>` in this process."""
        return run_cli(*self.args, *args)

    def sh(self, *args: str, script: Path | None = None, **env: str) -> subprocess.Popen[str]:
        """The same, as a child process (through the Python file `script` if given)."""
        program = (
            [str(script)]
            if script
            else ["-c", "import sys; from wcpipe.cli import main; sys.exit(main())"]
        )
        return subprocess.Popen(
            [sys.executable, *program, *self.args, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **self.env, **env},
            cwd=self.spec_path.parent,
        )

    def client(self, service: str) -> Any:
        return self.sandbox.client(service)

    def names(self) -> Any:
        from wcpipe.spec.names import Names

        return Names.of(self.spec(), self.sandbox.account_id, self.sandbox.region)

    def spec(self) -> Any:
        from wcpipe.spec.model import load_spec

        return load_spec(self.spec_path)

    def context(self, timing: Any = None) -> Any:
        """A library Context on the sandbox (with injected time if given)."""
        from wcpipe.core.aws import Aws
        from wcpipe.core.wait import Timing
        from wcpipe.provision.resources.base import Context

        aws = Aws(region=self.sandbox.region, endpoint_url=self.sandbox.endpoint)
        return Context(spec=self.spec(), aws=aws, timing=timing or Timing())

    def rewrite(self, change: Callable[[dict[str, Any]], None]) -> None:
        rewrite_spec(self.spec_path, change)


def new_vpc(sandbox: Any) -> tuple[str, str]:
    """A VPC with three subnets in three zones (a Redshift subnet group and Glue want two,
    a Redshift Serverless workgroup three)."""
    ec2 = sandbox.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
    # A new VPC has DNS hostnames off; the Secrets Manager endpoint's private DNS needs them.
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    first = ec2.create_subnet(VpcId=vpc, CidrBlock="10.42.1.0/24", AvailabilityZone="us-east-1a")
    ec2.create_subnet(VpcId=vpc, CidrBlock="10.42.2.0/24", AvailabilityZone="us-east-1b")
    ec2.create_subnet(VpcId=vpc, CidrBlock="10.42.3.0/24", AvailabilityZone="us-east-1c")
    return vpc, first["Subnet"]["SubnetId"]


def new_pipeline(sandbox: Any, directory: Path, warehouse: str = "provisioned") -> Pipeline:
    """A pipeline of its own (name, VPC, warehouse database) on `sandbox`, its spec in
    `directory`, on a `warehouse` of that type ("provisioned" or "serverless")."""
    n = next(_names)
    name = f"rel{n}-{os.getpid() % 1000}"
    vpc, subnet = new_vpc(sandbox)
    database = f"rel{n}_{os.getpid() % 1000}"
    spec_path = write_spec(directory, name, vpc, subnet, database, warehouse)
    # tests/ on the path: a child's script may import support (reliability/helpers/crash.py).
    path = os.pathsep.join(
        [str(ROOT / "src"), str(ROOT / "tests"), os.environ.get("PYTHONPATH", "")]
    )
    env = {"AWS_ENDPOINT_URL": sandbox.endpoint, "PYTHONPATH": path}
    return Pipeline(sandbox, spec_path, name, vpc, database, env)


def tagged(sandbox: Any, pipeline_name: str) -> list[str]:
    """ARNs the tagging API knows with `wcpipe:pipeline = <name>`."""
    from wcpipe.spec.names import OWNER_TAG

    client = sandbox.client("resourcegroupstaggingapi")
    arns: list[str] = []
    for page in client.get_paginator("get_resources").paginate(
        TagFilters=[{"Key": OWNER_TAG, "Values": [pipeline_name]}]
    ):
        arns += [r["ResourceARN"] for r in page["ResourceTagMappingList"]]
    return sorted(arns)


def wait_idle(sandbox: Any, timeout: float = 60.0) -> None:
    """Let the sandbox's background work (statements, crawls, runs, deliveries) finish."""
    assert sandbox.idle(timeout=timeout), "sandbox still busy"
