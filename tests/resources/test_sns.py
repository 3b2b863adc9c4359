"""The alert topic and its email subscriptions on moto: ensure twice, delete twice, ownership,
drift of the policy and of the addresses."""

from __future__ import annotations

import json

import pytest
from support.plan import names
from support.requests import Requests

from wcpipe.core.errors import NotOwnedError
from wcpipe.provision.resources import catalog
from wcpipe.provision.resources.base import Context
from wcpipe.provision.resources.sns import EmailSubscriptions, Topic
from wcpipe.spec.model import Alerts

ADDRESSES = ("ops@example.com", "data@example.org")  # = conftest.ADDRESSES


def _topic_arn(ctx: Context) -> str:
    return ctx.aws.arn("sns", "wcpipe-fifa-alerts")


def test_catalog_has_the_topic_only_with_alerts(ctx: Context, alerting: Context) -> None:
    assert not {r.key for r in catalog(ctx)} & {"sns.topic", "sns.email-subscriptions"}
    assert {"sns.topic", "sns.email-subscriptions"} <= {r.key for r in catalog(alerting)}


def test_topic_is_created_tagged_with_a_policy_for_our_publishers_only(alerting: Context) -> None:
    assert Topic(alerting).ensure() == "created"
    sns = alerting.client("sns")
    arn = _topic_arn(alerting)
    attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    policy = json.loads(attributes["Policy"])
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert set(by_sid) == {"EventBridgeRules", "CloudWatchAlarms"}
    events = by_sid["EventBridgeRules"]
    assert events["Principal"] == {"Service": "events.amazonaws.com"}
    assert events["Action"] == ["sns:Publish"]
    assert events["Condition"]["ArnEquals"]["aws:SourceArn"] == [
        alerting.aws.arn("events", "rule/wcpipe-fifa-crawl-failed"),
        alerting.aws.arn("events", "rule/wcpipe-fifa-job-failed"),
    ]
    alarms = by_sid["CloudWatchAlarms"]
    assert alarms["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert alarms["Condition"]["ArnLike"]["aws:SourceArn"] == alerting.aws.arn(
        "cloudwatch", "alarm:wcpipe-fifa-*"
    )
    assert alarms["Condition"]["StringEquals"]["aws:SourceAccount"] == alerting.aws.account_id
    assert all(s["Resource"] == arn for s in policy["Statement"])
    assert not attributes.get("KmsMasterKeyId")
    tags = {t["Key"]: t["Value"] for t in sns.list_tags_for_resource(ResourceArn=arn)["Tags"]}
    assert tags["wcpipe:pipeline"] == "fifa"
    assert alerting.output("sns.topic", "arn") == arn


def test_topic_ensure_twice_changes_nothing_and_destroy_twice(alerting: Context) -> None:
    topic = Topic(alerting)
    topic.ensure()
    sent = Requests.on(alerting.client("sns"))
    assert topic.ensure() == "unchanged"
    assert sent.mutating == []
    assert topic.destroy() == "deleted"
    assert topic.destroy() == "absent"


def test_a_topic_of_the_same_name_not_ours_is_kept(alerting: Context) -> None:
    alerting.client("sns").create_topic(Name="wcpipe-fifa-alerts")
    topic = Topic(alerting)
    with pytest.raises(NotOwnedError):
        topic.ensure()
    assert topic.destroy() == "kept"


def test_policy_and_encryption_drift_are_named_and_fixed(alerting: Context) -> None:
    topic = Topic(alerting)
    topic.ensure()
    sns = alerting.client("sns")
    arn = _topic_arn(alerting)
    anyone = {"Effect": "Allow", "Principal": "*", "Action": "sns:Publish", "Resource": arn}
    open_policy = json.dumps({"Version": "2012-10-17", "Statement": [anyone]})
    sns.set_topic_attributes(TopicArn=arn, AttributeName="Policy", AttributeValue=open_policy)
    sns.set_topic_attributes(
        TopicArn=arn, AttributeName="KmsMasterKeyId", AttributeValue="alias/aws/sns"
    )
    observed = topic.describe()
    assert observed is not None
    assert names(topic.differences(observed)) == ["policy", "encryption"]
    assert topic.ensure() == "updated"
    observed = topic.describe()
    assert observed is not None
    assert names(topic.differences(observed)) == []


def _subscriptions(ctx: Context) -> list[tuple[str, str]]:
    listed = ctx.client("sns").list_subscriptions_by_topic(TopicArn=_topic_arn(ctx))
    return sorted((s["Protocol"], s["Endpoint"]) for s in listed["Subscriptions"])


def test_each_address_is_subscribed_once(alerting: Context) -> None:
    Topic(alerting).ensure()
    subscriptions = EmailSubscriptions(alerting)
    assert subscriptions.ensure() == "created"
    assert _subscriptions(alerting) == [("email", a) for a in sorted(ADDRESSES)]
    sent = Requests.on(alerting.client("sns"))
    assert subscriptions.ensure() == "unchanged"
    assert sent.mutating == []
    observed = subscriptions.describe()
    assert observed is not None
    # moto confirms every subscription at once (the sandbox keeps email ones pending).
    assert subscriptions.facts(observed) == {a: "confirmed" for a in ADDRESSES}


def test_an_address_removed_from_the_spec_is_unsubscribed(alerting: Context) -> None:
    Topic(alerting).ensure()
    EmailSubscriptions(alerting).ensure()
    fewer = alerting.spec.model_copy(update={"alerts": Alerts(email=("ops@example.com",))})
    narrowed = Context(spec=fewer, aws=alerting.aws, timing=alerting.timing)
    subscriptions = EmailSubscriptions(narrowed)
    observed = subscriptions.describe()
    assert observed is not None
    assert [d.text() for d in subscriptions.differences(observed)] == ["email: -data@example.org"]
    sent = Requests.on(narrowed.client("sns"))
    assert subscriptions.ensure() == "updated"
    assert sent.mutating == ["Unsubscribe"]
    assert _subscriptions(alerting) == [("email", "ops@example.com")]


def test_subscriptions_destroy_twice(alerting: Context) -> None:
    Topic(alerting).ensure()
    subscriptions = EmailSubscriptions(alerting)
    subscriptions.ensure()
    assert subscriptions.destroy() == "deleted"
    assert subscriptions.destroy() == "absent"
    assert _subscriptions(alerting) == []


def test_subscriptions_without_a_topic_are_absent(alerting: Context) -> None:
    assert EmailSubscriptions(alerting).describe() is None
