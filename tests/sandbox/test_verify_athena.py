"""verify's source side on the sandbox's Athena: one query over the S3 crawler's table, the
figures the Python reference gives, NO S3 GetObject from the client, and the bytes the client
reads do not grow with the data (10x the rows: the engine scans, the client reads one row)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from support.catalog import s3_crawler
from support.figures import report
from support.oracle import python_figures
from support.paths import FIFA_CSV, SPEC_PATH
from support.requests import Requests

LINES = FIFA_CSV.read_bytes().splitlines(keepends=True)
ALLOWED = {
    "GetCallerIdentity",
    "ListObjectsV2",
    "GetTable",
    "StartQueryExecution",
    "GetQueryExecution",
}
ALLOWED |= {"GetQueryResults"}


def _data(copies: int) -> bytes:
    return b"".join([LINES[0], *(LINES[1:] * copies)])


@pytest.fixture(scope="module")
def ctx(sandbox: Any) -> Any:
    """The FIFA pipeline's bucket, crawled table and Athena workgroup on the sandbox (no `up`);
    a wait lasts until the sandbox is idle, so every query is polled the same number of times."""
    from wcpipe.core.aws import Aws
    from wcpipe.core.wait import Timing
    from wcpipe.provision.resources.athena import Workgroup
    from wcpipe.provision.resources.base import Context
    from wcpipe.spec.model import load_spec

    aws = Aws(region=sandbox.region, endpoint_url=sandbox.endpoint)
    context = Context(
        spec=load_spec(SPEC_PATH), aws=aws, timing=Timing(sleep=lambda _s: sandbox.idle(timeout=60))
    )
    names = context.names
    s3, glue = sandbox.client("s3"), sandbox.client("glue")
    s3_crawler(s3, glue, names, _data(1))
    glue.start_crawler(Name=names.s3_crawler)
    assert sandbox.idle(timeout=20)
    Workgroup(context).ensure()
    return context


def _put(ctx: Any, copies: int, tmp_path: Path) -> Path:
    body = _data(copies)
    ctx.client("s3").put_object(
        Bucket=ctx.names.bucket, Key=f"{ctx.names.prefix}fifa.csv", Body=body
    )
    local = tmp_path / f"fifa-{copies}.csv"
    local.write_bytes(body)
    return local


def _measured(ctx: Any) -> tuple[Any, Requests, int]:
    """source_figures, the calls it made and the response bytes the client read."""
    from wcpipe.core.aws import Aws, instrument
    from wcpipe.operate import verify
    from wcpipe.provision.resources.base import Context

    read = [0]

    def count(http_response: Any, **_: Any) -> None:
        read[0] += len(http_response.content or b"")

    stop = instrument("after-call.*.*", count)
    requests = Requests.everywhere()
    try:  # a new gateway: its clients are built now, with the counters on
        aws = Aws(region=ctx.aws.region, endpoint_url=ctx.aws.endpoint_url)
        figures = verify.source_figures(Context(spec=ctx.spec, aws=aws, timing=ctx.timing))
    finally:
        requests.close()
        stop()
    return figures, requests, read[0]


def test_source_figures_on_athena_match_the_reference_without_get_object(
    ctx: Any, tmp_path: Path
) -> None:
    from wcpipe.operate import verify

    local = _put(ctx, 3, tmp_path)  # every key three times: merge keeps one of each
    figures, requests, _ = _measured(ctx)
    assert "GetObject" not in requests.ops
    assert set(requests.ops) <= ALLOWED, requests.ops
    assert requests.count("StartQueryExecution") == 1
    expected = python_figures(verify.job_config(ctx), [local])
    assert (figures.read, figures.dropped, figures.rejected, figures.loaded) == (
        expected["read"],
        expected["dropped"],
        expected["rejected"],
        expected["loaded"],
    )
    assert figures.expected_rows == expected["expected_rows"]
    assert figures.duplicate_source_keys == expected["duplicate_source_keys"]
    assert {k: int(v) for k, v in figures.sums.items()} == expected["sums"]


def test_client_bytes_do_not_grow_with_10x_the_data(ctx: Any, tmp_path: Path) -> None:
    _put(ctx, 100, tmp_path)
    small, _, small_bytes = _measured(ctx)
    _put(ctx, 1000, tmp_path)
    big, requests, big_bytes = _measured(ctx)
    assert big.read == 10 * small.read and "GetObject" not in requests.ops
    # the same calls and one result row: only the figures' digits (and timestamps) may differ
    assert abs(big_bytes - small_bytes) < 100, (small_bytes, big_bytes)
    size = len(_data(1000))
    report(
        f"verify client bytes: {small_bytes:,} B for {small.read:,} rows, "
        f"{big_bytes:,} B for {big.read:,} rows ({size:,} B of data)"
    )
