"""Athena's queries in the sandbox, run for real: StartQueryExecution, GetQueryExecution and
GetQueryResults as AWS answers them, the statement run on DuckDB over the sandbox's S3 objects
(`athena_engine`); moto 5.2.5 runs no SQL (its results are set by hand through its own API).

Contract (shapes from botocore's athena service model; behaviour from the Athena API reference):
- StartQueryExecution: the workgroup (default `primary`) must exist, else
  InvalidRequestException as `athena_ops` answers it. The results go to the workgroup's
  OutputLocation when the workgroup enforces its configuration, else to the request's
  ResultConfiguration.OutputLocation, else the workgroup's; with none, InvalidRequestException
  ("No output location provided..."). The query is QUEUED, then RUNNING on the sandbox's
  "athena" pool, then SUCCEEDED or FAILED; the execution also goes into moto's backend, so
  ListQueryExecutions lists it.
- A statement DuckDB refuses (syntax, unknown table or column, a failed cast): FAILED, with
  StateChangeReason and Status.AthenaError {ErrorCategory 2 (USER), ErrorType 1000 (user
  error), Retryable false, ErrorMessage} (Athena user guide, "Athena error catalog").
- SUCCEEDED writes `<OutputLocation><QueryExecutionId>.csv` into moto's S3 as Athena does: the
  header, then every value double-quoted, NULL as nothing (the `.csv.metadata` file is not
  written). Statistics.DataScannedInBytes is the bytes of the objects the views read.
- GetQueryResults before SUCCEEDED: InvalidRequestException (moto's QueryStillRunning words for
  QUEUED/RUNNING; "Query did not finish successfully..." otherwise). Rows page by MaxResults
  (at most 1000, the model's limit) with a NextToken; the first row of a SELECT is its header;
  each value is a VarCharValue string (absent for NULL); ColumnInfo gives names and types.
- `install()` patches AthenaResponse once per process (`context.once`), as `or_moto`: without
  a running sandbox, moto's own behaviour stays (tests/operate/test_athena.py relies on it).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from wcpipe.sandbox.context import current, once, or_moto
from wcpipe.sandbox.patches import athena_engine

PINS: tuple[tuple[str, str], ...] = (
    ("moto.athena.responses", "AthenaResponse"),
    ("moto.athena.models", "AthenaBackend"),
    ("moto.s3.models", "FakeKey"),
    ("moto.glue.models", "FakeTable"),
)
MAX_RESULTS = 1000  # GetQueryResults' MaxResults: 1 to 1000 (botocore's MaxQueryResults)
NO_OUTPUT = (
    "No output location provided. An output location is required either through the Workgroup"
    " result configuration setting or as an API input."
)
USER_ERROR = {"ErrorCategory": 2, "ErrorType": 1000, "Retryable": False}


@dataclass
class Query:
    id: str
    sql: str
    database: str
    workgroup: str
    output: str
    submitted: float = field(default_factory=time.time)
    state: str = "QUEUED"
    reason: str | None = None
    completed: float | None = None
    result: athena_engine.Result | None = None


_lock = threading.Lock()


def _queries() -> dict[str, Query]:
    with _lock:
        return current().state.setdefault("athena_queries", {})


def _invalid(message: str) -> tuple[str, dict[str, int]]:
    return json.dumps({"__type": "InvalidRequestException", "Message": message}), {"status": 400}


def _output_location(group: Any, requested: dict[str, Any] | None) -> str | None:
    config = group.configuration or {}
    own = (config.get("ResultConfiguration") or {}).get("OutputLocation")
    if config.get("EnforceWorkGroupConfiguration") and own:
        return str(own)
    return (requested or {}).get("OutputLocation") or own


def start_query_execution(self: Any) -> Any:
    sql = self._get_param("QueryString")
    name = self._get_param("WorkGroup") or "primary"
    group = self.athena_backend.work_groups.get(name)
    if group is None:
        return _invalid(f"WorkGroup {name} is not found.")
    output = _output_location(group, self._get_param("ResultConfiguration"))
    if not output:
        return _invalid(NO_OUTPUT)
    context = self._get_param("QueryExecutionContext") or {}
    query_id = self.athena_backend.start_query_execution(
        query=sql,
        context=context,
        config={"OutputLocation": output},
        workgroup=name,
        execution_parameters=self._get_param("ExecutionParameters"),
    )
    prefix = output if output.endswith("/") else output + "/"
    database = str(context.get("Database") or "default")
    query = Query(query_id, sql, database, name, f"{prefix}{query_id}.csv")
    _queries()[query_id] = query
    current().background("athena", _run, query)
    return json.dumps({"QueryExecutionId": query_id})


def _run(query: Query) -> None:
    import duckdb

    query.state = "RUNNING"
    sandbox = current()
    try:
        query.result = athena_engine.run(sandbox, query.database, query.sql)
        _write_results(sandbox, query)
        query.state = "SUCCEEDED"
    except duckdb.Error as exc:
        query.reason, query.state = str(exc), "FAILED"
    except Exception as exc:  # the sandbox's own failure: still a FAILED query, said
        query.reason, query.state = f"{type(exc).__name__}: {exc}", "FAILED"
    finally:
        query.completed = time.time()


def _write_results(sandbox: Any, query: Query) -> None:
    assert query.result is not None
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerow([c[0] for c in query.result.columns])
    for row in query.result.rows:
        out.write(",".join("" if v is None else _quoted(text(v)) for v in row) + "\n")
    bucket, _, key = query.output.removeprefix("s3://").partition("/")
    sandbox.backend("s3").put_object(bucket, key, out.getvalue().encode("utf-8"))


def _quoted(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def text(value: Any) -> str:
    """A value as Athena's VarCharValue spells it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def _execution(query: Query) -> dict[str, Any]:
    status: dict[str, Any] = {"State": query.state, "SubmissionDateTime": query.submitted}
    if query.completed is not None:
        status["CompletionDateTime"] = query.completed
    if query.reason is not None:
        status["StateChangeReason"] = query.reason
        status["AthenaError"] = {**USER_ERROR, "ErrorMessage": query.reason}
    elapsed = int(((query.completed or time.time()) - query.submitted) * 1000)
    statement = query.sql.lstrip().split(None, 1)[0].upper() if query.sql.strip() else ""
    return {
        "QueryExecutionId": query.id,
        "Query": query.sql,
        "StatementType": "DML" if statement in ("SELECT", "WITH", "VALUES") else "UTILITY",
        "ResultConfiguration": {"OutputLocation": query.output},
        "QueryExecutionContext": {"Database": query.database, "Catalog": "AwsDataCatalog"},
        "Status": status,
        "Statistics": {
            "EngineExecutionTimeInMillis": elapsed,
            "DataScannedInBytes": query.result.scanned if query.result else 0,
            "TotalExecutionTimeInMillis": elapsed,
            "ResultReuseInformation": {"ReusedPreviousResult": False},
        },
        "WorkGroup": query.workgroup,
        "EngineVersion": {
            "SelectedEngineVersion": "AUTO",
            "EffectiveEngineVersion": "Athena engine version 3",
        },
    }


