"""Mapping: from CSV records to warehouse rows for one job, shared by the Glue script
(`glue/load.py`), the sandbox's job runner (which loads PostgreSQL with this same code) and
`verify` (source counts and sums after cleaning). Plain Python, no AWS, no Spark. One value's
cleaning and conversion (the rules, `SqlType`, `ConversionError`) are in `wcpipe.datamap.values`.

Contract:
- Standard library only: this module ships to AWS Glue in `wcpipe_lib.zip`, where pydantic is
  absent. It works from `config.JobConfig`, parsed from the JSON `wcpipe.spec.job.job_config`
  writes on the client side.
- Each column's cleaning rules run in the order the spec declares them, then its conversion
  (`wcpipe.datamap.values.clean`, then `wcpipe.datamap.values.convert`).
- A value that cannot be converted is NEVER turned into NULL: the row is rejected, and `Rejects`
  counts it per column with a few samples. NULL in a NOT NULL column is a reject too.
- `Mapper.map_record` returns the row as a tuple in the spec's column order, or None when the row
  is dropped (drop_rows compares the RAW source value, before any cleaning) or rejected.
- `Mapper.map_records` maps a batch to the same rows and counts, column by column (fast), and
  `map_columns` gives those rows as columns; all use each column's converters compiled once by
  `wcpipe.datamap.convert`, which ships alongside.
- `counts_line`/`parse_counts_line` carry a load's counts in its log; `source_sums` and
  `accumulate_sums` give the sums of the numeric columns that `verify` compares.

The FIFA file (config/pipeline.yaml) shows why drop_rows and empty_as_null exist:
- its last line is an "Overall" totals row; `drop_rows: {column: Year, values: [Overall]}` drops
  it, so `year` can be smallint, and its empty Game(s) never loads. On any other row an empty
  Game(s) is '' (text stays as written) unless the column lists empty_as_null: then it is NULL,
  and with `nullable: false` the row is rejected and reported.
"""

from __future__ import annotations

import itertools
import json
import operator
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from wcpipe.datamap.config import JobConfig
from wcpipe.datamap.convert import Column
from wcpipe.datamap.values import ConversionError

SAMPLES_PER_COLUMN = 5
BATCH_ROWS = 4096  # records mapped per `Mapper.map_records` call by streaming callers
NUMERIC_FAMILIES = frozenset({"smallint", "integer", "bigint", "decimal", "real", "double"})


class RejectedRows(RuntimeError):
    """Raised by loaders when any row was rejected: nothing is loaded with a silent NULL."""


# ---------------------------------------------------------------------------------------------
# Rows.


@dataclass
class Rejects:
    """Rejected values per column: counts and the first few samples ("value" -> reason).

    A sample is short whatever the value: a broken quote can make one field of megabytes, and
    the samples go into the job's log and its exception. A value's repr is cut to SAMPLE_CHARS
    characters with its length noted (`'aaaa…' (3000000 chars)`), a reason (which may quote the
    value) to REASON_CHARS."""

    counts: dict[str, int] = field(default_factory=dict)
    samples: dict[str, list[str]] = field(default_factory=dict)

    SAMPLE_CHARS = 100  # not annotated: class constants, not dataclass fields
    REASON_CHARS = 200

    def add(self, column: str, value: str | None, reason: str) -> None:
        self.counts[column] = self.counts.get(column, 0) + 1
        kept = self.samples.setdefault(column, [])
        if len(kept) < SAMPLES_PER_COLUMN:
            kept.append(f"{self._shown(value)}: {self._cut(reason, self.REASON_CHARS)}")

    def add_counted(self, column: str, count: int, samples: Sequence[tuple[str, str]]) -> None:
        """`count` rejected values of `column`, counted elsewhere (an engine's aggregate), with
        a few (value, reason) samples."""
        kept = samples[:SAMPLES_PER_COLUMN]
        for value, reason in kept:
            self.add(column, value, reason)
        self.counts[column] = self.counts.get(column, 0) + count - len(kept)

    @classmethod
    def _shown(cls, value: str | None) -> str:
        text = repr(value)
        if value is None or len(text) <= cls.SAMPLE_CHARS:
            return text
        return f"{cls._cut(text, cls.SAMPLE_CHARS)} ({len(value)} chars)"

    @staticmethod
    def _cut(text: str, limit: int) -> str:
        return text if len(text) <= limit else text[:limit] + "\u2026"

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

    The columns' converters are compiled once (`wcpipe.datamap.convert`); an index's positions are
    worked out once per index object, so an index is not to be changed once used. Prefer
    `map_records` for many records: it converts column by column, with C-level loops."""

    def __init__(self, config: JobConfig) -> None:
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
