"""SNS in the sandbox, through real boto3 clients: a topic delivers to subscribed SQS queues (moto
does, in-process), email subscriptions stay pending, EventBridge delivers to SNS targets through
their InputTransformer only when the topic policy lets the rule publish, and what topics publish
is kept and heard by listeners."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from support.paths import EVENTS_DIR

from wcpipe.sandbox.patches import sns_delivery

ACCOUNT = "123456789012"


def _queue(client: Callable[[str], Any], name: str, topic_arn: str) -> str:
    """A queue subscribed to the topic, with the policy AWS needs for SNS to send to it."""
    sqs = client("sqs")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    allow = {
        "Effect": "Allow",
        "Principal": {"Service": "sns.amazonaws.com"},
        "Action": "sqs:SendMessage",
        "Resource": arn,
        "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}},
    }
    policy = json.dumps({"Version": "2012-10-17", "Statement": [allow]})
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": policy})
    client("sns").subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn)
    return url


def _received(client: Callable[[str], Any], url: str) -> list[dict[str, Any]]:
    found = client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
    return [json.loads(m["Body"]) for m in found.get("Messages", [])]


def test_a_topic_delivers_to_a_subscribed_queue_and_keeps_what_it_published(
    sandbox: Any, client: Callable[[str], Any]
) -> None:
    topic = client("sns").create_topic(Name="plain")["TopicArn"]
    url = _queue(client, "plain-q", topic)
    heard: list[tuple[str, str | None, str]] = []
    sns_delivery.listen(sandbox, lambda *message: heard.append(message))
    client("sns").publish(TopicArn=topic, Message="hello", Subject="hi")
    [envelope] = _received(client, url)
    assert envelope["Type"] == "Notification"
    assert (envelope["TopicArn"], envelope["Message"]) == (topic, "hello")
    assert heard == [(topic, "hi", "hello")]
    assert {"TopicArn": topic, "Subject": "hi", "Message": "hello"} in sns_delivery.published(
        sandbox
    )


def test_an_email_subscription_waits_for_confirmation(client: Callable[[str], Any]) -> None:
    sns = client("sns")
    topic = sns.create_topic(Name="mail")["TopicArn"]
    answer = sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="ops@example.com")
    assert answer["SubscriptionArn"] == "pending confirmation"
    again = sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="ops@example.com")
    assert again["SubscriptionArn"] == "pending confirmation"
    [listed] = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert (listed["Endpoint"], listed["SubscriptionArn"]) == (
        "ops@example.com",
        "PendingConfirmation",
    )
    attributes = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
    assert (attributes["SubscriptionsPending"], attributes["SubscriptionsConfirmed"]) == ("1", "0")


def _rule_to_topic(client: Callable[[str], Any], name: str, topic: str, transformer: Any) -> str:
    events = client("events")
    pattern = {"source": ["aws.glue"], "detail-type": ["Glue Job State Change"]}
    arn = events.put_rule(Name=name, EventPattern=json.dumps(pattern))["RuleArn"]
    target = {"Id": "t", "Arn": topic, "InputTransformer": transformer}
    events.put_targets(Rule=name, Targets=[target])
    return str(arn)


def _drop_rule(client: Callable[[str], Any], name: str) -> None:
    client("events").remove_targets(Rule=name, Ids=["t"])
    client("events").delete_rule(Name=name)


TRANSFORMER = {
    "InputPathsMap": {"run": "$.detail.jobRunId", "message": "$.detail.message"},
    "InputTemplate": '{"hop": "load", "run": "<run>", "message": "<message>"}',
}


def _publish_policy(topic: str, rule_arn: str) -> str:
    allow = {
        "Effect": "Allow",
        "Principal": {"Service": "events.amazonaws.com"},
        "Action": "sns:Publish",
        "Resource": topic,
        "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [allow]})


def _failed_job_event() -> dict[str, Any]:
    event = json.loads((EVENTS_DIR / "job-failed.json").read_text())
    event["detail"]["message"] += ' (a "quoted" word)\nand a second line'
    return dict(event)


def test_eventbridge_publishes_the_transformed_event_when_the_policy_allows_the_rule(
    sandbox: Any, client: Callable[[str], Any]
) -> None:
    sns = client("sns")
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    url = _queue(client, "alerts-q", topic)
    rule_arn = _rule_to_topic(client, "to-alerts", topic, TRANSFORMER)
    policy = _publish_policy(topic, rule_arn)
    sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=policy)
    event = _failed_job_event()
    sandbox.emit_event(event)
    assert sandbox.idle()
    [envelope] = _received(client, url)
    message = json.loads(envelope["Message"])
    assert message == {
        "hop": "load",
        "run": event["detail"]["jobRunId"],
        "message": event["detail"]["message"],
    }
    _drop_rule(client, "to-alerts")


def test_eventbridge_cannot_publish_without_the_topic_policy(
    sandbox: Any, client: Callable[[str], Any]
) -> None:
    sns = client("sns")
    topic = sns.create_topic(Name="closed")["TopicArn"]
    url = _queue(client, "closed-q", topic)
    rule_arn = _rule_to_topic(client, "to-closed", topic, TRANSFORMER)
    other_rule = rule_arn.replace("to-closed", "someone-else")
    policy = _publish_policy(topic, other_rule)
    sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=policy)
    sandbox.emit_event(_failed_job_event())
    assert sandbox.idle()
    assert _received(client, url) == []
    stats = client("cloudwatch").list_metrics(
        Namespace="AWS/Events",
        MetricName="FailedInvocations",
        Dimensions=[{"Name": "RuleName", "Value": "to-closed"}],
    )
    assert stats["Metrics"]
    _drop_rule(client, "to-closed")


@pytest.mark.parametrize(
    ("value", "expected"),
    [("plain", "plain"), ('with "quotes"', 'with "quotes"'), (None, ""), (3, 3)],
)
def test_transformer_escapes_strings_inside_quotes(value: Any, expected: Any) -> None:
    target = {
        "InputTransformer": {
            "InputPathsMap": {"v": "$.detail.v"},
            "InputTemplate": '{"v": "<v>"}' if not isinstance(value, int) else '{"v": <v>}',
        }
    }
    event = {"detail": {"v": value} if value is not None else {}}
    assert json.loads(sns_delivery.transformed(target, event)) == {"v": expected}


def test_one_line_per_published_message() -> None:
    topic = "arn:aws:sns:us-east-1:123456789012:wcpipe-fifa-alerts"
    alarm = {"AlarmName": "wcpipe-fifa-no-load", "NewStateValue": "ALARM", "NewStateReason": "a\nb"}
    assert sns_delivery.one_line(topic, "s", json.dumps(alarm)) == (
        "alert on wcpipe-fifa-alerts: ALARM wcpipe-fifa-no-load: a b"
    )
    assert sns_delivery.one_line(topic, None, "plain\nmore") == "alert on wcpipe-fifa-alerts: plain"
