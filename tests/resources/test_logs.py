"""The Lambda function's log group on moto: ensure twice, delete twice, ownership, drift."""

from __future__ import annotations

import pytest
from support.plan import names
from support.requests import Requests

from wcpipe.core.errors import NotOwnedError
from wcpipe.provision.resources.base import Context
from wcpipe.provision.resources.logs import LambdaLogGroup


@pytest.fixture
def group(ctx: Context) -> LambdaLogGroup:
    return LambdaLogGroup(ctx)


def test_ensure_creates_tagged_group_with_retention(ctx: Context, group: LambdaLogGroup) -> None:
    assert group.ensure() == "created"
    logs = ctx.client("logs")
    found = logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/wcpipe-fifa-start-job")
    [g] = found["logGroups"]
    assert g["logGroupName"] == "/aws/lambda/wcpipe-fifa-start-job"
    assert g["retentionInDays"] == 14
    tags = logs.list_tags_for_resource(resourceArn=g["logGroupArn"])["tags"]
    assert tags == {"wcpipe:pipeline": "fifa", "project": "world-cup-attendance"}
    assert ctx.output("logs.lambda-log-group", "name") == group.name


def test_ensure_twice_changes_nothing(ctx: Context, group: LambdaLogGroup) -> None:
    group.ensure()
    sent = Requests.on(ctx.client("logs"))
    assert group.ensure() == "unchanged"
    assert sent.mutating == []


def test_destroy_twice(ctx: Context, group: LambdaLogGroup) -> None:
    group.ensure()
    assert group.destroy() == "deleted"
    assert group.destroy() == "absent"
    assert group.describe() is None


def test_a_group_with_a_longer_name_is_not_ours(ctx: Context, group: LambdaLogGroup) -> None:
    ctx.client("logs").create_log_group(logGroupName=group.name + "-other")
    assert group.describe() is None


def test_untagged_group_is_not_adopted_nor_deleted(ctx: Context, group: LambdaLogGroup) -> None:
    # What Lambda itself creates on a first invocation: no tags, no retention.
    ctx.client("logs").create_log_group(logGroupName=group.name)
    with pytest.raises(NotOwnedError):
        group.ensure()
    assert group.destroy() == "kept"
    assert group.describe() is not None


def test_retention_drift_is_named_and_fixed(ctx: Context, group: LambdaLogGroup) -> None:
    group.ensure()
    logs = ctx.client("logs")
    logs.put_retention_policy(logGroupName=group.name, retentionInDays=365)
    observed = group.describe()
    assert observed is not None
    assert names(group.differences(observed)) == ["retention"]
    sent = Requests.on(logs)
    assert group.ensure() == "updated"
    assert sent.mutating == ["PutRetentionPolicy"]
    observed = group.describe()
    assert observed is not None
    assert observed.data["retentionInDays"] == 14
    assert names(group.differences(observed)) == []


def test_retention_removed_is_drift(ctx: Context, group: LambdaLogGroup) -> None:
    group.ensure()
    ctx.client("logs").delete_retention_policy(logGroupName=group.name)
    observed = group.describe()
    assert observed is not None
    assert names(group.differences(observed)) == ["retention"]


def test_tag_drift_is_named_and_fixed(ctx: Context, group: LambdaLogGroup) -> None:
    group.ensure()
    logs = ctx.client("logs")
    observed = group.describe()
    assert observed is not None
    arn = observed.data["logGroupArn"]
    logs.untag_resource(resourceArn=arn, tagKeys=["project"])
    logs.tag_resource(resourceArn=arn, tags={"stale": "yes"})
    observed = group.describe()
    assert observed is not None
    assert names(group.differences(observed)) == ["tags"]
    assert group.ensure() == "updated"
    assert group.ensure() == "unchanged"
    tags = logs.list_tags_for_resource(resourceArn=arn)["tags"]
    # ours are back; the tag someone else added stays (base.py's tag policy)
    assert tags == {"wcpipe:pipeline": "fifa", "project": "world-cup-attendance", "stale": "yes"}


def test_create_when_created_meanwhile_by_us_sets_retention(
    ctx: Context, group: LambdaLogGroup
) -> None:
    ctx.client("logs").create_log_group(logGroupName=group.name, tags=ctx.tags)
    group.create()
    observed = group.describe()
    assert observed is not None
    assert observed.data["retentionInDays"] == 14


def test_create_when_created_meanwhile_by_someone_else(ctx: Context, group: LambdaLogGroup) -> None:
    ctx.client("logs").create_log_group(logGroupName=group.name)
    with pytest.raises(NotOwnedError):
        group.create()


def test_facts(ctx: Context, group: LambdaLogGroup) -> None:
    group.ensure()
    observed = group.describe()
    assert observed is not None
    assert group.facts(observed)["retention"] == "14 days"
