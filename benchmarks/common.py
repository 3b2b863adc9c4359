"""Helpers shared by the benchmarks: fake credentials, medians, peak memory, results, the table.

Nothing here talks to AWS: `offline()` removes every AWS_* variable and points the SDK's config
files at /dev/null before boto3 is imported, exactly as the test suite does.
"""

from __future__ import annotations

import os
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SPEC_PATH = ROOT / "config" / "pipeline.yaml"


def offline(region: str = "us-east-1") -> None:
    """Fake credentials, no profile, no instance metadata: no request can reach real AWS."""
    from wcpipe.sandbox.core import use_fake_credentials

    use_fake_credentials(region)


def median(values: list[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def spread(values: list[float]) -> str:
    """'median (min-max, n)' for the notes column."""
    if not values:
        return "-"
    return f"{median(values):.3g} ({min(values):.3g}-{max(values):.3g}, n={len(values)})"


# --------------------------------------------------------------------------------------------
# Memory


def rss_bytes() -> int:
    """This process's resident set size now (Linux /proc)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class PeakRss:
    """Samples RSS every `interval` seconds on a thread: `peak - start` is what the work added
    on top of what the process already held (ru_maxrss cannot be reset)."""

    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self.start = 0
        self.peak = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> PeakRss:
        self.start = self.peak = rss_bytes()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, rss_bytes())

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join()
        self.peak = max(self.peak, rss_bytes())

    @property
    def added_mib(self) -> float:
        return (self.peak - self.start) / 2**20


@contextmanager
def stopwatch() -> Iterator[list[float]]:
    """`with stopwatch() as t: ...` then `t[0]` is the elapsed wall time in seconds."""
    out: list[float] = []
    start = time.perf_counter()
    try:
        yield out
    finally:
        out.append(time.perf_counter() - start)


# --------------------------------------------------------------------------------------------
# Results


@dataclass
class Row:
    """One line of the results table."""

    bench: str
    metric: str
    value: str
    goal: str = ""
    ok: bool | None = None  # None: informational, no goal
    notes: str = ""

    @property
    def verdict(self) -> str:
        return {True: "ok", False: "MISS", None: ""}[self.ok]


@dataclass
class Results:
    rows: list[Row] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def add(self, *args: Any, **kwargs: Any) -> Row:
        row = Row(*args, **kwargs)
        self.rows.append(row)
        return row


def table(rows: list[Row]) -> str:
    """A Markdown table (readable on a terminal too)."""
    head = ["bench", "metric", "value", "goal", "", "notes"]
    body = [[r.bench, r.metric, r.value, r.goal, r.verdict, r.notes] for r in rows]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *body, strict=True)]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(head), sep, *(line(b) for b in body)])


def repeat(fn: Callable[[], float], n: int) -> list[float]:
    return [fn() for _ in range(n)]
