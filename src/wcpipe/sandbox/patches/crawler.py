"""Crawlers that crawl: StartCrawler in the sandbox really reads the data and writes the catalog.

Contract:
- `install()` patches moto's GlueBackend.start_crawler once per process (`context.once`), as
  `context.or_moto`: the crawl belongs to `context.current()`, and with no sandbox running
  moto's own behaviour is kept. A crawler that is RUNNING or STOPPING still raises
  CrawlerRunningException, as AWS does.
- A crawl runs on the sandbox's "crawls" pool: a "Started" event, state RUNNING, the targets are
  crawled, then READY with LastCrawl {Status SUCCEEDED|FAILED|CANCELLED, ErrorMessage, LogGroup
  /aws-glue/crawlers, LogStream <crawler>, MessagePrefix <crawl id>, StartTime} and a
  "Succeeded"/"Failed" event in the documented shape (`glue_events`; tests/fixtures/glue-events/).
  Log lines go to /aws-glue/crawlers, stream <crawler>, prefixed with the crawl id as AWS
  prefixes them.
- The targets (S3 and JDBC) become tables through `crawl_catalog` (see its docstring: table names,
  the classifier, type inference, SerDe); all targets are read before any table is written, and
  a crawl stopped meanwhile writes none. UpdateBehavior LOG leaves existing tables as they are.
- No targets, a missing database, or `crawl_catalog.CrawlFailed` (no objects, an unreadable CSV,
  a missing JDBC table, ...): the crawl FAILS with that message.
- Kept on the crawler (a `SandboxCrawler` once started) for GetCrawlerMetrics: `tables_created`,
  `tables_updated`, `tables_deleted` (of the last finished crawl) and `runtimes_seconds` (every
  finished crawl), which glue_ops' GetCrawlerMetrics reads. ListCrawls reads moto's
  `crawler.crawls` list, which holds our `SandboxCrawl`s.
- PINS names the moto internals used here and in `crawl_catalog`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from moto.core.utils import utcnow
from moto.glue.exceptions import CrawlerRunningException
from moto.glue.models import FakeCrawl, FakeCrawler, GlueBackend

from wcpipe.sandbox import authz
from wcpipe.sandbox.context import current, once, or_moto
from wcpipe.sandbox.patches import glue_access, glue_network
from wcpipe.sandbox.patches.actors import RoleDenied, may_log, service_actor
from wcpipe.sandbox.patches.crawl_catalog import CrawlFailed, jdbc_tables, s3_table, write_table
from wcpipe.sandbox.patches.glue_events import SettledStatus, emit, iso_z, log_link, safe_log
from wcpipe.spec.names import GLUE_CRAWLER_LOG_GROUP

if TYPE_CHECKING:
    from wcpipe.sandbox.context import SandboxView

LOG_GROUP = GLUE_CRAWLER_LOG_GROUP  # where AWS's crawlers log (spec.names)
# moto internals this module and crawl_catalog patch or rely on (test_moto_pins checks them).
PINS: tuple[tuple[str, str], ...] = (
    ("moto.glue.models", "GlueBackend"),
    ("moto.glue.models", "FakeCrawler"),
    ("moto.glue.models", "FakeCrawl"),
    ("moto.glue.exceptions", "CrawlerRunningException"),
    ("moto.core.utils", "utcnow"),
    ("moto.moto_api._internal.managed_state_model", "ManagedState"),  # glue_events.SettledStatus
)


# ---------------------------------------------------------------------------------------------
# moto's crawl and crawler, with the state a real crawl has.


class SandboxCrawl(SettledStatus, FakeCrawl):
    """One crawl. moto's FakeCrawl advances its state whenever it is read; ours moves only when
    the crawl moves it: RUNNING -> COMPLETED | FAILED, or STOPPING (StopCrawler) -> STOPPED."""

    def __init__(self, crawler_name: str) -> None:
        super().__init__(crawler_name)
        self._state = "RUNNING"
        self.error_message: str | None = None
        self.summary: str | None = None
        self.dpu_hour = 0
        self.actor: authz.Actor | None = None  # the crawler's role, as the crawl acts
        self.log_access: dict[str, bool] = {}

    @property
    def last_crawl_status(self) -> str:
        return {"COMPLETED": "SUCCEEDED", "STOPPED": "CANCELLED"}.get(self._state, self._state)

    def as_dict(self) -> dict[str, Any]:  # ListCrawls' entry
        out: dict[str, Any] = dict(super().as_dict())
        if self.error_message:
            out["ErrorMessage"] = self.error_message
        if self.summary:
            out["Summary"] = self.summary
        return out


class SandboxCrawler(FakeCrawler):
    """A crawler once started in the sandbox (its class is swapped on its first start): LastCrawl
    describes the last *finished* crawl, with AWS's status names and its error message."""

    tables_created = 0
    tables_updated = 0
    tables_deleted = 0
    runtimes_seconds: list[float]

    def as_dict(self) -> dict[str, Any]:
        data = super().as_dict()
        data.pop("LastCrawl", None)
        done = [c for c in self.crawls if isinstance(c, SandboxCrawl) and c.end_time]
        if done:
            last = done[-1]
            data["LastCrawl"] = {
                "Status": last.last_crawl_status,
                "LogGroup": last.log_group,
                "LogStream": last.log_stream,
                "MessagePrefix": last.message_prefix,
                "StartTime": last.start_time,
            }
            if last.error_message:
                data["LastCrawl"]["ErrorMessage"] = last.error_message
        if self.crawls and self.crawls[-1].status in ("RUNNING", "STOPPING"):
            elapsed = utcnow() - self.crawls[-1].start_time
            data["CrawlElapsedTime"] = int(elapsed.total_seconds() * 1000)
        return data


