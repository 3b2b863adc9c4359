"""Fixtures for the reliability and security tests (issue 6).

- `sandbox`: one offline AWS (moto server + embedded PostgreSQL) for the whole package; it is
  stopped when the package's last test ends, so moto's state never leaks into other packages.
- `pipeline`: a fresh pipeline per test. Tests share the sandbox, so each pipeline gets its own
  name (every physical name and the ownership tag derive from it), its own VPC (so its security
  group, S3 gateway endpoint and subnets are its alone) and its own warehouse database.
- `Pipeline.cli(...)`: run the `wcpipe` entry point in-process against the sandbox, capturing
  exit code, stdout and stderr; `Pipeline.sh(...)` runs it as a child process.
- `Faults`: deterministic transient faults injected client-side through `wcpipe.core.aws.instrument`
  (a `before-send` hook answers in place of the server); botocore's standard retry mode must
  absorb them. Its backoff sleeps are recorded and skipped (`no_retry_sleep`).
- `inventory(...)`: everything tagged with a pipeline, through the tagging API and each service's
  own listing, to compare with what the pipeline declares.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from support.cli import CliResult, run_cli
from support.paths import FIFA_CSV, ROOT, SPEC_PATH

HELPERS = Path(__file__).resolve().parent / "helpers"
_names = itertools.count(1)


FIGURES: list[str] = []


def report(line: str) -> None:
    """A measured figure: listed at the end of the pytest run (see pytest_terminal_summary)."""
    FIGURES.append(line)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if FIGURES:
        terminalreporter.section("reliability figures")
        for line in FIGURES:
            terminalreporter.write_line(line)


# The sandbox ------------------------------------------------------------------------------------


POLL_INTERVAL = "0.1"
"""WCPIPE_POLL_INTERVAL for every run here: the sandbox answers in well under a second."""


@pytest.fixture(scope="package")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from wcpipe.sandbox.core import Sandbox

    cache = tmp_path_factory.mktemp("lambda-cache")
    with pytest.MonkeyPatch.context() as mp, Sandbox(lambda_cache=cache) as sb:
        mp.setenv("WCPIPE_POLL_INTERVAL", POLL_INTERVAL)
        yield sb


def new_vpc(sandbox: Any) -> tuple[str, str]:
    """A VPC with two subnets in two zones (a Redshift subnet group and Glue want them)."""
    ec2 = sandbox.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
    first = ec2.create_subnet(VpcId=vpc, CidrBlock="10.42.1.0/24", AvailabilityZone="us-east-1a")
    ec2.create_subnet(VpcId=vpc, CidrBlock="10.42.2.0/24", AvailabilityZone="us-east-1b")
    return vpc, first["Subnet"]["SubnetId"]


# One pipeline -----------------------------------------------------------------------------------


@dataclass
class Pipeline:
    sandbox: Any
    spec_path: Path
    name: str
    vpc_id: str
    database: str
    run_cli: Callable[..., CliResult]
    env: dict[str, str] = field(default_factory=dict)

    @property
    def args(self) -> tuple[str, ...]:
        return ("-c", str(self.spec_path), "--endpoint-url", self.sandbox.endpoint)

    def cli(self, *args: str) -> CliResult:
        """`wcpipe -c <spec> --endpoint-url <sandbox> <args>` in this process."""
        return self.run_cli(*self.args, *args)

    def sh(self, *args: str, wrapper: str | None = None, **env: str) -> subprocess.Popen[str]:
        """The same, as a child process (through `helpers/<wrapper>.py` if given)."""
        script = (
            [str(HELPERS / f"{wrapper}.py")]
            if wrapper
            else ["-c", "import sys; from wcpipe.cli import main; sys.exit(main())"]
        )
        return subprocess.Popen(
            [sys.executable, *script, *self.args, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **self.env, **env},
            cwd=self.spec_path.parent,
        )

    def client(self, service: str) -> Any:
        return self.sandbox.client(service)

    def names(self) -> Any:
        from wcpipe.spec.model import load_spec
        from wcpipe.spec.names import Names

        return Names.of(load_spec(self.spec_path), self.sandbox.account_id, self.sandbox.region)

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
        raw = yaml.safe_load(self.spec_path.read_text(encoding="utf-8"))
        change(raw)
        self.spec_path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")


def write_spec(directory: Path, name: str, vpc_id: str, subnet_id: str, database: str) -> Path:
    """The FIFA spec under another name, in its own VPC and warehouse database."""
    raw = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    data_dir = directory / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / FIFA_CSV.name).write_bytes(FIFA_CSV.read_bytes())
    raw["name"] = name
    raw["data"]["files"] = [f"data/{FIFA_CSV.name}"]
    raw["network"] = {"vpc_id": vpc_id, "subnet_id": subnet_id}
    raw["warehouse"]["database"] = database
    path = directory / "pipeline.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


def new_pipeline(
    sandbox: Any, directory: Path, run_cli: Callable[..., CliResult] = run_cli
) -> Pipeline:
    """A pipeline of its own (name, VPC, warehouse database) on `sandbox`, its spec in
    `directory`."""
    n = next(_names)
    name = f"rel{n}-{os.getpid() % 1000}"
    vpc, subnet = new_vpc(sandbox)
    database = f"rel{n}_{os.getpid() % 1000}"
    spec_path = write_spec(directory, name, vpc, subnet, database)
    env = {"AWS_ENDPOINT_URL": sandbox.endpoint, "PYTHONPATH": _pythonpath()}
    return Pipeline(sandbox, spec_path, name, vpc, database, run_cli, env)


@pytest.fixture
def pipeline(sandbox: Any, tmp_path: Path) -> Pipeline:
    return new_pipeline(sandbox, tmp_path)


def _pythonpath() -> str:
    paths = [ROOT / "src", ROOT / "tests", HELPERS]  # tests/: helpers/crash.py imports support
    return os.pathsep.join([*map(str, paths), os.environ.get("PYTHONPATH", "")])


# Faults -----------------------------------------------------------------------------------------

# botocore's hyphenized service ids of every client wcpipe builds: `before-send.<id>` is more
# specific than moto's own in-process `before-send` handler, so ours answers first either way.
SERVICES = (
    "s3",
    "iam",
    "sts",
    "ec2",
    "secrets-manager",
    "redshift",
    "redshift-data",
    "redshift-serverless",
    "glue",
    "lambda",
    "eventbridge",
    "cloudwatch-logs",
    "cloudwatch",
    "resource-groups-tagging-api",
)


class _Raw:
    """The minimum of urllib3's response that botocore reads from a response body."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


