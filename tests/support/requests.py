"""The one request recorder, and the one meaning of "a read".

A read is an operation named Get*, Describe*, List* or Head* (STS's GetCallerIdentity among them)
or a Data API ExecuteStatement whose SQL is a SELECT. Everything else mutates (or may: a
statement that is not a SELECT is taken for one).

`Requests` records each API call once, in order, on botocore's `before-parameter-build` event:
before parameter validation and before any Stubber answers (it registers first), so a stubbed
call is recorded like one that reached moto or the sandbox; botocore's own retries of a call are
not calls of their own.
- `Requests.on(client, ...)`: the calls of those clients from now on.
- `Requests.everywhere()`: the calls of every client wcpipe builds from now on (through
  `wcpipe.core.aws.instrument`, so also inside an in-process `wcpipe` run); `close()` stops it
  for clients built afterwards.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

READ_PREFIXES = ("Get", "Describe", "List", "Head")
EVENT = "before-parameter-build.*.*"


def is_read(operation: str, params: Mapping[str, Any] | None = None) -> bool:
    """Whether calling `operation` with `params` only reads."""
    if operation.startswith(READ_PREFIXES):
        return True
    sql = str((params or {}).get("Sql", ""))
    return operation == "ExecuteStatement" and sql.lstrip().upper().startswith("SELECT")


@dataclass(frozen=True)
class Request:
    operation: str
    params: dict[str, Any]

    @property
    def read(self) -> bool:
        return is_read(self.operation, self.params)


class Requests:
    """The API calls sent from now on, in order (see the module docstring)."""

    def __init__(self) -> None:
        self.sent: list[Request] = []
        self._lock = threading.Lock()
        self._stop: Callable[[], None] = lambda: None

    @classmethod
    def on(cls, *clients: Any) -> Requests:
        requests = cls()
        for client in clients:
            client.meta.events.register_first(EVENT, requests.record)
        return requests

    @classmethod
    def everywhere(cls) -> Requests:
        from wcpipe.core.aws import instrument

        requests = cls()
        requests._stop = instrument(EVENT, requests.record)
        return requests

    def record(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        with self._lock:
            self.sent.append(Request(model.name, dict(params)))

    @property
    def ops(self) -> list[str]:
        """Every operation's name, in order."""
        return [r.operation for r in self.sent]

    @property
    def mutating(self) -> list[str]:
        """The names of the operations that are not reads, in order."""
        return [r.operation for r in self.sent if not r.read]

    def count(self, operation: str) -> int:
        return self.ops.count(operation)

    def params(self, operation: str) -> list[dict[str, Any]]:
        """The parameters of each call of `operation`, in order."""
        return [r.params for r in self.sent if r.operation == operation]

    def clear(self) -> None:
        with self._lock:
            self.sent.clear()

    def close(self) -> None:
        self._stop()
