"""`verify` counting: source-row counting against `wc -l` on the same bytes.

- `csvio.count_rows` (the CSV-correct counter: quoted newlines do not start a record) over the
  generated sales files, 100k and 1M rows (--quick: 100k), in this process, page cache warm;
  `wc -l` over the same files in a subprocess (its process start-up is timed with it, a few ms).
  Rounds alternate the two; medians. Memory: tracemalloc's peak during a separate count (the
  counter's own allocations; tracemalloc slows it, so that pass is not timed).
- What `wcpipe verify` actually runs on the source side, `operate.verify.source_figures`: one
  Athena query over the S3 crawler's table, which the sandbox runs on DuckDB over the objects in
  place; rounds alternate it with `wc -l` over the same bytes (local copies), medians. Also the
  response bytes the client read (botocore's after-call, every response) at each size: the
  engine scans, the client reads one row, so 10x the rows must not change them.

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
from common import Results, median
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


def _client_read(ctx_spec: Any) -> tuple[float, Any, int, int, int]:
    """source_figures on a fresh gateway: seconds, figures, response bytes the client read, of
    which the status polls (GetQueryExecution: AWS echoes the query's text in each), and polls."""
    from wcpipe.core.aws import instrument
    from wcpipe.operate.verify import source_figures

    read = [0, 0, 0]

    def count(http_response: Any, model: Any = None, **_: Any) -> None:
        size = len(http_response.content or b"")
        read[0] += size
        if model is not None and model.name == "GetQueryExecution":
            read[1] += size
            read[2] += 1

    stop = instrument("after-call.*.*", count)
    try:
        seconds, figures = _timed(source_figures, sandboxes.context(ctx_spec))
    finally:
        stop()
    return seconds, figures, read[0], read[1], read[2]


def measure_source_figures(rows: int, rounds: int) -> dict[str, Any]:
    from wcpipe.provision.resources.athena import Workgroup

    label = f"{rows // 1000}k"
    pipeline = LoadPipeline(f"bench-ver-{label}", f"ver_{label}").setup()
    paths = datagen.parts(rows, OBJECTS)
    ours, wc, read, polled, polls = [], [], [], [], []
    try:
        pipeline.put(paths)
        pipeline.crawl()
        Workgroup(sandboxes.context(pipeline.spec)).ensure()
        for _ in range(rounds):
            seconds, figures, client_bytes, poll_bytes, poll_count = _client_read(pipeline.spec)
            assert figures.read == rows, figures.read
            ours.append(seconds)
            read.append(client_bytes)
            polled.append(poll_bytes)
            polls.append(poll_count)
            wc.append(_timed(_wc, paths)[0])
    finally:
        pipeline.drop()
    return {
        "rows": rows,
        "seconds": ours,
        "wc_s": wc,
        "client_bytes": read,
        "poll_bytes": polled,
        "polls": polls,
    }


def run(results: Results, *, quick: bool) -> None:
    sizes = [100_000] if quick else [100_000, 1_000_000]
    counting = [measure_counting(rows, 3 if quick else 5) for rows in sizes]
    sources = [measure_source_figures(rows, 3) for rows in sizes]
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
    for s in sources:
        rate = s["rows"] / median(s["seconds"])
        wc_rate = s["rows"] / median(s["wc_s"])
        results.add(
            "verify",
            f"verify source side (Athena on DuckDB), {s['rows']:,} rows",
            f"{rate:,.0f} rows/s",
            f">= {GOAL:g} x wc -l",
            rate / wc_rate >= GOAL,
            f"{rate / wc_rate:.2f} x wc -l's {wc_rate:,.0f} rows/s; query"
            f" {median(s['seconds']):.2f} s (incl. polls), wc -l {median(s['wc_s']):.3f} s",
        )
    if len(sources) > 1:
        ends = (sources[0], sources[-1])
        small, big = (int(median(s["client_bytes"])) for s in ends)
        data_small, data_big = (
            int(median(s["client_bytes"]) - median(s["poll_bytes"])) for s in ends
        )
        poll_small, poll_big = (int(median(s["polls"])) for s in ends)
        # The goal is about the data: what the client reads besides the status polls must not
        # grow. The polls follow the query's run time (geometric backoff: their count grows with
        # its logarithm), as they do on AWS, and each echoes the query's text; said, not hidden.
        results.add(
            "verify",
            f"verify client bytes, {sources[0]['rows']:,} vs {sources[-1]['rows']:,} rows",
            f"{small:,} B vs {big:,} B; without the polls {data_small:,} B vs {data_big:,} B",
            "unchanged at 10x the data",
            abs(data_big - data_small) <= 100,
            "every response the client read (listing, GetTable, the query's start, polls, one "
            f"result row); no GetObject; polls {poll_small} vs {poll_big} (they follow the "
            "query's run time, not the data; each echoes the query's text, as AWS does)",
        )
