"""Sandboxes on the session's PostgreSQL.

An embedded PostgreSQL takes seconds to start, so a test session starts one (the `warehouse_dsn`
fixture) and every sandbox, warehouse test and job worker test uses it. Each finds it as a
server of its own would be, empty, and leaves it so: `empty_warehouse` drops every schema of
every database on the server and gives each database an empty `public` back. (The databases
themselves stay: the sandbox remembers which ones it has created.)

- `started_sandbox(warehouse_dsn, ...)`: a `RecordingSandbox` on it, for a `with` block.
- `fresh_database(warehouse_dsn, name)`: the DSN of an empty database of that name.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

from wcpipe.sandbox.core import Sandbox


class RecordingSandbox(Sandbox):
    """The sandbox, remembering every event it is asked to put on the bus (`events`)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.events: list[dict[str, Any]] = []

    def emit_event(self, event: dict[str, Any]) -> None:
        self.events.append(json.loads(json.dumps(event)))
        super().emit_event(event)


@contextlib.contextmanager
def started_sandbox(warehouse_dsn: str, **kwargs: Any) -> Iterator[RecordingSandbox]:
    """A started sandbox whose warehouse is the session's PostgreSQL, emptied before and after."""
    empty_warehouse(warehouse_dsn)
    try:
        with RecordingSandbox(warehouse_dsn=warehouse_dsn, **kwargs) as sandbox:
            yield sandbox
    finally:
        empty_warehouse(warehouse_dsn)


def fresh_database(warehouse_dsn: str, name: str) -> str:
    """The DSN of database `name` on the session's PostgreSQL, created if need be, emptied."""
    from wcpipe.sandbox import warehouse_pg

    warehouse_pg.ensure_database(warehouse_dsn, name)
    dsn = warehouse_pg.dsn_for(warehouse_dsn, name)
    _empty(dsn)
    return dsn


def empty_warehouse(warehouse_dsn: str) -> None:
    """Every database on the server, emptied (see the module docstring)."""
    import psycopg

    from wcpipe.sandbox import warehouse_pg

    with psycopg.connect(warehouse_dsn, autocommit=True) as conn:
        found = conn.execute("SELECT datname FROM pg_database WHERE NOT datistemplate")
        databases = [str(row[0]) for row in found]
    for database in databases:
        _empty(warehouse_pg.dsn_for(warehouse_dsn, database))


def _empty(dsn: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(dsn, autocommit=True) as conn:
        found = conn.execute(
            "SELECT nspname FROM pg_namespace"
            " WHERE nspname !~ '^pg_' AND nspname <> 'information_schema'"
        )
        for (schema,) in list(found):
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
        conn.execute("CREATE SCHEMA public")


def warehouse_rows(sandbox: Any, sql: str, database: str = "dev") -> list[tuple[Any, ...]]:
    """The rows `sql` returns from the sandbox warehouse's `database`."""
    with sandbox.pg_connect(database) as conn:
        return list(conn.execute(sql).fetchall())


def log_lines(sandbox: Any, run_id: str, group: str = "/aws-glue/jobs/output") -> list[str]:
    """The messages of a job run's log stream (the stream is the run id)."""
    got = sandbox.client("logs").get_log_events(logGroupName=group, logStreamName=run_id)
    return [e["message"] for e in got["events"]]


def job_metrics(sandbox: Any, job: str) -> dict[str, float]:
    """The job's counts in CloudWatch (namespace wcpipe, dimension JobName), each metric's Sum
    over the last hour, as plain boto3 reads them."""
    from datetime import UTC, datetime, timedelta

    cloudwatch = sandbox.client("cloudwatch")
    now = datetime.now(UTC)
    dims = [{"Name": "JobName", "Value": job}]
    listed = cloudwatch.list_metrics(Namespace="wcpipe", Dimensions=dims)["Metrics"]
    sums: dict[str, float] = {}
    for name in sorted({m["MetricName"] for m in listed}):
        points = cloudwatch.get_metric_statistics(
            Namespace="wcpipe",
            MetricName=name,
            Dimensions=dims,
            StartTime=now - timedelta(hours=1),
            EndTime=now + timedelta(minutes=5),
            Period=3600,
            Statistics=["Sum"],
        )["Datapoints"]
        sums[name] = sum(p["Sum"] for p in points)
    return sums
