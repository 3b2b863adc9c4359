"""The EventBridge rule on moto: its pattern against recorded Glue events, ensure twice, delete
twice, ownership, drift.

moto 5.2.5 does not implement TestEventPattern (its backend raises NotImplementedError), so the
pattern is checked with the class moto uses to route events to rule targets (`EventPattern`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from support.paths import EVENTS_DIR
from support.plan import names as fields_of
from support.requests import Requests

from wcpipe.core.errors import NotOwnedError
from wcpipe.provision.resources.base import Context
from wcpipe.provision.resources.events import Rule, event_pattern
from wcpipe.spec.model import Spec
from wcpipe.spec.names import Names

RULE = "wcpipe-fifa-crawler-succeeded"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:wcpipe-fifa-start-job"
TAGS = {"wcpipe:pipeline": "fifa", "project": "world-cup-attendance"}


@pytest.fixture
def names(spec: Spec) -> Names:
    return Names.of(spec, "123456789012", "us-east-1")


def matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    from moto.events.models import EventPattern

    compiled: Any = EventPattern.load(json.dumps(pattern))
    return bool(compiled.matches_event(event))


# The pattern ---------------------------------------------------------------------------------


def test_fixtures_are_all_there() -> None:
    assert sorted(p.stem for p in EVENTS_DIR.glob("*.json")) == [
        "crawler-failed",
        "crawler-started",
        "crawler-succeeded",
        "job-failed",
        "job-succeeded",
    ]


@pytest.mark.parametrize("path", sorted(EVENTS_DIR.glob("*.json")), ids=lambda p: p.stem)
def test_pattern_matches_only_our_crawler_succeeding(path: Path, names: Names) -> None:
    event = json.loads(path.read_text())
    assert matches(event_pattern(names), event) == (path.stem == "crawler-succeeded")


def test_pattern_ignores_another_crawler_succeeding(names: Names) -> None:
    event = json.loads((EVENTS_DIR / "crawler-succeeded.json").read_text())
    event["detail"]["crawlerName"] = "someone-elses-crawler"
    assert not matches(event_pattern(names), event)


def test_pattern_uses_the_crawler_spelling_of_succeeded(names: Names) -> None:
    # Job events say "SUCCEEDED"; crawler events say "Succeeded". Matching is case sensitive.
    event = json.loads((EVENTS_DIR / "crawler-succeeded.json").read_text())
    event["detail"]["state"] = "SUCCEEDED"
    assert not matches(event_pattern(names), event)


def test_moto_still_lacks_test_event_pattern(moto: None) -> None:
    # If moto learns TestEventPattern, switch the pattern tests above to it.
    from moto.events.models import events_backends

    with pytest.raises(NotImplementedError):
        events_backends["123456789012"]["us-east-1"].test_event_pattern()


# The rule ------------------------------------------------------------------------------------


@pytest.fixture
def rule(ctx: Context) -> Rule:
    # What lambda.function publishes; the function itself need not exist for EventBridge.
    ctx.publish("lambda.function", {"arn": FUNCTION_ARN})
    return Rule(ctx)


def targets(ctx: Context) -> list[dict[str, Any]]:
    return list(ctx.client("events").list_targets_by_rule(Rule=RULE)["Targets"])


def test_ensure_creates_rule_and_target(ctx: Context, rule: Rule) -> None:
    assert rule.ensure() == "created"
    events = ctx.client("events")
    found = events.describe_rule(Name=RULE)
    assert json.loads(found["EventPattern"]) == event_pattern(ctx.names)
    assert found["State"] == "ENABLED"
    assert targets(ctx) == [
        {
            "Id": "start-glue-job",
            "Arn": FUNCTION_ARN,
            "RetryPolicy": {"MaximumRetryAttempts": 4, "MaximumEventAgeInSeconds": 3600},
        }
    ]
    tags = events.list_tags_for_resource(ResourceARN=found["Arn"])["Tags"]
    assert {t["Key"]: t["Value"] for t in tags} == TAGS
    assert ctx.output("events.rule", "arn") == found["Arn"]


def test_ensure_twice_changes_nothing(ctx: Context, rule: Rule) -> None:
    rule.ensure()
    sent = Requests.on(ctx.client("events"))
    assert rule.ensure() == "unchanged"
    assert sent.mutating == []


def test_destroy_twice(ctx: Context, rule: Rule) -> None:
    rule.ensure()
    sent = Requests.on(ctx.client("events"))
    assert rule.destroy() == "deleted"
    assert sent.mutating == ["RemoveTargets", "DeleteRule"]
    assert rule.destroy() == "absent"


def test_untagged_rule_is_not_adopted_nor_deleted(ctx: Context, rule: Rule) -> None:
    ctx.client("events").put_rule(Name=RULE, EventPattern='{"source": ["mine"]}')
    with pytest.raises(NotOwnedError):
        rule.ensure()
    assert rule.destroy() == "kept"
    assert ctx.client("events").describe_rule(Name=RULE)["EventPattern"] == '{"source": ["mine"]}'


def test_removed_target_is_named_and_put_back(ctx: Context, rule: Rule) -> None:
    rule.ensure()
    events = ctx.client("events")
    events.remove_targets(Rule=RULE, Ids=["start-glue-job"])
    observed = rule.describe()
    assert observed is not None
    assert fields_of(rule.differences(observed)) == ["targets"]
    sent = Requests.on(events)
    assert rule.ensure() == "updated"
    assert sent.mutating == ["PutTargets"]
    assert [t["Id"] for t in targets(ctx)] == ["start-glue-job"]


def test_extra_target_is_removed(ctx: Context, rule: Rule) -> None:
    rule.ensure()
    events = ctx.client("events")
    events.put_targets(Rule=RULE, Targets=[{"Id": "extra", "Arn": FUNCTION_ARN + "-x"}])
    observed = rule.describe()
    assert observed is not None
    assert fields_of(rule.differences(observed)) == ["targets"]
    assert rule.ensure() == "updated"
    assert [t["Id"] for t in targets(ctx)] == ["start-glue-job"]


def test_pattern_and_state_drift_is_named_and_fixed(ctx: Context, rule: Rule) -> None:
    rule.ensure()
    events = ctx.client("events")
    events.put_rule(
        Name=RULE,
        EventPattern='{"source": ["aws.glue"]}',
        State="DISABLED",
        Description="wcpipe fifa: start wcpipe-fifa-load when wcpipe-fifa-s3-crawler succeeds",
    )
    observed = rule.describe()
    assert observed is not None
    assert fields_of(rule.differences(observed)) == ["pattern", "state"]
    sent = Requests.on(events)
    assert rule.ensure() == "updated"
    assert sent.mutating == ["PutRule"]
    found = events.describe_rule(Name=RULE)
    assert json.loads(found["EventPattern"]) == event_pattern(ctx.names)
    assert found["State"] == "ENABLED"
    assert [t["Id"] for t in targets(ctx)] == ["start-glue-job"]


def test_pattern_with_other_key_order_is_the_same(ctx: Context, rule: Rule) -> None:
    rule.ensure()
    observed = rule.describe()
    assert observed is not None
    reordered = dict(reversed(list(event_pattern(ctx.names).items())))
    observed.data["EventPattern"] = json.dumps(reordered, indent=2)
    assert fields_of(rule.differences(observed)) == []


def test_tag_drift_is_named_and_fixed(ctx: Context, rule: Rule) -> None:
    rule.ensure()
    events = ctx.client("events")
    arn = ctx.output("events.rule", "arn")
    events.untag_resource(ResourceARN=arn, TagKeys=["project"])
    events.tag_resource(ResourceARN=arn, Tags=[{"Key": "stale", "Value": "yes"}])
    observed = rule.describe()
    assert observed is not None
    assert fields_of(rule.differences(observed)) == ["tags"]
    assert rule.ensure() == "updated"
    assert rule.ensure() == "unchanged"
    tags = events.list_tags_for_resource(ResourceARN=arn)["Tags"]
    # ours are back; the tag someone else added stays (base.py's tag policy)
    assert {t["Key"]: t["Value"] for t in tags} == {**TAGS, "stale": "yes"}


def test_target_follows_the_function_arn(ctx: Context, rule: Rule) -> None:
    rule.ensure()
    ctx.publish("lambda.function", {"arn": FUNCTION_ARN + "-v2"})
    observed = rule.describe()
    assert observed is not None
    assert fields_of(rule.differences(observed)) == ["targets"]
    rule.ensure()
    assert targets(ctx)[0]["Arn"] == FUNCTION_ARN + "-v2"


def test_facts(ctx: Context, rule: Rule) -> None:
    rule.ensure()
    observed = rule.describe()
    assert observed is not None
    assert rule.facts(observed) == {"state": "ENABLED", "targets": "wcpipe-fifa-start-job"}


def test_refused_target_is_a_failure(ctx: Context, rule: Rule) -> None:
    from botocore.stub import ANY, Stubber

    from wcpipe.core.errors import ResourceFailed

    refused = {
        "FailedEntryCount": 1,
        "FailedEntries": [
            {"TargetId": "start-glue-job", "ErrorCode": "AccessDenied", "ErrorMessage": "no"}
        ],
    }
    with Stubber(ctx.client("events")) as stub:
        rule_params = {"Name": RULE, "EventPattern": ANY, "State": "ENABLED"}
        stub.add_response(
            "put_rule", {"RuleArn": "arn"}, {**rule_params, "Description": ANY, "Tags": ANY}
        )
        target = {"Id": "start-glue-job", "Arn": FUNCTION_ARN, "RetryPolicy": ANY}
        stub.add_response("put_targets", refused, {"Rule": RULE, "Targets": [target]})
        with pytest.raises(ResourceFailed, match="AccessDenied"):
            rule.create()
