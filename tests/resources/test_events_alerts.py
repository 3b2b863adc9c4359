"""The alert rules on moto: their patterns against Glue's recorded events, their targets (the
topic, with an InputTransformer), ensure twice, delete twice, drift."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from support.paths import EVENTS_DIR
from support.plan import names as fields_of
from support.requests import Requests

from wcpipe.provision.resources.base import Context
from wcpipe.provision.resources.events_alerts import (
    CrawlFailedRule,
    JobFailedRule,
    crawl_failed_pattern,
    job_failed_pattern,
)
from wcpipe.provision.resources.sns import Topic


def matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    from moto.events.models import EventPattern

    compiled: Any = EventPattern.load(json.dumps(pattern))
    return bool(compiled.matches_event(event))


@pytest.mark.parametrize("path", sorted(EVENTS_DIR.glob("*.json")), ids=lambda p: p.stem)
def test_patterns_match_only_failures(path: Path) -> None:
    event = json.loads(path.read_text())
    assert matches(job_failed_pattern("wcpipe-fifa-load"), event) == (path.stem == "job-failed")
    crawlers = ["wcpipe-fifa-s3-crawler", "wcpipe-fifa-redshift-crawler"]
    assert matches(crawl_failed_pattern(crawlers), event) == (path.stem == "crawler-failed")


@pytest.mark.parametrize("state", ["TIMEOUT", "STOPPED"])
def test_job_pattern_matches_timeout_and_stopped(state: str) -> None:
    event = json.loads((EVENTS_DIR / "job-failed.json").read_text())
    event["detail"]["state"] = state
    assert matches(job_failed_pattern("wcpipe-fifa-load"), event)
    event["detail"]["jobName"] = "someone-elses-job"
    assert not matches(job_failed_pattern("wcpipe-fifa-load"), event)


def test_rules_target_the_topic_with_a_message_naming_the_hop_and_run(alerting: Context) -> None:
    Topic(alerting).ensure()
    for rule in (JobFailedRule(alerting), CrawlFailedRule(alerting)):
        assert rule.ensure() == "created"
    events = alerting.client("events")
    [target] = events.list_targets_by_rule(Rule="wcpipe-fifa-job-failed")["Targets"]
    assert target["Arn"] == alerting.aws.arn("sns", "wcpipe-fifa-alerts")
    transformer = target["InputTransformer"]
    assert transformer["InputPathsMap"]["run"] == "$.detail.jobRunId"
    template = transformer["InputTemplate"]
    for fragment in ('"pipeline": "fifa"', '"hop": "load"', '"run": "<run>"'):
        assert fragment in template
    assert "wcpipe logs job --run-id <run>" in template
    [target] = events.list_targets_by_rule(Rule="wcpipe-fifa-crawl-failed")["Targets"]
    assert '"hop": "crawl"' in target["InputTransformer"]["InputTemplate"]
    rule = events.describe_rule(Name="wcpipe-fifa-crawl-failed")
    assert json.loads(rule["EventPattern"])["detail"]["state"] == ["Failed"]
    tags = events.list_tags_for_resource(ResourceARN=rule["Arn"])["Tags"]
    assert {"Key": "wcpipe:pipeline", "Value": "fifa"} in tags


def test_alert_rules_ensure_twice_and_destroy_twice(alerting: Context) -> None:
    Topic(alerting).ensure()
    rule = JobFailedRule(alerting)
    rule.ensure()
    sent = Requests.on(alerting.client("events"))
    assert rule.ensure() == "unchanged"
    assert sent.mutating == []
    assert rule.destroy() == "deleted"
    assert rule.destroy() == "absent"


def test_a_target_changed_by_hand_is_drift_and_put_back(alerting: Context) -> None:
    Topic(alerting).ensure()
    rule = CrawlFailedRule(alerting)
    rule.ensure()
    other = alerting.aws.arn("sns", "someone-else")
    alerting.client("events").put_targets(
        Rule=rule.name, Targets=[{"Id": "alert-topic", "Arn": other}]
    )
    observed = rule.describe()
    assert observed is not None
    assert fields_of(rule.differences(observed)) == ["targets"]
    assert rule.ensure() == "updated"
    observed = rule.describe()
    assert observed is not None
    assert fields_of(rule.differences(observed)) == []
