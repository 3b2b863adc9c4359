"""Operational facts for `wcpipe status`: the trigger and the last arrival, last crawls, the last
job run, the Lambda's activity.

With `alerts` in the spec, an "alerts" section: each email address, confirmed or pending
confirmation (SNS lists an unconfirmed subscription as "PendingConfirmation"), and each alarm's
state (OK, ALARM, INSUFFICIENT_DATA) with its reason when it is not OK.

Contract: `operational_status(ctx)` returns `{section title: {fact: text}}`, read-only. Each
section tolerates a missing resource (it says "not created" or "never ran") and a failing read
(it says what failed) so that `status` always renders; nothing raises for AWS errors.
`operational_facts(ctx)` is the same, typed, for `status --output json` (`ui.shapes.StatusOutput`:
`crawls`, `job_run`, `lambda_activity`, and `unavailable` naming a section that failed and why).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from wcpipe.core.errors import error_code, error_message
from wcpipe.operate import crawl, jobrun
from wcpipe.spec.session import Session

Section = dict[str, str]


def operational_status(ctx: Session) -> dict[str, Section]:
    sections = {
        "trigger": _guard(lambda: trigger_section(ctx)),
        "last crawls": _guard(lambda: crawls_section(ctx)),
        "last job run": _guard(lambda: job_section(ctx)),
        "lambda (last 24 h)": _guard(lambda: lambda_section(ctx)),
    }
    if ctx.spec.alerts is not None:
        sections["alerts"] = _guard(lambda: alerts_section(ctx))
    return sections


def operational_facts(ctx: Session) -> dict[str, Any]:
    out: dict[str, Any] = {"unavailable": {}}
    readers: dict[str, Callable[[], Any]] = {
        "crawls": lambda: last_crawls(ctx),
        "job_run": lambda: _run_dict(jobrun.latest_run(ctx)),
        "lambda_activity": lambda: lambda_activity(ctx),
    }
    section = _guard(lambda: trigger_section(ctx))
    out["trigger"] = {"trigger": ctx.spec.trigger, "last_arrival": section.get("last arrival")}
    out["alerts"] = None
    if ctx.spec.alerts is not None:
        readers["alerts"] = lambda: alerts_section(ctx)
    for name, read in readers.items():
        try:
            out[name] = read()
        except Exception as exc:
            if error_code(exc) is None:
                raise
            out[name] = None
            out["unavailable"][name] = f"{error_code(exc)}: {error_message(exc)}"
    return out


def _run_dict(run: jobrun.JobRun | None) -> dict[str, Any] | None:
    return None if run is None else run.as_dict()


def last_crawls(ctx: Session) -> list[dict[str, Any]]:
    """Each crawler that exists: its state, and how and when its last crawl ended."""
    out = []
    for target in crawl.targets(ctx, "all"):
        last = crawl.last_crawl(ctx, target.crawler)
        if last is not None:
            out.append(
                {
                    "crawler": target.crawler,
                    "state": last.get("State"),
                    "status": last.get("Status"),
                    "started": last.get("StartTime"),
                    "error": last.get("ErrorMessage"),
                }
            )
    return out


def _guard(read: Callable[[], Section]) -> Section:
    try:
        return read()
    except Exception as exc:
        if error_code(exc) is None:
            raise
        return {"unavailable": f"{error_code(exc)}: {error_message(exc)}"}


def _when(value: object) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return "-" if value is None else str(value)


def trigger_section(ctx: Session) -> Section:
    """What starts the pipeline, and the newest object under the prefix (the last arrival)."""
    out: Section = {"trigger": ctx.spec.trigger}
    s3 = ctx.client("s3")
    newest: dict[str, object] | None = None
    pages = s3.get_paginator("list_objects_v2").paginate(
        Bucket=ctx.names.bucket, Prefix=ctx.names.prefix
    )
    try:
        for page in pages:
            for obj in page.get("Contents", []):
                if newest is None or obj["LastModified"] > newest["LastModified"]:
                    newest = obj
    except Exception as exc:
        if error_code(exc) != "NoSuchBucket":
            raise
        out["last arrival"] = "no bucket (not created)"
        return out
    if newest is None:
        out["last arrival"] = f"nothing under {ctx.names.data_uri}"
    else:
        out["last arrival"] = f"{newest['Key']} at {_when(newest['LastModified'])}"
    return out


def crawls_section(ctx: Session) -> Section:
    out: Section = {}
    for target in crawl.targets(ctx, "all"):
        last = crawl.last_crawl(ctx, target.crawler)
        if last is None:
            out[target.crawler] = "not created"
        elif "Status" not in last:
            out[target.crawler] = f"{last.get('State', '?')}, never crawled"
        else:
            text = f"{last['Status']} at {_when(last.get('StartTime'))} (now {last.get('State')})"
            if last.get("ErrorMessage"):
                text += f": {last['ErrorMessage']}"
            out[target.crawler] = text
    return out


def job_section(ctx: Session) -> Section:
    run = jobrun.latest_run(ctx)
    if run is None:
        return {ctx.names.job: "never ran (or not created)"}
    duration = run.duration_seconds
    out: Section = {
        "run id": run.id,
        "state": run.state,
        "started": _when(run.started),
        "duration": "-" if duration is None else f"{duration:.0f}s",
    }
    if run.error:
        out["error"] = run.error
    return out


def lambda_section(ctx: Session, *, hours: int = 24) -> Section:
    activity = lambda_activity(ctx, hours=hours)
    return {k: str(activity[k]) for k in ("invocations", "errors")}


def lambda_activity(ctx: Session, *, hours: int = 24) -> dict[str, int]:
    """The Lambda's Invocations and Errors (CloudWatch sums) over the last `hours`."""
    cw = ctx.client("cloudwatch")
    now = datetime.now(UTC)
    out: dict[str, int] = {"hours": hours}
    for metric in ("Invocations", "Errors"):
        stats = cw.get_metric_statistics(
            Namespace="AWS/Lambda",
            MetricName=metric,
            Dimensions=[{"Name": "FunctionName", "Value": ctx.names.function}],
            StartTime=now - timedelta(hours=hours),
            EndTime=now + timedelta(minutes=1),  # the current, partial period included
            Period=3600,
            Statistics=["Sum"],
        )
        total = sum(float(p.get("Sum", 0)) for p in stats.get("Datapoints", []))
        out[metric.lower()] = round(total)
    return out


def alerts_section(ctx: Session) -> Section:
    names = ctx.names
    out: Section = {}
    topic = ctx.aws.arn("sns", names.alerts_topic)
    sns = ctx.client("sns")
    try:
        pages = sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic)
        subscriptions = [s for page in pages for s in page.get("Subscriptions", [])]
    except sns.exceptions.NotFoundException:
        subscriptions = None
    if subscriptions is None:
        out["topic"] = "not created"
    for sub in subscriptions or []:
        if sub.get("Protocol") == "email":
            pending = sub.get("SubscriptionArn") == "PendingConfirmation"
            out[str(sub["Endpoint"])] = "pending confirmation" if pending else "confirmed"
    alarms = [names.lambda_errors_alarm, names.rejected_values_alarm, names.no_load_alarm]
    found = ctx.client("cloudwatch").describe_alarms(AlarmNames=alarms).get("MetricAlarms", [])
    states = {a["AlarmName"]: a for a in found}
    for name in alarms:
        alarm = states.get(name)
        if alarm is None:
            out[name] = "not created"
            continue
        state = str(alarm.get("StateValue", "?"))
        reason = str(alarm.get("StateReason", ""))
        out[name] = state if state == "OK" else f"{state}: {reason}"
    return out
