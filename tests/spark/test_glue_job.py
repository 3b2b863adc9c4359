"""The shipped Glue job (`glue/load.py`) on Glue's own engine: real PySpark (pinned to Glue 5.1's
Spark), the shim `awsglue` (AWS's argument rules; the catalog read and the connector's
transaction on the sandbox), the lib zip exactly as `up` uploads it, run through the `wcpipe`
command on the sandbox (`Sandbox(glue_engine="spark")`).

Needs Java and pyspark (`pip install -e '.[dev]'`, a Java 17 runtime): without them the tier
fails with what to install, it is never skipped."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from support.paths import FIFA_CSV, SPEC_PATH
from support.sandbox import job_metrics, log_lines
from support.sandbox import warehouse_rows as _rows

from wcpipe.datamap.transform import parse_counts_line

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def sandbox(warehouse_dsn: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A sandbox whose job runs run on real Spark, on the session's PostgreSQL."""
    from support.sandbox import started_sandbox

    from wcpipe.sandbox.glue_runtime import engine

    engine.check()  # a missing Java or pyspark fails here, saying what to install
    cache = tmp_path_factory.mktemp("lambda")
    with started_sandbox(warehouse_dsn, glue_engine="spark", lambda_cache=cache) as sb:
        yield sb


def _project(tmp: Path, name: str, lines: list[str]) -> Path:
    """A FIFA project named `name`, loading table `public.<name>`, whose data is `lines` (header
    first) split over two files, so the job's source has two partitions."""
    (tmp / "config").mkdir()
    (tmp / "data").mkdir()
    header, rows = lines[0], lines[1:]
    half = len(rows) // 2
    for n, part in enumerate((rows[:half], rows[half:])):
        (tmp / "data" / f"part{n}.csv").write_text("".join([header, *part]), encoding="utf-8")
    spec = SPEC_PATH.read_text(encoding="utf-8")
    spec = spec.replace("name: fifa\n", f"name: {name}\n", 1)
    spec = spec.replace("  name: attendance\n", f"  name: {name}\n", 1).replace(
        '    - "../data/FIFA World Cup Attendance.csv"',
        '    - "../data/part0.csv"\n    - "../data/part1.csv"',
    )
    path = tmp / "config" / "pipeline.yaml"
    path.write_text(spec, encoding="utf-8")
    return path


def _fifa() -> list[str]:
    return FIFA_CSV.read_text(encoding="utf-8").splitlines(keepends=True)


def _job_log(sandbox: Any, job: str, group: str) -> list[str]:
    runs = sandbox.client("glue").get_job_runs(JobName=job)["JobRuns"]
    latest = max(runs, key=lambda r: r["StartedOn"])["Id"]
    return log_lines(sandbox, latest, group)


def _counts(lines: list[str]) -> dict[str, int]:
    found = [c for c in map(parse_counts_line, lines) if c is not None]
    assert len(found) == 1, lines
    return found[0]


