"""Scheduled crawlers crawl: a crawler with a Schedule (`cron(...)`, Glue's "Time-based
schedules for jobs and crawlers") starts on the sandbox's clock, as Glue starts it on its own.

moto keeps a crawler's Schedule and answers it (`Schedule.ScheduleExpression`, State SCHEDULED)
but never runs it. Here each sandbox gets one ticker thread, started with its first
CreateCrawler, that reads the schedules of all its crawlers on every tick and, for each minute
of the sandbox's clock that passed since the last tick, starts the crawlers whose schedule
matches that minute (`spec.cron.Cron.matches`, UTC). The start is the sandbox's own StartCrawler
(`crawler.py`), so a scheduled crawl emits the same events and its success starts the job
through the rule; a crawler that is still crawling skips that start (Glue starts no second
crawl: CrawlerRunningException).

The sandbox's clock: wall time at the ticker's start, then running `scale` times faster, where
`scale` is the latency profile's (`patches/latency.Profile.scale`: AWS seconds per sandbox
second; 1 without a profile). Under `--latency aws` (scale 60) a sandbox minute is a real second.

Contract: `install()` (once per process) wraps GlueBackend.create_crawler as `context.or_moto`;
`SandboxClock` and `due(crawlers, since, until)` are the clock and the decision, pure enough to
test without waiting; the ticker stops when its sandbox stops (the sandbox's `state` is
cleared). A failure to start one crawler is logged to /aws-glue/sandbox, stream `schedules`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from moto.glue.models import GlueBackend

from wcpipe.sandbox.context import bind, current, once, or_moto
from wcpipe.sandbox.patches.glue_events import safe_log
from wcpipe.spec.cron import parse_cron

if TYPE_CHECKING:
    from wcpipe.sandbox.context import SandboxView

PINS: tuple[tuple[str, str], ...] = (
    ("moto.glue.models", "GlueBackend"),  # create_crawler, .crawlers, FakeCrawler.schedule
)
TICKER = "schedule_ticker"  # the key of a sandbox's ticker in its `state`
LOG_GROUP = "/aws-glue/sandbox"


@dataclass
class SandboxClock:
    """Wall time from `started`, running `scale` times faster than `monotonic` does."""

    scale: float = 1.0
    monotonic: Callable[[], float] = time.monotonic
    started: float = field(default_factory=time.time)
    _origin: float | None = None

    def now(self) -> float:
        """The sandbox's time, as epoch seconds."""
        if self._origin is None:
            self._origin = self.monotonic()
        return self.started + (self.monotonic() - self._origin) * self.scale


def _minutes(since: float, until: float, most: int = 1440) -> list[datetime]:
    """The UTC minutes that began in (since, until], at most `most` of them (the latest)."""
    first, last = int(since // 60) + 1, int(until // 60)
    first = max(first, last - most + 1)
    return [datetime.fromtimestamp(m * 60, UTC) for m in range(first, last + 1)]


def due(crawlers: Iterable[Any], since: float, until: float) -> list[str]:
    """The names of the crawlers whose schedule fires in a minute that began in (since,
    until] (each once, however many of its minutes passed)."""
    names = []
    minutes = _minutes(since, until)
    for crawler in crawlers:
        expression = getattr(crawler, "schedule", None)
        if not expression:
            continue
        try:
            cron = parse_cron(expression)
        except ValueError:
            continue  # Glue refuses such a schedule at CreateCrawler; moto keeps it
        if any(cron.matches(minute) for minute in minutes):
            names.append(crawler.name)
    return names


def _scale(sandbox: SandboxView) -> float:
    return float(getattr(sandbox.latency, "scale", 1.0) or 1.0)


def _tick(sandbox: SandboxView, since: float, until: float) -> None:
    backend = sandbox.backend("glue")
    for name in due(list(backend.crawlers.values()), since, until):
        try:
            backend.start_crawler(name)
        except Exception as exc:  # running already, or gone: Glue skips this start
            safe_log(sandbox, LOG_GROUP, "schedules", f"{name}: scheduled start skipped: {exc}")


def _run_ticker(sandbox: SandboxView, token: object, clock: SandboxClock) -> None:
    # A tick at least four times per sandbox minute, and at most every 50 ms.
    interval = max(0.05, min(1.0, 15.0 / clock.scale))
    last = clock.now()
    while sandbox.state.get(TICKER) is token:
        time.sleep(interval)
        now = clock.now()
        try:
            _tick(sandbox, last, now)
        except Exception as exc:  # the ticker never dies of one bad tick
            safe_log(sandbox, LOG_GROUP, "schedules", f"tick failed: {exc}")
        last = now


def ensure_ticker(sandbox: SandboxView) -> None:
    """Start this sandbox's ticker unless it runs."""
    token = object()
    with _lock:
        if TICKER in sandbox.state:
            return
        sandbox.state[TICKER] = token
    clock = SandboxClock(scale=_scale(sandbox))
    thread = threading.Thread(
        target=bind(sandbox, _run_ticker),
        args=(sandbox, token, clock),
        name="sandbox-schedules",
        daemon=True,
    )
    thread.start()


_lock = threading.Lock()


@once
def install() -> None:
    """Start a sandbox's ticker with its first crawler."""
    original = GlueBackend.create_crawler

    def create_crawler(self: Any, *args: Any, **kwargs: Any) -> Any:
        result = original(self, *args, **kwargs)
        ensure_ticker(current())
        return result

    GlueBackend.create_crawler = or_moto(create_crawler, original)  # type: ignore[method-assign]
