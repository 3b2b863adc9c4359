"""`verify`: does the warehouse hold exactly what the source files imply?

Contract:
- The source side runs where the data is: ONE Athena query (`operate.athena.run_query`, in the
  pipeline's workgroup) over the S3 crawler's catalog table, the statement `datamap.figures`
  builds from the same compiled expressions as the job, in Athena's dialect (`expr.TRINO`).
  Athena scans; the client reads one result row whatever the size of the data, and never an
  object (no S3 GetObject: the listing gives the file count and the scan's price). It gives
  the rows expected in the table (drop_rows removed), the values that could not be converted
  (counted per column), the sums of the numeric columns after cleaning and, in merge mode, the
  last version of each key across objects (ordered by `"$path"`, Athena's object path: a key
  repeated inside one object has no defined order) and the duplicate keys, counted in SQL.
  A column the crawler typed is read back as its text (as `glue/load.py`'s `text_column`).
- Before a scan of CONFIRM_SCAN_BYTES or more, `approve(estimate)` must say yes (the CLI asks,
  or `--yes`); without it verify refuses before any query runs (`UsageError`).
- The warehouse side is two statements through the Data API (`wcpipe.warehouse.dataapi.query`): one
  `SELECT COUNT(*), COUNT(col)..., SUM(num)...`, and in merge mode the duplicate keys
  (`GROUP BY keys HAVING COUNT(*) > 1`).
- `verify(ctx)` returns a `Report` of `Check`s (name, source figure, warehouse figure, ok); it
  never raises for a mismatch -- `Report.raise_if_mismatch()` raises `wcpipe.core.errors.Mismatch`
  naming the differing figures. Only read calls.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from wcpipe.core.errors import Mismatch, ResourceFailed, UsageError, error_code
from wcpipe.datamap import expr, figures, transform
from wcpipe.datamap.config import JobConfig
from wcpipe.operate import athena, not_created
from wcpipe.spec.job import job_config as job_config_json
from wcpipe.spec.session import Session
from wcpipe.warehouse import dataapi as warehouse
from wcpipe.warehouse import sql

_FLOAT_FAMILIES = frozenset({"real", "double"})
_SKIP_SUFFIXES = ("/", "_$folder$")  # folder markers that consoles and Hadoop leave behind


@dataclass(frozen=True)
class Check:
    name: str
    source: Any
    warehouse: Any
    ok: bool
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "check": self.name,
            "source": plain(self.source),
            "warehouse": plain(self.warehouse),
            "ok": self.ok,
            "detail": self.detail,
        }


@dataclass
class SourceFigures:
    files: int = 0
    read: int = 0
    dropped: int = 0
    rejected: int = 0
    loaded: int = 0
    expected_rows: int = 0
    sums: dict[str, Any] = field(default_factory=dict)
    rejects: transform.Rejects = field(default_factory=transform.Rejects)
    duplicate_source_keys: int = 0


@dataclass(frozen=True)
class Report:
    table: str
    source: SourceFigures
    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def mismatches(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    def as_dict(self) -> dict[str, Any]:
        s = self.source
        return {
            "table": self.table,
            "ok": self.ok,
            "source": {
                "files": s.files,
                "records": s.read,
                "dropped": s.dropped,
                "rejected": s.rejected,
                "expected_rows": s.expected_rows,
            },
            "checks": [c.as_dict() for c in self.checks],
        }

    def raise_if_mismatch(self) -> None:
        bad = self.mismatches()
        if bad:
            figures = "; ".join(
                f"{c.name}: source {plain(c.source)}, warehouse {plain(c.warehouse)}" for c in bad
            )
            raise Mismatch(
                f"{self.table} does not match the source: {figures}",
                hint="see `wcpipe logs job` for what the load did",
            )


def plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else str(value)
    return value


def job_config(ctx: Session) -> JobConfig:
    return JobConfig.from_dict(job_config_json(ctx.spec, ctx.names))


def source_objects(ctx: Session) -> Iterator[str]:
    """Keys of every data object under the prefix, in key order (pages followed)."""
    s3 = ctx.client("s3")
    paginator = s3.get_paginator("list_objects_v2")
    bucket = ctx.names.data_bucket
    pages = iter(paginator.paginate(Bucket=bucket, Prefix=ctx.names.prefix))
    try:
        first: dict[str, Any] = next(pages, {})
    except s3.exceptions.NoSuchBucket:
        raise not_created(f"bucket {bucket!r}") from None
    for page in itertools.chain([first], pages):
        for obj in page.get("Contents", []):
            key = str(obj["Key"])
            if not key.endswith(_SKIP_SUFFIXES) and obj.get("Size", 1) > 0:
                yield key


# A scan this large is confirmed first: 100 GiB is about $0.49 at Athena's $5 per TB scanned.
CONFIRM_SCAN_BYTES = 100 * 2**30
_TEXT_TYPES = ("string", "varchar", "char")


def source_figures(
    ctx: Session,
    config: JobConfig | None = None,
    *,
    approve: Callable[[athena.ScanEstimate], bool] | None = None,
) -> SourceFigures:
    """The source side, on Athena; see the module docstring."""
    config = config or job_config(ctx)
    # First, so a pipeline not created yet says so (with `run`'s hint) before any query.
    files = sum(1 for _ in source_objects(ctx))
    estimate = athena.scan_estimate(ctx)
    if estimate.bytes >= CONFIRM_SCAN_BYTES and not (approve and approve(estimate)):
        raise UsageError(
            f"verify's source side would scan {estimate.summary()}",
            hint="rerun `wcpipe verify --yes` to scan without asking",
        )
    query = source_query(config, _catalog_columns(ctx, config))
    header, *rows = athena.run_query(ctx, query, header=True)
    row = dict(zip(header, rows[0], strict=True))
    count = lambda name: int(row[name] or 0)  # noqa: E731 (SUM over no row is NULL: 0)
    found = SourceFigures(files=files)
    found.read, found.dropped, found.rejected = count("read"), count("dropped"), count("rejected")
    found.loaded, found.expected_rows = count("loaded"), count("expected_rows")
    found.duplicate_source_keys = count("duplicate_source_keys")
    for i, column in enumerate(config.columns):
        if count(f"n{i}"):
            found.rejects.add_counted(column.name, count(f"n{i}"), [])
        if column.family in figures.NUMERIC:
            found.sums[column.name] = _number(row[f"s{i}"]) or 0
    return found


def _catalog_columns(ctx: Session, config: JobConfig) -> list[tuple[str, str]]:
    """The S3 crawler's table's columns: (name, Glue type)."""
    try:
        table = ctx.client("glue").get_table(
            DatabaseName=config.source_database, Name=config.source_table
        )["Table"]
    except Exception as exc:
        if error_code(exc) != "EntityNotFoundException":
            raise
        raise ResourceFailed(
            f"catalog table {config.source_database}.{config.source_table} not found",
            hint="the S3 crawler makes it: `wcpipe run` crawls first",
        ) from None
    columns = table.get("StorageDescriptor", {}).get("Columns", [])
    return [(str(c["Name"]), str(c.get("Type", "string"))) for c in columns]


def source_query(config: JobConfig, columns: list[tuple[str, str]]) -> str:
    """Athena's statement for the source figures over the catalog table of `columns`."""
    q = expr.TRINO.ident
    try:
        index = transform.Mapper(config).index([name for name, _ in columns])
    except ValueError as exc:
        raise ResourceFailed(f"{config.source_database}.{config.source_table}: {exc}") from None
    texts = [
        f"{_text(q(columns[i][0]), columns[i][1])} AS {q(f's{i}')}"
        for i in sorted(set(index.values()))
    ]
    table = f"{q(config.source_database)}.{q(config.source_table)}"
    relation = f'(SELECT {", ".join(texts)}, "$path" FROM {table}) AS source'
    sources = {source: f"s{i}" for source, i in index.items()}
    order = ("$path",) if config.load_keys else ()
    return figures.figures_sql(config, expr.TRINO, relation, sources, order)


