"""Cleaning and mapping: from a CSV record to a warehouse row, shared by the Glue script
(`glue/load.py`), the sandbox's job runner (which loads PostgreSQL with this same code) and
`verify` (source counts and sums after cleaning). Plain Python, no AWS, no Spark.

Contract:
- Standard library only at module level: this module ships to AWS Glue in `wcpipe_lib.zip`,
  where pydantic is absent. `job_config`/`job_arguments` take the pydantic `Spec`, imported only
  for type checking; everything else works from `JobConfig`, parsed from the JSON they produce.
- Cleaning rules run in the order the spec declares them: trim, normalize_space (NBSP U+00A0,
  U+2007, U+202F, every other Unicode space and ASCII whitespace become one ' ', runs collapsed),
  strip_footnotes ("[86]", "[a]"), thousands ("173,850" -> "173850", only when the value is a
  well-formed thousands-grouped number), empty_as_null.
- Conversion by type family; ints are range-checked, decimals precision- and scale-checked (too
  many decimal places is a reject, not a rounding), varchar/char lengths count UTF-8 BYTES as
  Redshift does (an en dash is three). Non-text values ignore surrounding whitespace; an empty
  one is NULL. A text value stays '' unless empty_as_null.
- A value that cannot be converted is NEVER turned into NULL: the row is rejected, and `Rejects`
  counts it per column with a few samples. NULL in a NOT NULL column is a reject too.
- `Mapper.map_record` returns the row as a tuple in the spec's column order, or None when the row
  is dropped (drop_rows compares the RAW source value, before any cleaning) or rejected.
- `Mapper.map_records` maps a batch to the same rows and counts, column by column (fast), and
  `map_columns` gives those rows as columns; all use each column's converters compiled once by
  `wcpipe.convert`, which ships alongside.

The FIFA file (config/pipeline.yaml) shows why each rule exists:
- its last line is an "Overall" totals row; `drop_rows: {column: Year, values: [Overall]}` drops
  it, so `year` can be smallint, and its empty Game(s) never loads. On any other row an empty
  Game(s) is '' (text stays as written) unless the column lists empty_as_null: then it is NULL,
  and with `nullable: false` the row is rejected and reported;
- 1950's highest attendance reads "173,850[86]": [strip_footnotes, thousands] make it 173850;
- "South Korea<NBSP>Japan": normalize_space makes it "South Korea Japan";
- scores use en dashes ("6\u20131"), kept as written: the varchar sizes are in bytes.
"""

from __future__ import annotations

import itertools
import json
import operator
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wcpipe.names import Names
    from wcpipe.spec import Spec

RULES = ("trim", "normalize_space", "strip_footnotes", "thousands", "empty_as_null")
SAMPLES_PER_COLUMN = 5
BATCH_ROWS = 4096  # records mapped per `Mapper.map_records` call by streaming callers
INT_RANGES = {"smallint": 2**15, "integer": 2**31, "bigint": 2**63}
TEXT_FAMILIES = frozenset({"varchar", "char"})
NUMERIC_FAMILIES = frozenset({"smallint", "integer", "bigint", "decimal", "real", "double"})

# The Redshift types a spec may declare (spec.type_family reads them through SqlType.parse).
_TYPES: dict[str, str] = {
    "smallint": r"smallint|int2",
    "integer": r"integer|int|int4",
    "bigint": r"bigint|int8",
    "decimal": r"(?:decimal|numeric)\((\d{1,2})(?:,\s*(\d{1,2}))?\)",
    "real": r"real|float4",
    "double": r"double precision|float8|float",
    "boolean": r"boolean|bool",
    "date": r"date",
    "timestamp": r"timestamp|timestamptz|timestamp with time zone|timestamp without time zone",
    "varchar": r"(?:varchar|character varying)\((\d{1,5}|max)\)",
    "char": r"(?:char|character)\((\d{1,4})\)",
}

_SPACES = re.compile(r"\s+")  # str patterns: \s covers NBSP, U+2007, U+202F and all of Zs
_FOOTNOTE = re.compile(r"\[(?:\d{1,4}|[A-Za-z])\]")
_THOUSANDS = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_INT = re.compile(r"[+-]?\d+")
_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_FLOAT = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIMESTAMP = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)?(?:Z|[+-]\d{2}:?\d{2})?"
)
_BOOLEANS = {"true": True, "t": True, "yes": True, "1": True}
_BOOLEANS |= {"false": False, "f": False, "no": False, "0": False}
REAL_MAX = 3.4028235e38


