"""EventBridge delivers to a Lambda target: the deployed code runs, logs and metrics show it."""

from __future__ import annotations

import io
import json
import time
import zipfile
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

HANDLERS = """
import json, os

def ok(event, context):
    print("got", event["detail"]["crawlerName"], "from", os.environ["AWS_ENDPOINT_URL"])
    print("env", os.environ["JOB_NAME"], context.function_name)
    return {"started": True}

def boom(event, context):
    raise RuntimeError("the job could not start")

def start(event, context):
    import boto3
    glue = boto3.client("glue")
    try:
        glue.start_job_run(JobName=event["job"])
    except glue.exceptions.EntityNotFoundException:
        return "allowed"  # authorised: the job does not exist in this test
    return "started"

def settle(event, context):
    return os.environ["ARRIVAL_SETTLE_SECONDS"]

def slow(event, context):
    import time
    print("first")
    time.sleep(0.5)
    print("second")
"""
PATTERN = {
    "source": ["aws.glue"],
    "detail-type": ["Glue Crawler State Change"],
    "detail": {"state": ["Succeeded"]},
}


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("starter/handlers.py", HANDLERS)
        archive.writestr("starter/__init__.py", "")
    return buf.getvalue()


@pytest.fixture(scope="module")
def role(client: Any) -> str:
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Principal": {"Service": "lambda.amazonaws.com"},
            }
        ],
    }
    iam = client("iam")
    arn = iam.create_role(RoleName="fn-role", AssumeRolePolicyDocument=json.dumps(policy))["Role"][
        "Arn"
    ]
    # What AWSLambdaBasicExecutionRole grants: Lambda writes the function's log as its role.
    logs = {
        "Effect": "Allow",
        "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": "*",
    }
    iam.put_role_policy(
        RoleName="fn-role",
        PolicyName="logs",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [logs]}),
    )
    return str(arn)


def _create(client: Any, name: str, role: str, handler: str, **extra: Any) -> str:
    """A function of the test package, without a rule; its ARN."""
    return str(
        client("lambda").create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=role,
            Handler=handler,
            Code={"ZipFile": _zip()},
            Timeout=10,
            **extra,
        )["FunctionArn"]
    )


def _function(client: Any, role: str, name: str, handler: str) -> str:
    arn = _create(client, name, role, handler, Environment={"Variables": {"JOB_NAME": "load"}})
    pattern = dict(PATTERN, detail={"state": ["Succeeded"], "crawlerName": [name]})
    rule_arn = client("events").put_rule(Name=f"{name}-rule", EventPattern=json.dumps(pattern))[
        "RuleArn"
    ]
    client("lambda").add_permission(
        FunctionName=name,
        StatementId="events",
        Action="lambda:InvokeFunction",
        Principal="events.amazonaws.com",
        SourceArn=rule_arn,
    )
    client("events").put_targets(Rule=f"{name}-rule", Targets=[{"Id": "fn", "Arn": arn}])
    return str(arn)


def _put_event(client: Any, crawler: str) -> None:
    detail = {"crawlerName": crawler, "state": "Succeeded", "message": "Crawler Succeeded"}
    entries = client("events").put_events(
        Entries=[
            {
                "Source": "aws.glue",
                "DetailType": "Glue Crawler State Change",
                "Detail": json.dumps(detail),
            }
        ]
    )
    assert entries["FailedEntryCount"] == 0


def _log_lines(client: Any, name: str) -> list[str]:
    logs = client("logs")
    streams = logs.describe_log_streams(logGroupName=f"/aws/lambda/{name}")["logStreams"]
    assert len(streams) == 1
    assert streams[0]["logStreamName"].startswith(datetime.now(UTC).strftime("%Y/%m/%d/[$LATEST]"))
    events = logs.get_log_events(
        logGroupName=f"/aws/lambda/{name}", logStreamName=streams[0]["logStreamName"]
    )["events"]
    return [e["message"] for e in events]