# ---------------------------------------------------------------------------------------------
# StartCrawler and the crawl


@dataclass
class CrawlResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def _start_crawler(backend: GlueBackend, name: str) -> None:
    sandbox = current()
    crawler = backend.get_crawler(name)
    with _lock(sandbox):
        if crawler.crawls and crawler.crawls[-1].status in ("RUNNING", "STOPPING"):
            raise CrawlerRunningException(f"Crawler with name {name} has already started")
        if not isinstance(crawler, SandboxCrawler):
            crawler.__class__ = SandboxCrawler
            crawler.runtimes_seconds = []  # type: ignore[attr-defined]
        crawl = SandboxCrawl(name)
        crawl.actor = service_actor(sandbox, crawler.role, glue_access.CRAWLER_SESSION)
        crawler.crawls.append(crawl)
    sandbox.background("crawls", _run, sandbox, backend, crawler, crawl)


def _lock(sandbox: SandboxView) -> Any:
    return sandbox.state.setdefault("glue_crawler_lock", threading.Lock())


def _log(sandbox: SandboxView, crawl: SandboxCrawl, level: str, text: str) -> None:
    actor = crawl.actor
    if actor and not may_log(sandbox, actor, LOG_GROUP, crawl.log_stream, crawl.log_access):
        return  # the role may not write its log: AWS's crawl runs on, without its lines
    safe_log(sandbox, LOG_GROUP, crawl.log_stream, f"[{crawl.crawl_id}] {level} : {text}")


def _run(sandbox: SandboxView, backend: GlueBackend, crawler: SandboxCrawler, crawl: Any) -> None:
    began = time.monotonic()
    detail = {"accountId": sandbox.account_id, "crawlerName": crawler.name}
    started = {"startTime": iso_z(crawl.start_time), "state": "Started"}
    emit(sandbox, "Glue Crawler State Change", {**detail, **started, "message": "Crawler Started"})
    _log(sandbox, crawl, "BENCHMARK", f"Running Start Crawl for Crawler {crawler.name}")
    result, error = CrawlResult(), None
    try:
        result = _crawl(sandbox, backend, crawler, crawl)
    except CrawlFailed as exc:
        error = str(exc)
    except RoleDenied as exc:  # the crawl fails with the service's AccessDenied
        error = exc.aws_error
    except glue_network.Unreachable as exc:  # the connection's subnet cannot reach it
        error = exc.aws_error
    except Exception as exc:  # AWS reports its own failures this way too
        error = f"Internal Service Exception: {type(exc).__name__}: {exc}"
    _finish(sandbox, crawler, crawl, result, error, time.monotonic() - began)


