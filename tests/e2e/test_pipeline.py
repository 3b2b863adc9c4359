"""End to end through the `wcpipe` command on the offline sandbox (moto + PostgreSQL): up, run,
verify; a second data file brings only its rows; a new column makes `up` change what must change;
down leaves nothing. The only difference from AWS is the endpoint URL."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from support.paths import ROOT, SPEC_PATH
from support.requests import Requests
from support.sandbox import empty_warehouse
from support.sandbox import warehouse_rows as _rows

pytestmark = pytest.mark.e2e
SERVERLESS_DOMAIN = "redshift-serverless.amazonaws.com"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the FIFA project (spec + data) the test may change."""
    (tmp_path / "config").mkdir()
    shutil.copytree(ROOT / "data", tmp_path / "data")
    shutil.copy(SPEC_PATH, tmp_path / "config" / "pipeline.yaml")
    return tmp_path


@pytest.fixture(params=["provisioned", "serverless"])
def warehouse(request: pytest.FixtureRequest, project: Path, sandbox: Any) -> str:
    """The project's warehouse type: the spec's provisioned cluster (pipeline `fifa`), or Redshift
    Serverless (pipeline `fifa-sl`: the sandbox keeps a deleted job's bookmark under its name).
    The warehouse starts empty: in the sandbox one PostgreSQL database stands for `dev`
    whatever the cluster or namespace, and a `down` before keeps its data (README)."""
    empty_warehouse(sandbox.pg_dsn)
    spec = project / "config" / "pipeline.yaml"
    text = spec.read_text()
    assert "\n  type: provisioned\n" in text and "name: fifa\n" in text
    if request.param == "serverless":
        text = text.replace("\n  type: provisioned\n", "\n  type: serverless\n", 1)
        text = text.replace("name: fifa\n", "name: fifa-sl\n", 1)
    spec.write_text(text)
    return str(request.param)


def _pipeline_name(warehouse: str) -> str:
    return "fifa-sl" if warehouse == "serverless" else "fifa"