def _metric(client: Any, name: str, metric: str) -> float:
    now = datetime.now(UTC)
    points = client("cloudwatch").get_metric_statistics(
        Namespace="AWS/Lambda",
        MetricName=metric,
        Dimensions=[{"Name": "FunctionName", "Value": name}],
        StartTime=now - timedelta(minutes=5),
        EndTime=now + timedelta(minutes=1),
        Period=60,
        Statistics=["Sum"],
    )["Datapoints"]
    return float(sum(p["Sum"] for p in points))


def test_event_runs_the_lambda_handler(client: Any, role: str, sandbox: Any) -> None:
    _function(client, role, "starter-ok", "starter.handlers.ok")
    _put_event(client, "starter-ok")
    assert sandbox.idle(timeout=30)

    lines = _log_lines(client, "starter-ok")
    assert lines[0].startswith("START RequestId: ")
    assert f"got starter-ok from {sandbox.endpoint}" in lines
    assert "env load starter-ok" in lines
    assert lines[-2].startswith("END RequestId: ")
    assert lines[-1].startswith("REPORT RequestId: ") and "Duration: " in lines[-1]
    assert _metric(client, "starter-ok", "Invocations") == 1
    assert _metric(client, "starter-ok", "Errors") == 0


def test_each_line_is_logged_when_it_was_printed(client: Any, role: str, sandbox: Any) -> None:
    """Lambda timestamps each line as it is written: `wcpipe logs all` interleaves the Lambda's
    lines with the job's by these times."""
    _function(client, role, "starter-slow", "starter.handlers.slow")
    _put_event(client, "starter-slow")
    assert sandbox.idle(timeout=30)
    logs = client("logs")
    stream = logs.describe_log_streams(logGroupName="/aws/lambda/starter-slow")["logStreams"][0]
    events = logs.get_log_events(
        logGroupName="/aws/lambda/starter-slow", logStreamName=stream["logStreamName"]
    )["events"]
    at = {e["message"]: e["timestamp"] for e in events}
    end = next(e["timestamp"] for e in events if e["message"].startswith("END RequestId"))
    assert at["second"] - at["first"] >= 400
    assert at["first"] < end - 300  # not stamped when the invocation ended


def test_handler_error_is_logged_and_counted(client: Any, role: str, sandbox: Any) -> None:
    _function(client, role, "starter-boom", "starter.handlers.boom")
    _put_event(client, "starter-boom")
    assert sandbox.idle(timeout=30)

    text = "\n".join(_log_lines(client, "starter-boom"))
    assert "[ERROR] RuntimeError: the job could not start" in text
    assert "Traceback (most recent call last)" in text
    assert _metric(client, "starter-boom", "Errors") == 1
    assert _metric(client, "starter-boom", "Invocations") == 1


def test_non_matching_event_runs_nothing(client: Any, sandbox: Any) -> None:
    client("events").put_events(
        Entries=[
            {
                "Source": "aws.glue",
                "DetailType": "Glue Crawler State Change",
                "Detail": json.dumps({"crawlerName": "x", "state": "Failed"}),
            }
        ]
    )
    assert sandbox.idle(timeout=10)
    assert _metric(client, "starter-ok", "Invocations") == 1


def test_emit_event_delivers_like_eventbridge(client: Any, sandbox: Any) -> None:
    sandbox.emit_event(
        {
            "source": "aws.glue",
            "detail-type": "Glue Crawler State Change",
            "detail": {"crawlerName": "starter-ok", "state": "Succeeded"},
        }
    )
    assert sandbox.idle(timeout=30)
    assert _metric(client, "starter-ok", "Invocations") == 2


def test_invoke_api_runs_the_code(client: Any, sandbox: Any) -> None:
    started = time.monotonic()
    reply = client("lambda").invoke(
        FunctionName="starter-ok",
        Payload=json.dumps({"detail": {"crawlerName": "direct"}}).encode(),
    )
    assert json.loads(reply["Payload"].read()) == {"started": True}
    assert time.monotonic() - started < 10


