"""Athena for verify on moto: the scan's cost from object sizes alone, and a query run in the
pipeline's workgroup, waited for on injected time and read back without its header row (moto
does not execute SQL: its results are set through moto's own API, as its docs say)."""

from __future__ import annotations

import requests

from wcpipe.operate import athena
from wcpipe.provision.resources.athena import Workgroup
from wcpipe.provision.resources.base import Context
from wcpipe.sandbox.patches import athena_ops

BUCKET = "wcpipe-fifa-123456789012-us-east-1"


def test_scan_estimate_reads_sizes_only_and_bills_at_least_10_mb(ctx: Context) -> None:
    s3 = ctx.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key=f"{ctx.spec.data.prefix}a.csv", Body=b"x" * 1000)
    s3.put_object(Bucket=BUCKET, Key=f"{ctx.spec.data.prefix}b.csv", Body=b"y" * 500)
    s3.put_object(Bucket=BUCKET, Key="wcpipe/athena-results/old.csv", Body=b"z" * 99)
    estimate = athena.scan_estimate(ctx)
    assert (estimate.objects, estimate.bytes) == (2, 1500)
    assert estimate.billed_bytes == 10 * 2**20
    assert abs(estimate.dollars - 5.0 * 10 / 2**20) < 1e-12
    assert "2 object(s), 1,500 bytes" in estimate.summary()
    big = athena.ScanEstimate(objects=10, bytes=3 * 2**40 + 1)
    assert big.billed_bytes == 3 * 2**40 + 2**20 and round(big.dollars, 4) == 15.0


def _answer(rows: list[list[str]]) -> None:
    """moto's documented way to give its next query these result rows."""
    data = [{"Data": [{"VarCharValue": v} for v in row]} for row in rows]
    answer = {"results": [{"rows": data, "column_info": []}]}
    posted = requests.post(
        "http://motoapi.amazonaws.com/moto-api/static/athena/query-results", json=answer
    )
    assert posted.status_code == 201


def test_run_query_in_the_workgroup_drops_the_header(ctx: Context) -> None:
    athena_ops.install()
    ctx.client("s3").create_bucket(Bucket=BUCKET)
    Workgroup(ctx).ensure()
    _answer([["read", "dropped"], ["23", "1"]])
    assert athena.run_query(ctx, "SELECT 23 AS read, 1 AS dropped") == [["23", "1"]]
    executions = ctx.client("athena").list_query_executions(WorkGroup="wcpipe-fifa")
    assert len(executions["QueryExecutionIds"]) == 1
