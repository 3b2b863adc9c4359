"""The Redshift Data API, served from PostgreSQL: moto's redshift-data responses, replaced.

Contract (as AWS behaves, checked against the API reference; a statement's state and how it
runs on PostgreSQL are `dataapi_statements.py`'s):
- ExecuteStatement / BatchExecuteStatement accept ClusterIdentifier (which must name a cluster
  moto knows, and then needs SecretArn or DbUser) or WorkgroupName (a workgroup the sandbox's
  Redshift Serverless serves, `serverless.py`), a Database (a PostgreSQL
  database of that name, created on first use) and `:name` Parameters. They return at once with
  the statement SUBMITTED; a worker thread (`run_statement`) moves it to STARTED, then FINISHED,
  FAILED (Error is PostgreSQL's own message, "ERROR: ...") or ABORTED (CancelStatement). A batch
  runs in one transaction: a failing statement rolls back the ones before it. WithEvent=true
  puts a "Redshift Data Statement Status Change" event on the default bus when it ends.
- DescribeStatement: Status, Error, HasResultSet, ResultRows, ResultSize, Duration (nanoseconds),
  RedshiftQueryId, RedshiftPid, QueryString, and SubStatements (ids `<id>:<n>`) for a batch.
- GetStatementResult: typed Records, ColumnMetadata and TotalNumRows, paged by NextToken.
  AWS pages at 100 MB of data; the sandbox pages at PAGE_ROWS rows, so paging code is exercised
  with small tables. A batch's results are read by sub-statement id, as on AWS.
- ListStatements (newest first, Status/StatementName filters, paged) and CancelStatement.
State is per sandbox (`dataapi_statements.store_of`); `install()` patches the response class
once per process (`context.once`), each method as `context.or_moto` (moto's own without a
sandbox, where moto has one). PINS names the moto internals used here.
"""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

from wcpipe.sandbox.context import current, once, or_moto
from wcpipe.sandbox.patches.dataapi_statements import ENDED, Statement, Sub, run_statement, store_of

if TYPE_CHECKING:
    from wcpipe.sandbox.context import SandboxView

PAGE_ROWS = 1000
PINS: tuple[tuple[str, str], ...] = (
    ("moto.core.responses", "BaseResponse"),  # _get_param, on the response we patch
    ("moto.redshiftdata.responses", "RedshiftDataAPIServiceResponse"),
    ("moto.redshiftdata.models", "_validate_uuid"),
    ("moto.core.exceptions", "JsonRESTError"),
)


class _Errors:
    """The Data API's error codes, each with the message AWS gives."""

    @staticmethod
    def ValidationException(message: str) -> Exception:
        from moto.core.exceptions import JsonRESTError

        return JsonRESTError("ValidationException", message)

    @staticmethod
    def ResourceNotFoundException(message: str = "Query does not exist.") -> Exception:
        from moto.core.exceptions import JsonRESTError

        return JsonRESTError("ResourceNotFoundException", message)


def _errors() -> type[_Errors]:
    return _Errors


# The patched response methods ---------------------------------------------------------------
_TARGET_KEYS = ("ClusterIdentifier", "WorkgroupName", "Database", "DbUser", "SecretArn")


def _validate(sandbox: SandboxView, req: dict[str, Any]) -> None:
    errors = _errors()
    cluster, workgroup = req.get("ClusterIdentifier"), req.get("WorkgroupName")
    if bool(cluster) == bool(workgroup):
        raise errors.ValidationException(
            "Either ClusterIdentifier or WorkgroupName must be specified, but not both."
        )
    if not req.get("Database"):
        raise errors.ValidationException("Database must be specified.")
    if workgroup and workgroup not in sandbox.backend("redshift-serverless").workgroups:
        raise errors.ValidationException(f"Workgroup {workgroup} not found.")
    if cluster:
        if cluster not in sandbox.backend("redshift").clusters:
            raise errors.ValidationException(f"Cluster {cluster} not found.")
        if not req.get("SecretArn") and not req.get("DbUser"):
            raise errors.ValidationException(
                "Either SecretArn or DbUser must be specified with ClusterIdentifier."
            )


def _submit(response: Any, sqls: list[str], batch: bool) -> tuple[int, dict[str, str], str]:
    sandbox = current()
    keys = (*_TARGET_KEYS, "Parameters", "StatementName", "WithEvent")
    req = {k: response._get_param(k) for k in keys}
    _validate(sandbox, req)
    params = {p["name"]: p["value"] for p in req.get("Parameters") or []} or None
    sid = str(uuid.uuid4())
    subs = [Sub(f"{sid}:{n}" if batch else sid, sql) for n, sql in enumerate(sqls, start=1)]
    st = Statement(sid, req, subs, batch, params)
    store = store_of(sandbox)
    with store.lock:
        store.statements[sid] = st
    sandbox.background("statements", run_statement, sandbox, st)
    body = {k: req[k] for k in _TARGET_KEYS if req.get(k)}
    body.update(Id=sid, CreatedAt=st.created_at)
    return 200, {}, json.dumps(body)


