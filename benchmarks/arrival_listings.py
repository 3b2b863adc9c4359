"""trigger on-arrival: how many S3 ListObjectsV2 requests the Lambda (lambda/handler.py) sends per
event, for a prefix of 10 and of 5,000 objects (ListObjectsV2 returns at most 1,000 keys a
page: Amazon S3 API Reference, ListObjectsV2, MaxKeys).

Each case calls the handler's own functions with a real boto3 S3 client on moto (in process,
fake credentials) and counts the client's ListObjectsV2 calls (`before-call`, once per page);
Glue is stubbed with botocore's Stubber, as in tests/test_lambda_handler.py, because moto's
crawler keeps no LastCrawl. The settle window is 10 s with a fake clock and a sleep that
returns at once. Cases:
- arrival, newest: the object nothing newer follows, its invocation running at once (the
  one that starts the crawl);
- arrival, late: the same, its invocation running after the settle time has passed (a retry,
  or Lambda's asynchronous queue behind a burst);
- arrival, deferred: the object before the newest in key order (a burst named in order), its
  invocation running at once: it leaves the start to the newest;
- crawl succeeded / run succeeded: every object arrived after the crawl's (run's) start, so
  the crawler starts again.
"""

from __future__ import annotations

import contextlib
import io
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from common import Results, offline

BUCKET = "wcpipe-bench-arrivals"
PREFIX = "raw/attendance/"
CRAWLER = "wcpipe-bench-s3-crawler"
JOB = "wcpipe-bench-load"
SETTLE = 10.0
SIZES = (10, 5000)


def _event(key: str, second: int) -> dict[str, Any]:
    at = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    detail = {"bucket": {"name": BUCKET}, "object": {"key": key}}
    return {"id": f"arrival-{key}", "source": "aws.s3", "time": at, "detail": detail}


def _crawler(state: str, start: datetime) -> dict[str, Any]:
    last = {"Status": "SUCCEEDED", "StartTime": start}
    return {"Crawler": {"Name": CRAWLER, "State": state, "LastCrawl": last}}


def _cases(handler: Any, s3: Any, before: int, newest: int) -> dict[str, Any]:
    """name -> a call of the handler's decision for that case (each stubs its own Glue)."""
    import boto3
    from botocore.stub import Stubber

    arrivals = (BUCKET, PREFIX)
    key = f"{PREFIX}zz-newest.csv"
    long_ago = datetime.now(UTC) - timedelta(minutes=5)

    def arrival(lateness: float) -> None:
        glue = boto3.client("glue", region_name="us-east-1")
        settle = handler.Settle(SETTLE, lambda seconds: None, lambda: newest + lateness)
        with Stubber(glue) as stub:
            for _ in range(2):
                stub.add_response("get_crawler", _crawler("READY", long_ago), {"Name": CRAWLER})
            stub.add_response("start_crawler", {}, {"Name": CRAWLER})
            result = handler.handle_arrival(
                _event(key, newest), glue, CRAWLER, s3, arrivals, settle
            )
        assert result["action"] == "started", result

    def deferred() -> None:
        glue = boto3.client("glue", region_name="us-east-1")
        settle = handler.Settle(SETTLE, lambda seconds: None, lambda: before + 0.5)
        event = _event(f"{PREFIX}zz-before.csv", before)
        with Stubber(glue) as stub:
            stub.add_response("get_crawler", _crawler("READY", long_ago), {"Name": CRAWLER})
            result = handler.handle_arrival(event, glue, CRAWLER, s3, arrivals, settle)
        assert result["action"] == "deferred", result

    def crawl_succeeded() -> None:
        glue = boto3.client("glue", region_name="us-east-1")
        settle = handler.Settle(SETTLE, lambda seconds: None, lambda: newest + 0.5)
        with Stubber(glue) as stub:
            stub.add_response("get_crawler", _crawler("READY", long_ago), {"Name": CRAWLER})
            stub.add_response("start_crawler", {}, {"Name": CRAWLER})
            again = handler._reason_to_crawl_again(glue, s3, CRAWLER, arrivals, settle)
        assert again is not None and again[0] == "recrawling", again

    def run_succeeded() -> None:
        glue = boto3.client("glue", region_name="us-east-1")
        settle = handler.Settle(SETTLE, lambda seconds: None, lambda: newest + 0.5)
        event = {"id": "run", "detail": {"jobName": JOB, "jobRunId": "jr_1"}}
        run = {"Id": "jr_1", "JobName": JOB, "StartedOn": long_ago}
        with Stubber(glue) as stub:
            stub.add_response("get_job_run", {"JobRun": run}, {"JobName": JOB, "RunId": "jr_1"})
            stub.add_response("start_crawler", {}, {"Name": CRAWLER})
            result = handler.handle_job_succeeded(event, glue, s3, CRAWLER, arrivals, settle)
        assert result["action"] == "recrawling", result

    return {
        "arrival, newest": lambda: arrival(0.5),
        "arrival, late": lambda: arrival(SETTLE + 30),
        "arrival, deferred": deferred,
        "crawl succeeded": crawl_succeeded,
        "run succeeded": run_succeeded,
    }


def measure() -> dict[str, dict[int, int]]:
    """case -> {objects under the prefix: ListObjectsV2 calls}."""
    import boto3
    from moto import mock_aws
    from wcpipe_lambda import handler

    counts: dict[str, dict[int, int]] = {}
    calls: list[str] = []
    for size in SIZES:
        with mock_aws():
            s3 = boto3.client("s3", region_name="us-east-1")
            s3.create_bucket(Bucket=BUCKET)
            for n in range(size - 2):
                s3.put_object(Bucket=BUCKET, Key=f"{PREFIX}part-{n:05d}.csv", Body=b"a\n1\n")
            for name in ("zz-before.csv", "zz-newest.csv"):
                s3.put_object(Bucket=BUCKET, Key=f"{PREFIX}{name}", Body=b"a\n1\n")
            listed = s3.list_objects_v2(Bucket=BUCKET, Prefix=PREFIX, StartAfter=f"{PREFIX}zz")
            before, newest = (int(o["LastModified"].timestamp()) for o in listed["Contents"])
            s3.meta.events.register("before-call.s3.ListObjectsV2", lambda **_: calls.append(""))
            for name, case in _cases(handler, s3, before, newest).items():
                calls.clear()
                with contextlib.redirect_stdout(io.StringIO()):  # the handler's log lines
                    case()
                counts.setdefault(name, {})[size] = len(calls)
    return counts


def run(results: Results, *, quick: bool) -> None:
    offline()
    counts = measure()
    for name, by_size in counts.items():
        value = ", ".join(f"{by_size[size]} at {size:,} objects" for size in SIZES)
        results.add("arrival", f"ListObjectsV2 per event: {name}", value)
    results.details["arrival.list_objects_v2"] = counts


if __name__ == "__main__":
    offline()
    for name, by_size in measure().items():
        print(name, by_size, file=sys.stdout)