class ConversionError(ValueError):
    """A value that does not fit its column; the message says why."""


class RejectedRows(RuntimeError):
    """Raised by loaders when any row was rejected: nothing is loaded with a silent NULL."""


@dataclass(frozen=True)
class SqlType:
    family: str
    precision: int = 0  # decimal(p, s)
    scale: int = 0
    length: int = 0  # varchar(n)/char(n), in bytes
    with_zone: bool = False  # timestamptz

    @classmethod
    def parse(cls, sql_type: str) -> SqlType:
        t = " ".join(sql_type.lower().split())
        for family, pattern in _TYPES.items():
            m = re.fullmatch(pattern, t)
            if not m:
                continue
            if family == "decimal":
                return cls(family, precision=int(m[1]), scale=int(m[2] or 0))
            if family in TEXT_FAMILIES:
                return cls(family, length=65535 if m[1] == "max" else int(m[1]))
            return cls(family, with_zone=t in {"timestamptz", "timestamp with time zone"})
        raise ValueError(f"{sql_type!r} is not a supported Redshift type")


@dataclass(frozen=True)
class ColumnConfig:
    name: str
    type: str
    source: str
    nullable: bool = True
    clean: tuple[str, ...] = ()
    sql: SqlType = field(init=False, compare=False)

    def __post_init__(self) -> None:
        unknown = [r for r in self.clean if r not in RULES]
        if unknown:
            raise ValueError(f"column {self.name!r}: unknown cleaning rule(s) {unknown}")
        object.__setattr__(self, "sql", SqlType.parse(self.type))

    @property
    def family(self) -> str:
        return self.sql.family


@dataclass(frozen=True)
class JobConfig:
    """What the load needs, parsed from `job_config(spec, names)`'s JSON (see `from_json`)."""

    source_database: str
    source_table: str
    drop_rows: tuple[tuple[str, frozenset[str]], ...]  # (source column, raw values)
    target_schema: str
    target_table: str
    target_database: str
    connection: str
    columns: tuple[ColumnConfig, ...]
    load_mode: str
    load_keys: tuple[str, ...]
    csv: Mapping[str, Any]  # header, delimiter, quote, encoding (csvio.Dialect.from_config)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> JobConfig:
        src, tgt, load = data["source"], data["target"], data["load"]
        return cls(
            source_database=src["database"],
            source_table=src["table"],
            drop_rows=tuple((d["column"], frozenset(d["values"])) for d in src["drop_rows"]),
            target_schema=tgt["schema"],
            target_table=tgt["table"],
            target_database=tgt["database"],
            connection=tgt["connection"],
            columns=tuple(
                ColumnConfig(
                    **{**c, "source": c.get("source") or c["name"], "clean": tuple(c["clean"])}
                )
                for c in data["columns"]
            ),
            load_mode=load["mode"],
            load_keys=tuple(load.get("keys", ())),
            csv=dict(data.get("csv", {})),
        )

    @classmethod
    def from_json(cls, text: str) -> JobConfig:
        return cls.from_dict(json.loads(text))

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


# ---------------------------------------------------------------------------------------------
# Cleaning and conversion of one value.


def clean(value: str | None, rules: Iterable[str]) -> str | None:
    """Apply the cleaning rules in order; None stays None."""
    for rule in rules:
        if value is None:
            return None
        if rule == "trim":
            value = value.strip()
        elif rule == "normalize_space":
            value = _SPACES.sub(" ", value)
        elif rule == "strip_footnotes":
            value = _FOOTNOTE.sub("", value)
        elif rule == "thousands":
            if _THOUSANDS.fullmatch(value.strip()):
                value = value.replace(",", "")
        elif rule == "empty_as_null":
            value = value or None
        else:
            raise ValueError(f"unknown cleaning rule {rule!r}")
    return value


def convert(value: str | None, sql: SqlType) -> object:
    """The Python value for a column of type `sql`, or raise ConversionError."""
    if value is None:
        return None
    if sql.family in TEXT_FAMILIES:
        size = len(value.encode("utf-8"))
        if size > sql.length:
            raise ConversionError(f"{size} bytes (UTF-8) exceed {sql.family}({sql.length})")
        return value
    v = value.strip()
    if not v:
        return None
    return _CONVERTERS[sql.family](v, sql)


