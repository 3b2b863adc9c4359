"""Run a Glue crawler and report what it did to the catalog.

Contract:
- `run_crawler(ctx, target)` snapshots the catalog table's columns, starts the crawler (one that
  is already running is attached to, not an error), waits for the crawl to end with a bounded,
  backing-off poll, and returns a `CrawlResult`: the table's columns now and the columns added,
  removed or retyped since the snapshot. A crawl that failed or was cancelled raises
  `ResourceFailed` naming the crawler's error and where its log is.
- Only read calls besides `StartCrawler`. Time comes from `ctx.timing`; progress (state, elapsed,
  ETA) goes to an optional `on_progress` callback, never to the terminal directly.

A crawl is recognised as finished when the crawler is back to READY *and* its `LastCrawl` is not
the one that was there before we started: right after StartCrawler, GetCrawler may still report
READY with the previous crawl (the state change is eventually consistent).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from wcpipe.core.errors import ResourceFailed, UsageError, error_code
from wcpipe.core.wait import poll
from wcpipe.operate import not_created
from wcpipe.spec.names import GLUE_CRAWLER_LOG_GROUP
from wcpipe.spec.session import Session

Which = Literal["s3", "redshift", "all"]
# LastCrawl.Status is SUCCEEDED | CANCELLED | FAILED; ListCrawls spells success COMPLETED.
_FAILED = {"FAILED"}
_CANCELLED = {"CANCELLED", "STOPPED"}


@dataclass(frozen=True)
class CrawlTarget:
    """One crawler and the catalog table it maintains."""

    role: str  # "s3" or "redshift"
    crawler: str
    database: str
    table: str


@dataclass(frozen=True)
class ColumnChanges:
    added: dict[str, str] = field(default_factory=dict)
    removed: dict[str, str] = field(default_factory=dict)
    retyped: dict[str, tuple[str, str]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.retyped)

    def describe(self) -> list[str]:
        out = [f"added {n} ({t})" for n, t in self.added.items()]
        out += [f"removed {n} ({t})" for n, t in self.removed.items()]
        out += [f"retyped {n}: {a} -> {b}" for n, (a, b) in self.retyped.items()]
        return out


@dataclass(frozen=True)
class CrawlProgress:
    crawler: str
    state: str
    elapsed: float
    eta_seconds: float | None = None
    estimating: bool = False


@dataclass(frozen=True)
class CrawlResult:
    target: CrawlTarget
    status: str
    attached: bool
    elapsed: float
    columns: dict[str, str] | None
    changes: ColumnChanges
    log_group: str = GLUE_CRAWLER_LOG_GROUP
    log_stream: str = ""
    started: Any = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "crawler": self.target.crawler,
            "status": self.status,
            "attached": self.attached,
            "elapsed_seconds": round(self.elapsed, 1),
            "table": f"{self.target.database}.{self.target.table}",
            "columns": self.columns,
            "changes": {
                "added": self.changes.added,
                "removed": self.changes.removed,
                "retyped": {k: list(v) for k, v in self.changes.retyped.items()},
            },
            "log": {"group": self.log_group, "stream": self.log_stream},
        }


def targets(ctx: Session, which: Which) -> list[CrawlTarget]:
    names = ctx.names
    s3 = CrawlTarget("s3", names.s3_crawler, names.s3_database, names.source_table)
    redshift = CrawlTarget(
        "redshift", names.redshift_crawler, names.redshift_database, names.redshift_catalog_table
    )
    choices = {"s3": [s3], "redshift": [redshift], "all": [s3, redshift]}
    if which not in choices:
        raise UsageError(f"unknown crawler {which!r}: choose s3, redshift or all")
    return choices[which]


def table_columns(ctx: Session, database: str, table: str) -> dict[str, str] | None:
    """The catalog table's columns (name -> type, partition keys included), None if absent."""
    glue = ctx.client("glue")
    try:
        t = glue.get_table(DatabaseName=database, Name=table)["Table"]
    except glue.exceptions.EntityNotFoundException:
        return None
    cols = [*t.get("StorageDescriptor", {}).get("Columns", []), *t.get("PartitionKeys", [])]
    return {c["Name"]: c.get("Type", "") for c in cols}


def diff_columns(before: dict[str, str] | None, after: dict[str, str] | None) -> ColumnChanges:
    """Pure: what changed between two column snapshots."""
    b, a = before or {}, after or {}
    return ColumnChanges(
        added={n: t for n, t in a.items() if n not in b},
        removed={n: t for n, t in b.items() if n not in a},
        retyped={n: (b[n], t) for n, t in a.items() if n in b and b[n] != t},
    )