def test_the_shipped_job_loads_the_fifa_file_on_real_spark(
    sandbox: Any, tmp_path: Path, wcpipe: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WCPIPE_POLL_INTERVAL", "0.2")
    spec = _project(tmp_path, "fifaspark", _fifa())
    base = ["-c", str(spec), "--endpoint-url", sandbox.endpoint]
    assert wcpipe(*base, "up", "--yes").code == 0

    # Every task of both partitions fails once, and no cached block fits in memory, so Spark
    # retries tasks and recomputes the cached mapping for the write: counts and rows stay exact.
    sandbox.glue_faults = {"fail_once": [0, 1], "evict": True}
    try:
        run = wcpipe(*base, "run")
    finally:
        sandbox.glue_faults = {}
    assert run.code == 0, run.err
    errors = _job_log(sandbox, "wcpipe-fifaspark-load", "/aws-glue/jobs/error")
    assert any("wcpipe fault:" in ln for ln in errors), "the faults did not fire"
    # The connector's checks of the TempDir's bucket found its lifecycle rule, as the job role:
    # none of their lines (awsglue/_bucket_checks.py).
    assert [ln for ln in errors if ln.startswith(("WARN Utils$: ", "ERROR Utils$: "))] == []
    table = "public.fifaspark"
    assert _rows(sandbox, f"SELECT count(*), count(DISTINCT year) FROM {table}") == [(22, 22)]
    assert _rows(sandbox, f"SELECT sum(total_attendance) FROM {table}") == [(43936730,)]
    assert _rows(sandbox, f"SELECT highest_attendance FROM {table} WHERE year = 1950") == [
        (173850,)
    ]
    assert _rows(sandbox, f"SELECT hosts FROM {table} WHERE year = 2002") == [
        ("South Korea Japan",)
    ]
    output = _job_log(sandbox, "wcpipe-fifaspark-load", "/aws-glue/jobs/output")
    assert _counts(output) == {"read": 23, "dropped": 1, "loaded": 22, "rejected": 0}
    # COPY ran as the Redshift role `up` created and attached, not on the job role's session.
    copy = [ln for ln in output if ln.startswith("wcpipe-glue: COPY")]
    role = "arn:aws:iam::123456789012:role/wcpipe-fifaspark-redshift"
    assert len(copy) == 1 and f"CREDENTIALS 'aws_iam_role={role}'" in copy[0], output
    assert wcpipe(*base, "verify").code == 0

    # A rerun with nothing new: the bookmark skips both files and the table is unchanged.
    again = wcpipe(*base, "start-job", "--wait")
    assert again.code == 0, again
    output = _job_log(sandbox, "wcpipe-fifaspark-load", "/aws-glue/jobs/output")
    assert _counts(output) == {"read": 0, "dropped": 0, "loaded": 0, "rejected": 0}
    assert _rows(sandbox, f"SELECT count(*) FROM {table}") == [(22,)]
    assert wcpipe(*base, "down", "--yes").code == 0


def test_rejects_fail_the_run_and_stay_counted_when_tasks_are_retried_from_the_cache(
    sandbox: Any, tmp_path: Path, wcpipe: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every task of both partitions fails once at the source and is retried. Counts kept in
    accumulators updated inside a transformation lose or double that attempt's updates (a
    script that used them SUCCEEDED here with 2 bad values and loaded the other 20 rows). The
    counts and rejects come from one aggregate action and stay exact: the run fails before
    writing, naming both values with the reference's reasons."""
    monkeypatch.setenv("WCPIPE_POLL_INTERVAL", "0.2")
    lines = _fifa()
    lines[2] = lines[2].replace(",363000,", ",363x000,")  # one bad value in each partition
    lines[20] = lines[20].replace(",64,", ",sixty-four,")
    spec = _project(tmp_path, "fifafault", lines)
    base = ["-c", str(spec), "--endpoint-url", sandbox.endpoint]
    assert wcpipe(*base, "up", "--yes").code == 0
    sandbox.glue_faults = {"fail_once": [0, 1]}
    try:
        run = wcpipe(*base, "run")
    finally:
        sandbox.glue_faults = {}
    assert run.code == 1, run
    assert "2 row(s) have values that do not fit the target table" in run.err, run.err
    assert "total_attendance: 1 value(s) rejected, e.g. '363x000': not an integer" in run.err
    assert "matches: 1 value(s) rejected, e.g. 'sixty-four': not an integer" in run.err
    output = _job_log(sandbox, "wcpipe-fifafault-load", "/aws-glue/jobs/output")
    assert _counts(output) == {"read": 23, "dropped": 1, "loaded": 20, "rejected": 2}
    assert _rows(sandbox, "SELECT count(*) FROM public.fifafault") == [(0,)]
    # The script published its counts before failing (glue/load.py step 7): nothing loaded.
    assert job_metrics(sandbox, "wcpipe-fifafault-load") == {
        "LoadsSucceeded": 0.0,
        "RowsDropped": 1.0,
        "RowsLoaded": 0.0,
        "RowsRead": 23.0,
        "RowsRejected": 2.0,
    }
    errors = _job_log(sandbox, "wcpipe-fifafault-load", "/aws-glue/jobs/error")
    assert any("wcpipe fault:" in ln for ln in errors), "the faults did not fire"
    assert wcpipe(*base, "down", "--yes").code == 0


def _without(sandbox: Any, role: str, sid: str) -> dict[str, Any]:
    """Remove statement `sid` from the role's inline policy; returns the policy as it was."""
    import json

    from wcpipe.provision.resources.iam import POLICY_NAME

    iam = sandbox.client("iam")
    doc = iam.get_role_policy(RoleName=role, PolicyName=POLICY_NAME)["PolicyDocument"]
    policy: dict[str, Any] = json.loads(doc) if isinstance(doc, str) else dict(doc)
    narrowed = dict(policy, Statement=[s for s in policy["Statement"] if s["Sid"] != sid])
    iam.put_role_policy(RoleName=role, PolicyName=POLICY_NAME, PolicyDocument=json.dumps(narrowed))
    return policy


def _put(sandbox: Any, role: str, policy: dict[str, Any]) -> None:
    import json

    from wcpipe.provision.resources.iam import POLICY_NAME

    sandbox.client("iam").put_role_policy(
        RoleName=role, PolicyName=POLICY_NAME, PolicyDocument=json.dumps(policy)
    )


def test_the_script_acts_as_the_job_role_and_copy_as_the_redshift_role(
    sandbox: Any, tmp_path: Path, wcpipe: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The script's own requests are signed with the job role's STS credentials, and COPY's
    reads with the Redshift role's: a statement either lacks fails the run there."""
    from wcpipe.sandbox.patches.actors import denials

    monkeypatch.setenv("WCPIPE_POLL_INTERVAL", "0.2")
    spec = _project(tmp_path, "fifadeny", _fifa())
    base = ["-c", str(spec), "--endpoint-url", sandbox.endpoint]
    assert wcpipe(*base, "up", "--yes").code == 0
    # The crawl's event starts the job through the Lambda: that run loads, as the job role.
    assert wcpipe(*base, "run-crawler", "s3").code == 0
    assert sandbox.idle(timeout=180)
    assert _rows(sandbox, "SELECT count(*) FROM public.fifadeny") == [(22,)]
    glue = sandbox.client("glue")
    job, glue_role, redshift_role = (
        "wcpipe-fifadeny-load",
        "wcpipe-fifadeny-glue",
        "wcpipe-fifadeny-redshift",
    )
    tries = {glue_role: "ReadData", redshift_role: "ReadTempDir"}
    for role, sid in tries.items():
        glue.reset_job_bookmark(JobName=job)  # the run reads (and COPYs) every file again
        deployed = _without(sandbox, role, sid)
        denials(sandbox).clear()
        try:
            run = wcpipe(*base, "start-job", "--wait")
        finally:
            _put(sandbox, role, deployed)
        assert run.code != 0, (role, run)
        denied = [(d.actor.role_name, d.action) for d in denials(sandbox)]
        assert (role, "s3:GetObject") in denied, (role, denied, run)
        errors = "\n".join(_job_log(sandbox, job, "/aws-glue/jobs/error"))
        # HeadObject's 403 has no body (the job's download); COPY's GetObject names the action.
        assert ("Forbidden" if role == glue_role else "s3:GetObject") in errors, errors[-2000:]
    # Nothing a denied run did reached the table (the first run's rows, untouched).
    assert _rows(sandbox, "SELECT count(*) FROM public.fifadeny") == [(22,)]
    # The connector's bucket checks denied: the run loads, and each check's warning quotes
    # S3's AccessDenied for the job role.
    glue.reset_job_bookmark(JobName=job)
    deployed = _without(sandbox, glue_role, "TempDirChecks")
    try:
        run = wcpipe(*base, "start-job", "--wait")
    finally:
        _put(sandbox, glue_role, deployed)
    assert run.code == 0, run
    errors = _job_log(sandbox, job, "/aws-glue/jobs/error")
    warned = [ln for ln in errors if ln.startswith("WARN Utils$: An error occurred")]
    actions = ["s3:GetBucketLocation", "s3:GetLifecycleConfiguration"]
    assert len(warned) == 2 and all(a in ln for a, ln in zip(actions, warned, strict=True)), errors
    assert _rows(sandbox, "SELECT count(*) FROM public.fifadeny") == [(22,)]  # merged again
    assert wcpipe(*base, "down", "--yes").code == 0
