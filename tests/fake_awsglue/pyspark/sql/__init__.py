from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from pyspark.sql import types


class RDD:
    """Evaluated on an action; `cache()` keeps the result (so accumulators add up once)."""

    def __init__(self, compute: Callable[[], list[list[Any]]]) -> None:
        self._compute = compute
        self._cached: list[list[Any]] | None = None
        self._cache = False

    def partitions(self) -> list[list[Any]]:
        if self._cached is not None:
            return self._cached
        parts = self._compute()
        if self._cache:
            self._cached = parts
        return parts

    def mapPartitions(self, f: Callable[[Iterable[Any]], Iterator[Any]]) -> RDD:
        return RDD(lambda: [list(f(iter(p))) for p in self.partitions()])

    def cache(self) -> RDD:
        self._cache = True
        return self

    def count(self) -> int:
        return sum(len(p) for p in self.partitions())

    def collect(self) -> list[Any]:
        return [r for p in self.partitions() for r in p]


class DataFrame:
    def __init__(self, columns: list[str], rows: list[Any]) -> None:
        self.columns = list(columns)
        self._rows = [tuple(r) for r in rows]
        half = len(self._rows) // 2
        self.rdd = RDD(lambda: [self._rows[:half], self._rows[half:]])

    def collect(self) -> list[tuple[Any, ...]]:
        return list(self._rows)

    def count(self) -> int:
        return len(self._rows)


class SparkSession:
    def createDataFrame(self, rdd: RDD, schema: types.StructType) -> DataFrame:
        rows = rdd.collect()
        for row in rows:
            schema.verify(row)
        return DataFrame([f.name for f in schema.fields], rows)