def test_the_functions_waits_are_scaled_as_the_latency_profile_scales(
    client: Any, role: str, sandbox: Any
) -> None:
    """ARRIVAL_SETTLE_SECONDS is in AWS seconds: under `--latency aws` (60 AWS seconds per
    sandbox second) the function waits a sixtieth of it; without a profile, as configured."""
    from wcpipe.sandbox.patches.latency import profile

    env = {"Variables": {"ARRIVAL_SETTLE_SECONDS": "30"}}
    _create(client, "starter-settle", role, "starter/handlers.settle", Environment=env)

    def settle() -> str:
        reply = client("lambda").invoke(FunctionName="starter-settle", Payload=b"{}")
        return str(json.loads(reply["Payload"].read()))

    assert settle() == "30"
    sandbox.latency = profile("aws", scale=60.0)
    try:
        assert settle() == "0.5"
    finally:
        sandbox.latency = None
    config = client("lambda").get_function_configuration(FunctionName="starter-settle")
    assert config["Environment"]["Variables"]["ARRIVAL_SETTLE_SECONDS"] == "30"


def test_lambda_acts_as_its_execution_role(client: Any, sandbox: Any) -> None:
    """The function's requests carry STS credentials of its role and are authorised against the
    role's policies: a job its policy names starts, another is AccessDenied as on AWS."""
    iam = client("iam")
    trust = iam.get_role(RoleName="fn-role")["Role"]["AssumeRolePolicyDocument"]
    arn = iam.create_role(RoleName="starter-role", AssumeRolePolicyDocument=json.dumps(trust))[
        "Role"
    ]["Arn"]
    job = f"arn:aws:glue:{sandbox.region}:{sandbox.account_id}:job/mine"
    allow = {"Effect": "Allow", "Action": "glue:StartJobRun", "Resource": job}
    iam.put_role_policy(
        RoleName="starter-role",
        PolicyName="start",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [allow]}),
    )
    _create(client, "starter-as-role", arn, "starter/handlers.start")

    def invoke(job_name: str) -> Any:
        reply = client("lambda").invoke(
            FunctionName="starter-as-role", Payload=json.dumps({"job": job_name}).encode()
        )
        return json.loads(reply["Payload"].read())

    assert invoke("mine") == "allowed"
    denied = invoke("theirs")
    assert denied["errorType"] == "AccessDeniedException"
    assert denied["errorMessage"] == (
        "An error occurred (AccessDeniedException) when calling the StartJobRun operation: "
        f"User: arn:aws:sts::{sandbox.account_id}:assumed-role/starter-role/starter-as-role is "
        "not authorized to perform: glue:StartJobRun on resource: "
        f"{job.replace('mine', 'theirs')} because no identity-based policy allows the "
        "glue:StartJobRun action"
    )
    # Its role may not write logs: Lambda leaves the invocations without their lines.
    groups = client("logs").describe_log_groups(logGroupNamePrefix="/aws/lambda/starter-as-role")
    assert groups["logGroups"] == []
    # The operator's own requests (the sandbox's credentials) stay unrestricted.
    with pytest.raises(client("glue").exceptions.EntityNotFoundException):
        client("glue").start_job_run(JobName="theirs")


def test_event_reaches_sqs_target(sandbox, client):  # type: ignore[no-untyped-def]
    sqs = client("sqs")
    url = sqs.create_queue(QueueName="crawler-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events = client("events")
    events.put_rule(Name="to-sqs", EventPattern=json.dumps({"source": ["wcpipe.test"]}))
    events.put_targets(Rule="to-sqs", Targets=[{"Id": "q", "Arn": arn}])
    sandbox.emit_event({"source": "wcpipe.test", "detail-type": "x", "detail": {"n": 1}})
    messages = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", [])
    assert [json.loads(m["Body"])["detail"] for m in messages] == [{"n": 1}]
