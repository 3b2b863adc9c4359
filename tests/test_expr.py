"""The compiled expressions (`wcpipe.datamap.expr`) against today's Python path, value for value
on the conformance corpus (tests/support/corpus.py): on DuckDB and on the session's PostgreSQL.
The Spark dialect runs on real Spark in tests/spark/test_expr_spark.py."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import pytest
from support import corpus
from support.sandbox import fresh_database

from wcpipe.datamap import expr
from wcpipe.datamap.config import ColumnConfig
from wcpipe.datamap.values import DecimalRangeError, SqlType


def _select(dialect: expr.Dialect, column: ColumnConfig, source: str) -> str:
    """value and rejected for every row of `source` (columns i, raw), in order of i."""
    exprs = expr.column_exprs(column, expr.col("raw"))
    text = dialect.sql(exprs.text)
    name = dialect.ident(column.name)
    value, rejected = dialect.sql(exprs.value), dialect.sql(exprs.rejected)
    inner = f"SELECT i, {text} AS {name} FROM {source}"
    return f"SELECT {value}, {rejected} FROM ({inner}) cleaned ORDER BY i"


def test_whitespace_is_pythons_isspace_set() -> None:
    expected = "".join(c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace())
    assert expected == expr.WHITESPACE


def test_the_corpus_is_large_and_covers_every_family() -> None:
    families = {g.column.family for g in corpus.groups()}
    assert families == {
        "varchar",
        "char",
        "smallint",
        "integer",
        "bigint",
        "decimal",
        "real",
        "double",
        "boolean",
        "date",
        "timestamp",
    }
    assert corpus.size() > 500


def test_python_no_longer_reads_non_ascii_digits() -> None:
    # int('\u0663') is 3 in Python; Spark, PostgreSQL and DuckDB refuse it: so does the reference.
    column = ColumnConfig(name="n", type="integer", source="n")
    assert corpus.oracle(column, "\u0663") == corpus.REJECT
    assert corpus.oracle(column, "3") == 3


@pytest.mark.parametrize("sql_type", ["decimal(39,2)", "numeric(40)", "decimal(5,6)", "decimal(0)"])
def test_validate_refuses_a_decimal_redshift_does_not_take(sql_type: str) -> None:
    with pytest.raises(DecimalRangeError, match="precision of 1 to 38"):
        SqlType.parse(sql_type)


def test_decimal_38_is_taken() -> None:
    assert SqlType.parse("decimal(38,37)").precision == 38


def test_corpus_on_duckdb() -> None:
    import duckdb

    conn = duckdb.connect()

    def evaluate(column: ColumnConfig, raws: Sequence[str | None]) -> Sequence[tuple[object, bool]]:
        conn.execute("CREATE OR REPLACE TABLE t (i INTEGER, raw VARCHAR)")
        conn.executemany("INSERT INTO t VALUES (?, ?)", list(enumerate(raws)))
        rows = conn.execute(_select(expr.DUCKDB, column, "t")).fetchall()
        return [(value, bool(rejected)) for value, rejected in rows]

    assert corpus.differences(evaluate) == []


def test_corpus_on_trino_as_the_sandbox_runs_it() -> None:
    """The Trino (Athena) dialect, rewritten for DuckDB as the sandbox's Athena rewrites it
    (`sandbox.trino_sql`): the same values and rejects. Real Athena is not reached from here."""
    import duckdb

    from wcpipe.sandbox.trino_sql import to_duckdb

    conn = duckdb.connect()

    def evaluate(column: ColumnConfig, raws: Sequence[str | None]) -> Sequence[tuple[object, bool]]:
        conn.execute("CREATE OR REPLACE TABLE t (i INTEGER, raw VARCHAR)")
        conn.executemany("INSERT INTO t VALUES (?, ?)", list(enumerate(raws)))
        rows = conn.execute(to_duckdb(_select(expr.TRINO, column, "t"))).fetchall()
        return [(value, bool(rejected)) for value, rejected in rows]

    assert corpus.differences(evaluate) == []


def test_corpus_on_postgresql(warehouse_dsn: str) -> None:
    import psycopg

    with psycopg.connect(fresh_database(warehouse_dsn, "corpus"), autocommit=True) as conn:
        conn.execute("SET TIME ZONE 'UTC'")

        def evaluate(
            column: ColumnConfig, raws: Sequence[str | None]
        ) -> Sequence[tuple[object, bool]]:
            conn.execute("DROP TABLE IF EXISTS t")
            conn.execute("CREATE TABLE t (i integer, raw text)")
            with conn.cursor() as cur:
                cur.executemany("INSERT INTO t VALUES (%s, %s)", list(enumerate(raws)))
            rows = conn.execute(_select(expr.POSTGRES, column, "t")).fetchall()  # type: ignore[arg-type]
            return [(value, bool(rejected)) for value, rejected in rows]

        assert corpus.differences(evaluate) == []


def test_compile_job_names_every_column_and_the_drop_test(spec) -> None:  # type: ignore[no-untyped-def]
    from wcpipe.datamap.config import JobConfig
    from wcpipe.spec.job import job_config
    from wcpipe.spec.names import Names

    config = JobConfig.from_dict(job_config(spec, Names.of(spec, "123456789012", "us-east-1")))
    job = expr.compile_job(config, expr.SPARK)
    assert [c.name for c in job.columns] == list(config.column_names)
    assert "'Overall'" in job.dropped
