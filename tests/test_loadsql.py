"""loadsql: the load-mode SQL (snapshots of the text), and merge run twice on real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from support.sandbox import fresh_database

from wcpipe.datamap import loadsql
from wcpipe.datamap.config import JobConfig
from wcpipe.spec.job import job_config
from wcpipe.spec.names import Names

T = '"public"."attendance"'
S = '"public"."attendance_stg_jr_1"'
COLS = (
    '"source_index", "year", "hosts", "total_attendance", "matches", "average_attendance", '
    '"highest_attendance", "venue", "games"'
)
INSERT = f"INSERT INTO {T} ({COLS}) SELECT {COLS} FROM {S}"


@pytest.fixture
def config(spec) -> JobConfig:  # type: ignore[no-untyped-def]
    return JobConfig.from_dict(job_config(spec, Names.of(spec, "123456789012", "us-east-1")))


def test_staging_table_name(config: JobConfig) -> None:
    assert loadsql.staging_table(config, "jr_1") == "attendance_stg_jr_1"
    long_id = "jr_" + "ab" * 64
    name = loadsql.staging_table(config, long_id)
    assert len(name) <= 127 and name.startswith("attendance_stg_")
    assert name == loadsql.staging_table(config, long_id)
    assert loadsql.staging_table(config, "Run-ID.7") == "attendance_stg_run_id_7"


def test_create_staging(config: JobConfig) -> None:
    assert loadsql.create_staging(config, "attendance_stg_jr_1") == f"CREATE TABLE {S} (LIKE {T})"


def test_append(config: JobConfig) -> None:
    statements = loadsql.load_statements(replace(config, load_mode="append", load_keys=()), S_NAME)
    assert statements == [INSERT, f"DROP TABLE {S}"]


def test_truncate_deletes_instead_of_truncate(config: JobConfig) -> None:
    statements = loadsql.load_statements(
        replace(config, load_mode="truncate", load_keys=()), S_NAME
    )
    assert statements == [f"DELETE FROM {T}", INSERT, f"DROP TABLE {S}"]


def test_merge(config: JobConfig) -> None:
    statements = loadsql.load_statements(config, S_NAME)
    assert statements == [
        f'DELETE FROM {T} USING {S} WHERE {T}."year" = {S}."year"',
        INSERT,
        f"DROP TABLE {S}",
    ]


def test_merge_with_two_keys(config: JobConfig) -> None:
    statements = loadsql.load_statements(replace(config, load_keys=("year", "hosts")), S_NAME)
    assert statements[0].endswith(f'{T}."year" = {S}."year" AND {T}."hosts" = {S}."hosts"')


def test_glue_pre_post_actions(config: JobConfig) -> None:
    pre, post = loadsql.glue_pre_post_actions(config, S_NAME)
    assert pre == f"DROP TABLE IF EXISTS {S}; CREATE TABLE {S} (LIKE {T});"
    assert post.startswith("DELETE FROM ")
    assert post.endswith(f"; {INSERT}; DROP TABLE {S};")
    assert "\n" not in pre + post  # Glue refuses newlines in pre/postactions


def test_glue_actions_leave_the_transaction_to_the_connector(config: JobConfig) -> None:
    """The Redshift connector runs CREATE, preactions, COPY and postactions in one transaction
    of its own (RedshiftWriter.saveToRedshift): a BEGIN/END/COMMIT in the actions would commit
    it early, exposing a half-done load."""
    pre, post = loadsql.glue_pre_post_actions(config, S_NAME)
    words = {w.strip().split(" ")[0].upper() for w in (pre + post).split(";") if w.strip()}
    assert words.isdisjoint({"BEGIN", "END", "COMMIT", "ROLLBACK", "START"}), words


def test_identifiers_are_validated(config: JobConfig) -> None:
    with pytest.raises(ValueError, match="unsafe"):
        loadsql.ident('x"; DROP TABLE y; --')
    with pytest.raises(ValueError, match="unsafe"):
        loadsql.load_statements(replace(config, target_table="Attendance"), S_NAME)
    with pytest.raises(ValueError, match="mode"):
        loadsql.load_statements(replace(config, load_mode="upsert"), S_NAME)


S_NAME = "attendance_stg_jr_1"


# ---------------------------------------------------------------------------------------------
# The same statements on PostgreSQL (the sandbox's warehouse).


@pytest.fixture(scope="module")
def pg(warehouse_dsn: str) -> Iterator[Any]:
    """An empty database of this module's own on the session's PostgreSQL."""
    import psycopg

    with psycopg.connect(fresh_database(warehouse_dsn, "loadsql"), autocommit=True) as conn:
        yield conn


def _load(pg: Any, config: JobConfig, rows: list[tuple[object, ...]], run_id: str) -> None:
    staging = loadsql.staging_table(config, run_id)
    placeholders = ", ".join(["%s"] * len(config.columns))
    with pg.transaction():
        pg.execute(loadsql.drop_staging(config, staging))
        pg.execute(loadsql.create_staging(config, staging))
        with pg.cursor() as cur:
            cur.executemany(
                f"INSERT INTO {loadsql._table(config, staging)} VALUES ({placeholders})", rows
            )
    with pg.transaction():
        for statement in loadsql.load_statements(config, staging):
            pg.execute(statement)


@pytest.mark.e2e
def test_merge_twice_on_postgresql_has_no_duplicates(pg: Any, spec) -> None:  # type: ignore[no-untyped-def]
    from wcpipe.warehouse import sql

    config = JobConfig.from_dict(job_config(spec, Names.of(spec, "123456789012", "us-east-1")))
    from wcpipe.sandbox.warehouse_pg import to_pg_statements

    for statement in to_pg_statements(sql.create_table(spec), None):
        pg.execute(statement)
    rows = [
        (0, 1930, "Uruguay", 590549, 18, 32808, 93000, "Montevideo", "Uruguay 6\u20131"),
        (16, 2002, "South Korea Japan", 2705197, 64, 42269, 69029, "Yokohama", "Brazil 2\u20130"),
    ]
    _load(pg, config, rows, "jr_1")
    changed = [(*rows[1][:7], "Yokohama, Japan", rows[1][8])]
    _load(pg, config, changed, "jr_2")
    got = pg.execute('SELECT year, venue FROM "public"."attendance" ORDER BY year').fetchall()
    assert got == [(1930, "Montevideo"), (2002, "Yokohama, Japan")]
    # The staging tables are gone.
    left = pg.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name LIKE '%\\_stg\\_%'"
    ).fetchone()
    assert left == (0,)
    # truncate replaces everything; append adds.
    _load(pg, replace(config, load_mode="truncate", load_keys=()), rows[:1], "jr_3")
    _load(pg, replace(config, load_mode="append", load_keys=()), changed, "jr_4")
    got = pg.execute('SELECT year FROM "public"."attendance" ORDER BY year').fetchall()
    assert got == [(1930,), (2002,)]
