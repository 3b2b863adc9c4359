"""Crawlers that crawl: StartCrawler in the sandbox really reads the data and writes the catalog.

Contract:
- `install(sandbox)` patches moto's GlueBackend.start_crawler once per process; at request time
  the crawl belongs to `core.current()` (with no sandbox running, moto's own behaviour is kept).
  A crawler that is RUNNING or STOPPING still raises CrawlerRunningException, as AWS does.
- A crawl runs on the sandbox's "crawls" pool: a "Started" event, state RUNNING, the targets are
  crawled, then READY with LastCrawl {Status SUCCEEDED|FAILED|CANCELLED, ErrorMessage, LogGroup
  /aws-glue/crawlers, LogStream <crawler>, MessagePrefix <crawl id>, StartTime} and a
  "Succeeded"/"Failed" event in the documented shape (tests/fixtures/glue-events/). Log lines go
  to /aws-glue/crawlers, stream <crawler>, prefixed with the crawl id as AWS prefixes them.
- S3 targets: the objects under the path make one table named after the path's last folder
  (`names.catalog_table_name`, after the crawler's TablePrefix); the crawler's CSV classifier
  (header, delimiter, quote) is honoured and types are inferred from a bounded sample
  (`wcpipe.infer`, shared with `wcpipe init`). JDBC targets: `db/schema/table` (`%` is a
  wildcard) is read from PostgreSQL's information_schema, catalogued as `<db>_<schema>_<table>`.
- No objects, an unreadable CSV, a missing database or JDBC table: the crawl FAILS with a message.
- Kept on the crawler (a `SandboxCrawler` once started) for GetCrawlerMetrics: `tables_created`,
  `tables_updated`, `tables_deleted` (of the last finished crawl) and `runtimes_seconds` (every
  finished crawl), which glue_ops' GetCrawlerMetrics reads. ListCrawls reads moto's
  `crawler.crawls` list, which holds our `SandboxCrawl`s.
"""

from __future__ import annotations

import contextlib
import csv
import io
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fnmatch import fnmatch
from typing import TYPE_CHECKING, Any

from moto.core.utils import utcnow
from moto.glue.exceptions import CrawlerRunningException
from moto.glue.models import FakeCrawl, FakeCrawler, GlueBackend

from wcpipe import csvio
from wcpipe.infer import glue_header_names, infer_glue_type
from wcpipe.names import catalog_table_name

if TYPE_CHECKING:
    from wcpipe.sandbox.core import Sandbox

LOG_GROUP = "/aws-glue/crawlers"
# moto internals this module patches or relies on (core's pin test checks them).
HOOK_PINS: tuple[tuple[str, str], ...] = (
    ("moto.glue.models", "GlueBackend"),
    ("moto.glue.models", "FakeCrawler"),
    ("moto.glue.models", "FakeCrawl"),
    ("moto.glue.exceptions", "CrawlerRunningException"),
    ("moto.core.utils", "utcnow"),
)


class CrawlFailed(Exception):
    """A crawl that cannot finish; the message becomes LastCrawl.ErrorMessage."""


# ---------------------------------------------------------------------------------------------
# moto's crawl and crawler, with the state a real crawl has.


class SandboxCrawl(FakeCrawl):
    """One crawl. moto's FakeCrawl advances its state whenever it is read; ours moves only when
    the crawl moves it: RUNNING -> COMPLETED | FAILED, or STOPPING (StopCrawler) -> STOPPED."""

    def __init__(self, crawler_name: str) -> None:
        super().__init__(crawler_name)
        self._state = "RUNNING"
        self.error_message: str | None = None
        self.summary: str | None = None
        self.dpu_hour = 0

    @property
    def status(self) -> str:
        return self._state

    @status.setter
    def status(self, value: str) -> None:
        self._state = value

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
# Events (shared with jobs.py)


