"""The operator's policy, proven on the sandbox: `wcpipe iam-policy` prints it, the sandbox
authorises the operator's own requests as a role holding exactly those documents
(`started_sandbox(..., operator_policy=...)`, as `wcpipe sandbox serve --operator-policy`), and
the pipeline's whole life (up, run, verify on Athena, status, logs, down) runs under it, for
both warehouse types, with alerts, and with trigger on-arrival; and for a second pipeline in
the VPC, which joins the first one's S3 gateway endpoint and, in another life, is the last out of
it (resources/ec2_endpoint.py: tagging, routing and deleting an endpoint it did not create).

Necessary: EVERY statement of each printed policy, removed in turn, breaks the command that
needs it with AccessDenied naming an action of that statement. Fast because each removal
replays only the command that first used the statement: one life under the whole policy
records, per command, which statement allowed each of the operator's requests
(`actors.record_grants`: the Sid of the allowing statement); then the statements are tried in
the order of their first use, each replaying its command on the pipeline as the previous try
left it (a failed `up` stops where the next statement's first use still lies ahead). Where
that state does not exercise the statement, the try is repeated once from a clean pipeline
brought to that command under the whole policy, so a statement is judged unnecessary only
from a clean start. A statement in several variants' policies is tried once (the second
pipeline's statements are its names in the same shapes), and one no variant uses is unused,
a failure. QUIET lists the
statements whose denial the command reports without naming the action (with why). The
figure is printed."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from support.cli import CliResult, run_cli
from support.paths import ROOT, SPEC_PATH
from support.sandbox import started_sandbox

from wcpipe.core.aws import Aws
from wcpipe.provision import engine
from wcpipe.provision.resources.base import Context
from wcpipe.provision.resources.ec2 import SecurityGroup, network
from wcpipe.provision.resources.ec2_endpoint import S3Endpoint, users
from wcpipe.provision.resources.ec2_endpoint_secrets import SecretsEndpoint
from wcpipe.sandbox.authz import Decision
from wcpipe.sandbox.core import DEFAULT_ACCOUNT
from wcpipe.sandbox.patches.actors import OPERATOR_ROLE, denials, record_grants
from wcpipe.spec.model import load_spec

pytestmark = pytest.mark.e2e

LIFE = (
    ("up", "--yes"),
    ("run-crawler", "redshift"),
    ("run", "--appear-timeout", "5"),
    ("verify",),
    ("status",),
    ("logs", "all"),
    ("down", "--yes"),
)
# With trigger on-arrival, `up`'s upload starts the crawl and the load by itself (the Lambda's
# work, as its role): the operator only brings the arrival resources up and down.
ARRIVAL_LIFE = (("up", "--yes"), ("status",), ("down", "--yes"))
# The second pipeline: its `up` joins the VPC's S3 gateway endpoint, its `down` leaves it (or,
# the last out, deletes it); the rest of its life is the first pipeline's in the same shapes.
PEER_LIFE = (("up", "--yes"), ("status",), ("down", "--yes"))
FIRST = "fifa"  # the project's pipeline (config/pipeline.yaml)
PEER = "peer"

# Statements whose removal the command reports without naming the action, and why.
QUIET = {
    # S3's HeadBucket answers a bare 403 (no message) both for another account's bucket and
    # for a caller without s3:ListBucket: `up` stops, saying the bucket is not ours.
    "Bucket": "up stops: the bucket answers 403 to HeadBucket, as another account's would",
    # A HEAD response has no body: S3 answers HeadObject's denial with a bare 403 (Amazon S3
    # API Reference, HeadObject: "the response ... does not include a response body").
    "Objects": "up stops: HeadObject of the code artifacts answers a bare 403",
    # `status` shows the job's metrics as unavailable and goes on (exit 0).
    "JobMetrics": "status shows the job metrics as unavailable",
}


@dataclass(frozen=True)
class Variant:
    label: str
    warehouse: str
    alerts: bool = False
    arrival: bool = False
    # Brought up first by the sandbox's own (unrestricted) credentials: a pipeline that had
    # this warehouse type and alerts, whose other resources the life's `up` removes (the
    # policy's Undeclared* statements: `resources.undeclared`).
    switched_from: str | None = None
    # Two pipelines share the VPC's S3 gateway endpoint. The project's pipeline made it, and
    # PEER's subnet is on a route table of its own (set up by the sandbox's own credentials).
    # This life is PEER's: "joins" - the first one is still there; "last-out" - PEER had joined
    # it and the first one left. Or the first one's: "creator-leaves" - PEER had joined it.
    peer: str | None = None

    @property
    def name(self) -> str:
        return PEER if self.peer in ("joins", "last-out") else FIRST

    @property
    def life(self) -> tuple[tuple[str, ...], ...]:
        return ARRIVAL_LIFE if self.arrival else PEER_LIFE if self.peer else LIFE

    def shape(self, statement: dict[str, Any]) -> str:
        """The statement as JSON, the pipeline's name as the first pipeline's: one shape."""
        text = json.dumps(statement, sort_keys=True)
        return re.sub(rf"(?<![a-z0-9]){self.name}(?![a-z0-9])", FIRST, text)


VARIANTS = (
    Variant("provisioned+alerts", "provisioned", alerts=True),
    Variant("serverless", "serverless", switched_from="provisioned"),
    Variant("on-arrival", "provisioned", arrival=True),
    Variant("joins-shared-endpoint", "provisioned", peer="joins"),
    Variant("last-out-of-shared-endpoint", "provisioned", peer="last-out"),
    Variant("creator-leaves-shared-endpoint", "provisioned", peer="creator-leaves"),
)


@dataclass
class Operator:
    sandbox: Any
    base: list[str]
    documents: list[dict[str, Any]]
    life: tuple[tuple[str, ...], ...]
    earlier: Callable[[], None] = lambda: None  # what a clean pipeline starts from
    version: int = 0
    position: int = 0  # the life's commands before this one ran under the whole policy

    def wcpipe(self, *args: str) -> CliResult:
        result = run_cli(*self.base, *args)
        # What a command set going (an arrival's crawl and load) ends before the next one.
        assert self.sandbox.idle(timeout=60)
        return result

    def hold(self, documents: list[dict[str, Any]]) -> None:
        """The operator's role holds exactly `documents` from now on (IAM's own API)."""
        iam = self.sandbox.client("iam")
        for attached in iam.list_attached_role_policies(RoleName=OPERATOR_ROLE)["AttachedPolicies"]:
            iam.detach_role_policy(RoleName=OPERATOR_ROLE, PolicyArn=attached["PolicyArn"])
        self.version += 1
        for n, document in enumerate(documents, 1):
            name = f"{OPERATOR_ROLE}-v{self.version}-{n}"
            arn = iam.create_policy(PolicyName=name, PolicyDocument=json.dumps(document))
            iam.attach_role_policy(RoleName=OPERATOR_ROLE, PolicyArn=arn["Policy"]["Arn"])

    def without(self, sid: str) -> list[dict[str, Any]]:
        """The documents without statement `sid` (a document left empty is not attached)."""
        kept = [
            dict(d, Statement=[s for s in d["Statement"] if s["Sid"] != sid])
            for d in self.documents
        ]
        return [d for d in kept if d["Statement"]]

    def statements(self) -> list[dict[str, Any]]:
        return [s for d in self.documents for s in d["Statement"]]

    def bring(self, k: int) -> None:
        """The life's commands before the k-th, run under the whole policy from where it is."""
        if self.position > k:
            assert self.wcpipe("down", "--yes").code == 0
            self.earlier()
            self.position = 0
        for command in self.life[self.position : k]:
            result = self.wcpipe(*command)
            assert result.code == 0, (command, result)
        self.position = k


