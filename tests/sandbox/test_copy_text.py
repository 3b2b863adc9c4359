"""The sandbox job's COPY (DuckDB's CSV writer): tricky values go into PostgreSQL and come back
unchanged."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from wcpipe.datamap.config import ColumnConfig

COLUMNS = (
    ColumnConfig("i", "smallint", "i"),
    ColumnConfig("n", "bigint", "n"),
    ColumnConfig("d", "decimal(12,4)", "d"),
    ColumnConfig("r", "real", "r"),
    ColumnConfig("f", "double precision", "f"),
    ColumnConfig("b", "boolean", "b"),
    ColumnConfig("day", "date", "day"),
    ColumnConfig("ts", "timestamp", "ts"),
    ColumnConfig("tz", "timestamptz", "tz"),
    ColumnConfig("t", "varchar(64)", "t"),
    ColumnConfig("c", "char(3)", "c"),
)
TRICKY_TEXT = [
    "",
    "\\N",
    "\\.",
    "a\tb",
    "line\nbreak",
    "cr\r\nlf",
    "back\\slash\\",
    "\\\\t",
    "South Korea Japan",
    "6\u20131 \u00e9",
    '"quoted", comma',
    "None",
    None,
]


def _rows() -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    for k, text in enumerate(TRICKY_TEXT):
        rows.append(
            (
                -32768 + k,
                2**63 - 1 - k,
                Decimal("-12345678.0001") if k % 2 else Decimal("0.5000"),
                1.5 if k % 2 else None,
                0.1 + k * 1e-17 if k % 3 else 1e300,
                bool(k % 2) if k % 5 else None,
                date(2022, 12, 18) if k % 4 else None,
                datetime(2022, 12, 18, 15, 0, 0, 123456) if k % 2 else datetime(1930, 7, 13),
                datetime(2022, 12, 18, 15, tzinfo=UTC) if k % 3 else None,
                text,
                "\u00e9a" if k % 2 else None,
            )
        )
    return rows


@pytest.fixture
def pg(warehouse_dsn: str) -> Any:
    from wcpipe.sandbox import warehouse_pg

    with warehouse_pg.connect(warehouse_dsn, "copytext") as conn:
        yield conn


DUCK_TYPES = (
    "SMALLINT BIGINT DECIMAL(12,4) REAL DOUBLE BOOLEAN DATE TIMESTAMP TIMESTAMPTZ VARCHAR VARCHAR"
)


def test_duckdb_csv_round_trips_through_postgresql(pg: Any) -> None:
    """The job's rows leave DuckDB as its CSV writer writes them (`job_engine.copy_query`) and
    come back from PostgreSQL unchanged: NULL against '', tabs, newlines, quotes, backslashes."""
    from wcpipe.sandbox.patches import athena_engine, job_engine

    columns = ", ".join(f'"{c.name}" {c.type}' for c in COLUMNS)
    pg.execute("DROP TABLE IF EXISTS copy_text")
    pg.execute(f"CREATE TABLE copy_text (k serial, {columns})")
    pg.execute("SET TIME ZONE 'UTC'")
    rows = _rows()
    duck = athena_engine.connect()
    duck.execute("SET TimeZone = 'UTC'")
    typed = ", ".join(f'"{c.name}" {t}' for c, t in zip(COLUMNS, DUCK_TYPES.split(), strict=True))
    duck.execute(f"CREATE TABLE t (k INTEGER, {typed})")
    duck.executemany(
        f"INSERT INTO t VALUES ({', '.join('?' * (len(COLUMNS) + 1))})",
        [(k, *row) for k, row in enumerate(rows)],
    )
    names = ", ".join(f'"{c.name}"' for c in COLUMNS)
    with (
        pg.cursor() as cur,
        cur.copy(f"COPY copy_text ({names}) FROM STDIN (FORMAT csv, ENCODING 'UTF8')") as copy,
    ):
        job_engine.copy_query(duck, f"SELECT {names} FROM t ORDER BY k", copy)
    got = pg.execute(f"SELECT {names} FROM copy_text ORDER BY k").fetchall()
    # char(n) comes back blank-padded, as PostgreSQL (and Redshift) store it.
    expected = [(*row[:-1], None if row[-1] is None else str(row[-1]).ljust(3)) for row in rows]
    assert got == expected  # 1.5 is exact in float4 (real); the rest round-trips exactly