def iso_z(moment: datetime | None = None) -> str:
    """AWS's event time format: 2026-11-23T10:00:00Z (moto's naive datetimes are UTC)."""
    moment = moment or datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def glue_event(sandbox: Sandbox, detail_type: str, detail: dict[str, Any]) -> dict[str, Any]:
    """An event as EventBridge delivers Glue's (see tests/fixtures/glue-events/)."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": "aws.glue",
        "account": sandbox.account_id,
        "time": iso_z(),
        "region": sandbox.region,
        "resources": [],
        "detail": detail,
    }


def emit(sandbox: Sandbox, detail_type: str, detail: dict[str, Any]) -> None:
    """Put a Glue event; delivery is best effort (as on AWS): a failure is logged, not raised."""
    try:
        sandbox.emit_event(glue_event(sandbox, detail_type, detail))
    except Exception as exc:  # best effort
        safe_log(sandbox, "/aws-glue/sandbox", "events", f"{detail_type}: delivery failed: {exc}")


def safe_log(sandbox: Sandbox, group: str, stream: str, message: str) -> None:
    with contextlib.suppress(Exception):  # logging never breaks a crawl or a run
        sandbox.log(group, stream, message)


def log_link(region: str, group: str, stream: str) -> str:
    return (
        f"https://console.aws.amazon.com/cloudwatch/home?region={region}"
        f"#logEventViewer:group={group};stream={stream}"
    )


# ---------------------------------------------------------------------------------------------
# StartCrawler and the crawl


@dataclass
class CrawlResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


_original_start_crawler = GlueBackend.start_crawler


def _start_crawler(backend: GlueBackend, name: str) -> None:
    from wcpipe.sandbox import core

    try:
        sandbox = core.current()
    except RuntimeError:  # no sandbox in this process: moto as it is
        return _original_start_crawler(backend, name)
    crawler = backend.get_crawler(name)
    with _lock(sandbox):
        if crawler.crawls and crawler.crawls[-1].status in ("RUNNING", "STOPPING"):
            raise CrawlerRunningException(f"Crawler with name {name} has already started")
        if not isinstance(crawler, SandboxCrawler):
            crawler.__class__ = SandboxCrawler
            crawler.runtimes_seconds = []  # type: ignore[attr-defined]
        crawl = SandboxCrawl(name)
        crawler.crawls.append(crawl)
    sandbox.background("crawls", _run, sandbox, backend, crawler, crawl)


def _lock(sandbox: Sandbox) -> Any:
    import threading

    return sandbox.state.setdefault("glue_crawler_lock", threading.Lock())


def _log(sandbox: Sandbox, crawl: SandboxCrawl, level: str, text: str) -> None:
    safe_log(sandbox, LOG_GROUP, crawl.log_stream, f"[{crawl.crawl_id}] {level} : {text}")


def _run(sandbox: Sandbox, backend: GlueBackend, crawler: SandboxCrawler, crawl: Any) -> None:
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
    except Exception as exc:  # AWS reports its own failures this way too
        error = f"Internal Service Exception: {type(exc).__name__}: {exc}"
    _finish(sandbox, crawler, crawl, result, error, time.monotonic() - began)


def _crawl(
    sandbox: Sandbox, backend: GlueBackend, crawler: SandboxCrawler, crawl: SandboxCrawl
) -> CrawlResult:
    targets = crawler.targets or {}
    s3_targets, jdbc_targets = targets.get("S3Targets") or [], targets.get("JdbcTargets") or []
    if not s3_targets and not jdbc_targets:
        raise CrawlFailed(f"Crawler {crawler.name} has no S3 or JDBC targets")
    if crawler.database_name not in backend.databases:
        raise CrawlFailed(f"Database {crawler.database_name} not found")
    tables: list[tuple[str, dict[str, Any]]] = []
    for s3 in s3_targets:
        tables.append(_s3_table(sandbox, backend, crawler, s3))
    for jdbc in jdbc_targets:
        tables.extend(_jdbc_tables(sandbox, crawler, jdbc))
    result = CrawlResult()
    if crawl.status == "STOPPING":
        return result
    policy = (crawler.schema_change_policy or {}).get("UpdateBehavior", "UPDATE_IN_DATABASE")
    for table_name, table_input in tables:
        outcome = _write_table(backend, crawler.database_name, table_name, table_input, policy)
        getattr(result, outcome).append(table_name)
        _log(
            sandbox,
            crawl,
            "INFO",
            f"Table {table_name} in database {crawler.database_name}: {outcome}",
        )
    return result


def _finish(
    sandbox: Sandbox,
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


# ---------------------------------------------------------------------------------------------
# What a crawl writes to the catalog

SAMPLE_ROWS = 1000  # per object: types are inferred from a bounded sample, as Glue does
TEXT_INPUT = "org.apache.hadoop.mapred.TextInputFormat"
TEXT_OUTPUT = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"
LAZY_SIMPLE = "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"
OPEN_CSV = "org.apache.hadoop.hive.serde2.OpenCSVSerde"
_BUILTIN_DELIMITERS = (",", "|", "\t", ";", "\x01")  # what the built-in CSV classifier tries


def _s3_table(
    sandbox: Sandbox, backend: GlueBackend, crawler: SandboxCrawler, target: dict[str, Any]
) -> tuple[str, dict[str, Any]]:
    bucket_name, _, prefix = target["Path"].removeprefix("s3://").partition("/")
    prefix = prefix.rstrip("/") + "/" if prefix else ""
    s3 = sandbox.backend("s3")
    if bucket_name not in s3.buckets:
        raise CrawlFailed(f"Bucket {bucket_name} does not exist (target {target['Path']})")
    keys = s3.list_objects(s3.get_bucket(bucket_name), prefix or None, None, None, None)[0]
    excluded = target.get("Exclusions") or []
    objects = [
        k
        for k in keys
        if not k.name.endswith("/") and not any(fnmatch(k.name[len(prefix) :], p) for p in excluded)
    ]
    if not objects:
        raise CrawlFailed(f"No objects found under s3://{bucket_name}/{prefix}")
    classifier = _csv_classifier(backend, crawler.classifiers or [])
    delimiter = classifier.get("Delimiter")
    quote = classifier.get("QuoteSymbol") or '"'
    has_header: bool | None = {"PRESENT": True, "ABSENT": False}.get(
        classifier.get("ContainsHeader", "UNKNOWN")
    )
    names: list[str] = []
    samples: dict[str, list[str]] = {}
    record_count = 0
    quoted = False
    for key in sorted(objects, key=lambda k: k.name):
        data = key.value
        delimiter = delimiter or _sniff_delimiter(data)
        quoted = quoted or quote.encode() in data
        records = _sample(f"s3://{bucket_name}/{key.name}", data, delimiter, quote)
        if has_header is None:
            has_header = _looks_like_header(records)
        header, rows = (records[:1], records[1:]) if has_header else ([], records)
        width = len(records[0]) if records else 0
        file_names = _header_names(header[0]) if header else [f"col{i}" for i in range(width)]
        names.extend(n for n in file_names if n not in names)
        for row in rows:
            for n, value in zip(file_names, row, strict=False):
                samples.setdefault(n, []).append(value)
        record_count += _record_count(records, len(rows), len(data), delimiter)
    if not names:
        raise CrawlFailed(f"No CSV records found under s3://{bucket_name}/{prefix}")
    columns = [{"Name": n, "Type": infer_glue_type(samples.get(n, []))} for n in names]
    size = sum(k.size for k in objects)
    params = {
        "classification": "csv",
        "typeOfData": "file",
        "compressionType": "none",
        "delimiter": delimiter or ",",
        "areColumnsQuoted": "false",
        "columnsOrdered": "true",
        "objectCount": str(len(objects)),
        "recordCount": str(record_count),
        "averageRecordSize": str(size // max(1, record_count)),
        "sizeKey": str(size),
        "CrawlerSchemaDeserializerVersion": "1.0",
        "CrawlerSchemaSerializerVersion": "1.0",
        "UPDATED_BY_CRAWLER": crawler.name,
    }
    if has_header:
        params["skip.header.line.count"] = "1"
    serde = (
        {
            "SerializationLibrary": OPEN_CSV,
            "Parameters": {"separatorChar": delimiter or ",", "quoteChar": quote},
        }
        if quoted
        else {"SerializationLibrary": LAZY_SIMPLE, "Parameters": {"field.delim": delimiter or ","}}
    )
    storage = {
        "Columns": columns,
        "Location": f"s3://{bucket_name}/{prefix}",
        "InputFormat": TEXT_INPUT,
        "OutputFormat": TEXT_OUTPUT,
        "SerdeInfo": serde,
    }
    name = (crawler.table_prefix or "") + (catalog_table_name(prefix) or bucket_name)
    return name, _table_input(name, storage, params)


def _table_input(name: str, storage: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
    return {
        "Name": name,
        "Owner": "owner",
        "Retention": 0,
        "TableType": "EXTERNAL_TABLE",
        "PartitionKeys": [],
        "StorageDescriptor": {
            **storage,
            "Compressed": False,
            "NumberOfBuckets": -1,
            "BucketColumns": [],
            "SortColumns": [],
            "Parameters": params,
            "StoredAsSubDirectories": False,
        },
        "Parameters": params,
    }


def _sample(where: str, data: bytes, delimiter: str, quote: str) -> list[list[str]]:
    """The first SAMPLE_ROWS + 1 records (CSV-correct, through csvio), or CrawlFailed."""
    records: list[list[str]] = []
    try:
        for record in csvio.iter_records(
            io.BytesIO(data), delimiter=delimiter, quote=quote, header=False
        ):
            records.append(record)
            if len(records) > SAMPLE_ROWS:
                break
    except (UnicodeDecodeError, csv.Error) as exc:
        raise CrawlFailed(f"{where} is not a readable CSV file: {exc}") from None
    return records


def _record_count(records: list[list[str]], rows: int, size: int, delimiter: str) -> int:
    """Data records in one object: exact when the sample is the whole object, otherwise
    estimated from the sample's bytes per record, as Glue estimates recordCount."""
    if len(records) <= SAMPLE_ROWS:
        return rows
    sample_bytes = sum(len(delimiter.join(r).encode()) + 1 for r in records)
    return size * len(records) // max(1, sample_bytes) - (len(records) - rows)


