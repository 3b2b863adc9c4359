"""The Python reference for verify's source figures, kept only as the test oracle: the Mapper
(`wcpipe.datamap.transform`, the reference semantics) over CSV files read with `csvio`, and merge
mode's last version of each key in file-then-line order. What verify ran before its source side
moved to Athena (`operate.verify`); tests/test_figures.py checks `datamap.figures` against it."""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wcpipe.authoring import csvio
from wcpipe.datamap import transform
from wcpipe.datamap.config import JobConfig

_NUMERIC = transform.NUMERIC_FAMILIES


def python_figures(config: JobConfig, paths: list[Path]) -> dict[str, Any]:
    """counts, expected_rows, duplicate_source_keys, sums and rejects of the files, in order."""
    mapper = transform.Mapper(config)
    merge = _Merge.of(config) if config.load_keys else None
    totals: dict[str, Any] = {}
    for path in paths:
        with path.open("rb") as f:
            header, records = csvio.open_records(f, csvio.Dialect.from_config(config.csv))
            rows = mapper.map_records(mapper.index(header), list(records))
        if merge is not None:
            merge.add(rows)
        else:
            _add(totals, transform.accumulate_sums(config, rows))
    if merge is not None:
        totals = merge.sums()
    out: dict[str, Any] = mapper.counts()
    out["expected_rows"] = len(merge.latest) if merge is not None else out["loaded"]
    out["duplicate_source_keys"] = merge.repeats if merge is not None else 0
    out["sums"] = {n: totals.get(n, 0) for n in transform.numeric_columns(config)}
    out["rejects"] = dict(mapper.rejects.counts)
    return out


@dataclass
class _Merge:
    """Merge mode keeps one row per key, the last one: the sums are over those survivors.

    Per distinct key this keeps only what the sums need: the key itself (bare for a one-column
    key) and the values of the numeric columns that are not part of the key. That is the one
    figure whose memory grows with the data (one dict entry per distinct key); the table's own
    duplicate keys are counted on the warehouse side."""

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
