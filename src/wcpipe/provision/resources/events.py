"""EventBridge: the rule that sends "the S3 crawler succeeded" to the Lambda function (`Rule`),
and with trigger on-arrival the rule that sends "an object was created under the prefix" to it
(`ArrivalRule`, `arrival_pattern`: S3's own Object Created events, which the bucket sends once
`s3.event-notifications` enables them; lambda/handler.py starts the crawler on them), and the
rule that sends "the job's run succeeded" to it (`JobSucceededRule`: objects that arrived while
the run went are crawled then).

Contract (see `resources/base.py`): `describe` reads only (describe_rule, list_targets_by_rule,
list_tags_for_resource); `differences` is pure and names `pattern`, `state`, `description`,
`targets` and `tags`; `create`, `update` and `delete` are the only mutations. `event_pattern`
is a pure function of the names, so tests can match it against recorded Glue events.

Glue spells states differently per event type: crawler events say "Succeeded", job events say
"SUCCEEDED". The pattern matches the crawler's exact spelling. Glue delivers events on a best
effort basis and may deliver one twice; the Lambda handler, not the rule, deals with duplicates.

The rule lives on the default event bus (Glue publishes there). PutRule ignores Tags when it
updates an existing rule, so tags are changed with TagResource/UntagResource. A rule with
targets cannot be deleted: targets go first.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from wcpipe.core.errors import ResourceFailed, ignoring
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
from wcpipe.provision.resources.lambda_ import function_arn, rule_arn
from wcpipe.spec.names import Names

TARGET_ID = "start-glue-job"
ARRIVAL_TARGET_ID = "start-s3-crawler"
JOB_SUCCEEDED_TARGET_ID = "crawl-what-arrived-meanwhile"
RETRY_POLICY = {"MaximumRetryAttempts": 4, "MaximumEventAgeInSeconds": 3600}
NOT_FOUND = "ResourceNotFoundException"


def event_pattern(names: Names) -> dict[str, Any]:
    """The pattern that matches only "our S3 crawler succeeded"."""
    return {
        "source": ["aws.glue"],
        "detail-type": ["Glue Crawler State Change"],
        "detail": {"crawlerName": [names.s3_crawler], "state": ["Succeeded"]},
    }


def arrival_pattern(names: Names) -> dict[str, Any]:
    """The pattern that matches only "an object was created under our prefix in our bucket"
    (the event's shape: Amazon S3 User Guide, "EventBridge event message structure"; prefix
    matching: EventBridge User Guide, "Content filtering in event patterns")."""
    return {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {
            "bucket": {"name": [names.bucket]},
            "object": {"key": [{"prefix": names.prefix}]},
        },
    }


def job_succeeded_pattern(names: Names) -> dict[str, Any]:
    """The pattern that matches only "our job's run succeeded" (job events spell the state
    "SUCCEEDED"; tests/fixtures/glue-events/job-succeeded.json)."""
    return {
        "source": ["aws.glue"],
        "detail-type": ["Glue Job State Change"],
        "detail": {"jobName": [names.job], "state": ["SUCCEEDED"]},
    }


class Rule(Resource):
    key = "events.rule"
    kind = "EventBridge rule"
    depends_on: ClassVar[tuple[str, ...]] = ("lambda.function", "lambda.permission")
    target_id = TARGET_ID

    @property
    def name(self) -> str:
        return self.ctx.names.rule

    @property
    def _events(self) -> Any:
        return self.ctx.client("events")

    def pattern(self) -> dict[str, Any]:
        """The rule's event pattern (a subclass's rule matches other events)."""
        return event_pattern(self.ctx.names)

    def arn(self) -> str:
        return rule_arn(self, self.name)

    def _description(self) -> str:
        names = self.ctx.names
        return f"wcpipe {self.ctx.spec.name}: start {names.job} when {names.s3_crawler} succeeds"

    def _target(self) -> dict[str, Any]:
        return {"Id": self.target_id, "Arn": function_arn(self), "RetryPolicy": RETRY_POLICY}

    def describe(self) -> Observed | None:
        rule = ignoring(lambda: self._events.describe_rule(Name=self.name), NOT_FOUND)
        if rule is None:
            return None
        targets = [
            target
            for page in self._events.get_paginator("list_targets_by_rule").paginate(Rule=self.name)
            for target in page.get("Targets", [])
        ]
        tags = self._events.list_tags_for_resource(ResourceARN=rule["Arn"]).get("Tags")
        data = {k: v for k, v in rule.items() if k != "ResponseMetadata"}
        return Observed(data={**data, "Targets": targets}, tags=tags_from_list(tags))

    def differences(self, observed: Observed) -> list[Difference]:
        data = observed.data
        try:
            pattern = json.loads(data.get("EventPattern") or "null")
        except ValueError:
            pattern = data.get("EventPattern")
        fields = compare(
            [
                ("pattern", pattern, self.pattern()),
                ("state", data.get("State"), "ENABLED"),
                ("description", data.get("Description"), self._description()),
                ("targets", data.get("Targets"), [self._target()]),
            ]
        )
        return fields + self.tag_differences(observed)

    def _put_rule(self, **extra: Any) -> dict[str, Any]:
        result: dict[str, Any] = self._events.put_rule(
            Name=self.name,
            EventPattern=json.dumps(self.pattern()),
            State="ENABLED",
            Description=self._description(),
            **extra,
        )
        return result

    def _put_target(self) -> None:
        result = self._events.put_targets(Rule=self.name, Targets=[self._target()])
        if result.get("FailedEntryCount"):
            entry = result["FailedEntries"][0]
            raise ResourceFailed(
                f"EventBridge refused target {entry.get('TargetId')}: "
                f"{entry.get('ErrorCode')}: {entry.get('ErrorMessage')}"
            )

    def create(self) -> Observed | None:
        # PutRule is an upsert: a rule created meanwhile is simply overwritten, so there is no
        # "already exists" to handle (tags given here apply only if the rule is new).
        arn = self._put_rule(Tags=self.ctx.tag_list()).get("RuleArn") or self.arn()
        self._put_target()
        # What DescribeRule and ListTargetsByRule would now answer: what was just sent.
        data = {
            "Name": self.name,
            "Arn": arn,
            "EventPattern": json.dumps(self.pattern()),
            "State": "ENABLED",
            "Description": self._description(),
            "EventBusName": "default",
            "Targets": [self._target()],
        }
        return Observed(data=data, tags=dict(self.ctx.tags))

    def update(self, observed: Observed, fields: Differences) -> None:
        if {"pattern", "state", "description"} & set(fields.fields):
            self._put_rule()
        if "targets" in fields:
            ours = self._target()["Id"]
            stale = [t["Id"] for t in observed.data.get("Targets", []) if t["Id"] != ours]
            if stale:
                self._events.remove_targets(Rule=self.name, Ids=stale)
            self._put_target()
        if TAGS in fields:
            arn = observed.data.get("Arn") or self.arn()
            self.sync_tags(
                observed,
                lambda tags: self._events.tag_resource(ResourceARN=arn, Tags=tag_list(tags)),
            )

    def delete(self, observed: Observed) -> None:
        ids = [t["Id"] for t in observed.data.get("Targets", [])]

        def remove() -> None:
            if ids:
                self._events.remove_targets(Rule=self.name, Ids=ids)
            self._events.delete_rule(Name=self.name)

        ignoring(remove, NOT_FOUND)

    def outputs(self, observed: Observed) -> dict[str, Any]:
        return {"arn": observed.data.get("Arn") or self.arn()}

    def facts(self, observed: Observed) -> dict[str, str]:
        targets = observed.data.get("Targets", [])
        return {
            "state": str(observed.data.get("State", "?")),
            "targets": ", ".join(t["Arn"].rsplit(":", 1)[-1] for t in targets) or "none",
        }


class ArrivalRule(Rule):
    """trigger on-arrival: objects created under the prefix invoke the function, which starts
    the S3 crawler (lambda/handler.py coalesces a burst into one crawl)."""

    key = "events.arrival-rule"
    declared_by = "trigger: on-arrival"
    depends_on = ("lambda.function", "lambda.arrival-permission", "s3.event-notifications")
    target_id = ARRIVAL_TARGET_ID

    @property
    def name(self) -> str:
        return self.ctx.names.arrival_rule

    def pattern(self) -> dict[str, Any]:
        return arrival_pattern(self.ctx.names)

    def _description(self) -> str:
        names = self.ctx.names
        return f"wcpipe {self.ctx.spec.name}: start {names.s3_crawler} when data arrives"


class JobSucceededRule(Rule):
    """trigger on-arrival: a run of the job that succeeded invokes the function, which crawls
    again if objects arrived while the run went (a crawl that succeeded meanwhile started no
    second run: lambda/handler.py)."""

    key = "events.job-succeeded-rule"
    declared_by = "trigger: on-arrival"
    depends_on = ("lambda.function", "lambda.job-succeeded-permission")
    target_id = JOB_SUCCEEDED_TARGET_ID

    @property
    def name(self) -> str:
        return self.ctx.names.job_succeeded_rule

    def pattern(self) -> dict[str, Any]:
        return job_succeeded_pattern(self.ctx.names)

    def _description(self) -> str:
        names = self.ctx.names
        return f"wcpipe {self.ctx.spec.name}: crawl what arrived while {names.job} ran"
