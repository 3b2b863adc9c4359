"""The one Data API stand-in for tests on moto's in-process mock.

moto's Redshift Data API accepts statements but never finishes one and returns fixed rows. A
`DataApi` installed on it makes every statement FINISHED when described and records the SQL of
each one sent (`sent`); after `answer(fn)`, each statement has a result set and its rows are
`fn(sql)` (dicts of column -> int, str or None), the latest answer winning. Without an answer,
result sets are moto's own. Tests still talk to moto through real boto3 clients: only moto's
backend is patched, by the test's monkeypatch. (The sandbox runs the SQL on PostgreSQL.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Answer = Callable[[str], list[dict[str, Any]]]


class DataApi:
    def __init__(self) -> None:
        self.sent: list[str] = []
        self._answer: Answer | None = None

    def answer(self, answer: Answer) -> list[str]:
        """From now on every statement's rows are `answer(sql)`; returns the SQL sent (live)."""
        self._answer = answer
        return self.sent

    def install(self, monkeypatch: Any) -> DataApi:
        from moto.redshiftdata import models

        backend = models.RedshiftDataAPIServiceBackend
        describe, execute = backend.describe_statement, backend.execute_statement
        result = backend.get_statement_result
        api = self

        def finished(self: Any, statement_id: str) -> Any:
            statement = describe(self, statement_id)
            statement.status = "FINISHED"
            if api._answer is not None:
                statement.has_result_set = True
            return statement

        def recorded(self: Any, *args: Any, **kwargs: Any) -> Any:
            statement = execute(self, *args, **kwargs)
            api.sent.append(statement.query_string)
            return statement

        def answered(self: Any, statement_id: str) -> Any:
            if api._answer is None:
                return result(self, statement_id)
            rows = api._answer(self.statements[statement_id].query_string)
            names = list(rows[0]) if rows else []
            meta = [{"name": n, "nullable": 1} for n in names]
            records = [[_field(r[n]) for n in names] for r in rows]
            return models.StatementResult(meta, records, len(records))

        monkeypatch.setattr(backend, "describe_statement", finished)
        monkeypatch.setattr(backend, "execute_statement", recorded)
        monkeypatch.setattr(backend, "get_statement_result", answered)
        return self


def _field(value: Any) -> dict[str, Any]:
    if value is None:
        return {"isNull": True}
    if isinstance(value, int):
        return {"longValue": value}
    return {"stringValue": str(value)}


def wait_statement(data: Any, statement_id: str, timeout: float = 10) -> dict[str, Any]:
    """DescribeStatement on a real client until the statement has ended (bounded)."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        desc: dict[str, Any] = data.describe_statement(Id=statement_id)
        if desc["Status"] in {"FINISHED", "FAILED", "ABORTED"}:
            return desc
        assert time.monotonic() < deadline, f"statement still {desc['Status']}"
        time.sleep(0.02)
