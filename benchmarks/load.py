"""Load path in the sandbox: a generated CSV in 10 objects loaded by one Glue job
run (the sandbox's job runner: DuckDB reads the objects in moto's buffers and runs the compiled
expressions, counts from one aggregate, then its CSV writer feeds a COPY into a staging table
-> merge into the target in one transaction), against PostgreSQL's own CSV COPY of the same
bytes.

Sizes: 100k and 1M rows (~87 bytes a row), 5M with --big; --quick: 100k only. Rounds alternate
a job run (target emptied, bookmark reset) and a COPY, so both see the same machine noise;
figures are medians. Peak memory is the RSS the run added to this process (sampled every 5 ms):
the sandbox, its job runner, DuckDB and moto live in this process, PostgreSQL in its own.

Goals: at least half of COPY's rows/s; peak memory flat as the data grows.
"""

from __future__ import annotations

from typing import Any

import datagen
from common import Results, median
from loadkit import LoadPipeline

GOAL = 0.5
OBJECTS = 10


def measure(rows: int, rounds: int) -> dict[str, Any]:
    paths = datagen.parts(rows, OBJECTS)
    size_mb = sum(p.stat().st_size for p in paths) / 1e6
    label = f"{rows // 1000}k" if rows < 1_000_000 else f"{rows // 1_000_000}m"
    pipeline = LoadPipeline(f"bench-load-{label}", f"sales_{label}").setup()
    try:
        pipeline.put(paths)
        crawl = pipeline.crawl()
        jobs, copies, memory, workers = [], [], [], []
        for _ in range(rounds):
            pipeline.reset()
            run = pipeline.run_job()
            assert run.state == "SUCCEEDED", run.error
            # The counts come from the run's log; the table says the same if the log is missing.
            loaded = run.counts.get("loaded", pipeline.rows())
            assert loaded == rows, (run.counts, run.error)
            jobs.append(run.seconds)
            memory.append(run.rss_added_mib)
            workers.append(run.workers_rss_mib)
            copies.append(pipeline.copy_baseline(paths))
        assert pipeline.rows() == rows
    finally:
        pipeline.drop()
    return {
        "rows": rows,
        "mb": size_mb,
        "crawl_s": crawl,
        "job_s": jobs,
        "copy_s": copies,
        "rss_added_mib": memory,
        "workers_rss_mib": workers,
    }


def run(results: Results, *, quick: bool, big: bool = False) -> None:
    sizes = [(100_000, 1 if quick else 3)]
    if not quick:
        sizes.append((1_000_000, 2))
    if big:
        sizes.append((5_000_000, 1))
    figures = [measure(rows, rounds) for rows, rounds in sizes]
    results.details["load"] = figures
    for f in figures:
        job_rate = f["rows"] / median(f["job_s"])
        copy_rate = f["rows"] / median(f["copy_s"])
        ratio = job_rate / copy_rate
        results.add(
            "load",
            f"job run, {f['rows']:,} rows ({f['mb']:.0f} MB, {OBJECTS} objects)",
            f"{job_rate:,.0f} rows/s",
            f">= {GOAL:g} x COPY",
            ratio >= GOAL,
            f"{ratio:.2f} x COPY's {copy_rate:,.0f} rows/s; job {median(f['job_s']):.1f} s, "
            f"COPY {median(f['copy_s']):.2f} s; crawl {f['crawl_s']:.1f} s",
        )
    peaks = [max(f["rss_added_mib"]) for f in figures]
    # Flat: the largest size may add sampling noise (4 MiB) to twice the smallest's peak.
    flat = len(peaks) < 2 or peaks[-1] <= 2 * peaks[0] + 4.0
    results.add(
        "load",
        "job run peak memory (RSS added)",
        ", ".join(
            f"{f['rows'] // 1000:,}k: {p:.0f} MiB" for f, p in zip(figures, peaks, strict=True)
        ),
        "flat as data grows",
        flat if len(peaks) > 1 else None,
        f"objects of {figures[-1]['mb'] / OBJECTS:.0f} MB at the largest size; DuckDB runs in"
        " this process; child processes (whole RSS, together): "
        + ", ".join(
            f"{f['rows'] // 1000:,}k: {max(f['workers_rss_mib']):.0f} MiB" for f in figures
        ),
    )
