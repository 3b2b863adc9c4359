"""run: the event-driven flow, and the diagnosis of the hop that failed."""

from __future__ import annotations

import json
import time

import pytest

from wcpipe.operate import flow

from .test_verify import answering, fifa_rows


@pytest.fixture
def lambda_starts_the_job(deployed, octx, world):  # type: ignore[no-untyped-def]
    """What EventBridge and the Lambda do in AWS: once the crawl is over, start one run."""
    glue = octx.client("glue")
    started: list[str] = []

    def start() -> None:
        state = glue.get_crawler(Name=deployed.s3_crawler)["Crawler"]["State"]
        if state == "READY" and not started:
            started.append(glue.start_job_run(JobName=deployed.job)["JobRunId"])

    world.hooks.append(start)
    return started


def test_pattern_problem() -> None:
    ok = {
        "source": ["aws.glue"],
        "detail-type": ["Glue Crawler State Change"],
        "detail": {"crawlerName": ["c"], "state": ["Succeeded"]},
    }
    assert flow.pattern_problem(json.dumps(ok), "c") is None
    assert "crawlerName" in (flow.pattern_problem(json.dumps(ok), "other") or "")
    failed = {**ok, "detail": {"crawlerName": ["c"], "state": ["Failed"]}}
    assert "state" in (flow.pattern_problem(json.dumps(failed), "c") or "")
    assert flow.pattern_problem(None, "c") == "the rule has no event pattern"


def test_run_flow_end_to_end(octx, deployed, data_api, athena, lambda_starts_the_job) -> None:
    data_api.answer(answering(octx, fifa_rows()))
    steps: list[str] = []

    result = flow.run_flow(octx, on_step=steps.append)

    assert result.run.id == lambda_starts_the_job[0]
    assert result.run.state == "SUCCEEDED"
    assert result.report.ok
    assert any("waiting for the job run" in s for s in steps)


def test_run_flow_ignores_runs_from_before(octx, deployed, data_api, world) -> None:
    octx.client("glue").start_job_run(JobName=deployed.job)  # an old run, already done
    with pytest.raises(flow.NoJobRun):
        flow.run_flow(octx, appear_timeout=60)
    assert world.clock.now <= 60 + 30


def test_no_run_rule_disabled(octx, deployed) -> None:
    octx.client("events").disable_rule(Name=deployed.rule)
    d = flow.diagnose(octx)
    assert d.hop == "rule" and "DISABLED" in d.message


def test_no_run_rule_pattern_names_another_crawler(octx, deployed) -> None:
    pattern = {"source": ["aws.glue"], "detail": {"crawlerName": ["someone-else"]}}
    octx.client("events").put_rule(Name=deployed.rule, EventPattern=json.dumps(pattern))
    d = flow.diagnose(octx)
    assert d.hop == "rule" and "did not match" in d.message and "someone-else" in d.message


def test_no_run_target_missing(octx, deployed) -> None:
    octx.client("events").remove_targets(Rule=deployed.rule, Ids=["start-job"])
    assert flow.diagnose(octx).hop == "target"


def test_no_run_permission_missing(octx, deployed) -> None:
    octx.client("lambda").remove_permission(
        FunctionName=deployed.function, StatementId=deployed.permission_sid
    )
    d = flow.diagnose(octx)
    assert d.hop == "permission" and "events.amazonaws.com" in d.message


def _lambda_errored(octx, deployed, message: str) -> None:  # type: ignore[no-untyped-def]
    """The Lambda's Errors metric and one log line, as after a failed invocation."""
    from datetime import UTC, datetime

    octx.client("cloudwatch").put_metric_data(
        Namespace="AWS/Lambda",
        MetricData=[
            {
                "MetricName": "Errors",
                "Value": 1,
                "Timestamp": datetime.now(UTC),
                "Dimensions": [{"Name": "FunctionName", "Value": deployed.function}],
            }
        ],
    )
    logs = octx.client("logs")
    logs.create_log_group(logGroupName=deployed.function_log_group)
    logs.create_log_stream(logGroupName=deployed.function_log_group, logStreamName="s")
    logs.put_log_events(
        logGroupName=deployed.function_log_group,
        logStreamName="s",
        logEvents=[
            {
                "timestamp": int(time.time() * 1000),
                "message": message,
            }
        ],
    )


def test_no_run_lambda_errored_shows_its_log(octx, deployed) -> None:
    _lambda_errored(octx, deployed, "RuntimeError: glue:StartJobRun failed")

    d = flow.diagnose(octx)

    assert d.hop == "lambda" and "errored" in d.message
    assert any("glue:StartJobRun" in line for line in d.log_lines)


def test_no_run_lambda_denied_names_the_action(octx, deployed) -> None:
    job = f"arn:aws:glue:us-east-1:123456789012:job/{deployed.job}"
    _lambda_errored(
        octx,
        deployed,
        "[ERROR] AccessDeniedException: An error occurred (AccessDeniedException) when calling "
        "the StartJobRun operation: User: arn:aws:sts::123456789012:assumed-role/r/f is not "
        f"authorized to perform: glue:StartJobRun on resource: {job} because no "
        "identity-based policy allows the glue:StartJobRun action",
    )

    d = flow.diagnose(octx)

    assert d.hop == "lambda"
    assert d.message == (
        f"the Lambda {deployed.function} was denied glue:StartJobRun on {job}: its execution "
        f"role {deployed.lambda_role} does not allow it"
    )


def test_no_run_lambda_never_invoked(octx, deployed) -> None:
    d = flow.diagnose(octx)
    assert d.hop == "rule" and "was not invoked" in d.message


def test_cli_run_end_to_end(
    invoke, octx, deployed, data_api, athena, lambda_starts_the_job
) -> None:
    data_api.answer(answering(octx, fifa_rows()))
    code, out, err = invoke("run")
    assert code == 0, err
    assert "SUCCEEDED" in out and "verify public.attendance" in out


def test_cli_run_no_job_run_names_the_hop(invoke, deployed, octx) -> None:
    octx.client("lambda").remove_permission(
        FunctionName=deployed.function, StatementId=deployed.permission_sid
    )
    code, _, err = invoke("run", "--appear-timeout", "30")
    assert code == 1
    assert "no job run started within 30s" in err
    assert "does not allow EventBridge" in err


def test_cli_run_job_failed_exits_1(
    invoke, octx, deployed, job_runs_fail, lambda_starts_the_job
) -> None:
    code, _, err = invoke("run")
    assert code == 1
    assert job_runs_fail in err


def test_cli_run_verify_mismatch_exits_1(
    invoke, octx, deployed, data_api, athena, lambda_starts_the_job
) -> None:
    rows = fifa_rows()
    data_api.answer(answering(octx, [*rows, rows[0]]))
    code, out, err = invoke("run")
    assert code == 1
    assert "MISMATCH" in out and "rows: source 22, warehouse 23" in err
