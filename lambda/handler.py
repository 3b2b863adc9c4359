"""Start the pipeline's Glue job when its S3 crawler succeeds (runs in AWS Lambda).

Deployed as handler.py at the root of the zip, handler "handler.handler"; stdlib and boto3 only.
Configured by environment: GLUE_JOB_NAME (required), CRAWLER_NAME (optional: when set, only that
crawler's events count). boto3 honours AWS_ENDPOINT_URL[_GLUE] natively, so the same code runs
against the offline sandbox.

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
from typing import Any

CRAWLER_EVENT = "Glue Crawler State Change"
CRAWLER_SUCCEEDED = "Succeeded"
EVENT_ID_ARGUMENT = "--wcpipe_event_id"
ACTIVE_STATES = frozenset({"STARTING", "RUNNING", "STOPPING", "WAITING"})
RECENT_RUNS = 50
"""Duplicates arrive within minutes, so the newest runs are enough to recognise one."""

_glue_client: Any = None


def _glue() -> Any:
    """The Glue client, built on first use and reused while the Lambda container lives."""
    global _glue_client
    if _glue_client is None:
        import boto3

        _glue_client = boto3.client("glue")
    return _glue_client


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


def handle(
    event: dict[str, Any], glue: Any, job_name: str, crawler_name: str | None
) -> dict[str, Any]:
    """The decision and the one mutation, with the Glue client and configuration passed in."""
    event_id = event.get("id")
    crawler = (event.get("detail") or {}).get("crawlerName")
    context = {"event_id": event_id, "crawler": crawler, "job": job_name}
    ignore = reason_to_ignore(event, crawler_name)
    if ignore:
        log("INFO", f"ignored: {ignore}", **context)
        return {"action": "ignored", "reason": ignore, "run_id": None}
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
    return handle(event, _glue(), job_name, crawler_name)
