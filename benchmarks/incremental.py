"""Incremental cost: 100 objects loaded, then one more added and the pipeline run
again (crawl, then the job with bookmarks), against loading that one object alone into an empty
pipeline (its own crawl and job).

Reported: the job run's wall time, the rows it read (the job's counts) and the target-table rows
PostgreSQL scanned sequentially, fetched through an index (merge tables are created with a
SORTKEY on the keys, an index in the sandbox), inserted and deleted during the run
(pg_stat_user_tables), for both; the
crawl's time too. Three rounds, each adding a new object (ids never seen before) to the big
pipeline; the lone-object pipeline is emptied and its bookmark reset before each of its runs.

Goal: the second run's load time within 2x of loading that object alone.
"""

from __future__ import annotations

from typing import Any

import datagen
from common import Results, median
from loadkit import LoadPipeline

GOAL = 2.0
OBJECTS = 100


def _delta(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {k: after[k] - before[k] for k in ("scanned", "fetched", "inserted", "deleted")}


def measure(rows_per_object: int, rounds: int) -> dict[str, Any]:
    base = datagen.parts(OBJECTS * rows_per_object, OBJECTS, tag=f"-inc{rows_per_object}")
    big = LoadPipeline(f"bench-inc-{rows_per_object}", f"inc_all_{rows_per_object}").setup()
    alone = LoadPipeline(f"bench-one-{rows_per_object}", f"inc_one_{rows_per_object}").setup()
    out: dict[str, Any] = {"incremental": [], "alone": []}
    try:
        big.put(base)
        out["first_crawl_s"] = big.crawl()
        first = big.run_job()
        assert first.state == "SUCCEEDED", first.error
        out["first_job_s"] = first.seconds
        for n in range(rounds):
            first_id = OBJECTS * rows_per_object + 1 + n * rows_per_object
            [extra] = datagen.parts(
                rows_per_object, 1, first_id=first_id, tag=f"-inc{rows_per_object}"
            )
            big.put([extra])
            crawl = big.crawl()
            before = big.table_stats()
            run = big.run_job()
            assert run.state == "SUCCEEDED", run.error
            out["incremental"].append(
                {"crawl_s": crawl, "job_s": run.seconds, "counts": run.counts}
                | _delta(big.table_stats(), before)
            )
            if n == 0:
                alone.put([extra])
            alone.reset()
            crawl = alone.crawl()
            before = alone.table_stats()
            run = alone.run_job()
            assert run.state == "SUCCEEDED", run.error
            out["alone"].append(
                {"crawl_s": crawl, "job_s": run.seconds, "counts": run.counts}
                | _delta(alone.table_stats(), before)
            )
        out["total_rows"] = big.rows()
    finally:
        big.drop()
        alone.drop()
    return out


def run(results: Results, *, quick: bool) -> None:
    per_object = 100 if quick else 1000
    f = measure(per_object, 2 if quick else 3)
    results.details["incremental"] = f
    inc = median([r["job_s"] for r in f["incremental"]])
    one = median([r["job_s"] for r in f["alone"]])
    ratio = inc / one

    def touched(runs: list[dict[str, Any]]) -> str:
        r = runs[-1]
        return (
            f"read {r['counts'].get('read')}, scanned {r['scanned']}, "
            f"fetched {r['fetched']}, inserted {r['inserted']}, deleted {r['deleted']}"
        )

    results.add(
        "incremental",
        f"job after +1 object to {OBJECTS} x {per_object} rows",
        f"{inc:.2f} s vs {one:.2f} s alone",
        f"<= {GOAL:g} x alone",
        ratio <= GOAL,
        f"{ratio:.2f} x; all {OBJECTS} objects first: {f['first_job_s']:.1f} s",
    )
    results.add(
        "incremental",
        "rows touched (+1 object | alone)",
        f"{touched(f['incremental'])} | {touched(f['alone'])}",
        notes="target-table rows PostgreSQL scanned (sequentially), fetched (by index), "
        "inserted and deleted during the run",
    )
    crawl_inc = median([r["crawl_s"] for r in f["incremental"]])
    crawl_one = median([r["crawl_s"] for r in f["alone"]])
    results.add(
        "incremental",
        "crawl after +1 object",
        f"{crawl_inc:.2f} s vs {crawl_one:.2f} s alone",
        notes=f"{crawl_inc / crawl_one:.2f} x (the crawler re-reads the prefix)",
    )
