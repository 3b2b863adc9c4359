"""Athena for verify's source side: what a scan of the data will cost, said before it runs, and
one query run in the pipeline's workgroup (`resources/athena.py`), read back as one small result.

Contract:
- `scan_estimate(ctx)` lists the objects under the data prefix (ListObjectsV2: sizes only, no
  object is read) and prices a full scan at SCAN_DOLLARS_PER_TB, each query billed at least
  MIN_BYTES_PER_QUERY: the figure to show, and to confirm, before a big scan.
- `run_query(ctx, sql, timing=...)` starts the query in the workgroup (whose enforced settings
  put the results in the pipeline's bucket), waits with `core.wait.poll` (bounded, time
  injected; FAILED and CANCELLED are failures, their StateChangeReason said), then pages through
  GetQueryResults. Athena's first row of a SELECT's results is the header (the column names),
  which this drops (`header=True` keeps it). Values come back as text (VarCharValue; absent
  for NULL).
- What the client reads is the result, not the data: one row for `datamap.figures`' statement.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wcpipe.core.wait import Timing, poll
from wcpipe.spec import pricing
from wcpipe.spec.session import Session

# Athena's price (per TB scanned, rounded up to the megabyte, 10 MB minimum a query), with its
# source, lives with the other prices in spec/pricing.py.
SCAN_DOLLARS_PER_TB = pricing.ATHENA_DOLLARS_PER_TB
MIN_BYTES_PER_QUERY = pricing.ATHENA_MIN_BYTES_PER_QUERY
QUERY_TIMEOUT = 30 * 60.0
_FAILED = {"FAILED", "CANCELLED"}


@dataclass(frozen=True)
class ScanEstimate:
    objects: int
    bytes: int

    @property
    def billed_bytes(self) -> int:
        megabytes = -(-self.bytes // 2**20)  # rounded up to the megabyte
        return max(megabytes * 2**20, MIN_BYTES_PER_QUERY)

    @property
    def dollars(self) -> float:
        return self.billed_bytes / 2**40 * SCAN_DOLLARS_PER_TB

    def summary(self) -> str:
        return (
            f"{self.objects} object(s), {self.bytes:,} bytes: Athena bills "
            f"{self.billed_bytes / 2**20:,.0f} MiB, about ${self.dollars:.4f} a scan"
        )


def scan_estimate(ctx: Session) -> ScanEstimate:
    """What a full scan of the source reads (see the module docstring)."""
    s3 = ctx.client("s3")
    objects = size = 0
    pages = s3.get_paginator("list_objects_v2").paginate(
        Bucket=ctx.names.data_bucket, Prefix=ctx.names.prefix
    )
    for page in pages:
        for item in page.get("Contents", []):
            objects += 1
            size += int(item.get("Size", 0))
    return ScanEstimate(objects, size)


def run_query(
    ctx: Session,
    sql: str,
    *,
    timing: Timing | None = None,
    timeout: float = QUERY_TIMEOUT,
    header: bool = False,
) -> list[list[str | None]]:
    """The query's result rows, header dropped unless `header` (see the module docstring)."""
    athena = ctx.client("athena")
    started = athena.start_query_execution(
        QueryString=sql,
        QueryExecutionContext={"Database": ctx.names.s3_database},
        WorkGroup=ctx.names.athena_workgroup,
    )
    query_id = str(started["QueryExecutionId"])

    def state(value: dict[str, Any]) -> str:
        return str(value["Status"]["State"])

    def failure(value: dict[str, Any]) -> str | None:
        if state(value) not in _FAILED:
            return None
        return f"{state(value)}: {value['Status'].get('StateChangeReason', 'no reason given')}"

    poll(
        lambda: athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"],
        what=f"Athena query {query_id} in workgroup {ctx.names.athena_workgroup}",
        done=lambda value: state(value) == "SUCCEEDED",
        failed=failure,
        timeout=timeout,
        timing=timing or ctx.timing,
    )
    rows: list[list[str | None]] = []
    for page in athena.get_paginator("get_query_results").paginate(QueryExecutionId=query_id):
        for row in page["ResultSet"]["Rows"]:
            rows.append([cell.get("VarCharValue") for cell in row["Data"]])
    return rows if header else rows[1:]
