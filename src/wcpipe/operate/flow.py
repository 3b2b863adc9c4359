"""`wcpipe run`: the event-driven flow, watched end to end, and what to say when a hop fails.

The pipeline moves by itself once the S3 crawler succeeds: EventBridge matches the crawler's
"Succeeded" state change, invokes the Lambda, and the Lambda starts the Glue job. This module
drives the first step and watches the rest.

Contract:
- `run_flow(ctx)` runs the S3 crawler and waits; notes the job runs that existed before; then
  polls GetJobRuns (bounded by `appear_timeout`, 5 minutes by default, on `ctx.timing`'s clock)
  for the newest run that is new and started after the crawl did; waits for it (raising
  `ResourceFailed` with Glue's error if it failed); then runs `verify` and returns a `FlowResult`
  (it does not raise on a mismatch: the caller renders the report first).
- If no run appears, `diagnose(ctx, since)` reads the rule (state, pattern vs our crawler,
  targets), the Lambda's resource policy (a statement for events.amazonaws.com scoped to our
  rule's ARN) and the Lambda's Errors/Invocations metrics and recent log lines, and `run_flow`
  raises `NoJobRun` whose message names the hop that failed and which carries those log lines;
  a Lambda that errored on AccessDenied is named with the action its role was denied.
Only StartCrawler mutates; progress goes to `on_step`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from wcpipe.core.errors import ResourceFailed, error_code
from wcpipe.operate import crawl, jobrun
from wcpipe.operate.logs import LogSource, LogTail, format_event
from wcpipe.operate.verify import Report, verify
from wcpipe.spec.session import Session

GLUE_SOURCE = "aws.glue"
CRAWLER_STATE_CHANGE = "Glue Crawler State Change"
EVENTS_PRINCIPAL = "events.amazonaws.com"


class NoJobRun(ResourceFailed):
    """The crawl succeeded but no job run followed; `log_lines` are the Lambda's recent lines."""

    def __init__(
        self, message: str, *, hint: str | None = None, log_lines: list[str] | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.log_lines = log_lines or []


@dataclass
class FlowResult:
    crawl: crawl.CrawlResult
    run: jobrun.JobRun
    report: Report

    def as_dict(self) -> dict[str, Any]:
        return {
            "crawl": self.crawl.as_dict(),
            "job_run": self.run.as_dict(),
            "verify": self.report.as_dict(),
        }


@dataclass
class Diagnosis:
    hop: str  # "rule", "target", "permission", "lambda", "unknown"
    message: str
    hint: str | None = None
    log_lines: list[str] = field(default_factory=list)


def wait_for_new_run(
    ctx: Session,
    *,
    known: set[str],
    after: datetime | None,
    timeout: float,
    on_step: Callable[[str], None] = lambda _m: None,
) -> str | None:
    """The newest job run not in `known` that started after `after`, polled until `timeout`
    seconds on `ctx.timing`; None if none appeared."""
    start = ctx.timing.clock()
    for delay in ctx.timing.intervals():
        fresh = [
            r
            for r in jobrun.recent_runs(ctx)
            if r["Id"] not in known and (after is None or _after(r.get("StartedOn"), after))
        ]
        if fresh:
            return str(fresh[0]["Id"])
        elapsed = ctx.timing.clock() - start
        if elapsed + delay > timeout:
            return None
        on_step(f"waiting for the rule and the Lambda to start the job ({elapsed:.0f}s)")
        ctx.timing.sleep(delay)
    raise AssertionError("unreachable")


def _after(started: datetime | None, after: datetime) -> bool:
    if started is None:
        return False
    if started.tzinfo is None:
        started = started.replace(tzinfo=UTC)
    if after.tzinfo is None:
        after = after.replace(tzinfo=UTC)
    return started >= after


def run_flow(
    ctx: Session,
    *,
    appear_timeout: float = 300.0,
    crawl_timeout: float = 3600.0,
    job_timeout: float | None = None,
    on_step: Callable[[str], None] = lambda _m: None,
    on_crawl: Callable[[crawl.CrawlProgress], None] | None = None,
) -> FlowResult:
    """The whole flow; see the module docstring."""
    known = {str(r["Id"]) for r in jobrun.recent_runs(ctx)}
    target = crawl.targets(ctx, "s3")[0]
    on_step(f"crawling {ctx.names.data_uri} with {target.crawler}")
    crawled = crawl.run_crawler(ctx, target, timeout=crawl_timeout, on_progress=on_crawl)
    on_step(f"crawl {crawled.status.lower()}; waiting for the job run the rule and Lambda start")
    run, report = _follow_new_run(
        ctx, known, crawled.started, "the crawl", appear_timeout, job_timeout, on_step
    )
    return FlowResult(crawled, run, report)


def _follow_new_run(
    ctx: Session,
    known: set[str],
    after: datetime | None,
    what: str,
    appear_timeout: float,
    job_timeout: float | None,
    on_step: Callable[[str], None],
) -> tuple[jobrun.JobRun, Report]:
    """The new job run (after `after`, not in `known`) waited for, then verify; NoJobRun naming
    the hop that failed if none starts within `appear_timeout` of `what`."""
    run_id = wait_for_new_run(
        ctx, known=known, after=after, timeout=appear_timeout, on_step=on_step
    )
    if run_id is None:
        d = diagnose(ctx, since=after)
        raise NoJobRun(
            f"no job run started within {appear_timeout:.0f}s of {what}: {d.message}",
            hint=d.hint,
            log_lines=d.log_lines,
        )
    on_step(f"job run {run_id} started; waiting for it")
    run = jobrun.wait_for_job_run(ctx, run_id, timeout=job_timeout)
    run.raise_if_failed(ctx.names.job, ctx)
    on_step("job run succeeded; verifying the warehouse against the source")
    return run, verify(ctx)


@dataclass
class ArrivalResult:
    """What `wcpipe push --wait` followed: the job run the arrival started, and verify."""

    run: jobrun.JobRun
    report: Report

    def as_dict(self) -> dict[str, Any]:
        return {"job_run": self.run.as_dict(), "verify": self.report.as_dict()}


def follow_arrival(
    ctx: Session,
    *,
    known: set[str],
    since: datetime,
    appear_timeout: float = 600.0,
    job_timeout: float | None = None,
    on_step: Callable[[str], None] = lambda _m: None,
) -> ArrivalResult:
    """trigger on-arrival: the job run that objects pushed at `since` start (a run not in
    `known` that started after it: S3's event, the rule, the Lambda, the crawl(s), the rule, the
    Lambda), waited for, then verify. NoJobRun if none starts within `appear_timeout`."""
    on_step("waiting for the arrival to crawl and start the job")
    run, report = _follow_new_run(
        ctx, known, since, "the push", appear_timeout, job_timeout, on_step
    )
    return ArrivalResult(run, report)


# -- diagnosis ---------------------------------------------------------------------------------


def diagnose(ctx: Session, *, since: datetime | None = None) -> Diagnosis:
    """Which hop of crawler -> rule -> Lambda -> job failed (the first that looks wrong)."""
    since = since or datetime.now(UTC) - timedelta(minutes=15)
    for check in (_check_rule, _check_targets, _check_permission):
        found = check(ctx)
        if found is not None:
            return found
    return _check_lambda(ctx, since)


def _check_rule(ctx: Session) -> Diagnosis | None:
    events = ctx.client("events")
    rule = ctx.names.rule
    try:
        desc = events.describe_rule(Name=rule)
    except events.exceptions.ResourceNotFoundException:
        return Diagnosis(
            "rule", f"the EventBridge rule {rule} does not exist", "create it: wcpipe up"
        )
    if desc.get("State") != "ENABLED":
        return Diagnosis(
            "rule",
            f"the EventBridge rule {rule} is {desc.get('State')}",
            f"enable it: aws events enable-rule --name {rule}",
        )
    problem = pattern_problem(desc.get("EventPattern"), ctx.names.s3_crawler)
    if problem:
        return Diagnosis("rule", f"the rule did not match: {problem}", "fix it: wcpipe up")
    return None


def pattern_problem(pattern_text: str | None, crawler: str) -> str | None:
    """Pure: why an event pattern would not match our crawler's Succeeded event, or None."""
    if not pattern_text:
        return "the rule has no event pattern"
    try:
        pattern = json.loads(pattern_text)
    except ValueError:
        return "its event pattern is not JSON"
    wanted = {"source": GLUE_SOURCE, "detail-type": CRAWLER_STATE_CHANGE}
    for key, value in wanted.items():
        if key in pattern and not _allows(pattern[key], value):
            return f"its {key} is {pattern[key]} (the crawler sends {value!r})"
    detail = pattern.get("detail", {})
    if "crawlerName" in detail and not _allows(detail["crawlerName"], crawler):
        return f"its detail.crawlerName is {detail['crawlerName']}, not {crawler!r}"
    if "state" in detail and not _allows(detail["state"], "Succeeded"):
        return f"its detail.state is {detail['state']} (the event says 'Succeeded')"
    return None


def _allows(values: Any, value: str) -> bool:
    """Whether a pattern's value list matches `value` (exact strings; other matchers pass)."""
    if not isinstance(values, list):
        return True
    return any(v == value or isinstance(v, dict) for v in values)


def _function_arn(ctx: Session) -> str:
    return ctx.aws.arn("lambda", f"function:{ctx.names.function}")


def _check_targets(ctx: Session) -> Diagnosis | None:
    events = ctx.client("events")
    arn = _function_arn(ctx)
    targets = events.list_targets_by_rule(Rule=ctx.names.rule).get("Targets", [])
    if not any(t.get("Arn", "").split(":$")[0] == arn for t in targets):
        return Diagnosis(
            "target",
            f"the rule {ctx.names.rule} has no target for the Lambda {ctx.names.function}",
            "fix it: wcpipe up",
        )
    return None


def _check_permission(ctx: Session) -> Diagnosis | None:
    lam = ctx.client("lambda")
    fn = ctx.names.function
    rule_arn = ctx.aws.arn("events", f"rule/{ctx.names.rule}")
    missing = Diagnosis(
        "permission",
        f"the Lambda {fn} does not allow EventBridge "
        f"({EVENTS_PRINCIPAL}) to invoke it from rule {ctx.names.rule}",
        "add the permission: wcpipe up",
    )
    try:
        policy = json.loads(lam.get_policy(FunctionName=fn)["Policy"])
    except lam.exceptions.ResourceNotFoundException:
        return missing
    for st in policy.get("Statement", []):
        principal = st.get("Principal", {})
        service = principal.get("Service") if isinstance(principal, dict) else principal
        services = service if isinstance(service, list) else [service]
        if (
            EVENTS_PRINCIPAL in services
            and st.get("Effect", "Allow") == "Allow"
            and (rule_arn in json.dumps(st.get("Condition", {})))
        ):
            return None
    return missing


# AWS's AccessDenied text names the action ("User: <principal> is not authorized to perform:
# <action> on resource: <arn> because ..."; IAM User Guide, "Troubleshoot access denied error
# messages"): the one place a message is read, to name what the role lacks.
_NOT_AUTHORIZED = re.compile(r"is not authorized to perform: (\S+) on resource: (\S+)")


def denied_action(lines: list[str]) -> tuple[str, str] | None:
    """(action, resource) of the last AccessDenied in `lines`, or None."""
    found = [m for line in lines for m in _NOT_AUTHORIZED.finditer(line)]
    return (found[-1].group(1), found[-1].group(2)) if found else None


def _check_lambda(ctx: Session, since: datetime) -> Diagnosis:
    fn = ctx.names.function
    invocations, errors = lambda_metrics(ctx, since)
    lines = recent_lambda_lines(ctx, since)
    denied = denied_action(lines) if errors else None
    if denied:
        action, resource = denied
        return Diagnosis(
            "lambda",
            f"the Lambda {fn} was denied {action} on {resource}: its execution role "
            f"{ctx.names.lambda_role} does not allow it",
            "`wcpipe up` puts the deployed role policy back; `wcpipe logs lambda` shows the error",
            lines,
        )
    if errors:
        return Diagnosis(
            "lambda",
            f"the Lambda {fn} errored ({errors:.0f} error(s) since the "
            "crawl started); its log lines follow",
            "wcpipe logs lambda",
            lines,
        )
    if invocations == 0 and not lines:
        return Diagnosis(
            "rule",
            f"the rule looks right but the Lambda {fn} was not invoked: "
            "EventBridge did not deliver the crawler's event (delivery is best "
            "effort; metrics can lag a few minutes)",
            "rerun `wcpipe run`, or start the job by hand: wcpipe start-job",
            lines,
        )
    return Diagnosis(
        "lambda",
        f"the Lambda {fn} ran but started no job run; its log lines say why",
        "wcpipe logs lambda",
        lines,
    )


def lambda_metrics(ctx: Session, since: datetime) -> tuple[float, float]:
    """(Invocations, Errors) of the pipeline's Lambda since `since` (CloudWatch, Sum)."""
    cw = ctx.client("cloudwatch")
    now = datetime.now(UTC)
    totals = []
    for metric in ("Invocations", "Errors"):
        stats = cw.get_metric_statistics(
            Namespace="AWS/Lambda",
            MetricName=metric,
            Dimensions=[{"Name": "FunctionName", "Value": ctx.names.function}],
            StartTime=since - timedelta(minutes=1),
            EndTime=now + timedelta(minutes=1),
            Period=60,
            Statistics=["Sum"],
        )
        totals.append(sum(float(p.get("Sum", 0)) for p in stats.get("Datapoints", [])))
    return totals[0], totals[1]


def recent_lambda_lines(ctx: Session, since: datetime, *, limit: int = 30) -> list[str]:
    """The Lambda's last `limit` log lines since `since` ([] if its group does not exist)."""
    source = LogSource(ctx.names.function_log_group, None, label="lambda")
    tail = LogTail(ctx.client("logs"), [source], start_ms=int(since.timestamp() * 1000))
    try:
        events = tail.poll()
    except Exception as exc:  # a diagnosis must not fail on the logs it merely shows
        if error_code(exc) is None:
            raise
        return []
    return [format_event(e, source=False) for e in events[-limit:]]
