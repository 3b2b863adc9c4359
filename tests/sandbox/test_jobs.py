"""Job runs run in the sandbox: the FIFA load into PostgreSQL, bookmarks, rejects, events, logs.

One sandbox for the module; the S3 crawler makes the source table, as in the pipeline. Runs go on
the sandbox's worker threads: `sandbox.idle()` waits until they have finished.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError
from support.catalog import s3_crawler
from support.paths import EVENTS_DIR, FIFA_CSV, SPEC_PATH
from support.sandbox import log_lines
from support.sandbox import warehouse_rows as rows

CSV = FIFA_CSV.read_bytes()
HEADER = CSV.split(b"\n", 1)[0] + b"\n"
ACCOUNT, REGION = "123456789012", "us-east-1"


@pytest.fixture(scope="module")
def spec() -> Any:
    from wcpipe.spec.model import load_spec

    return load_spec(SPEC_PATH)


@pytest.fixture(scope="module")
def names(spec: Any) -> Any:
    from wcpipe.spec.names import Names

    return Names.of(spec, ACCOUNT, REGION)


@pytest.fixture(scope="module")
def job(sandbox: Any, spec: Any, names: Any) -> str:
    """Data, classifier, crawled source table, the target table in PostgreSQL, and the job."""
    from wcpipe.sandbox import warehouse_pg
    from wcpipe.spec.job import job_arguments
    from wcpipe.warehouse import sql

    s3, glue = sandbox.client("s3"), sandbox.client("glue")
    s3_crawler(s3, glue, names, CSV)
    glue.start_crawler(Name=names.s3_crawler)
    assert sandbox.idle(timeout=10)
    with sandbox.pg_connect(spec.warehouse.database) as conn:
        for statement in warehouse_pg.to_pg_statements(sql.create_table(spec), None):
            conn.execute(statement)
    glue.create_job(
        Name=names.job,
        Role=names.role_arn(names.glue_role),
        Command={"Name": "glueetl", "ScriptLocation": f"s3://{names.bucket}/wcpipe/glue/load.py"},
        DefaultArguments={
            **job_arguments(spec, names),
            "--job-bookmark-option": "job-bookmark-enable",
        },
        ExecutionProperty={"MaxConcurrentRuns": 1},
        GlueVersion="4.0",
        WorkerType="G.1X",
        NumberOfWorkers=2,
    )
    return str(names.job)


def run(sandbox: Any, job_name: str, **kwargs: Any) -> dict[str, Any]:
    glue = sandbox.client("glue")
    sandbox.events.clear()
    run_id = glue.start_job_run(JobName=job_name, **kwargs)["JobRunId"]
    assert sandbox.idle(timeout=10)
    job_run: dict[str, Any] = glue.get_job_run(JobName=job_name, RunId=run_id)["JobRun"]
    return job_run


def counts(sandbox: Any, run_id: str) -> dict[str, int]:
    from wcpipe.datamap.transform import parse_counts_line

    found = [parse_counts_line(line) for line in log_lines(sandbox, run_id)]
    return next(c for c in found if c is not None)


def test_a_run_loads_the_fifa_file(sandbox: Any, job: str):
    job_run = run(sandbox, job)

    assert job_run["JobRunState"] == "SUCCEEDED", job_run.get("ErrorMessage")
    assert rows(sandbox, "SELECT count(*) FROM public.attendance") == [(22,)]
    assert rows(
        sandbox, "SELECT highest_attendance, hosts FROM public.attendance WHERE year = 1950"
    ) == [(173850, "Brazil")]
    assert rows(sandbox, "SELECT hosts FROM public.attendance WHERE year = 2002") == [
        ("South Korea Japan",)
    ]
    assert counts(sandbox, job_run["Id"]) == {"read": 23, "dropped": 1, "loaded": 22, "rejected": 0}
    assert job_run["ExecutionTime"] >= 1
    assert job_run["DPUSeconds"] == job_run["ExecutionTime"] * 2 * 1.0
    assert job_run["CompletedOn"] >= job_run["StartedOn"]
    assert job_run["Arguments"]["--job-bookmark-option"] == "job-bookmark-enable"
    assert "--wcpipe_config" in job_run["Arguments"]
    assert any(line.startswith("s3://") for line in log_lines(sandbox, job_run["Id"]))


def test_a_run_ends_with_a_succeeded_event_in_the_documented_shape(sandbox: Any, job: str):
    documented = json.loads((EVENTS_DIR / "job-succeeded.json").read_text())
    job_run = run(sandbox, job)

    [event] = [e for e in sandbox.events if e["detail-type"] == "Glue Job State Change"]
    assert set(event) == set(documented)
    assert set(event["detail"]) == set(documented["detail"])
    assert event["detail"] == {
        "jobName": job,
        "severity": "INFO",
        "state": "SUCCEEDED",
        "jobRunId": job_run["Id"],
        "message": "Job run succeeded",
    }
    assert (event["account"], event["region"], event["source"]) == (ACCOUNT, REGION, "aws.glue")


def test_with_no_new_objects_the_bookmark_loads_nothing(sandbox: Any, job: str):
    job_run = run(sandbox, job)

    assert job_run["JobRunState"] == "SUCCEEDED"
    assert counts(sandbox, job_run["Id"]) == {"read": 0, "dropped": 0, "loaded": 0, "rejected": 0}
    assert rows(sandbox, "SELECT count(*) FROM public.attendance") == [(22,)]
    bookmark = sandbox.client("glue").get_job_bookmark(JobName=job)["JobBookmarkEntry"]
    assert list(json.loads(bookmark["JobBookmark"])["objects"]) == ["raw/attendance/fifa.csv"]


def test_a_new_object_loads_only_its_rows(sandbox: Any, names: Any, job: str):
    new = HEADER + (
        b'23,2026,"Canada, Mexico, United States",6500000,104,62500,94000,'
        b'"MetLife Stadium, New Jersey","Final"\n'
    )
    sandbox.client("s3").put_object(Bucket=names.bucket, Key=f"{names.prefix}2026.csv", Body=new)
    job_run = run(sandbox, job)

    assert job_run["JobRunState"] == "SUCCEEDED", job_run.get("ErrorMessage")
    assert counts(sandbox, job_run["Id"]) == {"read": 1, "dropped": 0, "loaded": 1, "rejected": 0}
    assert rows(sandbox, "SELECT count(*) FROM public.attendance") == [(23,)]


def test_a_bad_value_fails_the_run_and_loads_nothing(sandbox: Any, names: Any, job: str):
    bad = HEADER + b'24,2030,Morocco,1000,many,10,100,"Stade, Casablanca",Final\n'
    sandbox.client("s3").put_object(Bucket=names.bucket, Key=f"{names.prefix}2030.csv", Body=bad)
    job_run = run(sandbox, job)

    assert job_run["JobRunState"] == "FAILED"
    assert "matches: 1 value(s) rejected" in job_run["ErrorMessage"]
    assert "'many'" in job_run["ErrorMessage"]
    assert "CompletedOn" in job_run
    assert rows(sandbox, "SELECT count(*) FROM public.attendance") == [(23,)]
    assert any(
        "rejected" in line for line in log_lines(sandbox, job_run["Id"], "/aws-glue/jobs/error")
    )
    [event] = [e for e in sandbox.events if e["detail-type"] == "Glue Job State Change"]
    documented = json.loads((EVENTS_DIR / "job-failed.json").read_text())
    assert set(event["detail"]) == set(documented["detail"])
    assert (event["detail"]["state"], event["detail"]["severity"]) == ("FAILED", "ERROR")
    assert event["detail"]["message"].startswith(
        f"JobName:{job} and JobRunId:{job_run['Id']} failed to execute with exception "
    )

    # The bookmark did not advance: once the file is fixed, the next run loads it.
    fixed = bad.replace(b",many,", b",2,")
    sandbox.client("s3").put_object(Bucket=names.bucket, Key=f"{names.prefix}2030.csv", Body=fixed)
    job_run = run(sandbox, job)
    assert job_run["JobRunState"] == "SUCCEEDED", job_run.get("ErrorMessage")
    assert counts(sandbox, job_run["Id"])["loaded"] == 1
    assert rows(sandbox, "SELECT matches FROM public.attendance WHERE year = 2030") == [(2,)]


def test_reset_bookmark_reads_everything_again_and_merge_keeps_one_row_per_year(
    sandbox: Any, job: str
):
    sandbox.client("glue").reset_job_bookmark(JobName=job)
    job_run = run(sandbox, job)

    assert job_run["JobRunState"] == "SUCCEEDED", job_run.get("ErrorMessage")
    assert counts(sandbox, job_run["Id"])["loaded"] == 24
    assert rows(sandbox, "SELECT count(*), count(DISTINCT year) FROM public.attendance") == [
        (24, 24)
    ]


def test_a_second_concurrent_run_is_refused(sandbox: Any, job: str):
    from wcpipe.sandbox.patches.job_run import SandboxJobRun

    fake_job = sandbox.backend("glue").get_job(job)
    active = SandboxJobRun(None, job_name=job)  # a run still STARTING
    fake_job.job_runs.append(active)
    try:
        with pytest.raises(ClientError) as err:
            sandbox.client("glue").start_job_run(JobName=job)
        assert err.value.response["Error"]["Code"] == "ConcurrentRunsExceededException"
    finally:
        fake_job.job_runs.remove(active)


def test_a_job_without_wcpipe_config_fails_with_the_reason(sandbox: Any, names: Any):
    glue = sandbox.client("glue")
    glue.create_job(
        Name="not-wcpipe",
        Role=names.role_arn(names.glue_role),
        Command={"Name": "glueetl", "ScriptLocation": "s3://x/y.py"},
    )
    job_run = run(sandbox, "not-wcpipe")

    assert job_run["JobRunState"] == "FAILED"
    assert "--wcpipe_config" in job_run["ErrorMessage"]


def staging_tables(sandbox: Any) -> list[tuple[Any, ...]]:
    return rows(
        sandbox, "SELECT table_name FROM information_schema.tables WHERE table_name ~ '_stg_'"
    )


def test_three_objects_load_and_are_counted_each(sandbox: Any, job: str):
    before = rows(sandbox, "SELECT * FROM public.attendance ORDER BY year")
    sandbox.client("glue").reset_job_bookmark(JobName=job)
    job_run = run(sandbox, job)

    assert job_run["JobRunState"] == "SUCCEEDED", job_run.get("ErrorMessage")
    assert counts(sandbox, job_run["Id"]) == {"read": 25, "dropped": 1, "loaded": 24, "rejected": 0}
    assert rows(sandbox, "SELECT * FROM public.attendance ORDER BY year") == before
    objects = [
        line.split(":")[1] for line in log_lines(sandbox, job_run["Id"]) if line.startswith("s3:")
    ]
    assert objects == sorted(objects) and len(objects) == 3
    assert staging_tables(sandbox) == []


@pytest.mark.parametrize(
    "body,reason",
    [
        (b'25,2034,Morocco,1000,many,10,100,"Stade, Casablanca",Final\n', "'many'"),
        (b"25,2034,\xff\xfe,1000,1,10,100,x,y\n", "2034.csv: Invalid Input Error"),
    ],
)
def test_a_failed_run_leaves_the_target_and_no_staging_table(
    sandbox: Any, names: Any, job: str, body: bytes, reason: str
):
    before = rows(sandbox, "SELECT * FROM public.attendance ORDER BY year")
    s3, key = sandbox.client("s3"), f"{names.prefix}2034.csv"
    s3.put_object(Bucket=names.bucket, Key=key, Body=HEADER + body)
    sandbox.client("glue").reset_job_bookmark(JobName=job)
    try:
        job_run = run(sandbox, job)
    finally:
        s3.delete_object(Bucket=names.bucket, Key=key)

    assert job_run["JobRunState"] == "FAILED"
    assert reason in job_run["ErrorMessage"]
    assert rows(sandbox, "SELECT * FROM public.attendance ORDER BY year") == before
    assert staging_tables(sandbox) == []
