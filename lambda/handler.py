"""Start the pipeline's Glue job when its S3 crawler succeeds, and (trigger on-arrival) the
crawler when data arrives (runs in AWS Lambda).

Deployed as handler.py at the root of the zip, handler "handler.handler"; stdlib and boto3 only.
Configured by environment: GLUE_JOB_NAME (required), CRAWLER_NAME (optional: when set, only that
crawler's events count), ARRIVAL_BUCKET and ARRIVAL_PREFIX (trigger on-arrival only). boto3
honours AWS_ENDPOINT_URL[_GLUE] natively, so the same code runs against the offline sandbox.

On arrival (ARRIVAL_BUCKET set), coalescing: a burst of objects starts one crawl, and an object
that arrives while a crawl runs is not left behind.
- An S3 "Object Created" event (source aws.s3) starts CRAWLER_NAME: {"action": "started"}. A
  crawl that is running absorbs it (StartCrawler's CrawlerRunningException, or the crawler seen
  RUNNING): {"action": "absorbed"}; so does a crawl that started at least a second after the
  object's event time (it read the object): {"action": "skipped"}. Event times and S3's
  LastModified have whole seconds, so "the same second" always counts as "maybe after".
- Settle window (ARRIVAL_SETTLE_SECONDS, the spec's arrival_settle_seconds; 0 or unset: none).
  Before starting, the invocation looks under the prefix: an object whose LastModified second
  is after the event's second is a newer arrival, whose own invocation starts the crawl, so this
  one leaves it: {"action": "deferred"}. With none newer it sleeps until the settle time has
  passed since the event's second ended and lists the whole prefix: still none newer, it starts
  the crawler (or a crawl that another invocation of the same second started meanwhile covers
  it). So a burst uploaded one by one, with gaps shorter than the settle time, costs one crawl
  that starts after its last object: only the newest arrival's invocation gets past the
  listing after the wait, and that listing alone decides. The look before the wait only spares
  the wait: it reads two pages at most (the prefix's first and the one after the object's own
  key: `newer_nearby`), and an invocation that runs after the settle time has passed (a retry,
  Lambda's queue behind a burst) skips it. ListObjectsV2 pages per event, measured on moto
  (benchmarks/arrival_listings.py), 10 / 5,000 objects under the prefix, before -> now:
  newest arrival 2 -> 2 / 10 -> 7; late 2 -> 1 / 10 -> 5; deferred to the next key 1 -> 1 /
  5 -> 2; the crawl after a crawl or a run 2 -> 1 / 10 -> 5. What is left grows with the
  prefix (one whole listing): S3 cannot list by time, so only a whole listing proves that
  nothing newer arrived.
  The crawl that follows a crawl or a job run (below) settles too: it waits once until the
  settle time has passed since the newest object's second, then starts, so a burst that began
  during a crawl or a run is crawled once when it is over.
  Weighed against EventBridge -> SQS -> an event source mapping with
  MaximumBatchingWindowInSeconds (0 to 300 s, Lambda API reference, CreateEventSourceMapping):
  that window is a batch collected from its first record, not a quiet period, so a burst that
  outlasts it is still split into several crawls; it needs a queue, its policy, a mapping and
  sqs permissions for the role, which the sandbox would have to emulate. The settle window costs
  one sleeping invocation per arrival (at 128 MB, 20 arrivals x 10 s = 25.6 GB-s) and must fit
  in the function's timeout, at most 900 s (AWS Lambda Developer Guide, "Configure Lambda
  function timeout"): the spec checks settle + 10 s <= lambda.timeout_seconds. EventBridge
  delivers at least once: a duplicate of the newest arrival sleeps too, and the second start is
  absorbed (CrawlerRunningException) or skipped (the crawl began after the arrival). An
  invocation that fails is retried ("by default Lambda attempts to run it two more times", AWS
  Lambda Developer Guide, "How Lambda handles errors and retries with asynchronous invocation"),
  so the newest arrival's start is not lost to one error.
- When the crawler succeeds, the objects under the prefix are listed first: one whose
  LastModified is not before the crawl's start second arrived during the crawl (or in the
  second it began), so the crawler starts again ({"action": "recrawling"}) instead of the job,
  which that next crawl's success starts. A crawler already running again: {"action":
  "deferred"}, for the same reason. So a burst costs at most two crawls and one job run, and the
  job (bookmarks, merge) reads every object once.
- A crawl that succeeds while a job run goes starts no second run ("already running"). So when
  a run of the job succeeds ("Glue Job State Change", state SUCCEEDED, for GLUE_JOB_NAME), the
  objects not older than the run's start second are crawled again ({"action": "recrawling"};
  that crawl's success starts the next run, whose bookmark reads only them); otherwise
  {"action": "ignored"}.

Contract of `handler(event, context)`:
- A "Glue Crawler State Change" event from aws.glue with detail.state "Succeeded" (the crawler
  spelling; job events say "SUCCEEDED") for our crawler starts the job with the argument
  `--wcpipe_event_id = <event id>`, and returns {"action": "started", "run_id": ...}.
- Any other event is ignored: {"action": "ignored", "reason": ...}.
- Glue events are delivered best effort and may arrive twice, and EventBridge retries an
  invocation that failed. So before starting, the job's recent runs (the first page of
  GetJobRuns, newest first) are read: a run that carries this event id means "already handled",
  a run in progress means "already running"; both return {"action": "skipped"}. A start that
  races another (ConcurrentRunsExceededException) is skipped too, not an error.
- Other AWS errors are raised, so that Lambda and EventBridge retry the invocation.
Every log line is one JSON object on stdout with level, message, event_id, crawler, job, run_id.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

CRAWLER_EVENT = "Glue Crawler State Change"
JOB_EVENT = "Glue Job State Change"
OBJECT_CREATED = "Object Created"
CRAWLING_STATES = frozenset({"RUNNING", "STOPPING"})
CRAWLER_SUCCEEDED = "Succeeded"
EVENT_ID_ARGUMENT = "--wcpipe_event_id"
ACTIVE_STATES = frozenset({"STARTING", "RUNNING", "STOPPING", "WAITING"})
RECENT_RUNS = 50
"""Duplicates arrive within minutes, so the newest runs are enough to recognise one."""

_clients: dict[str, Any] = {}


@dataclass(frozen=True)
class Settle:
    """The settle window (ARRIVAL_SETTLE_SECONDS; 0: none) and the time it is waited with:
    built once from the environment by the entry point, with a fake clock by the tests."""

    seconds: float = 0.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.time

    @classmethod
    def from_environment(cls) -> Settle:
        return cls(float(os.environ.get("ARRIVAL_SETTLE_SECONDS") or 0))

    def remaining(self, second: int) -> float:
        """Seconds until `seconds` after `second` ended, at most seconds + 1 (whole seconds:
        what happened in `second` happened before `second + 1`)."""
        return max(0.0, min(self.seconds + 1, second + 1 + self.seconds - self.clock()))

    def wait_past(self, second: int) -> None:
        self.sleep(self.remaining(second))


NO_SETTLE = Settle()


def _client(service: str) -> Any:
    """A client, built on first use and reused while the Lambda container lives."""
    if service not in _clients:
        import boto3

        _clients[service] = boto3.client(service)  # type: ignore[call-overload]
    return _clients[service]


def _glue() -> Any:
    return _client("glue")


def log(level: str, message: str, **fields: Any) -> None:
    """One JSON object per line on stdout (CloudWatch keeps each line as one event)."""
    empty = dict.fromkeys(("event_id", "crawler", "job", "run_id"))
    line = {"level": level, "message": message, **empty, **fields}
    print(json.dumps(line, default=str), flush=True)


def reason_to_ignore(event: dict[str, Any], crawler_name: str | None) -> str | None:
    """Why this event should not start the job, or None if it should."""
    detail = event.get("detail") or {}
    if event.get("source") != "aws.glue":
        return f"not a Glue event (source {event.get('source')!r})"
    if event.get("detail-type") != CRAWLER_EVENT:
        return f"not a crawler state change ({event.get('detail-type')!r})"
    if detail.get("state") != CRAWLER_SUCCEEDED:
        return f"crawler state is {detail.get('state')!r}, not {CRAWLER_SUCCEEDED!r}"
    if crawler_name and detail.get("crawlerName") != crawler_name:
        return f"crawler {detail.get('crawlerName')!r} is not {crawler_name!r}"
    return None


def _reason_to_skip(glue: Any, job_name: str, event_id: str | None) -> tuple[str, str] | None:
    """(reason, run id) if a recent run already handles this event or is still going."""
    runs = glue.get_job_runs(JobName=job_name, MaxResults=RECENT_RUNS).get("JobRuns", [])
    for run in runs:
        if event_id and (run.get("Arguments") or {}).get(EVENT_ID_ARGUMENT) == event_id:
            return "already handled", run["Id"]
    for run in runs:
        if run.get("JobRunState") in ACTIVE_STATES:
            return f"already running ({run['JobRunState']})", run["Id"]
    return None


def _seconds(moment: Any) -> float:
    """A time as epoch seconds: a datetime (boto3's) or AWS's event time text."""
    from datetime import datetime

    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    return float(moment.timestamp())


def _start_crawler(glue: Any, crawler_name: str) -> bool:
    """Start the crawler; False if a crawl is already running (it absorbs this start)."""
    try:
        glue.start_crawler(Name=crawler_name)
    except glue.exceptions.CrawlerRunningException:
        return False
    return True


def _covered(glue: Any, crawler_name: str, event: dict[str, Any]) -> tuple[str, str] | None:
    """(action, reason) when a crawl, running or done, takes care of the arrival."""
    crawler = glue.get_crawler(Name=crawler_name)["Crawler"]
    last = crawler.get("LastCrawl") or {}
    if crawler.get("State") in CRAWLING_STATES:
        return "absorbed", "a crawl is running: it, or the one after it, reads the object"
    started, arrived = last.get("StartTime"), event.get("time")
    read = started and arrived and last.get("Status") == "SUCCEEDED"
    if read and int(_seconds(started)) > int(_seconds(arrived)):
        return "skipped", "a crawl that started after it arrived read it"
    return None


def _newer_in(page: dict[str, Any], second: int, key: str | None) -> str | None:
    """The first key of a ListObjectsV2 page newer than (`second`, `key`): its LastModified
    second is later, or the same second and the key sorts after `key`. Whole seconds cannot
    order the objects of one second, so the last key of the newest second leads and the
    others leave the start to it: they wake together otherwise, and each starts a crawl."""
    for obj in page.get("Contents", []):
        modified = int(_seconds(obj["LastModified"]))
        if modified > second or (key is not None and modified == second and obj["Key"] > key):
            return str(obj["Key"])
    return None


def newest_after(
    s3: Any, bucket: str, prefix: str, second: int, key: str | None = None
) -> str | None:
    """A key under the prefix newer than (`second`, `key`), or None (`_newer_in`)."""
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        newer = _newer_in(page, second, key)
        if newer is not None:
            return newer
    return None


def newer_nearby(s3: Any, bucket: str, prefix: str, second: int, key: str | None) -> str | None:
    """The look before the wait, two requests at most however many objects the prefix holds:
    its first page (all of it up to 1,000 keys) and, when there are more, the page after the
    arrival's own key, where the next object of a burst named in order sorts. ListObjectsV2
    returns keys in ascending order and starts after any key given as StartAfter; it cannot
    filter by time (Amazon S3 API Reference, ListObjectsV2), so a newer object elsewhere is
    found only by a whole listing: the one after the wait, which decides (docstring)."""
    first = s3.list_objects_v2(Bucket=bucket, Prefix=prefix)
    newer = _newer_in(first, second, key)
    if newer is None and key and first.get("IsTruncated"):
        after = s3.list_objects_v2(Bucket=bucket, Prefix=prefix, StartAfter=key)
        newer = _newer_in(after, second, key)
    return newer


def _settled(
    event: dict[str, Any], s3: Any, arrivals: tuple[str, str], settle: Settle
) -> str | None:
    """Wait until the settle time after the arrival's second ended; the key of a newer arrival
    (its own invocation starts the crawl then) or None when nothing newer came (docstring)."""
    arrived = int(_seconds(event.get("time") or settle.clock()))
    key = ((event.get("detail") or {}).get("object") or {}).get("key")
    # The look before the wait only spares the wait: none is left for a late invocation (a
    # retry, or Lambda's queue behind a burst), and one listing after it decides.
    if settle.remaining(arrived) > 0:
        newer = newer_nearby(s3, *arrivals, arrived, key)
        if newer is not None:
            return newer
        settle.wait_past(arrived)
    return newest_after(s3, *arrivals, arrived, key)


def handle_arrival(
    event: dict[str, Any],
    glue: Any,
    crawler_name: str,
    s3: Any = None,
    arrivals: tuple[str, str] | None = None,
    settle: Settle = NO_SETTLE,
) -> dict[str, Any]:
    """An object arrived: start the crawler once the burst settled, unless a crawl covers the
    object or a newer arrival's invocation starts it (docstring)."""
    key = ((event.get("detail") or {}).get("object") or {}).get("key")
    context = {"event_id": event.get("id"), "crawler": crawler_name, "key": key}
    covered = _covered(glue, crawler_name, event)
    if covered is None and settle.seconds > 0 and arrivals:
        newer = _settled(event, s3, arrivals, settle)
        if newer is not None:
            reason = f"{newer} arrived after it: that arrival starts the crawl once settled"
            covered = ("deferred", reason)
        else:
            covered = _covered(glue, crawler_name, event)  # another arrival's start, meanwhile
    if covered is None and not _start_crawler(glue, crawler_name):
        covered = ("absorbed", "a crawl is running: it, or the one after it, reads the object")
    if covered is not None:
        action, reason = covered
        log("INFO", f"{action} {key}: {reason}", **context)
        return {"action": action, "reason": reason, "run_id": None}
    log("INFO", f"started {crawler_name}: {key} arrived", **context)
    return {"action": "started", "reason": f"{key} arrived", "run_id": None}


def arrived_since(s3: Any, bucket: str, prefix: str, start: Any) -> dict[str, int]:
    """Key -> LastModified second of the objects under the prefix not older than `start`'s
    second, in key order. The newest of them is the newest under the prefix (the others are
    older than `start`), so one listing serves both questions."""
    since = int(_seconds(start))
    keys = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            second = int(_seconds(obj["LastModified"]))
            if second >= since:
                keys[str(obj["Key"])] = second
    return keys


def _let_settle(newer: dict[str, int], settle: Settle) -> None:
    """Before a crawl that follows a crawl or a run: wait until the settle time after the
    newest object's second ended, once (at most settle + 1 s, within the function's timeout),
    so a burst still arriving is crawled once when it is over, not once per crawl it overlaps.
    It waits and then starts: an arrival whose invocation found a crawl running left its
    object to this start, so this start is never handed over (docstring)."""
    if settle.seconds > 0 and newer:
        settle.wait_past(max(newer.values()))


def _reason_to_crawl_again(
    glue: Any,
    s3: Any,
    crawler_name: str,
    arrivals: tuple[str, str],
    settle: Settle = NO_SETTLE,
) -> tuple[str, str] | None:
    """(action, reason) when this crawl's success must not start the job yet (docstring)."""
    crawler = glue.get_crawler(Name=crawler_name)["Crawler"]
    if crawler.get("State") in CRAWLING_STATES:
        return "deferred", "the crawler runs again: its success starts the job"
    start = (crawler.get("LastCrawl") or {}).get("StartTime")
    newer = arrived_since(s3, *arrivals, start) if start else {}
    if not newer:
        return None
    _let_settle(newer, settle)
    if not _start_crawler(glue, crawler_name):
        return "deferred", "the crawler runs again: its success starts the job"
    return "recrawling", f"{len(newer)} objects arrived during the crawl, e.g. {min(newer)}"


def handle_job_succeeded(
    event: dict[str, Any],
    glue: Any,
    s3: Any,
    crawler_name: str,
    arrivals: tuple[str, str],
    settle: Settle = NO_SETTLE,
) -> dict[str, Any]:
    """A run of the job succeeded: crawl what arrived while it went (docstring)."""
    detail = event.get("detail") or {}
    run_id = detail.get("jobRunId")
    context = {"event_id": event.get("id"), "crawler": crawler_name, "run_id": run_id}
    run = glue.get_job_run(JobName=detail.get("jobName"), RunId=run_id)["JobRun"]
    newer = arrived_since(s3, *arrivals, run["StartedOn"]) if run.get("StartedOn") else {}
    if not newer:
        reason = "nothing arrived while the run went"
        log("INFO", f"ignored: {reason}", **context)
        return {"action": "ignored", "reason": reason, "run_id": run_id}
    _let_settle(newer, settle)
    started = _start_crawler(glue, crawler_name)
    reason = f"{len(newer)} objects arrived while the run went, e.g. {min(newer)}"
    action = "recrawling" if started else "absorbed"
    log("INFO", f"{action} {crawler_name}: {reason}", **context)
    return {"action": action, "reason": reason, "run_id": run_id}


def handle(
    event: dict[str, Any],
    glue: Any,
    job_name: str,
    crawler_name: str | None,
    s3: Any = None,
    arrivals: tuple[str, str] | None = None,
    settle: Settle = NO_SETTLE,
) -> dict[str, Any]:
    """The decision and the one mutation, with the clients and configuration passed in;
    `arrivals` (bucket, prefix) and the settle window with trigger on-arrival."""
    event_id = event.get("id")
    crawler = (event.get("detail") or {}).get("crawlerName")
    context = {"event_id": event_id, "crawler": crawler, "job": job_name}
    ignore = reason_to_ignore(event, crawler_name)
    if ignore:
        log("INFO", f"ignored: {ignore}", **context)
        return {"action": "ignored", "reason": ignore, "run_id": None}
    if arrivals and crawler_name:
        again = _reason_to_crawl_again(glue, s3, crawler_name, arrivals, settle)
        if again:
            action, reason = again
            log("INFO", f"not starting {job_name}: {reason}", **context)
            return {"action": action, "reason": reason, "run_id": None}
    skip = _reason_to_skip(glue, job_name, event_id)
    if skip:
        reason, run_id = skip
        log("INFO", f"not starting {job_name}: {reason}", **context, run_id=run_id)
        return {"action": "skipped", "reason": reason, "run_id": run_id}
    arguments = {EVENT_ID_ARGUMENT: event_id} if event_id else {}
    try:
        run_id = glue.start_job_run(JobName=job_name, Arguments=arguments)["JobRunId"]
    except glue.exceptions.ConcurrentRunsExceededException:
        # Another invocation (a duplicate event) started it between our look and our start.
        reason = "already running (concurrent runs exceeded)"
        log("WARNING", f"not starting {job_name}: {reason}", **context)
        return {"action": "skipped", "reason": reason, "run_id": None}
    log("INFO", f"started {job_name}", **context, run_id=run_id)
    return {"action": "started", "reason": "crawler succeeded", "run_id": run_id}


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda entry point."""
    job_name = os.environ.get("GLUE_JOB_NAME")
    if not job_name:
        log("ERROR", "GLUE_JOB_NAME is not set: cannot start a job", event_id=event.get("id"))
        raise RuntimeError("GLUE_JOB_NAME is not set")
    crawler_name = os.environ.get("CRAWLER_NAME") or None
    bucket = os.environ.get("ARRIVAL_BUCKET")
    arrivals = (bucket, os.environ.get("ARRIVAL_PREFIX", "")) if bucket else None
    is_arrival = event.get("source") == "aws.s3" and event.get("detail-type") == OBJECT_CREATED
    settle = Settle.from_environment()
    if arrivals and crawler_name and is_arrival:
        return handle_arrival(event, _glue(), crawler_name, _client("s3"), arrivals, settle)
    detail = event.get("detail") or {}
    is_run_success = (
        event.get("source") == "aws.glue"
        and event.get("detail-type") == JOB_EVENT
        and detail.get("state") == "SUCCEEDED"
    )
    if arrivals and crawler_name and is_run_success and detail.get("jobName") == job_name:
        return handle_job_succeeded(event, _glue(), _client("s3"), crawler_name, arrivals, settle)
    s3 = _client("s3") if arrivals else None
    return handle(event, _glue(), job_name, crawler_name, s3, arrivals, settle)
