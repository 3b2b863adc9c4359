"""job_workers without a sandbox: moto keys read a chunk at a time, and the COPY worker processes
on the session's embedded PostgreSQL (the runs through StartJobRun are in test_jobs.py)."""

from __future__ import annotations

from typing import Any

import pytest
from support.paths import FIFA_CSV, SPEC_PATH
from support.sandbox import fresh_database

from wcpipe.authoring import csvio
from wcpipe.datamap import loadsql
from wcpipe.sandbox.patches import job_workers
from wcpipe.warehouse import sql

CSV = FIFA_CSV.read_bytes()
HEADER, BODY = CSV.split(b"\n", 1)


def _key(name: str, data: bytes) -> Any:
    from moto.s3.models import FakeKey

    return FakeKey(name, data, account_id="123456789012", region_name="us-east-1")


def test_object_reader_gives_the_whole_object_a_chunk_at_a_time() -> None:
    data = bytes(range(256)) * 9000  # > 2 chunks
    key = _key("k", data)
    try:
        raw = job_workers.ObjectReader(key)
        pieces = iter(lambda: raw.read(job_workers.CHUNK), b"")
        sizes = [len(p) for p in pieces]
        assert sizes == [job_workers.CHUNK, job_workers.CHUNK, len(data) - 2 * job_workers.CHUNK]
        with job_workers.open_object(key) as stream:
            assert stream.read() == data
    finally:
        key.dispose()


@pytest.fixture(scope="module")
def pg(warehouse_dsn: str) -> str:
    """An empty database of the module's own on the session's PostgreSQL."""
    return fresh_database(warehouse_dsn, "job_workers")


@pytest.fixture(scope="module")
def config_json() -> str:
    from wcpipe.spec.job import job_arguments
    from wcpipe.spec.model import load_spec
    from wcpipe.spec.names import Names

    spec = load_spec(SPEC_PATH)
    return job_arguments(spec, Names.of(spec, "123456789012", "us-east-1"))["--wcpipe_config"]


def _staging(pg: str, config_json: str) -> tuple[Any, Any]:
    import psycopg

    from wcpipe.datamap.config import JobConfig
    from wcpipe.sandbox import warehouse_pg
    from wcpipe.spec.model import load_spec

    config = JobConfig.from_json(config_json)
    conn = psycopg.connect(pg, autocommit=True)
    for statement in warehouse_pg.to_pg_statements(sql.create_table(load_spec(SPEC_PATH)), None):
        conn.execute(statement)
    conn.execute(loadsql.drop_staging(config, "attendance_stg_t"))
    conn.execute(loadsql.create_staging(config, "attendance_stg_t"))
    return conn, config


def _copy_in_two_workers(pg: str, config_json: str, keys: list[Any]) -> list[Any]:
    """Copy `keys` into the staging table on two worker processes (header from the first)."""
    header = csvio.read_header(job_workers.open_object(keys[0]))
    return job_workers.copy_in_workers(
        pg,
        config_json,
        "attendance_stg_t",
        csvio.Dialect(),
        header,
        [(k.name, k) for k in keys],
        workers=2,
    )


def test_workers_copy_every_object_and_count_each(pg: str, config_json: str) -> None:
    lines = BODY.splitlines(keepends=True)
    parts = [lines[:8], lines[8:16], lines[16:]]
    keys = [_key(f"p{n}.csv", HEADER + b"\n" + b"".join(p)) for n, p in enumerate(parts)]
    conn, _ = _staging(pg, config_json)
    with conn:
        results = _copy_in_two_workers(pg, config_json, keys)
        got = conn.execute('SELECT count(*), count(DISTINCT year) FROM "public"."attendance_stg_t"')
        assert got.fetchone() == (22, 22)
    assert [r.name for r in results] == ["p0.csv", "p1.csv", "p2.csv"]
    assert sum(r.counts["loaded"] for r in results) == 22
    assert results[2].counts["dropped"] == 1  # the "Overall" row
    assert not any(r.rejects for r in results)


def test_a_worker_error_is_raised_with_its_text(pg: str, config_json: str) -> None:
    keys = [_key("good.csv", CSV), _key("bad.csv", HEADER + b"\n\xff\xfe,1\n")]
    conn, _ = _staging(pg, config_json)
    with conn, pytest.raises(job_workers.WorkerFailed, match="UnicodeDecodeError"):
        _copy_in_two_workers(pg, config_json, keys)
