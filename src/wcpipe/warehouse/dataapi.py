"""SQL against the warehouse through the Redshift Data API: run, wait, fetch every page.

Works the same for a provisioned cluster (ClusterIdentifier) and Serverless (WorkgroupName), with
the admin secret for credentials, so no password ever passes through wcpipe. Statement waits are
bounded and back off; a FAILED statement raises with Redshift's own error text.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from wcpipe.core.errors import ResourceFailed
from wcpipe.core.wait import Timing, poll
from wcpipe.spec.session import Session

_FAILED = {"FAILED", "ABORTED"}


@dataclass(frozen=True)
class Target:
    database: str
    secret_arn: str
    cluster: str | None = None
    workgroup: str | None = None

    def params(self) -> dict[str, str]:
        p = {"Database": self.database, "SecretArn": self.secret_arn}
        if self.workgroup:
            p["WorkgroupName"] = self.workgroup
        else:
            assert self.cluster
            p["ClusterIdentifier"] = self.cluster
        return p


def target(ctx: Session) -> Target:
    """Where the Data API should send statements, from the spec and the admin secret's ARN."""
    names = ctx.names

    def describe_secret() -> str:
        return str(ctx.client("secretsmanager").describe_secret(SecretId=names.secret)["ARN"])

    secret_arn = ctx.known("secretsmanager.admin-secret", "arn", describe_secret)
    if ctx.spec.warehouse.type == "serverless":
        return Target(ctx.spec.warehouse.database, secret_arn, workgroup=names.workgroup)
    return Target(ctx.spec.warehouse.database, secret_arn, cluster=names.cluster)


def _param_list(params: dict[str, Any] | None) -> list[dict[str, str]]:
    return [{"name": k, "value": str(v)} for k, v in (params or {}).items()]


def submit(ctx: Session, sql: str | list[str], params: dict[str, Any] | None = None) -> str:
    """Submit one statement (or a batch, run as one transaction); return the statement id."""
    client = ctx.client("redshift-data")
    base = target(ctx).params()
    if isinstance(sql, list):
        return str(client.batch_execute_statement(Sqls=sql, **base)["Id"])
    kwargs: dict[str, Any] = dict(base, Sql=sql)
    if params:
        kwargs["Parameters"] = _param_list(params)
    return str(client.execute_statement(**kwargs)["Id"])


def wait(
    ctx: Session,
    statement_id: str,
    *,
    timeout: float = 600,
    what: str = "SQL statement",
    timing: Timing | None = None,
) -> dict[str, Any]:
    """Wait for a statement to finish; raise ResourceFailed with Redshift's error if it failed."""
    client = ctx.client("redshift-data")
    fast = timing or Timing(
        sleep=ctx.timing.sleep, clock=ctx.timing.clock, initial=0.05, maximum=2.0, factor=2.0
    )
    desc: dict[str, Any] = poll(
        lambda: client.describe_statement(Id=statement_id),
        what=what,
        done=lambda d: d["Status"] == "FINISHED",
        failed=lambda d: (
            f"{d['Status']}: {d.get('Error', 'no error text')}" if d["Status"] in _FAILED else None
        ),
        timeout=timeout,
        timing=fast,
    )
    return desc


def execute(
    ctx: Session,
    sql: str | list[str],
    params: dict[str, Any] | None = None,
    *,
    what: str = "SQL statement",
    timeout: float = 600,
) -> dict[str, Any]:
    return wait(ctx, submit(ctx, sql, params), what=what, timeout=timeout)


def _value(field: dict[str, Any]) -> Any:
    if field.get("isNull"):
        return None
    for key in ("stringValue", "longValue", "doubleValue", "booleanValue"):
        if key in field:
            return field[key]
    if "blobValue" in field:
        return field["blobValue"]
    return None


def rows(ctx: Session, statement_id: str) -> Iterator[dict[str, Any]]:
    """Every row of a finished statement, following NextToken pages."""
    client = ctx.client("redshift-data")
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {"Id": statement_id}
        if token:
            kwargs["NextToken"] = token
        page = client.get_statement_result(**kwargs)
        names = [c.get("name") or c.get("label") for c in page.get("ColumnMetadata", [])]
        for record in page.get("Records", []):
            yield dict(zip(names, (_value(f) for f in record), strict=False))
        token = page.get("NextToken")
        if not token:
            return


def query(
    ctx: Session, sql: str, params: dict[str, Any] | None = None, *, what: str = "query"
) -> list[dict[str, Any]]:
    desc = execute(ctx, sql, params, what=what)
    if not desc.get("HasResultSet", True):
        raise ResourceFailed(f"{what}: the statement returned no result set")
    return list(rows(ctx, desc["Id"]))