def _text(column: str, glue_type: str) -> str:
    """A catalog column as its CSV text: a whole float as its integer, as glue/load.py does."""
    kind = glue_type.lower()
    if kind.startswith(_TEXT_TYPES):
        return column
    if kind in ("double", "float"):
        whole = f"CAST(CAST({column} AS DECIMAL(38,0)) AS VARCHAR)"
        return (
            f"CASE WHEN {column} = FLOOR({column}) THEN {whole} ELSE CAST({column} AS VARCHAR) END"
        )
    return f"CAST({column} AS VARCHAR)"


def figures_query(config: JobConfig, table: str) -> tuple[str, dict[str, str]]:
    """One SELECT for the row count, each column's non-NULL count and each numeric sum; returns
    the SQL and a map alias -> what it measures."""
    parts = ["COUNT(*) AS row_count"]
    aliases: dict[str, str] = {}
    for i, col in enumerate(config.columns):
        if not col.nullable:
            parts.append(f"COUNT({sql.ident(col.name)}) AS n{i}")
            aliases[f"n{i}"] = col.name
        if col.family in transform.NUMERIC_FAMILIES:
            parts.append(f"SUM({sql.ident(col.name)}) AS s{i}")
            aliases[f"s{i}"] = col.name
    return f"SELECT {', '.join(parts)} FROM {table}", aliases