def _to_int(v: str, sql: SqlType) -> int:
    if not _INT.fullmatch(v):
        raise ConversionError(f"not an integer: {v!r}")
    n = int(v)
    bound = INT_RANGES[sql.family]
    if not -bound <= n < bound:
        raise ConversionError(f"{n} is out of range for {sql.family}")
    return n


def _to_decimal(v: str, sql: SqlType) -> Decimal:
    if not _DECIMAL.fullmatch(v):
        raise ConversionError(f"not a decimal number: {v!r}")
    whole, _, fraction = v.lstrip("+-").partition(".")
    if len(fraction) > sql.scale:
        raise ConversionError(f"{v!r} has more than {sql.scale} decimal places")
    if len(whole.lstrip("0")) > sql.precision - sql.scale:
        raise ConversionError(f"{v!r} exceeds decimal({sql.precision},{sql.scale})")
    return Decimal(v)  # the pattern excludes NaN, Infinity and exponents


def _to_float(v: str, sql: SqlType) -> float:
    if not _FLOAT.fullmatch(v):
        raise ConversionError(f"not a number: {v!r}")
    x = float(v)
    limit = REAL_MAX if sql.family == "real" else float("inf")
    if not abs(x) < limit or x != x:
        raise ConversionError(f"{v!r} is out of range for {sql.family}")
    return x


def _to_bool(v: str, sql: SqlType) -> bool:
    try:
        return _BOOLEANS[v.lower()]
    except KeyError:
        raise ConversionError(f"not a boolean: {v!r}") from None


def _to_date(v: str, sql: SqlType) -> date:
    try:
        return date.fromisoformat(v if _DATE.fullmatch(v) else "")
    except ValueError:
        raise ConversionError(f"not an ISO date (YYYY-MM-DD): {v!r}") from None


def _to_timestamp(v: str, sql: SqlType) -> datetime:
    try:
        ts = datetime.fromisoformat(v if _TIMESTAMP.fullmatch(v) else "")
    except ValueError:
        raise ConversionError(f"not an ISO timestamp: {v!r}") from None
    if ts.tzinfo is not None and not sql.with_zone:
        # A plain timestamp column holds UTC wall-clock time, as Redshift's COPY stores it.
        ts = ts.astimezone(UTC).replace(tzinfo=None)
    return ts


_CONVERTERS = {"smallint": _to_int, "integer": _to_int, "bigint": _to_int, "decimal": _to_decimal}
_CONVERTERS |= {"real": _to_float, "double": _to_float, "boolean": _to_bool}
_CONVERTERS |= {"date": _to_date, "timestamp": _to_timestamp}


# ---------------------------------------------------------------------------------------------
# Rows.


@dataclass
class Rejects:
    """Rejected values per column: counts and the first few samples ("value" -> reason)."""

    counts: dict[str, int] = field(default_factory=dict)
    samples: dict[str, list[str]] = field(default_factory=dict)

    def add(self, column: str, value: str | None, reason: str) -> None:
        self.counts[column] = self.counts.get(column, 0) + 1
        kept = self.samples.setdefault(column, [])
        if len(kept) < SAMPLES_PER_COLUMN:
            kept.append(f"{value!r}: {reason}")

    def merge(self, other: Rejects) -> Rejects:
        for column, n in other.counts.items():
            self.counts[column] = self.counts.get(column, 0) + n
        for column, kept in other.samples.items():
            mine = self.samples.setdefault(column, [])
            mine.extend(kept[: SAMPLES_PER_COLUMN - len(mine)])
        return self

    def __bool__(self) -> bool:
        return bool(self.counts)

    def summary(self) -> str:
        lines = [
            f"{column}: {n} value(s) rejected, e.g. {'; '.join(self.samples.get(column, []))}"
            for column, n in sorted(self.counts.items())
        ]
        return "\n".join(lines)


class RejectsParam:
    """A Spark AccumulatorParam (duck-typed: pyspark is not imported here) for `Rejects`."""

    def zero(self, value: Rejects) -> Rejects:
        return Rejects()

    def addInPlace(self, a: Rejects, b: Rejects) -> Rejects:
        return a.merge(b)