def _spec(root: Path, variant: Variant) -> Path:
    """The FIFA project as `variant` has it."""
    (root / "config").mkdir(parents=True)
    shutil.copytree(ROOT / "data", root / "data")
    raw = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    assert raw["name"] == FIRST
    raw["name"] = variant.name
    raw["warehouse"]["type"] = variant.warehouse
    if variant.alerts:
        raw["alerts"] = {"email": ["ops@example.com"]}
    if variant.arrival:
        raw["trigger"] = "on-arrival"
    spec = root / "config" / "pipeline.yaml"
    spec.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return spec


def _project(root: Path, variant: Variant) -> tuple[Path, list[dict[str, Any]]]:
    """The variant's spec, and the policy `wcpipe iam-policy` writes for it."""
    spec = _spec(root, variant)
    printed = run_cli(
        "-c", str(spec), "iam-policy", "--account-id", DEFAULT_ACCOUNT,
        "--out-dir", str(root / "policy"),
    )  # fmt: skip
    assert printed.code == 0, printed
    files = sorted((root / "policy").glob("*.json"))
    return spec, [json.loads(f.read_text(encoding="utf-8")) for f in files]


@contextlib.contextmanager
def operating(warehouse_dsn: str, root: Path, variant: Variant) -> Iterator[Operator]:
    """A sandbox whose operator holds exactly the printed policy, and `wcpipe` run with the
    operator's credentials. One sandbox at a time: sandboxes in one process share moto's state."""
    spec, documents = _project(root, variant)
    with (
        started_sandbox(warehouse_dsn, operator_policy=documents) as sandbox,
        pytest.MonkeyPatch.context() as mp,
    ):
        mp.setenv("WCPIPE_POLL_INTERVAL", "0.1")
        unrestricted = {k: os.environ.get(k) for k in sandbox.operator_credentials}
        earlier = _earlier(root, variant, sandbox.endpoint, unrestricted)
        if variant.peer:
            with _as(unrestricted):
                earlier = _sharing(root, spec, sandbox, variant, unrestricted)
        earlier()
        for key, value in sandbox.operator_credentials.items():
            mp.setenv(key, value)
        base = ["-c", str(spec), "--endpoint-url", sandbox.endpoint]
        yield Operator(sandbox, base, documents, variant.life, earlier)


