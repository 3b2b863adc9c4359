"""SNS: the pipeline's alert topic and its email subscriptions (`alerts.email` in the spec).

Contract (see `resources/base.py`): `describe` reads only (get_topic_attributes,
list_tags_for_resource, list_subscriptions_by_topic); `differences` is pure and names `policy`,
`encryption` and `tags` (the topic) or `email` (the subscriptions); `create`, `update` and
`delete` are the only mutations.

The topic's policy (`iam_policies.alerts_topic_policy`) lets only this pipeline's EventBridge
alert rules and CloudWatch alarms publish. The topic is NOT encrypted with the AWS-managed key
`alias/aws/sns`: a topic encrypted with it receives nothing from EventBridge or from CloudWatch
alarms, because those services must be granted kms:GenerateDataKey and kms:Decrypt in the key's
policy, and an AWS-managed key's policy cannot be changed (Amazon SNS Developer Guide, "Key
management", "Enable compatibility between event sources from AWS services and encrypted
topics": use a customer managed key). Alerts carry names, states and run ids, no data; a
customer managed key (a billable resource of its own) is left for later. `differences` reports a
key set by hand as `encryption`, since it would silently stop every alert.

Email subscriptions wait for the person's confirmation, as SNS does: until the link SNS mails is
followed, ListSubscriptionsByTopic shows the subscription with SubscriptionArn
"PendingConfirmation", and a pending subscription cannot be unsubscribed (it has no ARN yet; SNS
drops it if it is never confirmed, and deleting the topic deletes it). So an address taken out of
the spec is unsubscribed if it confirmed, and left to expire if it did not. Subscribe is
idempotent: an address already subscribed is not subscribed twice.
"""

from __future__ import annotations

import json
from typing import Any

from wcpipe.core.errors import ignoring
from wcpipe.provision.resources.base import (
    TAGS,
    Difference,
    Differences,
    Observed,
    Resource,
    compare,
    tag_list,
    tags_from_list,
)
from wcpipe.provision.resources.iam_policies import alerts_topic_policy, same_policy

NOT_FOUND = "NotFound"
"""SNS's code for NotFoundException (the topic, or the subscription, does not exist)."""
PENDING = "PendingConfirmation"
"""The SubscriptionArn SNS lists for a subscription not confirmed yet."""
EMAIL = "email"


def topic_arn(res: Resource) -> str:
    """The alert topic's ARN: published by the topic, or derived from its name."""
    derived = res.ctx.aws.arn("sns", res.ctx.names.alerts_topic)
    return str(res.ctx.output_or("sns.topic", "arn", derived))


def wanted_emails(res: Resource) -> list[str]:
    alerts = res.ctx.spec.alerts
    return sorted(alerts.email) if alerts else []


class Topic(Resource):
    key = "sns.topic"
    kind = "SNS topic"
    declared_by = "alerts"

    @property
    def name(self) -> str:
        return self.ctx.names.alerts_topic

    @property
    def _sns(self) -> Any:
        return self.ctx.client("sns")

    def _policy(self) -> dict[str, Any]:
        return alerts_topic_policy(self.ctx.names, self.ctx.aws.partition)

    def describe(self) -> Observed | None:
        arn = self.ctx.aws.arn("sns", self.name)
        found = ignoring(lambda: self._sns.get_topic_attributes(TopicArn=arn), NOT_FOUND)
        if found is None:
            return None
        tags = self._sns.list_tags_for_resource(ResourceArn=arn).get("Tags")
        return Observed(data=dict(found["Attributes"]), tags=tags_from_list(tags))

    def differences(self, observed: Observed) -> list[Difference]:
        data = observed.data
        try:
            policy = json.loads(data.get("Policy") or "null")
        except ValueError:
            policy = data.get("Policy")
        wanted = self._policy()
        fields = [] if same_policy(policy, wanted) else [Difference("policy", policy, wanted)]
        fields += compare([("encryption", data.get("KmsMasterKeyId") or None, None)])
        return fields + self.tag_differences(observed)

    def create(self) -> Observed | None:
        # CreateTopic is idempotent by name: a topic created meanwhile with the same attributes
        # is returned as it is (with other tags, SNS refuses, and the error says so).
        policy = json.dumps(self._policy())
        arn = self._sns.create_topic(
            Name=self.name, Attributes={"Policy": policy}, Tags=self.ctx.tag_list()
        )["TopicArn"]
        data = {"TopicArn": arn, "Policy": policy, "SubscriptionsConfirmed": "0"}
        return Observed(data={**data, "SubscriptionsPending": "0"}, tags=dict(self.ctx.tags))

    def update(self, observed: Observed, fields: Differences) -> None:
        arn = observed.data.get("TopicArn") or self.ctx.aws.arn("sns", self.name)
        if "policy" in fields:
            policy = json.dumps(self._policy())
            self._sns.set_topic_attributes(
                TopicArn=arn, AttributeName="Policy", AttributeValue=policy
            )
        if "encryption" in fields:
            # An empty KmsMasterKeyId turns server-side encryption off (SetTopicAttributes).
            self._sns.set_topic_attributes(
                TopicArn=arn, AttributeName="KmsMasterKeyId", AttributeValue=""
            )
        if TAGS in fields:
            self.sync_tags(
                observed,
                lambda tags: self._sns.tag_resource(ResourceArn=arn, Tags=tag_list(tags)),
            )

    def delete(self, observed: Observed) -> None:
        # Deleting a topic deletes its subscriptions, pending ones included.
        arn = observed.data.get("TopicArn") or self.ctx.aws.arn("sns", self.name)
        ignoring(lambda: self._sns.delete_topic(TopicArn=arn), NOT_FOUND)

    def outputs(self, observed: Observed) -> dict[str, Any]:
        return {"arn": observed.data.get("TopicArn") or self.ctx.aws.arn("sns", self.name)}

    def facts(self, observed: Observed) -> dict[str, str]:
        data = observed.data
        return {
            "confirmed": str(data.get("SubscriptionsConfirmed", "0")),
            "pending": str(data.get("SubscriptionsPending", "0")),
        }