def start_crawler(ctx: Session, crawler: str) -> bool:
    """Start the crawler; return True if it was already running (we attach to that crawl)."""
    glue = ctx.client("glue")
    try:
        glue.start_crawler(Name=crawler)
    except glue.exceptions.CrawlerRunningException:
        return True
    except glue.exceptions.EntityNotFoundException:
        raise not_created(f"crawler {crawler!r}") from None
    return False


def _eta(ctx: Session, crawler: str) -> tuple[float | None, bool]:
    """(seconds left, still estimating) from GetCrawlerMetrics; (None, False) if unavailable.
    TimeLeftSeconds is only meaningful while a crawl runs; MedianRuntimeSeconds is the fallback."""
    glue = ctx.client("glue")
    try:
        metrics = glue.get_crawler_metrics(CrawlerNameList=[crawler])["CrawlerMetricsList"]
    except Exception as exc:  # optional: emulators lack it (NotImplementedError in-process)
        if error_code(exc) is None and not isinstance(exc, NotImplementedError):
            raise
        return None, False
    if not metrics:
        return None, False
    m = metrics[0]
    left = m.get("TimeLeftSeconds") or None
    if left is None and m.get("MedianRuntimeSeconds"):
        left = float(m["MedianRuntimeSeconds"])
    return left, bool(m.get("StillEstimating"))


def wait_for_crawl(
    ctx: Session,
    crawler: str,
    *,
    previous_start: Any,
    timeout: float = 3600,
    on_progress: Callable[[CrawlProgress], None] | None = None,
) -> dict[str, Any]:
    """Wait until the crawler is READY with a LastCrawl newer than `previous_start`; return that
    LastCrawl (Status, ErrorMessage, LogGroup, LogStream, StartTime)."""
    glue = ctx.client("glue")

    def read() -> dict[str, Any]:
        return dict(glue.get_crawler(Name=crawler)["Crawler"])

    def done(c: dict[str, Any]) -> bool:
        last = c.get("LastCrawl") or {}
        return c.get("State") == "READY" and bool(last) and last.get("StartTime") != previous_start

    def progress(c: dict[str, Any], elapsed: float) -> None:
        if on_progress is None:
            return
        eta, estimating = _eta(ctx, crawler)
        on_progress(CrawlProgress(crawler, str(c.get("State")), elapsed, eta, estimating))

    final = poll(
        read,
        what=f"crawler {crawler}",
        done=done,
        timeout=timeout,
        timing=ctx.timing,
        on_poll=progress,
    )
    return dict(final["LastCrawl"])


def run_crawler(
    ctx: Session,
    target: CrawlTarget,
    *,
    timeout: float = 3600,
    on_progress: Callable[[CrawlProgress], None] | None = None,
) -> CrawlResult:
    """Crawl once and report the catalog table's columns and what changed (see module doc)."""
    glue = ctx.client("glue")
    before = table_columns(ctx, target.database, target.table)
    try:
        crawler = glue.get_crawler(Name=target.crawler)["Crawler"]
    except glue.exceptions.EntityNotFoundException:
        raise not_created(f"crawler {target.crawler!r}") from None
    previous_start = (crawler.get("LastCrawl") or {}).get("StartTime")
    start = ctx.timing.clock()
    attached = start_crawler(ctx, target.crawler)
    if attached:
        # We wait for the crawl already under way; whether LastCrawl describes it or the one
        # before varies, so any LastCrawl once the crawler is READY again is the answer.
        previous_start = None
    last = wait_for_crawl(
        ctx, target.crawler, previous_start=previous_start, timeout=timeout, on_progress=on_progress
    )
    elapsed = ctx.timing.clock() - start
    status = str(last.get("Status", "UNKNOWN"))
    log_group = str(last.get("LogGroup") or GLUE_CRAWLER_LOG_GROUP)
    log_stream = str(last.get("LogStream") or target.crawler)
    if status in _FAILED or status in _CANCELLED:
        verb = "failed" if status in _FAILED else "was cancelled"
        reason = last.get("ErrorMessage") or "no error message"
        raise ResourceFailed(
            f"crawler {target.crawler} {verb}: {reason} "
            f"(log: group {log_group}, stream {log_stream})",
            hint="see its log with: wcpipe logs crawler",
        )
    after = table_columns(ctx, target.database, target.table)
    return CrawlResult(
        target=target,
        status=status,
        attached=attached,
        elapsed=elapsed,
        columns=after,
        changes=diff_columns(before, after),
        log_group=log_group,
        log_stream=log_stream,
        started=last.get("StartTime"),
    )


def last_crawl(ctx: Session, crawler: str) -> dict[str, Any] | None:
    """The crawler's state and LastCrawl, or None if the crawler does not exist."""
    glue = ctx.client("glue")
    try:
        c = glue.get_crawler(Name=crawler)["Crawler"]
    except glue.exceptions.EntityNotFoundException:
        return None
    return {"State": c.get("State"), **(c.get("LastCrawl") or {})}