@contextlib.contextmanager
def _as(credentials: dict[str, str | None]) -> Iterator[None]:
    """Requests made meanwhile use `credentials` (the sandbox's own: unrestricted)."""
    with pytest.MonkeyPatch.context() as mp:
        for key, value in credentials.items():
            if value is None:
                mp.delenv(key, raising=False)
            else:
                mp.setenv(key, value)
        yield


def _earlier(
    root: Path, variant: Variant, endpoint: str, unrestricted: dict[str, str | None]
) -> Callable[[], None]:
    """`up` of the variant's earlier spec, with the sandbox's own (unrestricted) credentials."""
    if variant.switched_from is None:
        return lambda: None
    spec = _spec(root / "earlier", Variant("", variant.switched_from, alerts=True))

    def bring_up() -> None:
        with _as(unrestricted):
            up = run_cli("-c", str(spec), "--endpoint-url", endpoint, "up", "--yes")
        assert up.code == 0, up

    return bring_up


def _sharing(
    root: Path, spec: Path, sandbox: Any, variant: Variant, unrestricted: dict[str, str | None]
) -> Callable[[], None]:
    """PEER's spec placed in a subnet on a route table of its own, and what the variant's life
    starts from (each pipeline's S3Endpoint, SecurityGroup and SecretsEndpoint `ensure`/`down`,
    by the sandbox's credentials): the first pipeline's endpoints; PEER joined them ("last-out",
    "creator-leaves"); then the first one left ("last-out")."""
    aws = Aws(region=sandbox.region, endpoint_url=sandbox.endpoint)
    first = Context(spec=load_spec(SPEC_PATH), aws=aws)
    peer_spec = (
        spec
        if variant.name == PEER
        else _spec(root / "peer", Variant("", "provisioned", peer="joins"))
    )
    ec2 = first.client("ec2")
    net = network(first)
    subnet = net.subnet_ids[1]
    table = ec2.create_route_table(VpcId=net.vpc_id)["RouteTable"]["RouteTableId"]
    ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)
    raw = yaml.safe_load(peer_spec.read_text(encoding="utf-8"))
    raw["network"] = {**(raw.get("network") or {}), "subnet_id": subnet}
    peer_spec.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")

    def endpoints(ctx: Context) -> list[Any]:
        return [S3Endpoint(ctx), SecurityGroup(ctx), SecretsEndpoint(ctx)]

    def start() -> None:
        with _as(unrestricted):
            a = Context(spec=load_spec(SPEC_PATH), aws=aws)
            for resource in endpoints(a):
                assert resource.ensure() in ("created", "updated", "unchanged")
            if variant.peer == "joins":
                return
            b = Context(spec=load_spec(peer_spec), aws=aws)
            s3, group, secrets = endpoints(b)
            assert group.ensure() in ("created", "unchanged")
            for shared in (s3, secrets):  # joins both endpoints: makes neither
                assert shared.ensure() in ("updated", "unchanged")
            if variant.peer == "last-out":
                resources = endpoints(a)
                engine.destroy(a, resources, engine.plan_down(a, resources))
                for shared in (S3Endpoint(b), SecretsEndpoint(b)):
                    left = shared.describe()
                    assert left is not None and list(users(left.tags)) == [PEER]

    return start