@dataclass(frozen=True)
class _Plan:
    """Where a Mapper finds its values in the records of one header index."""

    positions: tuple[int, ...]  # of the columns' source values
    drops: tuple[tuple[int, frozenset[str]], ...]  # (position, raw values that drop the row)
    width: int  # a shorter record is padded with None (absent values)

    @classmethod
    def of(cls, config: JobConfig, header_index: Mapping[str, int]) -> _Plan:
        positions = tuple(header_index[c.source] for c in config.columns)
        drops = tuple((header_index[column], values) for column, values in config.drop_rows)
        width = max([*positions, *(i for i, _ in drops)], default=-1) + 1
        return cls(positions, drops, width)

    def kept(self, records: list[Sequence[str | None]]) -> list[Sequence[str | None]]:
        """The records not dropped (drop_rows compares raw values), padded to `width`."""
        width = self.width
        if records and min(map(len, records)) < width:
            records = [[*r, *[None] * (width - len(r))] if len(r) < width else r for r in records]
        for i, values in self.drops:
            records = [r for r in records if (r[i] or "") not in values]
        return records


class Mapper:
    """Maps records to rows for one JobConfig and counts read, dropped, loaded and rejected.

    The columns' converters are compiled once (`wcpipe.convert`); an index's positions are
    worked out once per index object, so an index is not to be changed once used. Prefer
    `map_records` for many records: it converts column by column, with C-level loops."""

    def __init__(self, config: JobConfig) -> None:
        from wcpipe.convert import Column  # here: wcpipe.convert imports this module

        self.config = config
        self.read = self.dropped = self.loaded = self.rejected = 0
        self.rejects = Rejects()
        self._columns = tuple(Column.of(c) for c in config.columns)
        self._plans: tuple[Mapping[str, int], _Plan] | None = None

    def index(self, header: Sequence[str]) -> dict[str, int]:
        """Source column -> position in `header`, matched case-insensitively (Glue's catalog
        lower-cases the crawler's column names). Raises ValueError naming missing columns."""
        positions = {name.lower(): i for i, name in reversed(list(enumerate(header)))}
        wanted = [c.source for c in self.config.columns]
        wanted += [column for column, _ in self.config.drop_rows]
        missing = sorted({w for w in wanted if w.lower() not in positions})
        if missing:
            raise ValueError(f"source column(s) {missing} not in the source header {list(header)}")
        return {w: positions[w.lower()] for w in wanted}

    def map_record(
        self, header_index: Mapping[str, int], record: Sequence[str | None]
    ) -> tuple[object, ...] | None:
        """One record's row, or None when the record is dropped or rejected."""
        plan = self._plan(header_index)
        self.read += 1
        kept = plan.kept([record])
        if not kept:
            self.dropped += 1
            return None
        values = [kept[0][i] for i in plan.positions]
        try:
            row = tuple([column.one(v) for column, v in zip(self._columns, values, strict=True)])
        except ConversionError:
            self._reject([(0, values)])
            return None
        self.loaded += 1
        return row

    def map_records(
        self, header_index: Mapping[str, int], records: Iterable[Sequence[str | None]]
    ) -> list[tuple[object, ...]]:
        """The rows of the records that are neither dropped nor rejected, in order: the same
        rows and counts as `map_record` on each record."""
        count, columns = self.map_columns(header_index, records)
        return list(zip(*columns, strict=True)) if columns else [()] * count

    def map_columns(
        self, header_index: Mapping[str, int], records: Iterable[Sequence[str | None]]
    ) -> tuple[int, list[list[object]]]:
        """`map_records`' rows column by column: (number of rows, one list per column in the
        spec's order), for callers that write columns (no rows built, none taken apart)."""
        plan = self._plan(header_index)
        batch = records if isinstance(records, list) else list(records)
        kept = plan.kept(batch)
        self.read += len(batch)
        self.dropped += len(batch) - len(kept)
        converted: list[list[object]] = []
        failed: set[int] = set()
        for column, i in zip(self._columns, plan.positions, strict=True):
            raw = list(map(operator.itemgetter(i), kept))
            values = column.many(raw)
            if values is None:
                values = []
                for k, v in enumerate(raw):
                    try:
                        values.append(column.one(v))
                    except ConversionError:
                        failed.add(k)
                        values.append(None)
            converted.append(values)
        count = len(kept)
        if failed:
            get = operator.itemgetter(*plan.positions)
            self._reject([(k, list(get(kept[k]))) for k in sorted(failed)])
            converted = [[v for k, v in enumerate(c) if k not in failed] for c in converted]
            count -= len(failed)
        self.loaded += count
        return count, converted

    def _plan(self, header_index: Mapping[str, int]) -> _Plan:
        if self._plans is None or self._plans[0] is not header_index:
            self._plans = (header_index, _Plan.of(self.config, header_index))
        return self._plans[1]

    def _reject(self, rows: Sequence[tuple[int, Sequence[str | None]]]) -> None:
        """Record every value that does not convert, row by row (each row counted once)."""
        for _, values in rows:
            for column, value in zip(self._columns, values, strict=True):
                try:
                    column.one(value)
                except ConversionError as exc:
                    self.rejects.add(column.name, value, str(exc))
        self.rejected += len(rows)

    def counts(self) -> dict[str, int]:
        return dict(
            read=self.read, dropped=self.dropped, loaded=self.loaded, rejected=self.rejected
        )