def error_response(protocol: str, status: int, code: str, message: str) -> Any:
    """An AWS error response in the service's own protocol (what the real service sends)."""
    from botocore.awsrequest import AWSResponse

    headers = {"x-amzn-RequestId": "injected-fault"}
    if protocol not in ("json", "rest-json"):
        # XML text: a message quoting a value with & or < (a password) must stay well-formed,
        # or botocore takes the answer for a garbled one and retries it against the server.
        from xml.sax.saxutils import escape

        code, message = escape(code), escape(message)
    if protocol in ("json", "rest-json"):
        body = json.dumps({"__type": code, "message": message}).encode()
        headers["Content-Type"] = "application/x-amz-json-1.1"
        headers["x-amzn-ErrorType"] = code
    elif protocol == "ec2":
        body = (
            f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error>"
            "</Errors><RequestID>injected-fault</RequestID></Response>"
        ).encode()
    elif protocol == "rest-xml":
        body = f"<Error><Code>{code}</Code><Message>{message}</Message></Error>".encode()
    else:  # query
        body = (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>"
            f"<Message>{message}</Message></Error><RequestId>injected-fault</RequestId>"
            "</ErrorResponse>"
        ).encode()
    return AWSResponse("https://injected.invalid/", status, headers, _Raw(body))


def _throttle(service: str, protocol: str) -> tuple[int, str, str]:
    """The throttling error each service really sends."""
    if service == "s3":
        return 503, "SlowDown", "Please reduce your request rate."
    if service == "ec2":
        return 503, "RequestLimitExceeded", "Request limit exceeded."
    if protocol == "query":
        return 400, "Throttling", "Rate exceeded"
    if service == "lambda":
        return 429, "TooManyRequestsException", "Rate exceeded"
    return 400, "ThrottlingException", "Rate exceeded"


def _server_error(protocol: str) -> tuple[int, str, str]:
    if protocol in ("json", "rest-json"):
        return 500, "InternalServiceException", "An internal error occurred."
    return 500, "InternalError", "We encountered an internal error. Please try again."