def _operator(decisions: list[Decision]) -> list[Decision]:
    return [d for d in decisions if d.actor.role_name == OPERATOR_ROLE]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _first_uses(op: Operator) -> dict[str, tuple[int, int]]:
    """The whole life under the whole policy (nothing denied); for each statement that allowed
    one of the operator's requests, (the command, the request's place) of its first use."""
    grants = record_grants(op.sandbox)
    first: dict[str, tuple[int, int]] = {}
    for k, command in enumerate(op.life):
        start = len(grants)
        result = op.wcpipe(*command)
        assert result.code == 0, (command, result)
        for n, decision in enumerate(_operator(grants[start:]), start):
            if decision.statement is not None:
                first.setdefault(decision.statement, (k, n))
    assert [d.message for d in _operator(denials(op.sandbox))] == []
    grants.clear()
    op.earlier()  # the life ended with `down`: the pipeline is clean
    op.position = 0
    return first


@dataclass
class Figure:
    tried: int = 0
    failing: list[str] = field(default_factory=list)  # "Sid: command (action)"
    quiet: list[str] = field(default_factory=list)
    unused: list[str] = field(default_factory=list)  # no request of the life used them
    unnecessary: list[str] = field(default_factory=list)  # used, yet the command still ran
    seen: set[str] = field(default_factory=set)  # the statements tried: `Variant.shape`

    def line(self) -> str:
        necessary = len(self.failing) + len(self.quiet)
        return (
            f"operator policy: {self.tried} statements tried, {necessary} necessary "
            f"({len(self.failing)} fail their command naming the action, quiet: "
            f"{', '.join(self.quiet) or '-'}); unused: {', '.join(self.unused) or 'none'}; "
            f"unnecessary: {', '.join(self.unnecessary) or 'none'}"
        )


def _try(op: Operator, sid: str, k: int) -> tuple[CliResult, list[str]]:
    """The k-th command with `sid` removed, from the pipeline as it is; the denied actions of
    that statement."""
    actions = {a for s in op.statements() if s["Sid"] == sid for a in _as_list(s["Action"])}
    op.bring(k)
    denials(op.sandbox).clear()
    op.hold(op.without(sid))
    try:
        result = op.wcpipe(*op.life[k])
    finally:
        op.hold(op.documents)
    return result, [d.action for d in _operator(denials(op.sandbox)) if d.action in actions]


def _judge(op: Operator, figure: Figure, sid: str, k: int) -> None:
    result, denied = _try(op, sid, k)
    if not denied:  # this state did not exercise it: from a clean one
        op.position = len(op.life)  # `bring` starts from `down`
        result, denied = _try(op, sid, k)
    assert "Traceback" not in result.err, (sid, result)
    command = op.life[k][0]
    if not denied:
        figure.unnecessary.append(sid)
    elif sid in QUIET:
        figure.quiet.append(sid)
    else:
        assert result.code != 0, (sid, denied, result)
        assert "not authorized" in result.err, (sid, result)
        assert any(a in result.err for a in denied), (sid, denied, result)
        figure.failing.append(f"{sid}: {command} ({denied[0]})")


def test_every_statement_of_the_operator_policy_is_necessary(
    warehouse_dsn: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    figure = Figure()
    offered: dict[str, str] = {}  # each statement's shape -> where it was first offered
    for variant in VARIANTS:
        with operating(warehouse_dsn, tmp_path / variant.label, variant) as op:
            first = _first_uses(op)
            for s in op.statements():
                offered.setdefault(variant.shape(s), f"{variant.label}:{s['Sid']}")
            new = [s for s in op.statements() if s["Sid"] in first]
            new = [s for s in new if variant.shape(s) not in figure.seen]
            figure.seen |= {variant.shape(s) for s in new}
            for sid in sorted((s["Sid"] for s in new), key=first.__getitem__):
                figure.tried += 1
                _judge(op, figure, sid, first[sid][0])
            op.bring(len(op.life))  # down: the next variant starts clean
    figure.unused = [where for shape, where in offered.items() if shape not in figure.seen]
    with capsys.disabled():
        print(f"\n{figure.line()}")
    assert figure.unused == [], figure.line()
    assert figure.unnecessary == [], figure.line()
