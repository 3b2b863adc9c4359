"""Scheduled crawlers in the sandbox: the clock (faster by the latency profile's scale), which
crawlers are due, and a crawler with a cron(...) Schedule that crawls by itself, through boto3."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from wcpipe.sandbox.patches.latency import profile
from wcpipe.sandbox.patches.schedules import SandboxClock, due

SCALE = 600.0  # a sandbox minute is 0.1 s


def _at(*parts: int) -> float:
    return datetime(*parts, tzinfo=UTC).timestamp()  # type: ignore[arg-type]


def test_the_clock_runs_scale_times_faster() -> None:
    ticks = iter([100.0, 100.0, 100.0, 101.0, 102.5])  # the first: the origin
    clock = SandboxClock(scale=60.0, monotonic=lambda: next(ticks), started=_at(2026, 12, 3, 6))
    assert clock.now() == _at(2026, 12, 3, 6)
    assert clock.now() == _at(2026, 12, 3, 6)
    assert clock.now() == _at(2026, 12, 3, 6, 1)
    assert clock.now() == _at(2026, 12, 3, 6, 2, 30)


def test_due_names_each_crawler_once_whose_minute_passed() -> None:
    crawlers = [
        SimpleNamespace(name="six", schedule="cron(0 6 * * ? *)"),
        SimpleNamespace(name="quarter", schedule="cron(0/15 * * * ? *)"),
        SimpleNamespace(name="manual", schedule=None),
        SimpleNamespace(name="dropped", schedule=""),
    ]
    # (05:59:30, 06:31:00]: 06:00, 06:15 and 06:30 began in it.
    assert due(crawlers, _at(2026, 12, 3, 5, 59, 30), _at(2026, 12, 3, 6, 31)) == [
        "six",
        "quarter",
    ]
    # A minute that began exactly at `since` was handled by the tick before.
    assert due(crawlers, _at(2026, 12, 3, 6), _at(2026, 12, 3, 6, 14, 59)) == []


@pytest.fixture(scope="module")
def sandbox(warehouse_dsn: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """This module's own sandbox, under the aws latency profile at a large scale."""
    from support.sandbox import started_sandbox

    cache = tmp_path_factory.mktemp("lambda-cache")
    with started_sandbox(
        warehouse_dsn, lambda_cache=cache, latency=profile("aws", scale=SCALE)
    ) as sb:
        yield sb


def test_a_scheduled_crawler_crawls_on_the_sandbox_clock(client: Callable[[str], Any]) -> None:
    s3, glue = client("s3"), client("glue")
    s3.create_bucket(Bucket="wcpipe-schedule-test")
    s3.put_object(Bucket="wcpipe-schedule-test", Key="raw/t/a.csv", Body=b"a,b\n1,2\n")
    glue.create_database(DatabaseInput={"Name": "scheduled"})
    glue.create_crawler(
        Name="scheduled",
        Role="arn:aws:iam::123456789012:role/none",
        DatabaseName="scheduled",
        Targets={"S3Targets": [{"Path": "s3://wcpipe-schedule-test/raw/t/"}]},
        Schedule="cron(0/5 * * * ? *)",  # every 5 sandbox minutes: every 0.5 s here
    )
    glue.create_crawler(
        Name="unscheduled",
        Role="arn:aws:iam::123456789012:role/none",
        DatabaseName="scheduled",
        Targets={"S3Targets": [{"Path": "s3://wcpipe-schedule-test/raw/t/"}]},
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if len(glue.list_crawls(CrawlerName="scheduled")["Crawls"]) >= 2:
            break
        time.sleep(0.1)
    assert len(glue.list_crawls(CrawlerName="scheduled")["Crawls"]) >= 2
    assert glue.list_crawls(CrawlerName="unscheduled")["Crawls"] == []
    assert glue.get_crawler(Name="scheduled")["Crawler"]["Schedule"]["State"] == "SCHEDULED"
