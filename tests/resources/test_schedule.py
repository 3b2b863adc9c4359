"""trigger cron(...): the S3 crawler carries the schedule (Glue's own), on moto: created with it,
ensure twice changes nothing, a changed or dropped schedule is a difference `up` puts right."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.stub import Stubber
from support.requests import Requests

from wcpipe.core.wait import Timing
from wcpipe.provision.resources.base import Context, Differences
from wcpipe.provision.resources.glue_jobs import S3Crawler

CRAWLER = "wcpipe-fifa-s3-crawler"


def _ctx(spec: Any, aws: Any, clock: Any, trigger: str) -> Context:
    timed = spec.model_copy(update={"trigger": trigger})
    return Context(spec=timed, aws=aws, timing=Timing(sleep=clock.sleep, clock=clock))


@pytest.fixture
def role(aws: Any) -> None:
    aws.client("iam").create_role(RoleName="wcpipe-fifa-glue", AssumeRolePolicyDocument="{}")


def _schedule(aws: Any) -> Any:
    return aws.client("glue").get_crawler(Name=CRAWLER)["Crawler"].get("Schedule")


def test_a_cron_trigger_schedules_the_s3_crawler(
    spec: Any, aws: Any, clock: Any, role: None
) -> None:
    crawler = S3Crawler(_ctx(spec, aws, clock, "cron(0 6 * * ? *)"))
    assert crawler.ensure() == "created"
    assert _schedule(aws)["ScheduleExpression"] == "cron(0 6 * * ? *)"
    sent = Requests.on(aws.client("glue"))
    assert crawler.ensure() == "unchanged"
    assert sent.mutating == []


def test_a_changed_or_dropped_schedule_is_a_difference_put_right(
    spec: Any, aws: Any, clock: Any, role: None
) -> None:
    S3Crawler(_ctx(spec, aws, clock, "cron(0 6 * * ? *)")).ensure()
    for trigger, sent in [("cron(30 7 * * ? *)", "cron(30 7 * * ? *)"), ("manual", "")]:
        crawler = S3Crawler(_ctx(spec, aws, clock, trigger))
        observed = crawler.describe()
        assert observed is not None
        fields = Differences(crawler.differences(observed))
        assert fields.fields == ("Schedule",)
        assert (fields["Schedule"].old, fields["Schedule"].new) == (
            "cron(0 6 * * ? *)",
            sent or None,
        )
        # moto 5.2.5 has no UpdateCrawler: the request is checked (an empty Schedule drops it).
        glue = crawler.ctx.client("glue")
        with Stubber(glue) as stub:
            stub.add_response("update_crawler", {}, {**crawler.definition(), "Schedule": sent})
            crawler.update(observed, fields)
            stub.assert_no_pending_responses()