def duplicates_query(config: JobConfig, table: str) -> str:
    keys = ", ".join(sql.ident(k) for k in config.load_keys)
    return (
        f"SELECT COUNT(*) AS duplicate_keys FROM (SELECT {keys} FROM {table} "
        f"GROUP BY {keys} HAVING COUNT(*) > 1) AS d"
    )


def _number(value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _sums_equal(source: Any, target: Any, family: str) -> bool:
    s, t = _number(source), _number(target)
    if t is None:  # SUM over no rows (or all NULLs) is NULL
        return s is None or s == 0
    if s is None:
        return False
    if family in _FLOAT_FAMILIES:
        tolerance = Decimal("1e-6") if family == "real" else Decimal("1e-9")
        return abs(s - t) <= tolerance * max(Decimal(1), abs(s))
    return s == t


def verify(ctx: Session, approve: Callable[[athena.ScanEstimate], bool] | None = None) -> Report:
    """Compare the source files with the warehouse table (see the module docstring)."""
    config = job_config(ctx)
    table = sql.qualified(ctx.spec.table)
    source = source_figures(ctx, config, approve=approve)
    query, aliases = figures_query(config, table)
    row = warehouse.query(ctx, query, what=f"counting {table}")[0]
    count = int(row["row_count"])
    checks = [
        Check(
            "rows",
            source.expected_rows,
            count,
            source.expected_rows == count,
            _rows_detail(source, config),
        )
    ]
    if source.rejected:
        checks.append(
            Check(
                "source rows rejected (unconvertible values)",
                source.rejected,
                "-",
                False,
                source.rejects.summary(),
            )
        )
    for alias, name in aliases.items():
        if alias.startswith("n"):
            nulls = count - int(row[alias] or 0)
            checks.append(Check(f"NULLs in NOT NULL {name}", 0, nulls, nulls == 0))
    for alias, name in aliases.items():
        if alias.startswith("s"):
            family = next(c.family for c in config.columns if c.name == name)
            src, dst = source.sums.get(name), row[alias]
            checks.append(
                Check(f"sum of {name}", _number(src), _number(dst), _sums_equal(src, dst, family))
            )
    if config.load_mode == "merge":
        dupes = int(
            warehouse.query(
                ctx, duplicates_query(config, table), what=f"duplicate keys in {table}"
            )[0]["duplicate_keys"]
        )
        checks.append(
            Check(f"duplicate keys ({', '.join(config.load_keys)})", 0, dupes, dupes == 0)
        )
    return Report(f"{ctx.spec.table.schema_}.{ctx.spec.table.name}", source, tuple(checks))


def _rows_detail(source: SourceFigures, config: JobConfig) -> str:
    parts = [f"{source.read} record(s) in {source.files} file(s)"]
    if source.dropped:
        parts.append(f"{source.dropped} dropped by drop_rows")
    if source.rejected:
        parts.append(f"{source.rejected} rejected")
    if config.load_mode == "merge" and source.duplicate_source_keys:
        parts.append(f"{source.duplicate_source_keys} repeat an earlier key (merged)")
    return ", ".join(parts)
