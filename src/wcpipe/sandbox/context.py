"""Which sandbox serves this work: the seam between the Sandbox (`core`) and the code patched into
moto (`patches/`). It imports no other sandbox module, so every patch imports it and `core`
imports the patches without a cycle.

Contract:
- `SandboxView` is the sandbox as the server and the patches see it: its settings, its
  per-sandbox `state`, and the helpers `backend`, `background`, `pg_connect`, `emit_event`,
  `log`, `put_metric` (documented on `core.Sandbox`, which satisfies it).
- `started(sandbox)` / `stopped(sandbox)` keep the list of running sandboxes (`core.Sandbox`
  calls them); `activate(sandbox)` makes one current for a block (the server's middleware, for
  each request's thread) and `bind(sandbox, fn)` for work handed to another thread.
- `current()`: the sandbox serving this request or background work, else the only running one;
  RuntimeError otherwise. `running()`: whether any sandbox runs in this process.
- `or_moto(replacement, original)` is the one way a patch asks "is a sandbox serving this?":
  patches are process-wide and stay installed after the last sandbox stops, so a patch that
  must act as plain moto without a sandbox (moto's in-process mock in tests that run after a
  sandbox in the same process) is installed as `or_moto(...)`, and its replacement calls
  `current()` freely. Patches that hold for moto's mock too (s3_policy, glue_ops) are plain.
- `once(install)`: the one idempotence idiom: a patch module's `install()` runs once per
  process (under a lock), however often it is called.
- `FAKE_CREDENTIALS`: the credentials every client of the sandbox uses (never a real account's).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import psycopg

FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}


class SandboxView(Protocol):
    """What the server and the patches use of a sandbox (see `core.Sandbox` for each)."""

    port: int
    data_dir: Path | None
    warehouse_dsn: str | None
    region: str
    account_id: str
    latency: Callable[[str, str], float] | None
    lambda_cache: Path | None
    glue_engine: str
    glue_faults: dict[str, Any]
    endpoint: str
    pg_dsn: str
    state: dict[str, Any]

    def backend(self, service: str) -> Any: ...

    def background(
        self, pool: str, fn: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> Future[Any]: ...

    def pg_connect(self, database: str | None = None) -> psycopg.Connection[Any]: ...

    def emit_event(self, event: dict[str, Any]) -> None: ...

    def log(
        self, group: str, stream: str, message: str, timestamp_ms: int | None = None
    ) -> None: ...

    def put_metric(
        self, namespace: str, name: str, value: float, dimensions: dict[str, str], unit: str = ...
    ) -> None: ...


_current: contextvars.ContextVar[SandboxView | None] = contextvars.ContextVar(
    "wcpipe_sandbox", default=None
)
_active: list[SandboxView] = []
_active_lock = threading.Lock()


def started(sandbox: SandboxView) -> None:
    """Count `sandbox` among the running ones."""
    with _active_lock:
        _active.append(sandbox)


def stopped(sandbox: SandboxView) -> bool:
    """`sandbox` runs no longer; True if it was the last one running in this process."""
    with _active_lock:
        _active.remove(sandbox)
        return not _active


def current() -> SandboxView:
    """The sandbox serving this request (or running this background work).

    Falls back to the only running sandbox, for code that runs outside a request.
    """
    sandbox = _current.get()
    if sandbox is not None:
        return sandbox
    with _active_lock:
        if len(_active) == 1:
            return _active[0]
        raise RuntimeError(f"no current sandbox ({len(_active)} running)")


def running() -> bool:
    """Whether any sandbox serves this process. Patches are process-wide and stay installed
    after the last sandbox stops; with none running, patched code must act as plain moto."""
    if _current.get() is not None:
        return True
    with _active_lock:
        return bool(_active)


@contextlib.contextmanager
def activate(sandbox: SandboxView) -> Iterator[SandboxView]:
    """Make `sandbox` the `current()` one for the duration (in this thread's context)."""
    token = _current.set(sandbox)
    try:
        yield sandbox
    finally:
        _current.reset(token)


def bind(sandbox: SandboxView, fn: Callable[..., Any]) -> Callable[..., Any]:
    """`fn`, to run in another thread in a copy of this context with `sandbox` current."""
    ctx = contextvars.copy_context()
    ctx.run(_current.set, sandbox)
    return functools.partial(ctx.run, fn)


def or_moto(replacement: Callable[..., Any], original: Callable[..., Any]) -> Callable[..., Any]:
    """`replacement` while a sandbox runs, moto's `original` otherwise (e.g. moto's in-process
    mock in tests that run after a sandbox in the same process)."""

    def method(*args: Any, **kwargs: Any) -> Any:
        return (replacement if running() else original)(*args, **kwargs)

    method.__name__ = getattr(replacement, "__name__", "method")
    method.__wrapped__ = original  # type: ignore[attr-defined]
    return method


def once(install: Callable[[], None]) -> Callable[[], None]:
    """`install`, run at most once per process: later calls return at once."""
    lock = threading.Lock()
    done = False

    @functools.wraps(install)
    def install_once() -> None:
        nonlocal done
        with lock:
            if not done:
                install()
                done = True

    return install_once