def execute_statement(self: Any) -> tuple[int, dict[str, str], str]:
    return _submit(self, [self._get_param("Sql")], batch=False)


def batch_execute_statement(self: Any) -> tuple[int, dict[str, str], str]:
    sqls = self._get_param("Sqls") or []
    if not sqls:
        raise _errors().ValidationException("Sqls must contain at least one statement.")
    return _submit(self, list(sqls), batch=True)


def _find(statement_id: str) -> tuple[Statement, Sub | None]:
    from moto.redshiftdata.models import _validate_uuid

    _validate_uuid(statement_id)
    parent, _, n = statement_id.partition(":")
    store = store_of(current())
    with store.lock:
        st = store.statements.get(parent)
    if st is None:
        raise _errors().ResourceNotFoundException()
    if not n:
        return st, None
    index = int(n) - 1
    if not st.batch or not 0 <= index < len(st.subs):
        raise _errors().ResourceNotFoundException()
    return st, st.subs[index]


def describe_statement(self: Any) -> tuple[int, dict[str, str], str]:
    st, sub = _find(self._get_param("Id"))
    return 200, {}, json.dumps(sub.describe() if sub else st.describe())


def get_statement_result(self: Any) -> tuple[int, dict[str, str], str]:
    errors = _errors()
    st, sub = _find(self._get_param("Id"))
    if sub is None:
        if st.batch:
            raise errors.ValidationException(
                "Statement is a batch: read each result by its sub-statement id (<id>:<n>)."
            )
        sub = st.subs[0]
    result = sub.result
    if sub.status != "FINISHED" or result is None or not result.has_result_set:
        raise errors.ResourceNotFoundException(
            "Query does not have result. Please check query status with DescribeStatement."
        )
    token = self._get_param("NextToken")
    try:
        start = int(token) if token else 0
    except ValueError:
        raise errors.ValidationException("Invalid NextToken.") from None
    page = result.records[start : start + PAGE_ROWS]
    body: dict[str, Any] = {
        "Records": page,
        "ColumnMetadata": result.columns,
        "TotalNumRows": len(result.records),
    }
    if start + PAGE_ROWS < len(result.records):
        body["NextToken"] = str(start + PAGE_ROWS)
    return 200, {}, json.dumps(body, default=_blob)


def _blob(value: Any) -> str:
    import base64

    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    raise TypeError(type(value).__name__)


def cancel_statement(self: Any) -> tuple[int, dict[str, str], str]:
    st, _ = _find(self._get_param("Id"))
    if st.status in ENDED:
        raise _errors().ValidationException(
            f"Could not cancel a query that is already in {st.status} state with ID: {st.id}"
        )
    st.set("ABORTED")
    conn = st.conn
    if conn is not None:
        conn.cancel_safe()
    return 200, {}, json.dumps({"Status": True})


def list_statements(self: Any) -> tuple[int, dict[str, str], str]:
    status = self._get_param("Status") or "ALL"
    name = self._get_param("StatementName")
    limit = int(self._get_param("MaxResults") or 100)
    start = int(self._get_param("NextToken") or 0)
    store = store_of(current())
    with store.lock:
        found = sorted(store.statements.values(), key=lambda s: s.created_at, reverse=True)
    found = [
        s
        for s in found
        if status in ("ALL", s.status) and (not name or s.request.get("StatementName") == name)
    ]
    items = [_listed(s) for s in found[start : start + limit]]
    body: dict[str, Any] = {"Statements": items}
    if start + limit < len(found):
        body["NextToken"] = str(start + limit)
    return 200, {}, json.dumps(body)


def _listed(st: Statement) -> dict[str, Any]:
    out: dict[str, Any] = {
        "Id": st.id,
        "Status": st.status,
        "CreatedAt": st.created_at,
        "UpdatedAt": st.updated_at,
        "IsBatchStatement": st.batch,
        "ResultFormat": "JSON",
    }
    if st.batch:
        out["QueryStrings"] = [s.sql for s in st.subs]
    else:
        out["QueryString"] = st.subs[0].sql
    for key in ("SecretArn", "StatementName"):
        if st.request.get(key):
            out[key] = st.request[key]
    return out


_PATCHES = {
    "execute_statement": execute_statement,
    "batch_execute_statement": batch_execute_statement,
    "describe_statement": describe_statement,
    "get_statement_result": get_statement_result,
    "cancel_statement": cancel_statement,
    "list_statements": list_statements,
}


@once
def install() -> None:
    """Replace moto's redshift-data responses (process-wide)."""
    from moto.redshiftdata.responses import RedshiftDataAPIServiceResponse as Response

    for name, fn in _PATCHES.items():
        original = getattr(Response, name, None)
        # Where moto lacks the operation there is no moto behaviour to keep.
        setattr(Response, name, fn if original is None else or_moto(fn, original))
