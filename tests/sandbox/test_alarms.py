"""CloudWatch alarms evaluated in the sandbox, through real boto3: wcpipe's own alarms (made by
their resources, on the sandbox) move when their metrics arrive, and an alarm whose state
changes notifies its topic (read through a subscribed SQS queue) only if the topic's policy lets
CloudWatch publish for it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from support.clock import FakeClock
from support.paths import SPEC_PATH

from wcpipe.core.aws import Aws
from wcpipe.core.wait import Timing
from wcpipe.provision.resources.base import Context
from wcpipe.provision.resources.cloudwatch import LambdaErrorsAlarm, NoLoadAlarm
from wcpipe.provision.resources.sns import Topic
from wcpipe.sandbox.patches.alarms import expression
from wcpipe.spec.model import Alerts, load_spec


def _ctx(sandbox: Any, name: str, minutes: int = 3) -> Context:
    spec = load_spec(SPEC_PATH)
    spec = spec.model_copy(
        update={
            "name": name,
            "alerts": Alerts(email=("ops@example.com",), no_load_within_minutes=minutes),
        }
    )
    clock = FakeClock()
    aws = Aws(region=sandbox.region, endpoint_url=sandbox.endpoint)
    return Context(spec=spec, aws=aws, timing=Timing(sleep=clock.sleep, clock=clock))


def _queue_on(sandbox: Any, ctx: Context) -> str:
    topic = ctx.aws.arn("sns", ctx.names.alerts_topic)
    sqs = sandbox.client("sqs")
    url = sqs.create_queue(QueueName=f"{ctx.spec.name}-q")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sandbox.client("sns").subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    return str(url)


def _notifications(sandbox: Any, url: str) -> list[dict[str, Any]]:
    found = sandbox.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    return [json.loads(json.loads(m["Body"])["Message"]) for m in found.get("Messages", [])]


def _state(sandbox: Any, name: str) -> str:
    [alarm] = sandbox.client("cloudwatch").describe_alarms(AlarmNames=[name])["MetricAlarms"]
    return str(alarm["StateValue"])


def _put(
    sandbox: Any, namespace: str, name: str, dims: dict[str, str], value: float, at: datetime
) -> None:
    sandbox.client("cloudwatch").put_metric_data(
        Namespace=namespace,
        MetricData=[
            {
                "MetricName": name,
                "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()],
                "Value": value,
                "Timestamp": at,
                "Unit": "Count",
            }
        ],
    )


@pytest.fixture
def alerting(sandbox: Any) -> Iterator[Callable[[str], Context]]:
    made: list[Context] = []

    def make(name: str) -> Context:
        ctx = _ctx(sandbox, name)
        Topic(ctx).ensure()
        made.append(ctx)
        return ctx

    yield make
    for ctx in made:
        Topic(ctx).destroy()


def test_a_lambda_error_moves_the_alarm_and_tells_the_topic_once(
    sandbox: Any, alerting: Callable[[str], Context]
) -> None:
    ctx = alerting("alarm-errors")
    alarm = LambdaErrorsAlarm(ctx)
    alarm.ensure()
    url = _queue_on(sandbox, ctx)
    dims = {"FunctionName": ctx.names.function}
    now = datetime.now(UTC)
    _put(sandbox, "AWS/Lambda", "Errors", dims, 0, now)
    assert _state(sandbox, alarm.name) == "OK"
    _put(sandbox, "AWS/Lambda", "Errors", dims, 1, now)
    assert _state(sandbox, alarm.name) == "ALARM"
    _put(sandbox, "AWS/Lambda", "Errors", dims, 0, now)  # still an error in this minute
    [message] = _notifications(sandbox, url)
    assert message["AlarmName"] == "wcpipe-alarm-errors-lambda-errors"
    assert (message["OldStateValue"], message["NewStateValue"]) == ("OK", "ALARM")
    assert "wcpipe logs lambda" in message["AlarmDescription"]


def test_an_alarm_the_topic_policy_does_not_admit_tells_nobody(
    sandbox: Any, alerting: Callable[[str], Context]
) -> None:
    ctx = alerting("alarm-closed")
    alarm = LambdaErrorsAlarm(ctx)
    alarm.ensure()
    url = _queue_on(sandbox, ctx)
    sandbox.client("sns").set_topic_attributes(
        TopicArn=ctx.aws.arn("sns", ctx.names.alerts_topic),
        AttributeName="Policy",
        AttributeValue=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )
    _put(
        sandbox, "AWS/Lambda", "Errors", {"FunctionName": ctx.names.function}, 1, datetime.now(UTC)
    )
    assert _state(sandbox, alarm.name) == "ALARM"
    assert _notifications(sandbox, url) == []


def test_no_load_alarms_n_minutes_after_an_arrival_that_was_not_loaded(
    sandbox: Any, alerting: Callable[[str], Context]
) -> None:
    ctx = alerting("alarm-noload")
    alarm = NoLoadAlarm(ctx)  # within 3 minutes
    alarm.ensure()
    url = _queue_on(sandbox, ctx)
    now = datetime.now(UTC)
    invocations = {"FunctionName": ctx.names.function}
    loads = {"JobName": ctx.names.job}
    # An arrival 2 minutes ago, and its load succeeded a minute later: no alarm.
    _put(sandbox, "AWS/Lambda", "Invocations", invocations, 1, now - timedelta(minutes=2))
    _put(sandbox, "wcpipe", "LoadsSucceeded", loads, 1, now - timedelta(minutes=1))
    assert _state(sandbox, alarm.name) == "OK"
    assert _notifications(sandbox, url) == []


def test_no_load_alarms_when_the_load_never_succeeds(
    sandbox: Any, alerting: Callable[[str], Context]
) -> None:
    ctx = alerting("alarm-stall")
    alarm = NoLoadAlarm(ctx)
    alarm.ensure()
    url = _queue_on(sandbox, ctx)
    now = datetime.now(UTC)
    # An arrival 2 minutes ago: then, nothing was late.
    arrival = {"FunctionName": ctx.names.function}
    _put(sandbox, "AWS/Lambda", "Invocations", arrival, 1, now - timedelta(minutes=2))
    assert _state(sandbox, alarm.name) == "OK"
    # Its load failed (LoadsSucceeded 0) now, the 3rd minute: no success in 3 minutes.
    _put(sandbox, "wcpipe", "LoadsSucceeded", {"JobName": ctx.names.job}, 0, now)
    assert _state(sandbox, alarm.name) == "ALARM"
    [message] = _notifications(sandbox, url)
    assert message["AlarmName"] == "wcpipe-alarm-stall-no-load"
    assert "no load succeeded within 3 minutes" in message["AlarmDescription"]


def test_metric_math_of_our_alarms() -> None:
    env = {"a": [None, 1.0, None], "b": [None, None, 1.0]}
    backlog = "RUNNING_SUM(FILL(a, 0)) - RUNNING_SUM(FILL(b, 0))"
    assert expression(backlog, env, 3) == [0.0, 1.0, 0.0]
    assert expression("RUNNING_SUM(a)", env, 3) == [None, 1.0, None]
    assert expression("FILL(a, 0) + 2", env, 3) == [2.0, 3.0, 2.0]
