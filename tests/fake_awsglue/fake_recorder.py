"""What the fake Glue saw, and what it serves as the catalog table."""

from __future__ import annotations

from typing import Any

calls: list[tuple[str, dict[str, Any]]] = []
source: dict[str, Any] = {"columns": [], "rows": []}


def reset(columns: list[str], rows: list[list[Any]]) -> None:
    calls.clear()
    source["columns"] = list(columns)
    source["rows"] = [list(r) for r in rows]


def record(call: str, /, **kwargs: Any) -> None:
    calls.append((call, kwargs))


def called(name: str) -> list[dict[str, Any]]:
    return [kw for n, kw in calls if n == name]
