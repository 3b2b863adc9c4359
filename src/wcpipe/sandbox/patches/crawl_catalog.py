"""What a crawl writes to the catalog: the sandbox crawler's targets turned into Glue tables.

Contract (the crawl itself, its states, events and metrics are `crawler.py`'s):
- `s3_table(sandbox, backend, crawler, target)`: the objects under an S3 target's path make one
  table named after the path's last folder (`names.catalog_table_name`, after the crawler's
  TablePrefix). The crawler's CSV classifier (header, delimiter, quote) is honoured; without one
  the delimiter is sniffed and the header guessed as the built-in classifier does. Types are
  inferred from a bounded sample (SAMPLE_ROWS per object; `wcpipe.authoring.infer`, shared with
  `wcpipe init`); OpenCSVSerde when the data quotes, LazySimpleSerDe otherwise.
- `jdbc_tables(sandbox, crawler, target)`: `db/schema/table` (`%` is a wildcard) is read from
  PostgreSQL's information_schema, one table per match, catalogued as `<db>_<schema>_<table>`
  with PostgreSQL types mapped to Glue's.
- `write_table(backend, database, name, table_input, policy)` creates or updates one table in
  moto's Glue backend and says which ('created', 'updated', 'unchanged'); the LOG update policy
  leaves an existing table as it is.
- Both take an optional `guard`, the crawler's role asked before it reads the objects or writes
  the table (`crawler.py` passes `glue_access`'s checks); a refusal it raises ends the crawl.
- No objects, an unreadable CSV, a missing bucket, connection or JDBC table: `CrawlFailed`, whose
  message becomes the crawl's ErrorMessage. Nothing here writes until `write_table`.
- Reads moto's backends directly (S3 objects, Glue databases, connections and the classifiers
  glue_ops stores); the moto names imported here are pinned in `crawler.PINS`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from fnmatch import fnmatch
from typing import TYPE_CHECKING, Any

from moto.glue.models import FakeCrawler, GlueBackend

from wcpipe.authoring import csvio
from wcpipe.authoring.infer import glue_header_names, infer_glue_type
from wcpipe.spec.names import catalog_table_name

if TYPE_CHECKING:
    from wcpipe.sandbox.context import SandboxView


class CrawlFailed(Exception):
    """A crawl that cannot finish; the message becomes LastCrawl.ErrorMessage."""


SAMPLE_ROWS = 1000  # per object: types are inferred from a bounded sample, as Glue does
TEXT_INPUT = "org.apache.hadoop.mapred.TextInputFormat"
TEXT_OUTPUT = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"
LAZY_SIMPLE = "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"
OPEN_CSV = "org.apache.hadoop.hive.serde2.OpenCSVSerde"
_BUILTIN_DELIMITERS = (",", "|", "\t", ";", "\x01")  # what the built-in CSV classifier tries


def s3_table(
    sandbox: SandboxView,
    backend: GlueBackend,
    crawler: FakeCrawler,
    target: dict[str, Any],
    guard: Callable[[str, str, list[str]], None] | None = None,
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
    if guard is not None:  # the crawler's role lists the path and gets each object
        guard(bucket_name, prefix, [k.name for k in objects])
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


def jdbc_tables(
    sandbox: SandboxView, crawler: FakeCrawler, target: dict[str, Any]
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


def write_table(
    backend: GlueBackend,
    database: str,
    name: str,
    table_input: dict[str, Any],
    policy: str,
    guard: Callable[[str], None] | None = None,
) -> str:
    """Create or update one catalog table: 'created', 'updated' or 'unchanged'. `guard` is
    asked the Glue operation ("CreateTable", "UpdateTable") before it is made."""
    existing = backend.databases[database].tables.get(name)
    if existing is None:
        if guard is not None:
            guard("CreateTable")
        backend.create_table(database, name, table_input)
        return "created"
    current = existing.as_dict()
    same = all(current.get(k) == v for k, v in table_input.items())
    if same or policy == "LOG":  # LOG: the change is only logged, as AWS does
        return "unchanged"
    if guard is not None:
        guard("UpdateTable")
    backend.update_table(database, name, table_input)
    return "updated"
