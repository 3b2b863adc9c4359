"""Test-only fault injection for the Spark engine (`Sandbox.glue_faults`), so the tier can prove
the script exact under what Spark does to tasks on Glue: a task that fails and is retried, and a
cached partition that is evicted and recomputed.

- `{"fail_once": [p, ...]}`: for each listed partition p, the first attempt of two kinds of task
  raises after producing every row: the task that reads the source, and the last task of every
  `RDD.collect()` (the action behind `count()`, `sum()` and `collect()`). A failure at the
  source discards all the task did downstream; a failure in an action's task comes after any
  cached parent block was stored, so the retry reads the cache and does not run the functions
  that produced it: their accumulator updates from the failed attempt are dropped (Spark RDD
  programming guide, "Accumulators": only successful tasks' updates are applied in actions, and
  transformations may apply them more than once or not at all). Spark retries each failed task
  (the engine runs `local[N,4]`: 4 attempts per task). Once per (place, partition) per run,
  recorded by marker files in the run's work dir.
- `{"evict": true}`: `spark.memory.fraction` so small that no cached block fits, so a cached RDD
  is recomputed by every action that reads it (the engine sets it; see `engine.spark_conf`).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from awsglue import _runtime

_collects = itertools.count()


def _failing() -> set[int]:
    faults = _runtime.config().get("faults") or {}
    return {int(p) for p in faults.get("fail_once") or []}


def _fail_once(place: str) -> Callable[[int, Iterable[Any]], Iterator[Any]]:
    failing = _failing()
    markers = Path(_runtime.config()["work_dir"]) / "faults"
    markers.mkdir(exist_ok=True)
    marker_dir = str(markers)

    def fail_once(index: int, rows: Iterable[Any]) -> Iterator[Any]:
        yield from rows
        marker = Path(marker_dir) / f"{place}-{index}"
        if index in failing and not marker.exists():
            marker.touch()
            raise RuntimeError(f"wcpipe fault: {place} task for partition {index} fails once")

    return fail_once


def at_source(df: Any) -> Any:
    """`df` with the source's task failures wired into its partitions (or `df` unchanged)."""
    if not _failing():
        return df
    rdd = df.rdd.mapPartitionsWithIndex(_fail_once("source"))
    return df.sparkSession.createDataFrame(rdd, df.schema)


def install() -> None:
    """Wire the action failures into `RDD.collect` (once per process, only when configured)."""
    from pyspark.rdd import RDD

    if not _failing() or getattr(RDD.collect, "_wcpipe_faults", False):
        return
    original = RDD.collect

    def collect(self: Any) -> Any:
        place = f"collect{next(_collects)}"
        return original(self.mapPartitionsWithIndex(_fail_once(place)))

    collect._wcpipe_faults = True  # type: ignore[attr-defined]
    RDD.collect = collect  # type: ignore[method-assign]
