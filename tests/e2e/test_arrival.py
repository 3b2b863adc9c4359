"""trigger on-arrival end to end on the sandbox: after `up`, objects put under the prefix by plain
boto3 (not wcpipe) reach the warehouse with no wcpipe command in between; a burst of 20 objects
causes at most two crawls and loads every row once; `down` removes the arrival resources."""

from __future__ import annotations

import json
import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from support.cli import CliResult, deployed, run_cli
from support.paths import ROOT, SPEC_PATH
from support.sandbox import empty_warehouse, warehouse_rows

pytestmark = pytest.mark.e2e
FIFA = ROOT / "data" / "FIFA World Cup Attendance.csv"
PREFIX = "raw/attendance/"
DEADLINE = 60.0  # the promise: in the warehouse within a minute
SETTLE = 4  # the Lambda starts a crawl once nothing newer arrived for this long (seconds)
GAP = 0.2  # between the puts of a burst: far shorter than SETTLE, even on a loaded machine


@dataclass
class Pipeline:
    sandbox: Any
    base: list[str]
    bucket: str
    crawler: str
    job: str

    def wcpipe(self, *args: str) -> CliResult:
        return run_cli(*self.base, *args)

    def rows(self) -> int:
        return int(warehouse_rows(self.sandbox, "SELECT count(*) FROM public.attendance")[0][0])

    def crawls(self) -> list[dict[str, Any]]:
        return list(self.sandbox.client("glue").list_crawls(CrawlerName=self.crawler)["Crawls"])

    def busy(self) -> bool:
        glue = self.sandbox.client("glue")
        if glue.get_crawler(Name=self.crawler)["Crawler"]["State"] != "READY":
            return True
        runs = glue.get_job_runs(JobName=self.job)["JobRuns"]
        return any(r["JobRunState"] in ("STARTING", "RUNNING", "STOPPING") for r in runs)

    def settle(self, rows: int, deadline: float = DEADLINE) -> float:
        """Seconds until the warehouse holds `rows` and nothing crawls or runs (bounded)."""
        began = time.monotonic()
        while time.monotonic() - began < deadline:
            if self.rows() >= rows and not self.busy() and self.sandbox.idle(timeout=0.1):
                return time.monotonic() - began
            time.sleep(0.2)
        got = self.rows()
        raise AssertionError(f"{got} rows after {deadline} s, wanted {rows}: {self.story()}")

    def story(self) -> str:
        """What happened, for a failure: the events on the bus, the crawls, the Lambda's lines."""
        logs = self.sandbox.client("logs")
        group = "/aws/lambda/wcpipe-fifa-start-job"
        try:
            lines = [e["message"] for e in logs.filter_log_events(logGroupName=group)["events"]]
        except logs.exceptions.ResourceNotFoundException:
            lines = []
        kinds = [(e["source"], e["detail-type"]) for e in self.sandbox.events]
        return f"events {kinds}; crawls {self.crawls()}; lambda {lines[-20:]}"