def get_query_execution(self: Any) -> Any:
    query_id = self._get_param("QueryExecutionId")
    query = _queries().get(query_id)
    if query is None:
        return _invalid(f"QueryExecution {query_id} was not found")
    return json.dumps({"QueryExecution": _execution(query)})


def get_query_results(self: Any) -> Any:
    query_id = self._get_param("QueryExecutionId")
    query = _queries().get(query_id)
    if query is None:
        return _invalid(f"QueryExecution {query_id} was not found")
    if query.state in ("QUEUED", "RUNNING"):
        return _invalid(f"Query has not yet finished. Current state: {query.state}")
    if query.state != "SUCCEEDED" or query.result is None:
        return _invalid(f"Query did not finish successfully. Final query state: {query.state}")
    result = query.result
    start = int(self._get_param("NextToken") or 0)
    size = min(int(self._get_param("MaxResults") or MAX_RESULTS), MAX_RESULTS)
    header = [{"Data": [{"VarCharValue": c[0]} for c in result.columns]}]
    rows = header + [{"Data": [_cell(v) for v in row]} for row in result.rows]
    answer: dict[str, Any] = {
        "UpdateCount": 0,
        "ResultSet": {
            "Rows": rows[start : start + size],
            "ResultSetMetadata": {"ColumnInfo": [_info(c) for c in result.columns]},
        },
    }
    if start + size < len(rows):
        answer["NextToken"] = str(start + size)
    return json.dumps(answer)


def _cell(value: Any) -> dict[str, str]:
    return {} if value is None else {"VarCharValue": text(value)}


def _info(column: tuple[str, str, int, int]) -> dict[str, Any]:
    name, kind, precision, scale = column
    return {
        "CatalogName": "hive",
        "SchemaName": "",
        "TableName": "",
        "Name": name,
        "Label": name,
        "Type": kind,
        "Precision": precision,
        "Scale": scale,
        "Nullable": "UNKNOWN",
        "CaseSensitive": kind == "varchar",
    }


@once
def install() -> None:
    from moto.athena.responses import AthenaResponse

    for name, replacement in (
        ("start_query_execution", start_query_execution),
        ("get_query_execution", get_query_execution),
        ("get_query_results", get_query_results),
    ):
        setattr(AthenaResponse, name, or_moto(replacement, getattr(AthenaResponse, name)))
