"""Data API statements: their state, and running them on the sandbox's PostgreSQL.

Contract (the API's requests and answers, validation and paging are `dataapi.py`'s):
- A `Statement` (one `Sub` per SQL; a batch's subs have ids `<id>:<n>`) is SUBMITTED when made;
  `run_statement(sandbox, st)`, on a worker thread, connects to the statement's Database and
  moves it to STARTED, then FINISHED, FAILED (Error is PostgreSQL's own message, "ERROR: ...")
  or ABORTED (CancelStatement, which cancels `st.conn`). A batch runs in one transaction: a
  failing statement rolls back the ones before it, and the subs that never ran end ABORTED.
  WithEvent=true puts a "Redshift Data Statement Status Change" event on the default bus when
  it ends.
- `describe()` gives DescribeStatement's fields: Status, Error, HasResultSet, ResultRows,
  ResultSize, Duration (nanoseconds, -1 until ENDED), RedshiftQueryId, RedshiftPid, QueryString,
  and SubStatements for a batch. Each sub keeps its `warehouse_pg.Result` for GetStatementResult.
- `store_of(sandbox)`: the sandbox's statements (`sandbox.state["dataapi"]`), under its lock.
- No moto here: the names dataapi.py uses are in `dataapi.PINS`.
"""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from wcpipe.sandbox import warehouse_pg

if TYPE_CHECKING:
    from wcpipe.sandbox.context import SandboxView

ENDED = {"FINISHED", "FAILED", "ABORTED"}
_query_ids = itertools.count(100_000)


@dataclass
class Sub:
    id: str
    sql: str
    status: str = "SUBMITTED"
    error: str | None = None
    created_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)
    duration_ns: int = 0
    query_id: int = field(default_factory=lambda: next(_query_ids))
    result: warehouse_pg.Result | None = None

    def set(self, status: str, error: str | None = None) -> None:
        self.status, self.updated_at = status, time.time()
        if error is not None:
            self.error = error

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "Id": self.id,
            "Status": self.status,
            "QueryString": self.sql,
            "CreatedAt": self.created_at,
            "UpdatedAt": self.updated_at,
            "Duration": self.duration_ns if self.status in ENDED else -1,
            "RedshiftQueryId": self.query_id,
            "HasResultSet": bool(self.result and self.result.has_result_set),
            "ResultRows": self.result.result_rows if self.result else -1,
            "ResultSize": self.result.result_size if self.result else -1,
        }
        if self.error:
            out["Error"] = self.error
        return out


@dataclass
class Statement:
    id: str
    request: dict[str, Any]
    subs: list[Sub]
    batch: bool
    params: dict[str, str] | None
    status: str = "SUBMITTED"
    error: str | None = None
    created_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)
    pid: int = -1
    conn: Any = None  # the running statement's connection, for CancelStatement

    def set(self, status: str, error: str | None = None) -> None:
        self.status, self.updated_at = status, time.time()
        if error is not None:
            self.error = error

    def describe(self) -> dict[str, Any]:
        first = self.subs[0]
        out: dict[str, Any] = {
            k: v
            for k, v in self.request.items()
            if k in {"ClusterIdentifier", "WorkgroupName", "Database", "DbUser", "SecretArn"} and v
        }
        results = [s.result for s in self.subs if s.result is not None]
        out.update(
            Id=self.id,
            Status=self.status,
            CreatedAt=self.created_at,
            UpdatedAt=self.updated_at,
            Duration=sum(s.duration_ns for s in self.subs) if self.status in ENDED else -1,
            HasResultSet=any(r.has_result_set for r in results),
            ResultRows=sum(r.result_rows for r in results) if results else -1,
            ResultSize=sum(r.result_size for r in results) if results else -1,
            RedshiftPid=self.pid,
            RedshiftQueryId=first.query_id if not self.batch else 0,
            ResultFormat="JSON",
        )
        if not self.batch:
            out["QueryString"] = first.sql
        else:
            out["SubStatements"] = [s.describe() for s in self.subs]
        if self.request.get("Parameters"):
            out["QueryParameters"] = self.request["Parameters"]
        if self.error:
            out["Error"] = self.error
        return out


class Store:
    """One sandbox's statements."""

    def __init__(self) -> None:
        self.statements: dict[str, Statement] = {}
        self.lock = threading.Lock()


def store_of(sandbox: SandboxView) -> Store:
    """The sandbox's statements, made on first use."""
    store = sandbox.state.get("dataapi")
    if store is None:
        store = sandbox.state.setdefault("dataapi", Store())
    assert isinstance(store, Store)
    return store


# Running statements -------------------------------------------------------------------------
def _error_text(exc: Exception) -> str:
    import psycopg

    if isinstance(exc, psycopg.Error) and exc.diag.message_primary:
        return f"ERROR: {exc.diag.message_primary}"
    return f"ERROR: {exc}"


def run_statement(sandbox: SandboxView, st: Statement) -> None:
    import psycopg

    if st.status == "ABORTED":
        return
    database = str(st.request["Database"]).lower()
    try:
        conn = warehouse_pg.connect(sandbox.pg_dsn, database)
    except psycopg.Error as exc:
        st.set("FAILED", _error_text(exc))
        for sub in st.subs:
            sub.set("FAILED" if sub is st.subs[0] else "ABORTED", st.error)
        return
    with conn:
        st.conn, st.pid = conn, conn.info.backend_pid
        st.set("STARTED")
        try:
            if st.batch:
                with conn.transaction():
                    for sub in st.subs:
                        _run_sub(conn, sub, st.params)
            else:
                _run_sub(conn, st.subs[0], st.params)
        except psycopg.errors.QueryCanceled:
            st.set("ABORTED")
        except Exception as exc:
            st.set("ABORTED" if st.status == "ABORTED" else "FAILED", _error_text(exc))
        else:
            st.set("FINISHED")
        finally:
            st.conn = None
    for sub in st.subs:  # after a failure, the statements that never ran
        if sub.status in {"SUBMITTED", "STARTED"}:
            sub.set("ABORTED")
    if st.request.get("WithEvent"):
        _emit_status_event(sandbox, st)


def _run_sub(conn: Any, sub: Sub, params: dict[str, str] | None) -> None:
    sub.set("STARTED")
    began = time.perf_counter_ns()
    try:
        with conn.cursor() as cur:
            sub.result = warehouse_pg.run(cur, sub.sql, params)
    except Exception as exc:
        sub.duration_ns = time.perf_counter_ns() - began
        sub.set("FAILED", _error_text(exc))
        raise
    sub.duration_ns = time.perf_counter_ns() - began
    sub.set("FINISHED")


def _emit_status_event(sandbox: SandboxView, st: Statement) -> None:
    rows = st.describe()["ResultRows"]
    sandbox.emit_event(
        {
            "source": "aws.redshift-data",
            "detail-type": "Redshift Data Statement Status Change",
            "detail": {
                "principal": f"arn:aws:iam::{sandbox.account_id}:root",
                "statementName": st.request.get("StatementName") or "",
                "statementId": st.id,
                "redshiftQueryId": st.subs[0].query_id,
                "state": st.status,
                "type": "BatchExecuteStatement" if st.batch else "ExecuteStatement",
                "rows": max(rows, 0),
            },
        }
    )
