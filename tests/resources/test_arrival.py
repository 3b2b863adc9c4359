"""trigger on-arrival's resources on moto: the bucket's EventBridge notifications, the arrival
rule, its invoke permission, the Lambda's new statements and environment; ensure twice, delete
twice, ownership, and what the catalog lists for each trigger."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from support.paths import EVENTS_DIR
from support.requests import Requests
from test_lambda import FUNCTION, deps, function  # noqa: F401  (fixtures)

from wcpipe.core.wait import Timing
from wcpipe.provision.resources import catalog
from wcpipe.provision.resources.base import Context
from wcpipe.provision.resources.events import (
    ArrivalRule,
    JobSucceededRule,
    arrival_pattern,
    job_succeeded_pattern,
)
from wcpipe.provision.resources.iam_policies import lambda_policy
from wcpipe.provision.resources.lambda_ import (
    ArrivalPermission,
    Function,
    JobSucceededPermission,
)
from wcpipe.provision.resources.s3 import Bucket
from wcpipe.provision.resources.s3_objects import EventNotifications
from wcpipe.sandbox.patches import s3_events

BUCKET = "wcpipe-fifa-123456789012-us-east-1"
RULE = "wcpipe-fifa-object-created"
FUNCTION_ARN = f"arn:aws:lambda:us-east-1:123456789012:function:{FUNCTION}"
QUEUE = {"QueueArn": "arn:aws:sqs:us-east-1:123456789012:theirs", "Events": ["s3:ObjectCreated:*"]}


@pytest.fixture(autouse=True)
def _moto_answers_eventbridge_configuration() -> None:
    s3_events.install()  # GetBucketNotificationConfiguration as S3 answers it (once per process)


@pytest.fixture
def ctx(spec: Any, aws: Any, clock: Any) -> Context:
    """The FIFA spec with trigger on-arrival."""
    arriving = spec.model_copy(update={"trigger": "on-arrival"})
    return Context(spec=arriving, aws=aws, timing=Timing(sleep=clock.sleep, clock=clock))


def _keys(resources: list[Any]) -> set[str]:
    return {r.key for r in resources}


ARRIVAL_KEYS = {
    "s3.event-notifications",
    "lambda.arrival-permission",
    "events.arrival-rule",
    "lambda.job-succeeded-permission",
    "events.job-succeeded-rule",
}


def test_the_catalog_lists_the_arrival_resources_only_for_on_arrival(
    ctx: Context, spec: Any, aws: Any, clock: Any
) -> None:
    assert _keys(catalog(ctx)) >= ARRIVAL_KEYS
    manual = Context(spec=spec, aws=aws, timing=Timing(sleep=clock.sleep, clock=clock))
    assert not ARRIVAL_KEYS & _keys(catalog(manual))


# The bucket's EventBridge notifications ----------------------------------------------------------


@pytest.fixture
def notifications(ctx: Context) -> EventNotifications:
    Bucket(ctx).ensure()
    return EventNotifications(ctx)


def _configuration(ctx: Context) -> dict[str, Any]:
    found = ctx.client("s3").get_bucket_notification_configuration(Bucket=BUCKET)
    return {k: v for k, v in found.items() if k != "ResponseMetadata"}


def test_notifications_ensure_twice_delete_twice(
    ctx: Context, notifications: EventNotifications
) -> None:
    assert notifications.ensure() == "created"
    assert "EventBridgeConfiguration" in _configuration(ctx)
    sent = Requests.on(ctx.client("s3"))
    assert notifications.ensure() == "unchanged"
    assert sent.mutating == []
    assert notifications.destroy() == "deleted"
    assert "EventBridgeConfiguration" not in _configuration(ctx)
    assert notifications.destroy() == "absent"


def test_notifications_others_configured_are_kept(
    ctx: Context, notifications: EventNotifications
) -> None:
    s3 = ctx.client("s3")
    s3.put_bucket_notification_configuration(
        Bucket=BUCKET, NotificationConfiguration={"QueueConfigurations": [QUEUE]}
    )
    notifications.ensure()
    assert [q["QueueArn"] for q in _configuration(ctx)["QueueConfigurations"]] == [
        QUEUE["QueueArn"]
    ]
    notifications.destroy()
    config = _configuration(ctx)
    assert "EventBridgeConfiguration" not in config
    assert [q["QueueArn"] for q in config["QueueConfigurations"]] == [QUEUE["QueueArn"]]


def test_notifications_in_a_bucket_not_ours_are_left_alone(ctx: Context) -> None:
    s3 = ctx.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_notification_configuration(
        Bucket=BUCKET, NotificationConfiguration={"EventBridgeConfiguration": {}}
    )
    assert EventNotifications(ctx).destroy() == "kept"
    assert "EventBridgeConfiguration" in _configuration(ctx)


def test_notifications_without_the_bucket_are_absent(ctx: Context) -> None:
    assert EventNotifications(ctx).describe() is None


# The arrival rule -----------------------------------------------------------------------------


def _matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    from moto.events.models import EventPattern

    return bool(EventPattern.load(json.dumps(pattern)).matches_event(event))


def test_arrival_pattern_matches_objects_created_under_our_prefix_only(ctx: Context) -> None:
    def created(bucket: str, key: str, detail_type: str = "Object Created") -> dict[str, Any]:
        detail = {"bucket": {"name": bucket}, "object": {"key": key}, "reason": "PutObject"}
        return {"source": "aws.s3", "detail-type": detail_type, "detail": detail}

    pattern = arrival_pattern(ctx.names)
    assert _matches(pattern, created(BUCKET, "raw/attendance/2026.csv"))
    assert not _matches(pattern, created(BUCKET, "raw/other/2026.csv"))
    assert not _matches(pattern, created(BUCKET, "wcpipe/tmp/x"))
    assert not _matches(pattern, created("someone-else", "raw/attendance/2026.csv"))
    assert not _matches(pattern, created(BUCKET, "raw/attendance/x", "Object Deleted"))


def test_arrival_rule_ensure_twice_delete_twice(ctx: Context) -> None:
    ctx.publish("lambda.function", {"arn": FUNCTION_ARN})
    rule = ArrivalRule(ctx)
    assert rule.ensure() == "created"
    events = ctx.client("events")
    found = events.describe_rule(Name=RULE)
    assert json.loads(found["EventPattern"]) == arrival_pattern(ctx.names)
    [target] = events.list_targets_by_rule(Rule=RULE)["Targets"]
    assert (target["Id"], target["Arn"]) == ("start-s3-crawler", FUNCTION_ARN)
    sent = Requests.on(events)
    assert rule.ensure() == "unchanged"
    assert sent.mutating == []
    assert rule.destroy() == "deleted"
    assert rule.destroy() == "absent"


@pytest.mark.parametrize("path", sorted(EVENTS_DIR.glob("*.json")), ids=lambda p: p.stem)
def test_job_succeeded_pattern_matches_only_our_job_succeeding(ctx: Context, path: Path) -> None:
    event = json.loads(path.read_text())
    assert _matches(job_succeeded_pattern(ctx.names), event) == (path.stem == "job-succeeded")
    event["detail"]["jobName"] = "someone-elses-job"
    assert not _matches(job_succeeded_pattern(ctx.names), event)


def test_job_succeeded_rule_ensure_twice_delete_twice(ctx: Context) -> None:
    ctx.publish("lambda.function", {"arn": FUNCTION_ARN})
    rule = JobSucceededRule(ctx)
    assert rule.ensure() == "created"
    [target] = ctx.client("events").list_targets_by_rule(Rule="wcpipe-fifa-job-succeeded")[
        "Targets"
    ]
    assert (target["Id"], target["Arn"]) == ("crawl-what-arrived-meanwhile", FUNCTION_ARN)
    sent = Requests.on(ctx.client("events"))
    assert rule.ensure() == "unchanged"
    assert sent.mutating == []
    assert rule.destroy() == "deleted"
    assert rule.destroy() == "absent"


# The Lambda: its arrival permission, environment and statements ------------------------------


@pytest.mark.parametrize(
    ("cls", "sid", "rule"),
    [
        (ArrivalPermission, "wcpipe-fifa-arrival-invoke", RULE),
        (JobSucceededPermission, "wcpipe-fifa-job-succeeded-invoke", "wcpipe-fifa-job-succeeded"),
    ],
)
def test_arrival_permissions_let_only_their_rule_invoke(
    deps: Context,  # noqa: F811
    function: Function,  # noqa: F811
    cls: type[ArrivalPermission],
    sid: str,
    rule: str,
) -> None:
    function.ensure()
    permission = cls(deps)
    assert permission.ensure() == "created"
    policy = json.loads(deps.client("lambda").get_policy(FunctionName=FUNCTION)["Policy"])
    [found] = [s for s in policy["Statement"] if s["Sid"] == sid]
    source = found["Condition"]["ArnLike"]["AWS:SourceArn"]
    assert source == f"arn:aws:events:us-east-1:123456789012:rule/{rule}"
    sent = Requests.on(deps.client("lambda"))
    assert permission.ensure() == "unchanged"
    assert sent.mutating == []
    assert permission.destroy() == "deleted"
    assert permission.destroy() == "absent"


def test_function_environment_names_the_arrivals(
    deps: Context,  # noqa: F811
    function: Function,  # noqa: F811
) -> None:
    function.ensure()
    config = deps.client("lambda").get_function_configuration(FunctionName=FUNCTION)
    env = config["Environment"]["Variables"]
    assert (env["ARRIVAL_BUCKET"], env["ARRIVAL_PREFIX"]) == (BUCKET, "raw/attendance/")
    assert env["ARRIVAL_SETTLE_SECONDS"] == "10"  # the spec's default settle window
    assert function.ensure() == "unchanged"


def test_lambda_policy_adds_only_this_crawler_and_this_prefix(ctx: Context) -> None:
    plain = lambda_policy(ctx.names, "aws")
    arriving = lambda_policy(ctx.names, "aws", on_arrival=True)
    added = [s for s in arriving["Statement"] if s not in plain["Statement"]]
    assert [(s["Sid"], s["Action"], s["Resource"]) for s in added] == [
        (
            "StartCrawler",
            ["glue:GetCrawler", "glue:StartCrawler"],
            "arn:aws:glue:us-east-1:123456789012:crawler/wcpipe-fifa-s3-crawler",
        ),
        ("ListArrivals", ["s3:ListBucket"], f"arn:aws:s3:::{BUCKET}"),
    ]
    assert added[1]["Condition"] == {
        "StringLike": {"s3:prefix": ["raw/attendance", "raw/attendance/*"]}
    }
