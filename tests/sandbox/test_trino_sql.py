"""Trino SQL rewritten for DuckDB (`wcpipe.sandbox.trino_sql`): the calls that differ, and
nothing else touched (literals, identifiers and parentheses that are not those calls)."""

from __future__ import annotations

import duckdb
import pytest

from wcpipe.sandbox.trino_sql import to_duckdb


@pytest.mark.parametrize(
    ("trino", "duck"),
    [
        ("SELECT REGEXP_LIKE(x, 'a+')", "SELECT REGEXP_MATCHES(x, 'a+')"),
        ("SELECT regexp_replace(x, '[0-9]')", "SELECT REGEXP_REPLACE(x, '[0-9]', '', 'g')"),
        ("SELECT LENGTH(TO_UTF8(x))", "SELECT STRLEN(x)"),
        ("SELECT LENGTH(x)", "SELECT LENGTH(x)"),
        ("SELECT DATE_ADD('minute', -(5), ts)", "SELECT (ts + TO_MINUTES(-(5)))"),
        (
            "SELECT 'REGEXP_LIKE(a, b)', \"REGEXP_LIKE\"",
            "SELECT 'REGEXP_LIKE(a, b)', \"REGEXP_LIKE\"",
        ),
        ("SELECT COUNT(*) FROM (SELECT 1) AS t", "SELECT COUNT(*) FROM (SELECT 1) AS t"),
        ("SELECT (1", "SELECT (1"),  # unbalanced: unchanged, DuckDB says what is wrong
    ],
)
def test_rewrites(trino: str, duck: str) -> None:
    assert to_duckdb(trino) == duck


def test_the_rewritten_calls_mean_what_trino_means() -> None:
    row = (
        duckdb.connect()
        .execute(
            to_duckdb(
                "SELECT REGEXP_REPLACE('a1b2', '[0-9]', ''), REGEXP_EXTRACT('abc', 'x'),"
                " LENGTH(TO_UTF8('é')), REGEXP_LIKE('xay', 'a'),"
                " DATE_ADD('minute', -90, TIMESTAMP '2020-01-01 01:00:00'), SUBSTR('hello', -2)"
            )
        )
        .fetchone()
    )
    assert row is not None
    assert row[:4] == ("ab", None, 2, True)
    assert str(row[4]) == "2019-12-31 23:30:00" and row[5] == "lo"