@dataclass
class Faults:
    """Every `every`-th first attempt of a request gets a transient error instead of an answer,
    alternating throttling and a 5xx. Retries are never faulted, so each injected fault must be
    absorbed by exactly one retry -- which the hook sees as `attempt=2` in `amz-sdk-request`."""

    every: int = 4
    seen: int = 0
    injected: dict[str, int] = field(default_factory=dict)
    retries: int = 0
    by_operation: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _remove: list[Callable[[], None]] = field(default_factory=list)

    def install(self) -> Faults:
        from wcpipe.core.aws import instrument

        for service in SERVICES:
            self._remove.append(instrument(f"before-send.{service}", self._before_send))
        return self

    def uninstall(self) -> None:
        for remove in self._remove:
            remove()
        self._remove.clear()

    @property
    def total(self) -> int:
        return sum(self.injected.values())

    def _before_send(self, request: Any, **kwargs: Any) -> Any:
        header = request.headers.get("amz-sdk-request", b"")
        header = header.decode() if isinstance(header, bytes) else str(header)
        event = str(kwargs.get("event_name", ""))  # before-send.<service>.<Operation>
        _, service, operation = [*event.split("."), "", ""][:3]
        with self._lock:
            if _attempt(header) != 1:
                self.retries += 1
                return None
            self.seen += 1
            if self.seen % self.every:
                return None
            throttling = (self.seen // self.every) % 2 == 1
            from botocore.session import get_session

            model = get_session().get_service_model(_model_name(service))
            protocol = model.metadata["protocol"]
            status, code, message = (
                _throttle(service, protocol) if throttling else _server_error(protocol)
            )
            self.injected[code] = self.injected.get(code, 0) + 1
            self.by_operation[f"{service}.{operation}"] = (
                self.by_operation.get(f"{service}.{operation}", 0) + 1
            )
        return error_response(protocol, status, code, message)


def _attempt(header: str) -> int:
    """The attempt number from `amz-sdk-request: attempt=N; max=M` (1 if absent)."""
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == "attempt" and value.isdigit():
            return int(value)
    return 1


_MODEL_NAMES = {
    "secrets-manager": "secretsmanager",
    "eventbridge": "events",
    "cloudwatch-logs": "logs",
    "resource-groups-tagging-api": "resourcegroupstaggingapi",
}


def _model_name(service_id: str) -> str:
    return _MODEL_NAMES.get(service_id, service_id)


def skip_retry_sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """botocore sleeps between retries with `time.sleep` in `botocore.endpoint`: record the
    delays it asks for instead of waiting them out (the only clock replaced there)."""
    import botocore.endpoint

    slept: list[float] = []

    class _Time:
        def __getattr__(self, name: str) -> Any:
            return getattr(time, name)

        @staticmethod
        def sleep(seconds: float) -> None:
            slept.append(seconds)

    monkeypatch.setattr(botocore.endpoint, "time", _Time())
    return slept


@pytest.fixture
def no_retry_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    return skip_retry_sleeps(monkeypatch)


@pytest.fixture
def faults(no_retry_sleep: list[float]) -> Iterator[Faults]:
    f = Faults().install()
    try:
        yield f
    finally:
        f.uninstall()


# What exists ------------------------------------------------------------------------------------


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


@contextlib.contextmanager
def timed(what: str) -> Iterator[None]:
    start = time.monotonic()
    yield
    report(f"{what}: {time.monotonic() - start:.1f}s")


# What exists, counted per declared resource through each service's own listing --------------------

DECLARED = {
    "S3 bucket": 1,
    "IAM role": 3,
    "secret": 1,
    "security group": 1,
    "security group ingress rule": 1,
    "S3 gateway endpoint": 1,
    "Redshift subnet group": 1,
    "Redshift cluster": 1,
    "CSV classifier": 1,
    "Glue database": 2,
    "Glue connection": 1,
    "Glue crawler": 2,
    "Glue job": 1,
    "Lambda function": 1,
    "invoke permission statement": 1,
    "log group": 1,
    "EventBridge rule": 1,
    "EventBridge target": 1,
}
"""What `up` declares, as each service lists it (the catalog tables come from crawls)."""


def census(pl: Pipeline) -> dict[str, int]:
    """How many of each declared resource exist, by the services' own list/describe calls
    (exact names; in the pipeline's own VPC for network resources)."""
    n, sb = pl.names(), pl.sandbox
    counts: dict[str, int] = {}
    counts["S3 bucket"] = sum(
        b["Name"] == n.bucket for b in sb.client("s3").list_buckets()["Buckets"]
    )
    roles = [r["RoleName"] for r in sb.client("iam").list_roles()["Roles"]]
    counts["IAM role"] = sum(r in (n.glue_role, n.lambda_role, n.redshift_role) for r in roles)
    secrets = sb.client("secretsmanager").list_secrets()["SecretList"]
    counts["secret"] = sum(s["Name"] == n.secret for s in secrets)
    ec2 = sb.client("ec2")
    in_vpc = [{"Name": "vpc-id", "Values": [pl.vpc_id]}]
    groups = [
        g
        for g in ec2.describe_security_groups(Filters=in_vpc)["SecurityGroups"]
        if g["GroupName"] == n.security_group
    ]
    counts["security group"] = len(groups)
    rules = 0
    for g in groups:
        found = ec2.describe_security_group_rules(
            Filters=[{"Name": "group-id", "Values": [g["GroupId"]]}]
        )["SecurityGroupRules"]
        rules += sum(not r.get("IsEgress") for r in found)
    counts["security group ingress rule"] = rules
    endpoints = ec2.describe_vpc_endpoints(Filters=in_vpc)["VpcEndpoints"]
    counts["S3 gateway endpoint"] = sum(
        e["ServiceName"].endswith(".s3") and e["State"].lower() not in ("deleted", "deleting")
        for e in endpoints
    )
    redshift = sb.client("redshift")
    counts["Redshift subnet group"] = sum(
        g["ClusterSubnetGroupName"] == n.cluster_subnet_group
        for g in redshift.describe_cluster_subnet_groups()["ClusterSubnetGroups"]
    )
    counts["Redshift cluster"] = sum(
        c["ClusterIdentifier"] == n.cluster for c in redshift.describe_clusters()["Clusters"]
    )
    glue = sb.client("glue")
    counts["CSV classifier"] = sum(
        c.get("CsvClassifier", {}).get("Name") == n.classifier
        for c in glue.get_classifiers()["Classifiers"]
    )
    databases = [d["Name"] for d in glue.get_databases()["DatabaseList"]]
    counts["Glue database"] = sum(d in (n.s3_database, n.redshift_database) for d in databases)
    counts["Glue connection"] = sum(
        c["Name"] == n.connection for c in glue.get_connections()["ConnectionList"]
    )
    counts["Glue crawler"] = sum(
        c["Name"] in (n.s3_crawler, n.redshift_crawler) for c in glue.get_crawlers()["Crawlers"]
    )
    counts["Glue job"] = sum(j["Name"] == n.job for j in glue.get_jobs()["Jobs"])
    counts["catalog table"] = sum(
        len(glue.get_tables(DatabaseName=d)["TableList"])
        for d in (n.s3_database, n.redshift_database)
        if d in databases
    )
    lam = sb.client("lambda")
    functions = [f["FunctionName"] for f in lam.list_functions()["Functions"]]
    counts["Lambda function"] = functions.count(n.function)
    statements = 0
    if n.function in functions:
        with contextlib.suppress(lam.exceptions.ResourceNotFoundException):
            policy = json.loads(lam.get_policy(FunctionName=n.function)["Policy"])
            statements = len(policy.get("Statement", []))
    counts["invoke permission statement"] = statements
    logs = sb.client("logs")
    counts["log group"] = sum(
        g["logGroupName"] == n.function_log_group
        for g in logs.describe_log_groups(logGroupNamePrefix=n.function_log_group)["logGroups"]
    )
    events = sb.client("events")
    rules_found = [r["Name"] for r in events.list_rules(NamePrefix=n.rule)["Rules"]]
    counts["EventBridge rule"] = rules_found.count(n.rule)
    counts["EventBridge target"] = (
        len(events.list_targets_by_rule(Rule=n.rule)["Targets"]) if n.rule in rules_found else 0
    )
    return counts


def duplicates(counts: dict[str, int]) -> dict[str, int]:
    """Resources that exist more often than declared (the catalog: at most one table per
    database)."""
    out = {k: v for k, v in counts.items() if k in DECLARED and v > DECLARED[k]}
    if counts.get("catalog table", 0) > 2:
        out["catalog table"] = counts["catalog table"]
    return out


def converged(counts: dict[str, int]) -> dict[str, tuple[int, int]]:
    """Where the census differs from the declared set: {kind: (found, declared)}."""
    return {k: (counts.get(k, 0), v) for k, v in DECLARED.items() if counts.get(k, 0) != v}


def leftovers(counts: dict[str, int]) -> dict[str, int]:
    return {k: v for k, v in counts.items() if v}