def _serverless_status(status: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The Serverless rows of `status --output json`, by resource key."""
    rows = {r["resource"]: r for r in status["resources"]}
    return {k: v for k, v in rows.items() if k.startswith("redshift-serverless.")}


def _left_on_serverless(sandbox: Any) -> list[str]:
    """What the sandbox's Redshift Serverless still lists (the tagging API does not see it)."""
    rs = sandbox.client("redshift-serverless")
    return [n["namespaceName"] for n in rs.list_namespaces()["namespaces"]] + [
        w["workgroupName"] for w in rs.list_workgroups()["workgroups"]
    ]


@pytest.fixture
def requests() -> Iterator[Requests]:
    """Every AWS operation wcpipe sends, with the SQL of Data API statements."""
    r = Requests.everywhere()
    yield r
    r.close()


def test_pipeline_lifecycle(
    sandbox: Any,
    project: Path,
    warehouse: str,
    wcpipe: Callable[..., Any],
    requests: Requests,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WCPIPE_POLL_INTERVAL", "0.1")
    spec = project / "config" / "pipeline.yaml"
    base = ["-c", str(spec), "--endpoint-url", sandbox.endpoint]

    # up creates everything; a second up sends no mutating request; plan reports no change.
    first = wcpipe(*base, "up", "--yes")
    assert first.code == 0, first
    requests.clear()
    second = wcpipe(*base, "up", "--yes")
    assert second.code == 0, second
    assert second.err.count("No changes.") == 1, second
    assert requests.mutating == []
    plan = wcpipe(*base, "--output", "json", "plan")
    assert plan.code == 0 and json.loads(plan.out)["pending"] == 0
    # Nothing to change: "No changes." once, no table of 23 "none" rows; CI's exit codes say so.
    quiet = wcpipe(*base, "plan", "--detailed-exitcode")
    assert quiet.code == 0, quiet
    assert quiet.out == "" and quiet.err.count("No changes.") == 1, quiet
    assert wcpipe(*base, "status", "--detailed-exitcode").code == 0
    status = wcpipe(*base, "--output", "json", "status")
    assert status.code == 0, status
    serverless = _serverless_status(json.loads(status.out))
    if warehouse == "serverless":  # the workgroup's state, endpoint and capacity
        facts = serverless["redshift-serverless.workgroup"]["facts"]
        assert facts == {
            "state": "AVAILABLE",
            "endpoint": f"wcpipe-fifa-sl.123456789012.us-east-1.{SERVERLESS_DOMAIN}:5439",
            "base_rpu": 8,
        }, facts
        assert serverless["redshift-serverless.namespace"]["state"] == "present"
    else:
        assert serverless == {}

    # run: crawl -> EventBridge -> Lambda -> job -> verify.
    run = wcpipe(*base, "run")
    assert run.code == 0, run
    assert _rows(sandbox, "SELECT count(*) FROM public.attendance") == [(22,)]
    assert _rows(sandbox, "SELECT highest_attendance FROM public.attendance WHERE year = 1950") == [
        (173850,)
    ]
    assert _rows(sandbox, "SELECT hosts FROM public.attendance WHERE year = 2002") == [
        ("South Korea Japan",)
    ]

    # A second file: only its rows arrive (bookmarks), nothing is doubled.
    extra = project / "data" / "future.csv"
    extra.write_text(
        ",Year,Hosts,Total_Attendance,Matches,Average_Attendance,Number,Venue,Game(s)\n"
        '23,2026,United States Canada Mexico,6000000,104,57692,"94,000[1]",'
        '"MetLife Stadium, New Jersey","Final"\n',
        encoding="utf-8",
    )
    text = spec.read_text().replace(
        '    - "../data/FIFA World Cup Attendance.csv"',
        '    - "../data/FIFA World Cup Attendance.csv"\n    - "../data/future.csv"',
    )
    spec.write_text(text)
    assert wcpipe(*base, "up", "--yes").code == 0
    requests.clear()
    again = wcpipe(*base, "--output", "json", "run")
    assert again.code == 0, again
    assert _rows(sandbox, "SELECT count(*), count(DISTINCT year) FROM public.attendance") == [
        (23, 23)
    ]
    assert _rows(sandbox, "SELECT highest_attendance FROM public.attendance WHERE year = 2026") == [
        (94000,)
    ]

    # A new column: `up` alters the table and updates the job, and nothing else.
    spec.write_text(
        spec.read_text().replace(
            "    - {name: games,",
            "    - {name: raw_highest, type: varchar(32), source: Number}\n    - {name: games,",
        )
    )
    plan = wcpipe(*base, "--output", "json", "plan")
    changed = {
        c["resource"]: c["fields"] for c in json.loads(plan.out)["changes"] if c["action"] != "none"
    }
    assert set(changed) == {"redshift-data.table", "glue.job"}, changed
    assert changed["redshift-data.table"] == ["column raw_highest"]
    # As Terraform shows it: each field, old -> new; exit 2 under --detailed-exitcode.
    shown = wcpipe(*base, "plan", "--detailed-exitcode")
    assert shown.code == 2, shown
    assert "column raw_highest: (none) -> varchar(32)" in shown.out, shown
    assert "DefaultArguments.--wcpipe_config.columns: +" in shown.out, shown
    summary = r"^2 change\(s\) pending, \d+ resource\(s\) unchanged$"
    assert re.search(summary, shown.err, re.M), shown
    drifted = wcpipe(*base, "status", "--detailed-exitcode")
    assert drifted.code == 2 and "differs: column raw_highest" in drifted.out, drifted
    assert wcpipe(*base, "up", "--yes").code == 0
    columns = _rows(
        sandbox,
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_name = 'attendance' AND column_name = 'raw_highest'",
    )
    assert columns == [("raw_highest",)]
    assert json.loads(wcpipe(*base, "--output", "json", "plan").out)["pending"] == 0

    # A change Redshift cannot make in place is planned as blocked, with the reason, and `up`
    # refuses it before it changes anything (it was planned as an update that `up` refused).
    spec.write_text(
        spec.read_text().replace(
            "{name: raw_highest, type: varchar(32)", "{name: raw_highest, type: integer"
        )
    )
    blocked = wcpipe(*base, "plan")
    assert blocked.code == 0, blocked
    assert "blocked" in blocked.out and "raw_highest: varchar(32) -> integer" in blocked.out
    assert "migrate by hand" in blocked.out, blocked
    requests.clear()
    refused = wcpipe(*base, "up", "--yes")
    assert refused.code == 1, refused
    assert "cannot change in place: Redshift table" in refused.err, refused
    assert requests.mutating == [], requests.mutating
    spec.write_text(
        spec.read_text().replace(
            "{name: raw_highest, type: integer", "{name: raw_highest, type: varchar(32)"
        )
    )

    # down leaves nothing tagged with the pipeline; a second down finds nothing.
    down = wcpipe(*base, "down", "--yes")
    assert down.code == 0, down
    tagging = sandbox.client("resourcegroupstaggingapi")
    owner = [{"Key": "wcpipe:pipeline", "Values": [_pipeline_name(warehouse)]}]
    left = tagging.get_resources(TagFilters=owner)
    assert [r["ResourceARN"] for r in left["ResourceTagMappingList"]] == []
    assert _left_on_serverless(sandbox) == []
    if warehouse == "serverless":
        assert "Redshift Serverless workgroup wcpipe-fifa-sl: deleted" in down.err
    assert "nothing to delete" in wcpipe(*base, "down", "--yes").err


def test_operating_commands_and_their_failure_paths(
    sandbox: Any, project: Path, wcpipe: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """run-crawler, start-job, logs, status and verify on the sandbox, including the paths where
    the Lambda errors (run names the hop and shows its log) and the warehouse disagrees."""
    monkeypatch.setenv("WCPIPE_POLL_INTERVAL", "0.1")
    spec = project / "config" / "pipeline.yaml"
    spec.write_text(
        spec.read_text()
        .replace("name: fifa\n", "name: fifa-ops\n")
        .replace("  name: attendance\n", "  name: attendance_ops\n")
    )
    base = ["-c", str(spec), "--endpoint-url", sandbox.endpoint]
    assert wcpipe(*base, "up", "--yes").code == 0

    # The S3 crawl's success starts the job through the rule and the Lambda: `run` watches it.
    assert wcpipe(*base, "run").code == 0
    crawl = wcpipe(*base, "run-crawler", "redshift")
    assert crawl.code == 0, crawl
    assert "dev_public_attendance_ops" in crawl.out and "year" in crawl.out

    # A run started by hand: bookmarks leave nothing new to load, and it succeeds.
    job = wcpipe(*base, "--output", "json", "start-job", "--wait")
    assert job.code == 0, job
    assert json.loads(job.out)["state"] == "SUCCEEDED"
    logs = wcpipe(*base, "logs", "job")
    assert logs.code == 0 and "wcpipe-counts" in logs.out, logs

    status = wcpipe(*base, "--output", "json", "status")
    assert status.code == 0, status
    states = {r["resource"]: r["state"] for r in json.loads(status.out)["resources"]}
    assert set(states.values()) == {"present"}, states

    # A row doubled in the warehouse: verify exits 1 and names the figures.
    with sandbox.pg_connect("dev") as conn:
        conn.execute(
            "INSERT INTO public.attendance_ops SELECT * FROM public.attendance_ops LIMIT 1"
        )
    bad = wcpipe(*base, "verify")
    assert bad.code == 1, bad
    assert "MISMATCH" in bad.out and "rows" in bad.err

    # The Lambda errors (its job name is wrong): `run` says the Lambda hop failed, with its log.
    lam = sandbox.client("lambda")
    fn = "wcpipe-fifa-ops-start-job"
    env = lam.get_function_configuration(FunctionName=fn)["Environment"]["Variables"]
    lam.update_function_configuration(
        FunctionName=fn, Environment={"Variables": {**env, "GLUE_JOB_NAME": "no-such-job"}}
    )
    failed = wcpipe(*base, "run", "--appear-timeout", "5")
    assert failed.code == 1, failed
    assert "Lambda" in failed.err and "no-such-job" in failed.err + failed.out

    assert wcpipe(*base, "down", "--yes").code == 0
