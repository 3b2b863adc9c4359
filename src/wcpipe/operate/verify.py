"""`verify`: does the warehouse hold exactly what the source files imply?

Contract:
- The source side streams every object under the spec's prefix once (S3 GetObject bodies read
  through `wcpipe.authoring.csvio`: real CSV parsing, headers excluded, constant memory whatever
  the size) and maps the records with `wcpipe.datamap.transform.Mapper`, the same code the job runs
  (column-wise, `transform.BATCH_ROWS` records per `map_records` call). That gives the rows
  expected in the table (drop_rows removed), the values that could not be converted, and the sums
  of the numeric columns after cleaning. In merge mode it also counts distinct keys, the one figure
  whose memory grows with the data: per distinct key, the key and the numeric values the sums need
  (`_Merge`).
- The warehouse side is two statements through the Data API (`wcpipe.warehouse.dataapi.query`): one
  `SELECT COUNT(*), COUNT(col)..., SUM(num)...`, and in merge mode the duplicate keys
  (`GROUP BY keys HAVING COUNT(*) > 1`).
- `verify(ctx)` returns a `Report` of `Check`s (name, source figure, warehouse figure, ok); it
  never raises for a mismatch -- `Report.raise_if_mismatch()` raises `wcpipe.core.errors.Mismatch`
  naming the differing figures. Only read calls.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from wcpipe.authoring import csvio
from wcpipe.core.errors import Mismatch, ResourceFailed
from wcpipe.datamap import transform
from wcpipe.datamap.config import JobConfig
from wcpipe.operate import not_created
from wcpipe.spec.job import job_config as job_config_json
from wcpipe.spec.session import Session
from wcpipe.warehouse import dataapi as warehouse
from wcpipe.warehouse import sql

_FLOAT_FAMILIES = frozenset({"real", "double"})
_NUMERIC = transform.NUMERIC_FAMILIES
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


def source_figures(ctx: Session, config: JobConfig | None = None) -> SourceFigures:
    """Stream every source object through the Mapper; see the module docstring."""
    config = config or job_config(ctx)
    s3 = ctx.client("s3")
    dialect = csvio.Dialect.from_config(config.csv)
    mapper = transform.Mapper(config)
    figures = SourceFigures()
    merge = _Merge.of(config) if config.load_keys else None
    totals: dict[str, Any] = {}
    for key in source_objects(ctx):
        figures.files += 1
        body = s3.get_object(Bucket=ctx.names.data_bucket, Key=key)["Body"]
        try:
            header, records = csvio.open_records(body, dialect)
            if not header:
                continue
            try:
                index = mapper.index(header)
            except ValueError as exc:
                raise ResourceFailed(f"s3://{ctx.names.data_bucket}/{key}: {exc}") from None
            for batch in _batches(records):
                rows = mapper.map_records(index, batch)
                if merge is not None:
                    merge.add(rows)
                else:
                    _add(totals, transform.accumulate_sums(config, rows))
        finally:
            body.close()
    if merge is not None:
        totals = merge.sums()
        figures.duplicate_source_keys = merge.repeats
    counts = mapper.counts()
    figures.read, figures.dropped = counts["read"], counts["dropped"]
    figures.rejected, figures.loaded = counts["rejected"], counts["loaded"]
    figures.rejects = mapper.rejects
    figures.sums = {n: totals.get(n, 0) for n in transform.numeric_columns(config)}
    figures.expected_rows = len(merge.latest) if merge is not None else figures.loaded
    return figures


def _batches(records: Iterator[list[str]]) -> Iterator[list[list[str]]]:
    """`transform.BATCH_ROWS` records at a time: `Mapper.map_records` converts column-wise."""
    return iter(lambda: list(itertools.islice(records, transform.BATCH_ROWS)), [])


@dataclass
class _Merge:
    """Merge mode keeps one row per key, the last one: the sums are over those survivors.

    Per distinct key this keeps only what the sums need: the key itself (bare for a one-column
    key) and the values of the numeric columns that are not part of the key. That is the one
    figure whose memory grows with the data (one dict entry per distinct key); the table's own
    duplicate keys are counted on the warehouse side (`duplicates_query`)."""

    key_of: Callable[[tuple[object, ...]], object]
    values_of: Callable[[tuple[object, ...]], tuple[object, ...]]
    numeric_in_key: tuple[tuple[str, int], ...]  # (column, position in the key tuple)
    numeric_values: tuple[str, ...]  # the columns `values_of` returns, in order
    bare_key: bool  # a one-column key is kept as its value, not in a 1-tuple
    latest: dict[object, tuple[object, ...]] = field(default_factory=dict)
    repeats: int = 0

    @classmethod
    def of(cls, config: JobConfig) -> _Merge:
        names = [c.name for c in config.columns]
        keys = [names.index(k) for k in config.load_keys]
        numeric = [i for i, c in enumerate(config.columns) if c.family in _NUMERIC]
        values = [i for i in numeric if i not in keys]
        return cls(
            key_of=_getter(keys, bare=True),
            values_of=_getter(values, bare=False),
            numeric_in_key=tuple((names[i], n) for n, i in enumerate(keys) if i in numeric),
            numeric_values=tuple(names[i] for i in values),
            bare_key=len(keys) == 1,
        )

    def add(self, rows: list[tuple[object, ...]]) -> None:
        before = len(self.latest)
        self.latest.update(zip(map(self.key_of, rows), map(self.values_of, rows), strict=True))
        self.repeats += len(rows) - (len(self.latest) - before)

    def sums(self) -> dict[str, Any]:
        """Sums over the surviving rows, NULLs skipped as SQL's SUM does."""
        totals: dict[str, Any] = {}
        keys = self.latest.keys()
        for name, n in self.numeric_in_key:
            totals[name] = _sum(keys) if self.bare_key else _sum(k[n] for k in keys)  # type: ignore[index]
        for n, name in enumerate(self.numeric_values):
            totals[name] = _sum(v[n] for v in self.latest.values())
        return totals


def _getter(positions: list[int], *, bare: bool) -> Callable[[tuple[object, ...]], Any]:
    """A C-level projection of a row: a tuple of `positions`, or the bare value for one
    position when `bare`."""
    if not positions:
        return lambda row: ()
    if len(positions) == 1 and not bare:
        (i,) = positions
        return lambda row: (row[i],)
    return operator.itemgetter(*positions)


def _sum(values: Iterable[Any]) -> Any:
    return sum((v for v in values if v is not None), 0)


def _add(totals: dict[str, Any], sums: dict[str, Any]) -> None:
    for name, total in sums.items():
        totals[name] = totals.get(name, 0) + total


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


def verify(ctx: Session) -> Report:
    """Compare the source files with the warehouse table (see the module docstring)."""
    config = job_config(ctx)
    table = sql.qualified(ctx.spec.table)
    source = source_figures(ctx, config)
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