def _crawl(
    sandbox: SandboxView, backend: GlueBackend, crawler: SandboxCrawler, crawl: SandboxCrawl
) -> CrawlResult:
    targets = crawler.targets or {}
    s3_targets, jdbc_targets = targets.get("S3Targets") or [], targets.get("JdbcTargets") or []
    if not s3_targets and not jdbc_targets:
        raise CrawlFailed(f"Crawler {crawler.name} has no S3 or JDBC targets")
    if crawler.database_name not in backend.databases:
        raise CrawlFailed(f"Database {crawler.database_name} not found")
    actor, database = crawl.actor, crawler.database_name
    if actor:
        glue_access.get_database(sandbox, actor, database)

    def read(bucket: str, prefix: str, keys: list[str]) -> None:
        if actor:
            glue_access.read_objects(sandbox, actor, bucket, prefix, keys)

    tables: list[tuple[str, dict[str, Any]]] = []
    interfaces: list[str | None] = []
    try:
        for s3 in s3_targets:
            tables.append(s3_table(sandbox, backend, crawler, s3, read))
        for jdbc in jdbc_targets:
            glue_network.require_reachable(
                sandbox, jdbc["ConnectionName"], glue_network.CRAWLER_NEEDS
            )
            if actor:
                interfaces.append(
                    glue_access.use_connection(sandbox, actor, jdbc["ConnectionName"])
                )
            tables.extend(jdbc_tables(sandbox, crawler, jdbc))
        return _write_tables(sandbox, backend, crawler, crawl, tables)
    finally:
        for eni in interfaces:
            if actor:
                glue_access.release_interface(sandbox, actor, eni)


def _write_tables(
    sandbox: SandboxView,
    backend: GlueBackend,
    crawler: SandboxCrawler,
    crawl: SandboxCrawl,
    tables: list[tuple[str, dict[str, Any]]],
) -> CrawlResult:
    result = CrawlResult()
    if crawl.status == "STOPPING":
        return result
    actor, database = crawl.actor, crawler.database_name
    policy = (crawler.schema_change_policy or {}).get("UpdateBehavior", "UPDATE_IN_DATABASE")
    for table_name, table_input in tables:
        guard = None
        if actor:
            glue_access.table_action(sandbox, actor, "GetTable", database, table_name)
            guard = partial(
                glue_access.table_action, sandbox, actor, database=database, table=table_name
            )
        outcome = write_table(backend, database, table_name, table_input, policy, guard)
        getattr(result, outcome).append(table_name)
        _log(
            sandbox,
            crawl,
            "INFO",
            f"Table {table_name} in database {crawler.database_name}: {outcome}",
        )
    return result


def _finish(
    sandbox: SandboxView,
    crawler: SandboxCrawler,
    crawl: SandboxCrawl,
    result: CrawlResult,
    error: str | None,
    seconds: float,
) -> None:
    with _lock(sandbox):
        crawl.end_time = utcnow()
        if crawl.status == "STOPPING":
            crawl.status = "STOPPED"
        elif error:
            crawl.status, crawl.error_message = "FAILED", error
        else:
            crawl.status = "COMPLETED"
            crawl.summary = (
                f'{{"TABLE":{{"ADD":{{"Count":{len(result.created)}}},'
                f'"UPDATE":{{"Count":{len(result.updated)}}}}}}}'
            )
        crawler.tables_created = len(result.created)
        crawler.tables_updated = len(result.updated)
        crawler.runtimes_seconds.append(round(seconds, 3))
    if error:
        _log(sandbox, crawl, "ERROR", error)
    _log(sandbox, crawl, "BENCHMARK", "Crawler has finished running and is in state READY")
    if crawl.status == "STOPPED":
        return
    link = log_link(sandbox.region, LOG_GROUP, crawler.name)
    common = {"crawlerName": crawler.name, "accountId": sandbox.account_id}
    if error:
        failed = {"errorMessage": error, "cloudWatchLogLink": link, "state": "Failed"}
        emit(
            sandbox, "Glue Crawler State Change", {**common, **failed, "message": "Crawler Failed"}
        )
        return
    counts = {
        "tablesCreated": str(len(result.created)),
        "tablesUpdated": str(len(result.updated)),
        "tablesDeleted": "0",
        "partitionsCreated": "0",
        "partitionsUpdated": "0",
        "partitionsDeleted": "0",
    }
    emit(
        sandbox,
        "Glue Crawler State Change",
        {
            **common,
            **counts,
            "warningMessage": "N/A",
            "message": "Crawler Succeeded",
            "runningTime (sec)": str(max(1, round(seconds))),
            "completionDate": iso_z(crawl.end_time),
            "state": "Succeeded",
            "cloudWatchLogLink": link,
        },
    )


@once
def install() -> None:
    """Make StartCrawler crawl (each crawl belongs to `context.current()`)."""
    GlueBackend.start_crawler = or_moto(  # type: ignore[method-assign]
        _start_crawler, GlueBackend.start_crawler
    )