@pytest.fixture(scope="module")
def pipeline(sandbox: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    """`up` of the FIFA spec with trigger on-arrival and no local files: data comes by push."""
    empty_warehouse(sandbox.pg_dsn)
    project = tmp_path_factory.mktemp("arrival")
    (project / "config").mkdir()
    shutil.copytree(ROOT / "data", project / "data")
    spec = project / "config" / "pipeline.yaml"
    text = SPEC_PATH.read_text()
    files = re.compile(r"  files:[^\n]*\n    - [^\n]*\n")
    assert files.search(text)
    settle = f"arrival_settle_seconds: {SETTLE:g}\n"
    spec.write_text(files.sub("  files: []\n", text, count=1) + "trigger: on-arrival\n" + settle)
    with deployed(sandbox, spec) as (base, names):
        yield Pipeline(sandbox, base, names.bucket, names.s3_crawler, names.job)
    rules = sandbox.client("events").list_rules(NamePrefix="wcpipe-fifa")["Rules"]
    assert rules == []


def test_an_object_put_by_boto3_is_in_the_warehouse_within_a_minute(pipeline: Pipeline) -> None:
    s3 = pipeline.sandbox.client("s3")  # plain boto3: no wcpipe command from here on
    crawls_before = len(pipeline.crawls())
    s3.put_object(Bucket=pipeline.bucket, Key=f"{PREFIX}fifa.csv", Body=FIFA.read_bytes())
    took = pipeline.settle(22)
    assert pipeline.rows() == 22
    # One crawl: it starts SETTLE seconds after the object, which it reads.
    crawls = len(pipeline.crawls()) - crawls_before
    assert crawls == 1, pipeline.story()
    print(f"\non arrival: 22 rows in the warehouse {took:.1f} s after the put ({crawls} crawls)")


def _burst_file(n: int) -> bytes:
    """One object of the burst: one tournament of a year no other file has."""
    header = FIFA.read_text(encoding="utf-8").splitlines()[0]
    row = f'{n},{3000 + n},Host {n},1000,10,100,500,"Venue {n}","A 1-0 B, Final"'
    return f"{header}\n{row}\n".encode()


def test_a_burst_of_20_objects_costs_at_most_two_crawls_and_loads_every_row_once(
    pipeline: Pipeline,
) -> None:
    s3 = pipeline.sandbox.client("s3")
    rows, crawls_before = pipeline.rows(), len(pipeline.crawls())
    runs_before = len(pipeline.sandbox.client("glue").get_job_runs(JobName=pipeline.job)["JobRuns"])
    began = time.monotonic()
    for n in range(20):  # one by one, as a person or a script uploads a folder
        s3.put_object(Bucket=pipeline.bucket, Key=f"{PREFIX}burst-{n:02d}.csv", Body=_burst_file(n))
        time.sleep(GAP)
    put = time.monotonic() - began
    # The minute is the promise for one object; a burst is about how many crawls it costs.
    pipeline.settle(rows + 20, deadline=3 * DEADLINE)
    crawls = len(pipeline.crawls()) - crawls_before
    runs = len(pipeline.sandbox.client("glue").get_job_runs(JobName=pipeline.job)["JobRuns"])
    years = warehouse_rows(
        pipeline.sandbox,
        "SELECT year, count(*) FROM public.attendance WHERE year >= 3000 GROUP BY year",
    )
    assert sorted(years) == [(3000 + n, 1) for n in range(20)]
    assert pipeline.rows() == rows + 20
    # The settle window (lambda/handler.py): only the last object's invocation starts a crawl,
    # SETTLE seconds after it, so the burst costs one crawl however long it lasts; two when a
    # late invocation lands in the crawl's start second (whole seconds: it crawls again).
    assert 1 <= crawls <= 2, pipeline.story()
    print(f"\nburst of 20 put over {put:.1f} s: {crawls} crawls, {runs - runs_before} job runs")


def test_push_wait_follows_the_arrival_to_verify_and_status_shows_it(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    before = pipeline.rows()
    new = tmp_path / "push-4000.csv"
    new.write_bytes(_burst_file(1000))  # year 4000
    pushed = pipeline.wcpipe("push", str(new), "--wait", "--appear-timeout", "60")
    assert pushed.code == 0, pushed
    assert f"{PREFIX}push-4000.csv" in pushed.out and "uploaded" in pushed.out
    assert "verify public.attendance" in pushed.out and "MISMATCH" not in pushed.out
    assert pipeline.rows() == before + 1
    # The same content again: not sent, so nothing arrives and there is nothing to follow.
    again = pipeline.wcpipe("--output", "json", "push", str(new), "--wait")
    assert again.code == 0, again
    assert json.loads(again.out)["pushed"][0]["result"] == "unchanged"
    status = pipeline.wcpipe("--output", "json", "status")
    assert status.code == 0, status
    trigger = json.loads(status.out)["trigger"]
    assert trigger["trigger"] == "on-arrival"
    assert trigger["last_arrival"].startswith(f"{PREFIX}push-4000.csv at ")


def test_an_object_that_arrives_during_a_crawl_gets_another_crawl(pipeline: Pipeline) -> None:
    """Put once a crawl has begun (the sandbox's crawls are short: it may have ended too)."""
    s3 = pipeline.sandbox.client("s3")
    rows, crawls_before = pipeline.rows(), len(pipeline.crawls())
    s3.put_object(Bucket=pipeline.bucket, Key=f"{PREFIX}crawled.csv", Body=_burst_file(2200))
    deadline = time.monotonic() + DEADLINE
    while len(pipeline.crawls()) == crawls_before:  # until its crawl began (after SETTLE)
        assert time.monotonic() < deadline, pipeline.story()
        time.sleep(0.02)
    late = f"{PREFIX}during-the-crawl.csv"
    s3.put_object(Bucket=pipeline.bucket, Key=late, Body=_burst_file(2201))
    pipeline.settle(rows + 2)
    years = warehouse_rows(
        pipeline.sandbox, "SELECT year FROM public.attendance WHERE year IN (5200, 5201)"
    )
    assert sorted(years) == [(5200,), (5201,)]
    assert pipeline.rows() == rows + 2
    # It came after the first crawl began, so another crawl read it (never left behind).
    crawls = sorted(pipeline.crawls(), key=lambda c: c["StartTime"])[crawls_before:]
    arrived = s3.head_object(Bucket=pipeline.bucket, Key=late)["LastModified"]
    assert int(arrived.timestamp()) >= int(crawls[0]["StartTime"].timestamp())
    assert len(crawls) >= 2, pipeline.story()


def test_an_object_that_arrives_while_the_job_runs_is_not_left_behind(pipeline: Pipeline) -> None:
    # Put while the first arrival's run starts. Which path loads it depends on timing (its own
    # crawl after the run, or the job-succeeded rule's crawl); the handler's tests pin each.
    s3, glue = pipeline.sandbox.client("s3"), pipeline.sandbox.client("glue")
    known = {r["Id"] for r in glue.get_job_runs(JobName=pipeline.job)["JobRuns"]}
    rows = pipeline.rows()
    s3.put_object(Bucket=pipeline.bucket, Key=f"{PREFIX}first.csv", Body=_burst_file(2100))
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:  # until the run this arrival starts is going
        runs = glue.get_job_runs(JobName=pipeline.job)["JobRuns"]
        if any(r["Id"] not in known for r in runs):
            break
        time.sleep(0.05)
    s3.put_object(Bucket=pipeline.bucket, Key=f"{PREFIX}during.csv", Body=_burst_file(2101))
    pipeline.settle(rows + 2)
    assert pipeline.rows() == rows + 2
    years = warehouse_rows(
        pipeline.sandbox, "SELECT year FROM public.attendance WHERE year IN (5100, 5101)"
    )
    assert sorted(years) == [(5100,), (5101,)]


def test_push_of_a_missing_file_is_one_line_exit_2_no_request(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    from support.requests import Requests

    requests = Requests.everywhere()
    try:
        missing = pipeline.wcpipe("push", str(tmp_path / "nope.csv"))
    finally:
        requests.close()
    assert missing.code == 2, missing
    assert missing.err.strip().splitlines() == [
        f"error: push: {tmp_path / 'nope.csv'}: no such file"
    ]
    assert requests.ops == []


@pytest.mark.parametrize("sid", ["StartCrawler", "ListArrivals"])
def test_each_arrival_statement_of_the_lambda_role_is_necessary(
    pipeline: Pipeline, sid: str
) -> None:
    """test_least_privilege's proof for the statements trigger on-arrival adds (its pipeline is
    manual): without the statement an arrival is denied where it needs it, and loads nothing."""
    from e2e.test_least_privilege import _actions, _policy, _put
    from wcpipe.sandbox.patches.actors import denials

    sandbox, role = pipeline.sandbox, "wcpipe-fifa-lambda"
    deployed = _policy(sandbox, role)
    [statement] = [s for s in deployed["Statement"] if s["Sid"] == sid]
    _put(
        sandbox,
        role,
        {**deployed, "Statement": [s for s in deployed["Statement"] if s != statement]},
    )
    denials(sandbox).clear()
    rows = pipeline.rows()
    try:
        body = _burst_file({"StartCrawler": 2000, "ListArrivals": 2001}[sid])
        s3 = sandbox.client("s3")
        s3.put_object(Bucket=pipeline.bucket, Key=f"{PREFIX}denied-{sid}.csv", Body=body)
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline and not (
            any(d.action in _actions(statement) for d in denials(sandbox)) and not pipeline.busy()
        ):
            time.sleep(0.2)
        assert sandbox.idle(timeout=30)
    finally:
        _put(sandbox, role, deployed)
    assert {d.action for d in denials(sandbox)} & _actions(statement), denials(sandbox)
    assert pipeline.rows() == rows
