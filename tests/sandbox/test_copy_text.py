"""The sandbox job's COPY text writer: tricky values go into PostgreSQL and come back unchanged."""

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


def test_copy_text_escapes_and_nulls() -> None:
    from wcpipe.sandbox.patches.job_workers import copy_text

    text = copy_text(COLUMNS[-2:], [("a\tb\\c\nd\re", None), ("", "x")])
    assert text == "a\\tb\\\\c\\nd\\re\t\\N\n\tx\n"
    assert copy_text(COLUMNS, []) == ""


@pytest.fixture
def pg(warehouse_dsn: str) -> Any:
    from wcpipe.sandbox import warehouse_pg

    with warehouse_pg.connect(warehouse_dsn, "copytext") as conn:
        yield conn


def test_copy_text_round_trips_through_postgresql(pg: Any) -> None:
    from wcpipe.sandbox.patches.job_workers import copy_text

    columns = ", ".join(f'"{c.name}" {c.type}' for c in COLUMNS)
    pg.execute("DROP TABLE IF EXISTS copy_text")
    pg.execute(f"CREATE TABLE copy_text (k serial, {columns})")
    pg.execute("SET TIME ZONE 'UTC'")
    rows = _rows()
    names = ", ".join(f'"{c.name}"' for c in COLUMNS)
    with (
        pg.cursor() as cur,
        cur.copy(f"COPY copy_text ({names}) FROM STDIN (FORMAT text, ENCODING 'UTF8')") as copy,
    ):
        copy.write(copy_text(COLUMNS, rows[:5]).encode())
        copy.write(copy_text(COLUMNS, rows[5:]).encode())
    got = pg.execute(f"SELECT {names} FROM copy_text ORDER BY k").fetchall()
    # char(n) comes back blank-padded, as PostgreSQL (and Redshift) store it.
    expected = [(*row[:-1], None if row[-1] is None else str(row[-1]).ljust(3)) for row in rows]
    assert got == expected  # 1.5 is exact in float4 (real); the rest round-trips exactly


def test_copy_columns_text_is_copy_text_of_the_rows() -> None:
    from wcpipe.sandbox.patches.job_workers import copy_columns_text, copy_text

    rows = _rows()
    columns = [list(values) for values in zip(*rows, strict=True)]
    assert copy_columns_text(COLUMNS, columns) == copy_text(COLUMNS, rows)
    assert copy_columns_text(COLUMNS, [[] for _ in COLUMNS]) == ""