class EmailSubscriptions(Resource):
    """The topic's email subscriptions, one per `alerts.email` address, as one resource.
    Subscriptions carry no tags: they are ours by being on our topic."""

    key = "sns.email-subscriptions"
    kind = "SNS email subscriptions"
    declared_by = "alerts"
    depends_on = ("sns.topic",)
    taggable = False

    @property
    def name(self) -> str:
        return f"{self.ctx.names.alerts_topic} (email)"

    @property
    def _sns(self) -> Any:
        return self.ctx.client("sns")

    def subscriptions(self) -> list[dict[str, str]] | None:
        """The topic's email subscriptions (Endpoint, SubscriptionArn), or None without a
        topic."""
        if self.ctx.known_absent("sns.topic"):
            return None
        arn = topic_arn(self)

        def listed() -> list[dict[str, str]]:
            pages = self._sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=arn)
            return [
                {"Endpoint": s["Endpoint"], "SubscriptionArn": s["SubscriptionArn"]}
                for page in pages
                for s in page.get("Subscriptions", [])
                if s.get("Protocol") == EMAIL
            ]

        return ignoring(listed, NOT_FOUND)

    def describe(self) -> Observed | None:
        found = self.subscriptions()
        if not found:
            return None
        found.sort(key=lambda s: (s["Endpoint"], s["SubscriptionArn"]))
        return Observed(data={"subscriptions": found})

    @staticmethod
    def _endpoints(observed: Observed, *, pending: bool = True) -> list[str]:
        return sorted(
            {
                s["Endpoint"]
                for s in observed.data["subscriptions"]
                if pending or s["SubscriptionArn"] != PENDING
            }
        )

    def differences(self, observed: Observed) -> list[Difference]:
        wanted = wanted_emails(self)
        have = self._endpoints(observed)
        # A pending address no longer wanted cannot be unsubscribed: it is not a difference.
        confirmed = set(self._endpoints(observed, pending=False))
        seen = sorted({e for e in have if e in wanted or e in confirmed})
        return compare([(EMAIL, seen, wanted)])

    def _subscribe(self, addresses: list[str]) -> None:
        arn = topic_arn(self)
        for address in addresses:
            self._sns.subscribe(TopicArn=arn, Protocol=EMAIL, Endpoint=address)

    def create(self) -> Observed | None:
        self._subscribe(wanted_emails(self))
        return None  # SubscriptionArn on creation says only "pending confirmation": describe

    def update(self, observed: Observed, fields: Differences) -> None:
        wanted = wanted_emails(self)
        have = set(self._endpoints(observed))
        self._subscribe([e for e in wanted if e not in have])
        self._unsubscribe(s for s in observed.data["subscriptions"] if s["Endpoint"] not in wanted)

    def _unsubscribe(self, subscriptions: Any) -> None:
        for s in subscriptions:
            if s["SubscriptionArn"] == PENDING:
                continue  # no ARN yet: SNS drops it unconfirmed, or with the topic
            self._unsubscribe_one(s["SubscriptionArn"])

    def _unsubscribe_one(self, arn: str) -> None:
        ignoring(lambda: self._sns.unsubscribe(SubscriptionArn=arn), NOT_FOUND)

    def delete(self, observed: Observed) -> None:
        self._unsubscribe(observed.data["subscriptions"])

    def facts(self, observed: Observed) -> dict[str, str]:
        return {
            s["Endpoint"]: "pending confirmation"
            if s["SubscriptionArn"] == PENDING
            else "confirmed"
            for s in observed.data["subscriptions"]
        }
