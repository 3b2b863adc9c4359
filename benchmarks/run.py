"""Run the wcpipe benchmarks and print one table.

    python benchmarks/run.py                 # everything
    python benchmarks/run.py --quick         # smaller data, fewer rounds: under a minute
    python benchmarks/run.py startup verify  # a named subset
    python benchmarks/run.py --write-readme  # also put the figures into benchmarks/README.md

Subsets: api (request counts), converge (latency profile), startup, load (job-run load path),
incremental (one new object after 100), verify (count_rows against wc -l), spark (the Glue
job on real PySpark against the Python emulation), arrival (the on-arrival Lambda's
S3 listings per event).
Nothing here reaches AWS: everything runs against an in-process sandbox with fake credentials.
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import json
import os
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import Results, offline, table  # noqa: E402

SUBSETS = {
    "api": "api_calls",
    "converge": "convergence",
    "startup": "startup",
    "load": "load",
    "incremental": "incremental",
    "verify": "verify_count",
    "spark": "spark_job",
    "arrival": "arrival_listings",
}


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            models = [ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")]
        if models:
            cpu = models[0]
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB RAM, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}"
    )


def _fixed_mmap_threshold() -> None:
    """Re-run this script with glibc's mmap threshold fixed at 128 KiB. By default glibc raises
    the threshold after big blocks are freed and then serves them from the heap, where freed
    memory is reused without showing in RSS: a run's peak would hide behind earlier ones. With
    a fixed threshold every big buffer is its own mapping, so sampled RSS follows live memory."""
    if os.environ.get("MALLOC_MMAP_THRESHOLD_") or not sys.platform.startswith("linux"):
        return
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="131072")
    os.execve(sys.executable, [sys.executable, *sys.argv], env)


def main(argv: list[str] | None = None) -> int:
    _fixed_mmap_threshold()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("subsets", nargs="*", choices=[[], *SUBSETS], metavar="SUBSET")
    parser.add_argument("--quick", action="store_true", help="small data, few rounds")
    parser.add_argument("--big", action="store_true", help="also load 5M rows (slow)")
    parser.add_argument("--write-readme", action="store_true")
    parser.add_argument("--json", type=Path, help="write the rows and details here as JSON")
    args = parser.parse_args(argv)
    offline()
    chosen = args.subsets or list(SUBSETS)
    results = Results()
    started = time.perf_counter()
    for name in chosen:
        module = importlib.import_module(SUBSETS[name])
        t = time.perf_counter()
        print(f"== {name} ...", file=sys.stderr, flush=True)
        if name == "load":
            module.run(results, quick=args.quick, big=args.big)
        else:
            module.run(results, quick=args.quick)
        print(f"   {name}: {time.perf_counter() - t:.1f}s", file=sys.stderr, flush=True)
    text = table(results.rows)
    print(text)
    command = "python benchmarks/run.py " + " ".join(
        [*(["--quick"] if args.quick else []), *(["--big"] if args.big else []), *args.subsets]
    )
    print(f"\n{machine()}; {time.perf_counter() - started:.0f}s; {command.strip()}")
    if args.json:
        rows = [r.__dict__ for r in results.rows]
        args.json.write_text(json.dumps({"rows": rows, "details": results.details}, indent=1))
    if args.write_readme:
        import readme

        readme.update(HERE / "README.md", text, machine(), datetime.date.today(), command.strip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