COUNTS_PREFIX = "wcpipe-counts "


def counts_line(counts: Mapping[str, int]) -> str:
    """The one log line loaders print with their counts; `parse_counts_line` reads it back."""
    return COUNTS_PREFIX + json.dumps(dict(counts), sort_keys=True)


def parse_counts_line(line: str) -> dict[str, int] | None:
    _, found, rest = line.partition(COUNTS_PREFIX)
    return {str(k): int(v) for k, v in json.loads(rest).items()} if found else None


# ---------------------------------------------------------------------------------------------
# Sums, for verify: compare SUM(column) in the warehouse with the sums of the cleaned source.


def numeric_columns(config: JobConfig) -> tuple[str, ...]:
    return tuple(c.name for c in config.columns if c.family in NUMERIC_FAMILIES)


def accumulate_sums(config: JobConfig, rows: Iterable[Sequence[object]]) -> dict[str, object]:
    """Sums of the numeric columns over mapped rows (tuples from `Mapper.map_record`); NULLs are
    skipped as SQL's SUM does. ints stay exact ints, decimals Decimals, floats floats."""
    positions = [i for i, c in enumerate(config.columns) if c.family in NUMERIC_FAMILIES]
    totals: list[Any] = [0] * len(positions)
    for row in rows:
        for k, i in enumerate(positions):
            if row[i] is not None:
                totals[k] += row[i]
    return {config.columns[i].name: totals[k] for k, i in enumerate(positions)}


def source_sums(
    config: JobConfig, header: Sequence[str], records: Iterable[Sequence[str | None]]
) -> tuple[dict[str, object], Mapper]:
    """Map records and sum the numeric columns of the loaded ones; the Mapper has the counts."""
    mapper = Mapper(config)
    index = mapper.index(header)
    stream = iter(records)
    batches = iter(lambda: list(itertools.islice(stream, BATCH_ROWS)), [])
    rows = (row for batch in batches for row in mapper.map_records(index, batch))
    return accumulate_sums(config, rows), mapper


# ---------------------------------------------------------------------------------------------
# From the spec (pydantic on the caller's side only).


def job_config(spec: Spec, names: Names) -> dict[str, object]:
    """Everything the Glue job needs to know, as JSON-able data (`JobConfig.from_dict`)."""
    drops = [d.model_dump(mode="json") for d in spec.data.drop_rows]
    fields = {"name", "type", "nullable", "clean"}
    return {
        "source": dict(database=names.s3_database, table=names.source_table, drop_rows=drops),
        "target": dict(
            schema=spec.table.schema_,
            table=spec.table.name,
            database=spec.warehouse.database,
            connection=names.connection,
        ),
        "columns": [
            {**c.model_dump(include=fields, mode="json"), "source": c.source_column}
            for c in spec.table.columns
        ],
        "load": spec.load.model_dump(mode="json"),
        "csv": spec.data.csv.model_dump(mode="json"),
    }


def job_arguments(spec: Spec, names: Names) -> dict[str, str]:
    """The job's DefaultArguments that carry the mapping and load mode (deterministic JSON)."""
    config = json.dumps(job_config(spec, names), sort_keys=True, separators=(",", ":"))
    return {"--wcpipe_config": config}
