"""The operator's policy, proven on the sandbox: `wcpipe iam-policy` prints it, the sandbox
authorises the operator's own requests as a role holding exactly those documents
(`started_sandbox(..., operator_policy=...)`, as `wcpipe sandbox serve --operator-policy`), and
the pipeline's whole life (up, run, verify, status, logs, down) runs under it, on both warehouse
types.

Necessary: a representative sample of the statements (SAMPLE: one of most services and of
every kind of check: an action on our ARN, iam:PassRole with iam:PassedToService, EC2's
aws:RequestTag condition, "*" for a call with no resource type, S3's objects, the Data API,
a read late in the life), each removed in turn, breaks the first command of the life that needs
it with AccessDenied naming an action of that statement. A sample, not all 31: each try is a
life up to the failure plus a `down` to start the next one clean (about 5 s; a whole life
15 s), and the full loop would take well over the 90 s this tier may spend. Left out on
purpose: `Bucket`, whose denial `up` reports as a bucket not ours (S3's HeadBucket answers a
bare 403 both for another account's bucket and for a caller without s3:ListBucket), and
`JobMetrics`, whose denial `status` shows as "unavailable" and goes on. The figure is printed."""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from support.cli import CliResult, run_cli
from support.paths import ROOT, SPEC_PATH
from support.sandbox import started_sandbox

from wcpipe.sandbox.core import DEFAULT_ACCOUNT
from wcpipe.sandbox.patches.actors import OPERATOR_ROLE, denials

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
SAMPLE = (
    "Roles",
    "PassGlueRole",
    "Objects",
    "Function",
    "DescribeNetwork",
    "CreateOwned",
    "DataApi",
    "ReadLogs",
)


@dataclass
class Operator:
    sandbox: Any
    base: list[str]
    documents: list[dict[str, Any]]
    version: int = 0

    def wcpipe(self, *args: str) -> CliResult:
        return run_cli(*self.base, *args)

    def life(self) -> tuple[str, CliResult]:
        """The commands of the life in order, up to the first that fails (or all)."""
        result = CliResult(0, "", "")
        for command in LIFE:
            result = self.wcpipe(*command)
            if result.code != 0:
                return command[0], result
        return "", result

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
        return [
            dict(d, Statement=[s for s in d["Statement"] if s["Sid"] != sid])
            for d in self.documents
        ]

    def statement(self, sid: str) -> dict[str, Any]:
        return next(s for d in self.documents for s in d["Statement"] if s["Sid"] == sid)


def _project(root: Path, warehouse: str) -> tuple[Path, list[dict[str, Any]]]:
    """The FIFA project with its warehouse type, and the policy `wcpipe iam-policy` writes."""
    (root / "config").mkdir(parents=True)
    shutil.copytree(ROOT / "data", root / "data")
    raw = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    raw["warehouse"]["type"] = warehouse
    spec = root / "config" / "pipeline.yaml"
    spec.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    printed = run_cli(
        "-c", str(spec), "iam-policy", "--account-id", DEFAULT_ACCOUNT,
        "--out-dir", str(root / "policy"),
    )  # fmt: skip
    assert printed.code == 0, printed
    files = sorted((root / "policy").glob("*.json"))
    return spec, [json.loads(f.read_text(encoding="utf-8")) for f in files]


@contextlib.contextmanager
def operating(warehouse_dsn: str, root: Path, warehouse: str) -> Iterator[Operator]:
    """A sandbox whose operator holds exactly the printed policy, and `wcpipe` run with the
    operator's credentials."""
    spec, documents = _project(root, warehouse)
    with (
        started_sandbox(warehouse_dsn, operator_policy=documents) as sandbox,
        pytest.MonkeyPatch.context() as mp,
    ):
        for key, value in sandbox.operator_credentials.items():
            mp.setenv(key, value)
        mp.setenv("WCPIPE_POLL_INTERVAL", "0.1")
        yield Operator(sandbox, ["-c", str(spec), "--endpoint-url", sandbox.endpoint], documents)


def _operator_denials(sandbox: Any) -> list[Any]:
    return [d for d in denials(sandbox) if d.actor.role_name == OPERATOR_ROLE]


@pytest.fixture
def operator(warehouse_dsn: str, tmp_path: Path) -> Iterator[Operator]:
    """One sandbox per test: sandboxes in one process share moto's state, so none is nested."""
    with operating(warehouse_dsn, tmp_path, "provisioned") as op:
        yield op


def test_the_whole_life_runs_under_exactly_the_printed_policy(operator: Operator) -> None:
    assert operator.sandbox.operator_credentials["AWS_ACCESS_KEY_ID"] != "testing"
    failed, result = operator.life()
    assert (failed, result.code) == ("", 0), result
    assert [d.message for d in _operator_denials(operator.sandbox)] == []
    # The operator was authorised, not waved through: its caller is the operator's role.
    who = operator.wcpipe("status", "--output", "json")
    assert who.code == 0, who


def test_the_whole_life_runs_under_the_serverless_policy(
    warehouse_dsn: str, tmp_path: Path
) -> None:
    with operating(warehouse_dsn, tmp_path, "serverless") as op:
        actions = {a for d in op.documents for s in d["Statement"] for a in _as_list(s["Action"])}
        assert "redshift-serverless:CreateWorkgroup" in actions
        failed, result = op.life()
        assert (failed, result.code) == ("", 0), result
        assert [d.message for d in _operator_denials(op.sandbox)] == []


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_removing_a_statement_breaks_the_command_that_needs_it(
    operator: Operator, capsys: pytest.CaptureFixture[str]
) -> None:
    broke: dict[str, str] = {}
    for sid in SAMPLE:
        actions = set(_as_list(operator.statement(sid)["Action"]))
        operator.hold(operator.without(sid))
        denials(operator.sandbox).clear()
        try:
            failed, result = operator.life()
        finally:
            operator.hold(operator.documents)
        denied = [d.action for d in _operator_denials(operator.sandbox) if d.action in actions]
        assert failed and denied, (sid, result)
        assert "not authorized" in result.err, (sid, result)
        assert any(a in result.err for a in denied), (sid, denied, result)
        assert "Traceback" not in result.err
        broke[sid] = f"{failed} ({denied[0]})"
        assert operator.wcpipe("down", "--yes").code == 0  # the next try starts clean
    statements = sum(len(d["Statement"]) for d in operator.documents)
    with capsys.disabled():
        print(
            f"\noperator policy: {len(SAMPLE)} of {statements} statements removed in turn, "
            f"{len(broke)} necessary: " + ", ".join(f"{k} -> {v}" for k, v in broke.items())
        )
    assert len(broke) == len(SAMPLE)
