"""`verify` counting: source-row counting against `wc -l` on the same bytes.

- `csvio.count_rows` (the CSV-correct counter: quoted newlines do not start a record) over the
  generated sales files, 100k and 1M rows (--quick: 100k), in this process, page cache warm;
  `wc -l` over the same files in a subprocess (its process start-up is timed with it, a few ms).
  Rounds alternate the two; medians. Memory: tracemalloc's peak during a separate count (the
  counter's own allocations; tracemalloc slows it, so that pass is not timed).
- What `wcpipe verify` actually runs on the source side, `operate.verify.source_figures`: every
  object streamed from S3 (the sandbox) through csvio and `transform.Mapper` (`map_records`,
  in batches), with sums and, in merge mode, the key and numeric values kept per distinct key.
  Rows/s and the RSS it added, at each size.

Goal: at least a quarter of `wc -l`'s throughput; constant memory.
"""

from __future__ import annotations

import subprocess
import time
import tracemalloc
from pathlib import Path
from typing import Any

import datagen
import sandboxes
from common import PeakRss, Results, median
from loadkit import LoadPipeline

GOAL = 0.25
OBJECTS = 10


def _count(paths: list[Path]) -> int:
    from wcpipe.authoring import csvio

    dialect = csvio.Dialect()
    total = 0
    for path in paths:
        with open(path, "rb") as f:
            total += csvio.count_rows(f, dialect)
    return total


def _wc(paths: list[Path]) -> int:
    out = subprocess.run(["wc", "-l", *map(str, paths)], capture_output=True, text=True, check=True)
    return int(out.stdout.strip().splitlines()[-1].split()[0])


def _timed(fn: Any, *args: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn(*args)
    return time.perf_counter() - start, value


def measure_counting(rows: int, rounds: int) -> dict[str, Any]:
    paths = datagen.parts(rows, OBJECTS)
    mb = sum(p.stat().st_size for p in paths) / 1e6
    ours, wc = [], []
    for _ in range(rounds):
        t, n = _timed(_count, paths)
        assert n == rows, (n, rows)
        ours.append(t)
        t, lines = _timed(_wc, paths)
        assert lines == rows + OBJECTS  # a header per object; no quoted newlines here
        wc.append(t)
    tracemalloc.start()
    _count(paths)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"rows": rows, "mb": mb, "count_s": ours, "wc_s": wc, "peak_mib": peak / 2**20}


def measure_source_figures(rows: int) -> dict[str, Any]:
    from wcpipe.operate.verify import source_figures

    label = f"{rows // 1000}k"
    pipeline = LoadPipeline(f"bench-ver-{label}", f"ver_{label}")
    paths = datagen.parts(rows, OBJECTS)
    pipeline.s3.create_bucket(Bucket=pipeline.names.bucket)
    try:
        pipeline.put(paths)
        ctx = sandboxes.context(pipeline.spec)
        with PeakRss() as mem:
            seconds, figures = _timed(source_figures, ctx)
        assert figures.read == rows, figures.read
    finally:
        pipeline.drop()
    return {"rows": rows, "seconds": seconds, "rss_added_mib": mem.added_mib}


def run(results: Results, *, quick: bool) -> None:
    sizes = [100_000] if quick else [100_000, 1_000_000]
    counting = [measure_counting(rows, 3 if quick else 5) for rows in sizes]
    sources = [measure_source_figures(rows) for rows in sizes]
    results.details["verify"] = {"count_rows": counting, "source_figures": sources}
    for c in counting:
        ours = c["mb"] / median(c["count_s"])
        wc = c["mb"] / median(c["wc_s"])
        results.add(
            "verify",
            f"count_rows, {c['rows']:,} rows ({c['mb']:.0f} MB)",
            f"{ours:,.0f} MB/s",
            f">= {GOAL:g} x wc -l",
            ours / wc >= GOAL,
            f"{ours / wc:.2f} x wc -l's {wc:,.0f} MB/s; peak {c['peak_mib']:.1f} MiB traced",
        )
    peaks = [c["peak_mib"] for c in counting]
    results.add(
        "verify",
        "count_rows memory",
        ", ".join(f"{c['rows'] // 1000:,}k: {c['peak_mib']:.1f} MiB" for c in counting),
        "constant",
        len(peaks) < 2 or peaks[-1] <= peaks[0] * 1.5 + 1,
    )
    for s, c in zip(sources, counting, strict=True):
        rate = s["rows"] / s["seconds"]
        wc_rate = c["rows"] / median(c["wc_s"])
        results.add(
            "verify",
            f"verify source side (source_figures), {s['rows']:,} rows",
            f"{rate:,.0f} rows/s",
            f">= {GOAL:g} x wc -l",
            rate / wc_rate >= GOAL,
            f"{rate / wc_rate:.3f} x wc -l; RSS added {s['rss_added_mib']:.0f} MiB "
            "(merge mode keeps key + numeric values per key)",
        )
