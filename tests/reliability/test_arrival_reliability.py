"""trigger on-arrival under the reliability suites' promises: its resources (the bucket's
EventBridge notifications, the arrival and job-succeeded rules with their targets and invoke
permissions) are
owned, counted by the census, converge through `up` and `down` killed anywhere (test_crash's
chain), and `down` leaves nothing of them; a same-named arrival rule that is not ours is neither
adopted nor deleted."""

from __future__ import annotations

import json

from support.census import census
from support.figures import report
from support.harness import Pipeline, tagged

from reliability.test_crash import _our_bucket, crash_until_done


def _on_arrival(pl: Pipeline) -> Pipeline:
    pl.rewrite(lambda doc: doc.update(trigger="on-arrival"))
    return pl


def test_on_arrival_up_and_down_killed_anywhere_converge(pipeline: Pipeline) -> None:
    pl = _on_arrival(pipeline)
    _our_bucket(pl)
    up_kills = crash_until_done(pl, "up", "--yes")
    found = census(pl)
    assert found.converged() == {}
    # The pipeline's rule, the two alert rules (reliability pipelines have alerts) and the two
    # arrival rules, each with its one target.
    assert found.found["EventBridge rule"] == 5 and found.found["EventBridge target"] == 5
    assert found.found["S3 EventBridge notifications"] == 1
    assert found.found["arrival invoke permission"] == 1
    assert found.found["job-succeeded invoke permission"] == 1
    plan = pl.cli("--output", "json", "plan")
    assert plan.code == 0 and json.loads(plan.out)["pending"] == 0, plan
    down_kills = crash_until_done(pl, "down", "--yes")
    assert census(pl).leftovers() == {}
    assert tagged(pl.sandbox, pl.name) == []
    report(
        f"on-arrival crash consistency: {len(up_kills) - 1} kill points in up, "
        f"{len(down_kills) - 1} in down"
    )


def test_an_arrival_rule_not_ours_is_neither_adopted_nor_deleted(pipeline: Pipeline) -> None:
    pl = _on_arrival(pipeline)
    events, rule = pl.client("events"), pl.names().arrival_rule
    events.put_rule(Name=rule, EventPattern='{"source": ["theirs"]}')
    up = pl.cli("up", "--yes")
    assert up.code == 1 and rule in up.err and "not owned" in up.err, up
    down = pl.cli("down", "--yes")
    assert down.code == 0, down
    assert events.describe_rule(Name=rule)["EventPattern"] == '{"source": ["theirs"]}'
    events.delete_rule(Name=rule)


def test_a_trigger_changed_back_to_manual_removes_the_arrival_resources(
    pipeline: Pipeline,
) -> None:
    pl = _on_arrival(pipeline)
    assert pl.cli("up", "--yes").code == 0
    names = pl.names()
    pl.rewrite(lambda doc: doc.update(trigger="manual"))
    plan = pl.cli("plan")
    assert plan.code == 0 and names.arrival_rule in plan.out + plan.err, plan
    assert pl.cli("up", "--yes").code == 0
    assert census(pl).converged() == {}
    rules = [r["Name"] for r in pl.client("events").list_rules(NamePrefix=names.base)["Rules"]]
    assert names.arrival_rule not in rules and names.job_succeeded_rule not in rules
    s3 = pl.client("s3").get_bucket_notification_configuration(Bucket=names.bucket)
    assert "EventBridgeConfiguration" not in s3
    assert pl.cli("down", "--yes").code == 0
    assert census(pl).leftovers() == {}
