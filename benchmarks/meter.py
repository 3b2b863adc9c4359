"""Counting requests: at the server (the sandbox's per-request hook) and at the client (botocore's
`before-send` through `wcpipe.core.aws.instrument`), attributed to the resource whose step sent
them.

- Server side: `Sandbox.latency` is called by the sandbox's WSGI middleware once per request that
  reaches moto, with (service, operation); `ServerCount` wraps any profile (or none) and counts.
  The middleware only sees the SigV4 service and, for JSON APIs, the X-Amz-Target operation, so
  the server count gives totals per service; the read/mutating split comes from the client side.
- Client side: `before-send` fires once per HTTP attempt (retries included), with the operation
  in the event name. The two totals are compared in every run: they must agree.
- Attribution: `attribute(resources)` wraps each resource instance's describe/converge/delete so
  requests sent while one runs (on whatever engine thread) are charged to its key.
"""

from __future__ import annotations

import contextvars
import functools
import hashlib
import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

_resource: contextvars.ContextVar[str] = contextvars.ContextVar("bench_resource", default="-")

READ_PREFIXES = ("Get", "Describe", "List", "Head", "Search", "BatchGet", "Lookup")
# Reads that are waits by nature (a statement's or a resource's state, asked again until it
# changes): repeats of these are polls, reported apart from needless repeats.
STATUS_POLLS = {"redshift-data.DescribeStatement"}


def is_read(service: str, operation: str, body: bytes | None) -> bool:
    """Read-only by name; a Data API statement counts as a read when its SQL is a SELECT."""
    if operation.startswith(READ_PREFIXES):
        return True
    if service == "redshift-data" and operation == "ExecuteStatement" and body:
        try:
            sql = str(json.loads(body).get("Sql", ""))
        except ValueError:
            return False
        return sql.lstrip().lower().startswith(("select", "with"))
    return False


@dataclass(frozen=True)
class Request:
    resource: str
    service: str
    operation: str
    read: bool
    fingerprint: str  # operation + method + URL + body: identical requests share it
    at: float = 0.0  # time.monotonic() when sent


@dataclass
class Meter:
    """Client-side log of every request sent by wcpipe's clients while installed."""

    requests: list[Request] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _remove: Callable[[], None] | None = None

    def install(self) -> Meter:
        from wcpipe.core.aws import instrument

        self._remove = instrument("before-send", self._on_send)
        return self

    def uninstall(self) -> None:
        if self._remove:
            self._remove()

    def _on_send(self, request: Any, event_name: str, **_kw: Any) -> None:
        _, service, operation = event_name.split(".", 2)
        body = request.body if isinstance(request.body, bytes) else None
        if isinstance(request.body, str):
            body = request.body.encode()
        # The operation too: JSON APIs send it in a header, not in the URL or body
        # (Secrets Manager's DescribeSecret and GetSecretValue differ only there).
        digest = hashlib.sha1(
            b" ".join([operation.encode(), request.method.encode(), request.url.encode()])
            + (body or b"")
        ).hexdigest()
        read = is_read(service, operation, body)
        r = Request(_resource.get(), service, operation, read, digest, time.monotonic())
        with self._lock:
            self.requests.append(r)

    def take(self) -> list[Request]:
        with self._lock:
            out, self.requests = self.requests, []
        return out


class ServerCount:
    """A `Sandbox.latency` hook that counts each request at the server, then defers to `inner`."""

    def __init__(self, inner: Callable[[str, str], float] | None = None) -> None:
        self.inner = inner
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def __call__(self, service: str, operation: str) -> float:
        with self._lock:
            self.counts[service] += 1
        return self.inner(service, operation) if self.inner else 0.0

    def __getattr__(self, name: str) -> Any:
        # The sandbox's readiness patches look for `ready_after` on the hook: pass it through.
        inner = self.__dict__.get("inner")
        if inner is None:
            raise AttributeError(name)
        return getattr(inner, name)

    def take(self) -> int:
        with self._lock:
            total = sum(self.counts.values())
            self.counts.clear()
        return total


def attribute(resources: list[Any], spans: dict[str, list[float]] | None = None) -> None:
    """Charge requests to the resource whose describe/converge/delete is running; with `spans`,
    also record each converge's (start, end) in time.monotonic() seconds."""
    for r in resources:
        if spans is not None:
            _time_converge(r, spans)
        for method in ("describe", "converge", "delete"):
            original = getattr(r, method)

            @functools.wraps(original)
            def wrapped(*args: Any, _f: Any = original, _k: str = r.key, **kw: Any) -> Any:
                token = _resource.set(_k)
                try:
                    return _f(*args, **kw)
                finally:
                    _resource.reset(token)

            setattr(r, method, wrapped)


def _time_converge(r: Any, spans: dict[str, list[float]]) -> None:
    original = r.converge

    @functools.wraps(original)
    def timed(*args: Any, **kw: Any) -> Any:
        start = time.monotonic()
        try:
            return original(*args, **kw)
        finally:
            spans[r.key] = [start, time.monotonic()]

    r.converge = timed


def summary(requests: list[Request]) -> dict[str, Any]:
    reads = sum(1 for r in requests if r.read)
    polls = [r for r in requests if f"{r.service}.{r.operation}" in STATUS_POLLS]
    others = [r for r in requests if r.read and f"{r.service}.{r.operation}" not in STATUS_POLLS]
    seen: Counter[str] = Counter(r.fingerprint for r in others)
    first: set[str] = set()
    repeated: list[Request] = []
    for r in others:  # every sending of an identical read after its first
        if r.fingerprint in first:
            repeated.append(r)
        first.add(r.fingerprint)
    repeated_ops = Counter(f"{r.resource}: {r.service}.{r.operation}" for r in repeated)
    return {
        "total": len(requests),
        "reads": reads,
        "mutating": len(requests) - reads,
        "status_polls": len(polls),
        "repeated_reads": len(repeated),
        "repeated_ops": dict(repeated_ops),
        "distinct_reads": len(seen),
        "unattributed": [f"{r.service}.{r.operation}" for r in requests if r.resource == "-"],
        "by_op": dict(Counter(f"{r.service}.{r.operation}" for r in requests)),
        "by_resource": _by_resource(requests),
    }


def _by_resource(requests: list[Request]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for r in requests:
        d = out.setdefault(r.resource, {"reads": 0, "mutating": 0})
        d["reads" if r.read else "mutating"] += 1
    return out