def _sniff_delimiter(data: bytes) -> str:
    first = data.split(b"\n", 1)[0].decode("utf-8", "replace")
    return max(_BUILTIN_DELIMITERS, key=first.count)


def _looks_like_header(records: list[list[str]]) -> bool:
    """The built-in classifier's rule: a first row of strings above data that is not all strings."""
    if len(records) < 2:
        return False
    first, rest = records[0], records[1:]
    if any(infer_glue_type([v]) != "string" for v in first if v.strip()):
        return False
    columns = zip(*[r[: len(first)] for r in rest if len(r) >= len(first)], strict=False)
    return any(infer_glue_type(list(c)) != "string" for c in columns)


def _header_names(header: list[str]) -> list[str]:
    return [n.lower() for n in glue_header_names(header)]  # lower-cased, as Glue's catalog is


def _csv_classifier(backend: GlueBackend, names: list[str]) -> dict[str, Any]:
    """The first of the crawler's classifiers that is a CSV classifier ({} if none)."""
    store = getattr(backend, "classifiers", {})  # glue_ops: name -> {"CsvClassifier": {...}}
    for name in names:
        found = (store.get(name) or {}).get("CsvClassifier")
        if found:
            return dict(found)
    return {}


_PG_TO_GLUE = {
    "smallint": "smallint",
    "integer": "int",
    "bigint": "bigint",
    "real": "float",
    "double precision": "double",
    "boolean": "boolean",
    "date": "date",
    "text": "string",
    "timestamp without time zone": "timestamp",
    "timestamp with time zone": "timestamp",
}


