"""The pipeline's CloudWatch log lines: which groups, read once or followed, merged by time.

Modelled on aws-cli's `aws logs tail`: event generators (one read, or a follow loop) and a
formatter, with `sleep` injected so a test ends a follow by making sleep raise.

Contract:
- `log_sources(ctx, which, run_id)` names the groups and streams: the job's
  `/aws-glue/jobs/output` and `/aws-glue/jobs/error` (stream = run id, default the latest run),
  the crawlers' `/aws-glue/crawlers` (stream = crawler name) and the Lambda's `/aws/lambda/<fn>`.
  A `run_id` the job does not have is a `UsageError` naming the run and the job.
- `new_job_runs(ctx, since_ms)`: the job log sources of the runs started since then, for
  `follow(..., discover=...)`, so a follow without --run-id shows each new run as it starts.
- `LogTail.poll()` returns the events not returned before, across sources, ordered by timestamp.
  FilterLogEvents can return an event again when a later call starts at the same millisecond,
  so each source remembers the ids it has seen at its newest timestamp (as aws-cli does).
  A group or stream that does not exist yet yields no events, not an error.
- `follow_job_run(ctx, run_id, emit)` waits for a run like `jobrun.wait_for_job_run` and, between
  state polls, emits the run's new log lines, then drains them once more after the run ends.
- `follow(tail, emit, sleep=..., discover=...)` polls until interrupted: shorter waits while
  events flow, longer when idle, longer still on ThrottlingException; Ctrl-C ends it quietly.
  Before each poll the sources `discover()` returns join the tail (`LogTail.add`).
Only read calls. Nothing here writes to the terminal: callers pass `emit`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from wcpipe.core.errors import UsageError, WaitTimeout, error_code
from wcpipe.operate import not_created
from wcpipe.operate.jobrun import JobRun, default_timeout, get_run, latest_run, recent_runs
from wcpipe.spec.names import GLUE_CRAWLER_LOG_GROUP, GLUE_JOB_LOG_GROUPS
from wcpipe.spec.session import Session

LogKind = Literal["job", "crawler", "lambda", "all"]
_MISSING = {"ResourceNotFoundException"}
_THROTTLED = {"ThrottlingException", "Throttling", "TooManyRequestsException"}
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


@dataclass(frozen=True)
class LogSource:
    group: str
    streams: tuple[str, ...] | None = None
    """Stream names to read, or None for every stream of the group."""
    label: str = ""


@dataclass(frozen=True)
class LogEvent:
    timestamp: int  # milliseconds since the epoch
    group: str
    stream: str
    message: str
    event_id: str
    label: str = ""

    @property
    def time(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp / 1000, tz=UTC)

    def as_dict(self) -> dict[str, Any]:
        return {
            "timestamp": self.time.isoformat(),
            "group": self.group,
            "stream": self.stream,
            "message": self.message.rstrip("\n"),
            "event_id": self.event_id,
        }


def parse_since(text: str, *, now: float | None = None) -> int:
    """`10m`, `2h`, `1d`, `30s`, `1w` ago, or an ISO 8601 time: epoch milliseconds."""
    now = time.time() if now is None else now
    match = re.fullmatch(r"\s*(\d+)\s*([smhdw])\s*", text)
    if match:
        return int((now - int(match.group(1)) * _UNITS[match.group(2)]) * 1000)
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"--since {text!r}: expected a duration such as 10m, 2h, 1d, or an ISO 8601 time"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp() * 1000)


def log_sources(ctx: Session, which: LogKind, run_id: str | None = None) -> list[LogSource]:
    """The log groups (and streams) for `which`. For the job without a run id, the latest run's;
    if the job has never run, the job contributes no source."""
    names = ctx.names
    out: list[LogSource] = []
    if which in ("job", "all"):
        if run_id is None:
            latest = latest_run(ctx)
            run_id = latest.id if latest else None
        else:
            check_run_exists(ctx, run_id)
        if run_id is not None:
            out += job_log_sources(run_id)
    if which in ("crawler", "all"):
        out.append(
            LogSource(
                GLUE_CRAWLER_LOG_GROUP, (names.s3_crawler, names.redshift_crawler), label="crawler"
            )
        )
    if which in ("lambda", "all"):
        out.append(LogSource(names.function_log_group, None, label="lambda"))
    if which not in ("job", "crawler", "lambda", "all"):
        raise UsageError(f"unknown log kind {which!r}: choose job, crawler, lambda or all")
    return out


def check_run_exists(ctx: Session, run_id: str) -> None:
    """GetJobRun answers EntityNotFoundException for a run the job lacks and for a job that does
    not exist: GetJob tells the two apart."""
    glue = ctx.client("glue")
    job = ctx.names.job
    try:
        glue.get_job_run(JobName=job, RunId=run_id)
        return
    except glue.exceptions.EntityNotFoundException:
        pass
    try:
        glue.get_job(JobName=job)
    except glue.exceptions.EntityNotFoundException:
        raise not_created(f"job {job!r}") from None
    raise UsageError(f"--run-id {run_id}: job {job} has no such run")


def new_job_runs(ctx: Session, since_ms: int) -> Callable[[], list[LogSource]]:
    """For `follow(discover=...)`: the log sources of the job's runs started at or after
    `since_ms` (epoch milliseconds), newest ten at a time (one GetJobRuns call per poll)."""

    def discover() -> list[LogSource]:
        sources: list[LogSource] = []
        for run in recent_runs(ctx, limit=10):
            started = run.get("StartedOn")
            if started is None or started.timestamp() * 1000 >= since_ms:
                sources += job_log_sources(str(run["Id"]))
        return sources

    return discover


@dataclass
class _Cursor:
    start_ms: int | None
    seen: set[str] = field(default_factory=set)


class LogTail:
    """Reads new events from several sources; see the module docstring."""

    def __init__(
        self,
        client: Any,
        sources: Sequence[LogSource],
        *,
        start_ms: int | None = None,
        filter_text: str | None = None,
        page_limit: int = 100,
    ) -> None:
        self.client = client
        self.sources = list(sources)
        self.filter_pattern = _pattern(filter_text)
        self.page_limit = page_limit
        self.missing: set[str] = set()
        self._start_ms = start_ms
        self._cursors = {s: _Cursor(start_ms) for s in self.sources}

    def add(self, sources: Sequence[LogSource]) -> list[LogSource]:
        """Read these sources too from now on (from the tail's start); returns the new ones."""
        new = [s for s in dict.fromkeys(sources) if s not in self._cursors]
        for source in new:
            self.sources.append(source)
            self._cursors[source] = _Cursor(self._start_ms)
        return new

    def poll(self) -> list[LogEvent]:
        events: list[LogEvent] = []
        for source in self.sources:
            events += self._poll_source(source)
        return sorted(events, key=lambda e: (e.timestamp, e.group, e.stream, e.event_id))

    def _poll_source(self, source: LogSource) -> list[LogEvent]:
        cursor = self._cursors[source]
        new: list[LogEvent] = []
        for raw in self._read(source, cursor.start_ms):
            if raw["eventId"] in cursor.seen:
                continue
            cursor.seen.add(raw["eventId"])
            new.append(
                LogEvent(
                    int(raw["timestamp"]),
                    source.group,
                    raw.get("logStreamName", ""),
                    str(raw.get("message", "")),
                    str(raw["eventId"]),
                    source.label,
                )
            )
        if new:
            newest = max(e.timestamp for e in new)
            # Next time start at the newest millisecond (inclusive) and skip the ids seen there.
            cursor.seen = {e.event_id for e in new if e.timestamp == newest} | (
                cursor.seen if cursor.start_ms == newest else set()
            )
            cursor.start_ms = newest
        return new

    def _read(self, source: LogSource, start_ms: int | None) -> Iterator[dict[str, Any]]:
        kwargs: dict[str, Any] = {"logGroupName": source.group, "limit": self.page_limit}
        if source.streams:
            kwargs["logStreamNames"] = list(source.streams)
        if start_ms is not None:
            kwargs["startTime"] = start_ms
        if self.filter_pattern:
            kwargs["filterPattern"] = self.filter_pattern
        while True:
            try:
                page = self.client.filter_log_events(**kwargs)
            except Exception as exc:
                if error_code(exc) in _MISSING:
                    self.missing.add(source.group)  # not created yet: no events yet
                    return
                raise
            self.missing.discard(source.group)
            yield from page.get("events", [])
            # An empty page with a nextToken means "still searching": keep going (aws-cli does).
            token = page.get("nextToken")
            if not token or token == kwargs.get("nextToken"):
                return
            kwargs["nextToken"] = token


def _pattern(text: str | None) -> str | None:
    """A plain-text filter as a CloudWatch filter pattern: quoted, so it matches literally."""
    if not text:
        return None
    return '"' + text.replace('"', "") + '"'


def read_events(tail: LogTail) -> list[LogEvent]:
    """One read of everything since the tail's start: `wcpipe logs` without --follow."""
    return tail.poll()


def follow(
    tail: LogTail,
    emit: Callable[[LogEvent], None],
    *,
    sleep: Callable[[float], None] = time.sleep,
    initial: float = 1.0,
    maximum: float = 10.0,
    throttled: float = 30.0,
    discover: Callable[[], Sequence[LogSource]] | None = None,
    on_new: Callable[[LogSource], None] | None = None,
) -> None:
    """Emit new events until Ctrl-C (or until `sleep` raises, which is how tests stop it).
    Before each poll, the sources `discover()` names join the tail (`on_new` hears of each)."""
    delay = initial
    try:
        while True:
            try:
                if discover is not None:
                    for source in tail.add(discover()):
                        if on_new is not None:
                            on_new(source)
                events = tail.poll()
            except Exception as exc:
                if error_code(exc) not in _THROTTLED:
                    raise
                delay = max(delay * 2, throttled)  # AWS asks us to slow down: do so, a lot
                sleep(delay)
                continue
            for event in events:
                emit(event)
            delay = initial if events else min(maximum, delay * 2)
            sleep(delay)
    except KeyboardInterrupt:
        return


def format_event(event: LogEvent, *, source: bool = True) -> str:
    """`2024-05-01T10:00:00.123Z error  message` -- one line per event (multi-line messages are
    kept as they are, their trailing newline removed)."""
    stamp = event.time.strftime("%Y-%m-%dT%H:%M:%S.") + f"{event.timestamp % 1000:03d}Z"
    message = event.message.rstrip("\n")
    if not source:
        return f"{stamp} {message}"
    where = event.label or event.group
    if event.label in ("crawler",):
        where = event.stream
    return f"{stamp} {where} {message}"


def job_log_sources(run_id: str) -> list[LogSource]:
    return [
        LogSource(group, (run_id,), label=group.rsplit("/", 1)[-1]) for group in GLUE_JOB_LOG_GROUPS
    ]


def follow_job_run(
    ctx: Session,
    run_id: str,
    emit: Callable[[LogEvent], None],
    *,
    timeout: float | None = None,
    on_poll: Callable[[JobRun, float], None] | None = None,
) -> JobRun:
    """Wait for the run like `wait_for_job_run`, emitting its log lines as they arrive."""
    tail = LogTail(ctx.client("logs"), job_log_sources(run_id))
    limit = timeout or default_timeout(ctx)
    start = ctx.timing.clock()
    for delay in ctx.timing.intervals():
        run = get_run(ctx, run_id)
        for event in tail.poll():
            emit(event)
        if run.terminal:
            # Glue flushes the last lines as the run ends; read once more so none is lost.
            for event in tail.poll():
                emit(event)
            return run
        elapsed = ctx.timing.clock() - start
        if on_poll:
            on_poll(run, elapsed)
        if elapsed + delay > limit:
            raise WaitTimeout(f"gave up waiting for job run {run_id} after {elapsed:.0f}s")
        ctx.timing.sleep(delay)
    raise AssertionError("unreachable")
