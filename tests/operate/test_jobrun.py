"""start-job: progression, refusal of a concurrent run, DPU-seconds, failure, --follow."""

from __future__ import annotations

import contextlib
import json
import time

import pytest
from support.cli import run_cli
from support.json_shapes import check

from wcpipe.core.errors import ResourceFailed
from wcpipe.operate import jobrun
from wcpipe.operate import logs as oplogs
from wcpipe.spec.names import GLUE_JOB_LOG_GROUPS


def test_dpu_seconds_prefers_dpuseconds_then_workers_then_capacity() -> None:
    assert jobrun.dpu_seconds({"DPUSeconds": 42.5, "ExecutionTime": 100}) == 42.5
    assert (
        jobrun.dpu_seconds({"ExecutionTime": 100, "WorkerType": "G.2X", "NumberOfWorkers": 3})
        == 600
    )
    assert (
        jobrun.dpu_seconds({"ExecutionTime": 10, "WorkerType": "Standard", "MaxCapacity": 5.0})
        == 50
    )
    assert jobrun.dpu_seconds({}) is None


def test_wait_for_job_run_through_starting_and_running(octx, deployed, transitions) -> None:
    transitions("glue::job_run", 2)
    run_id = jobrun.start_job_run(octx)
    states: list[str] = []

    run = jobrun.wait_for_job_run(octx, run_id, on_poll=lambda r, _t: states.append(r.state))

    assert run.state == "SUCCEEDED"
    assert "STARTING" in states and "RUNNING" in states
    assert run.dpu_seconds == 123 * 2 * 1.0  # moto's ExecutionTime x 2 G.1X workers
    run.raise_if_failed(deployed.job)


def test_start_job_run_refuses_a_second_run(octx, deployed, transitions) -> None:
    transitions("glue::job_run", 100)
    first = jobrun.start_job_run(octx)
    with pytest.raises(jobrun.JobAlreadyRunning, match=first):
        jobrun.start_job_run(octx)


def test_concurrent_runs_exceeded_becomes_the_same_error(octx, deployed) -> None:
    from botocore.stub import Stubber

    glue = octx.client("glue")
    with Stubber(glue) as stub:
        stub.add_response(
            "get_job_runs", {"JobRuns": []}, {"JobName": deployed.job, "MaxResults": 25}
        )
        stub.add_client_error(
            "start_job_run",
            "ConcurrentRunsExceededException",
            expected_params={"JobName": deployed.job},
        )
        stub.add_response(
            "get_job_runs", {"JobRuns": [{"Id": "jr_other", "JobRunState": "RUNNING"}]}
        )
        with pytest.raises(jobrun.JobAlreadyRunning, match="jr_other"):
            jobrun.start_job_run(octx)


def test_failed_run_raises_with_error_message(octx, deployed, job_runs_fail) -> None:
    run = jobrun.wait_for_job_run(octx, jobrun.start_job_run(octx))
    assert run.state == "FAILED"
    with pytest.raises(ResourceFailed, match="Table or view not found"):
        run.raise_if_failed(deployed.job)


def test_follow_job_run_emits_lines_while_running(octx, deployed, world, transitions) -> None:
    transitions("glue::job_run", 2)
    logs = octx.client("logs")
    for group in GLUE_JOB_LOG_GROUPS:
        logs.create_log_group(logGroupName=group)
    run_id = jobrun.start_job_run(octx)
    logs.create_log_stream(logGroupName="/aws-glue/jobs/output", logStreamName=run_id)
    written: list[str] = []

    def glue_writes_a_line() -> None:
        n = len(written) + 1
        written.append(f"line {n}")
        logs.put_log_events(
            logGroupName="/aws-glue/jobs/output",
            logStreamName=run_id,
            logEvents=[{"timestamp": int(time.time() * 1000), "message": f"line {n}"}],
        )

    world.hooks.append(glue_writes_a_line)
    emitted: list[str] = []

    run = oplogs.follow_job_run(octx, run_id, lambda e: emitted.append(e.message))

    assert run.state == "SUCCEEDED"
    assert emitted == written  # every line, once, in order
    assert written


def test_cli_start_job_wait_prints_run(invoke, deployed, world, transitions) -> None:
    transitions("glue::job_run", 2)
    code, out, err = invoke("start-job", "--wait")
    assert code == 0, err
    assert "SUCCEEDED" in out and "DPU-seconds" in out and "jr_" in out


def test_cli_start_job_without_wait_prints_the_run_id(invoke, deployed, world) -> None:
    code, out, _ = invoke("start-job")
    assert code == 0
    assert out.strip().startswith("jr_")


def test_cli_start_job_json(invoke, deployed, world) -> None:
    code, out, _ = invoke("--output", "json", "start-job", "--wait")
    assert code == 0
    check(run_cli, "start-job", json.loads(out))
    assert json.loads(out)["state"] == "SUCCEEDED"


def test_cli_start_job_refuses_concurrent_run(invoke, deployed, world, transitions) -> None:
    transitions("glue::job_run", 100)
    assert invoke("start-job")[0] == 0
    code, _, err = invoke("start-job", "--wait")
    assert code == 1
    assert "already has a run in progress" in err


def test_cli_start_job_failed_exits_1_with_error(invoke, deployed, world, job_runs_fail) -> None:
    code, out, err = invoke("start-job", "--wait")
    assert code == 1
    assert "FAILED" in out
    assert job_runs_fail in err


def test_cli_start_job_follow_streams_lines(invoke, deployed, world, transitions, octx) -> None:
    transitions("glue::job_run", 2)
    logs = octx.client("logs")
    logs.create_log_group(logGroupName="/aws-glue/jobs/error")

    def glue_logs_to_the_latest_run() -> None:
        latest = jobrun.latest_run(octx)
        if latest is None:
            return
        with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
            logs.create_log_stream(logGroupName="/aws-glue/jobs/error", logStreamName=latest.id)
        logs.put_log_events(
            logGroupName="/aws-glue/jobs/error",
            logStreamName=latest.id,
            logEvents=[
                {"timestamp": int(time.time() * 1000), "message": "INFO loading attendance"}
            ],
        )

    world.hooks.append(glue_logs_to_the_latest_run)
    code, out, err = invoke("start-job", "--follow")
    assert code == 0, err
    assert "error INFO loading attendance" in out
    assert "SUCCEEDED" in out