def _glue_type(data_type: str, length: int | None, precision: int | None, scale: int | None) -> str:
    if data_type == "numeric" and precision is not None:
        return f"decimal({precision},{scale or 0})"
    if data_type == "character varying":
        return f"varchar({length})" if length else "string"
    if data_type == "character":
        return f"char({length or 1})"
    return _PG_TO_GLUE.get(data_type, "string")


def _jdbc_tables(
    sandbox: Sandbox, crawler: SandboxCrawler, target: dict[str, Any]
) -> list[tuple[str, dict[str, Any]]]:
    path, connection = target.get("Path", ""), target.get("ConnectionName", "")
    parts = path.split("/")
    if len(parts) != 3 or not all(parts):
        raise CrawlFailed(f"JDBC include path {path!r} must be database/schema/table")
    glue = sandbox.backend("glue")
    if connection not in glue.connections:
        raise CrawlFailed(f"Connection {connection} not found")
    props = glue.connections[connection].connection_properties or {}
    url = str(props.get("JDBC_CONNECTION_URL", "jdbc:postgresql:"))
    engine = url.split(":")[1] if url.count(":") >= 2 else "postgresql"
    database, schema, table = parts
    like = [p.replace("_", r"\_") for p in (schema, table)]
    with sandbox.pg_connect(database) as conn:
        rows = conn.execute(
            "SELECT table_schema, table_name, column_name, data_type, character_maximum_length,"
            " numeric_precision, numeric_scale FROM information_schema.columns"
            " WHERE table_schema LIKE %s AND table_name LIKE %s"
            " ORDER BY table_schema, table_name, ordinal_position",
            like,
        ).fetchall()
    if not rows:
        raise CrawlFailed(f"Table {database}.{schema}.{table} not found (include path {path})")
    found: dict[tuple[str, str], list[dict[str, str]]] = {}
    for sch, tbl, column, data_type, length, precision, scale in rows:
        glue_type = _glue_type(data_type, length, precision, scale)
        found.setdefault((sch, tbl), []).append({"Name": column, "Type": glue_type})
    tables = []
    for (sch, tbl), columns in found.items():
        params = {
            "classification": engine,
            "connectionName": connection,
            "typeOfData": "table",
            "compressionType": "none",
            "CrawlerSchemaDeserializerVersion": "1.0",
            "CrawlerSchemaSerializerVersion": "1.0",
            "UPDATED_BY_CRAWLER": crawler.name,
        }
        storage = {
            "Columns": columns,
            "Location": f"{database}.{sch}.{tbl}",
            "SerdeInfo": {"Parameters": {}},
        }
        name = (crawler.table_prefix or "") + f"{database}_{sch}_{tbl}"
        tables.append((name, _table_input(name, storage, params)))
    return tables


def _write_table(
    backend: GlueBackend, database: str, name: str, table_input: dict[str, Any], policy: str
) -> str:
    """Create or update one catalog table: 'created', 'updated' or 'unchanged'."""
    existing = backend.databases[database].tables.get(name)
    if existing is None:
        backend.create_table(database, name, table_input)
        return "created"
    current = existing.as_dict()
    same = all(current.get(k) == v for k, v in table_input.items())
    if same or policy == "LOG":  # LOG: the change is only logged, as AWS does
        return "unchanged"
    backend.update_table(database, name, table_input)
    return "updated"


_installed = False


def install(sandbox: Sandbox) -> None:
    """Make StartCrawler crawl (once per process; each crawl belongs to `core.current()`)."""
    global _installed
    if not _installed:
        GlueBackend.start_crawler = _start_crawler  # type: ignore[method-assign,assignment]
        _installed = True
