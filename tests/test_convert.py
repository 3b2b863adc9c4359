"""convert: the compiled per-column converters agree with the reference (values.clean +
values.convert + NOT NULL) on random values, one by one and by batch; map_records agrees
with map_record."""

from __future__ import annotations

import random

import pytest

from wcpipe.datamap.config import ColumnConfig, JobConfig
from wcpipe.datamap.convert import Column
from wcpipe.datamap.transform import Mapper
from wcpipe.datamap.values import RULES, ConversionError, clean, convert

TYPES = [
    "smallint",
    "integer",
    "bigint",
    "decimal(5,2)",
    "decimal(2,2)",
    "decimal(4,0)",
    "real",
    "double precision",
    "boolean",
    "date",
    "timestamp",
    "timestamptz",
    "varchar(4)",
    "varchar(12)",
    "char(1)",
]
PIECES = [
    "0", "1", "7", "12", "00", "32767", "32768", "-", "+", ".", ",", "_", " ", "\u00a0", "\t",
    "e", "E", "3", "[1]", "[a]", "1,234", "173,850[86]", "2022-12-18", "2022-02-30", "T18:00",
    "+03:00", "true", "No", "T", "YES", "\u0663", "\u2013", "\u00e9", "x", "NaN", "inf", "1e39",
    "9" * 20,
]  # fmt: skip
EDGES = [
    "1_000", " 5 ", "\u0663", "+7", "-32768", "32768", "1.", ".5", "-.5", "1.234", "123.4",
    "\u2013\u2013", "\u00e9\u00e9\u00e9", "a\u00a0b", "2022-02-30", " 2022-12-18", "Yes",
    "1e3", "", None, "1\n2", "2022-01-01\n2022-01-02", "1.5\n", "\n",
]  # fmt: skip


def _reference(col: ColumnConfig, raw: str | None) -> object:
    try:
        out = convert(clean(raw if raw is not None else "", col.clean), col.sql)
        if out is None and not col.nullable:
            raise ConversionError("NULL in a NOT NULL column")
        return out
    except ConversionError as exc:
        return ("rejected", str(exc))


def _one(column: Column, raw: str | None) -> object:
    try:
        return column.one(raw)
    except ConversionError as exc:
        return ("rejected", str(exc))


def _random_value(rng: random.Random) -> str:
    return "".join(rng.choices(PIECES, k=rng.randint(0, 3)))


@pytest.mark.parametrize("sql_type", TYPES)
def test_compiled_converters_agree_with_the_reference(sql_type: str) -> None:
    rng = random.Random(sql_type)
    for _ in range(300):
        rules = tuple(rng.sample(RULES, rng.randint(0, 3)))
        col = ColumnConfig("c", sql_type, "c", nullable=rng.random() < 0.5, clean=rules)
        column = Column.of(col)
        values = [_random_value(rng) for _ in range(rng.randint(1, 6))]
        if rng.random() < 0.5:  # batches of well-formed values exercise the fast paths
            values = [rng.choice(["12", "-7", "0.5", "2022-12-18", "true", "ab"])] * len(values)
        expected = [_reference(col, v) for v in values]
        assert [_one(column, v) for v in values] == expected, (col, values)
        for edge in EDGES:
            assert _one(column, edge) == _reference(col, edge), (col, edge)
            batch = column.many([edge, edge]) if edge is not None else None
            assert batch is None or batch == [_reference(col, edge)] * 2, (col, edge)
        batch = column.many(values)
        if batch is not None:  # the batch path only answers when every value converts
            assert batch == expected, (col, values)
            assert [type(v) for v in batch] == [type(v) for v in expected]


def _config(drop: bool) -> JobConfig:
    columns = [
        {"name": "n", "type": "smallint", "source": "N", "clean": ["strip_footnotes", "thousands"]},
        {"name": "t", "type": "varchar(6)", "source": "T", "clean": ["trim", "empty_as_null"]},
        {"name": "d", "type": "decimal(5,2)", "source": "D", "clean": [], "nullable": False},
        {"name": "b", "type": "boolean", "source": "B", "clean": []},
    ]
    return JobConfig.from_dict(
        {
            "source": {
                "database": "d",
                "table": "t",
                "drop_rows": [{"column": "Y", "values": ["Overall"]}] if drop else [],
            },
            "target": {"schema": "public", "table": "t", "database": "dev", "connection": "c"},
            "columns": columns,
            "load": {"mode": "append", "keys": []},
        }
    )


@pytest.mark.parametrize("drop", [True, False])
def test_map_records_matches_map_record(drop: bool) -> None:
    rng = random.Random(11)
    cells = ["1", "2,000", "[3]5", "x", "", " ab ", "\u2013\u2013\u2013", "1.25", "true", "no"]
    cells += ["Overall", "40000", "-0.5"]
    header = ["Y", "N", "T", "D", "B"]
    for _ in range(200):
        records = [
            [rng.choice(cells) for _ in range(rng.choice([5, 5, 5, 3, 1]))]
            for _ in range(rng.randint(0, 8))
        ]
        one, many = Mapper(_config(drop)), Mapper(_config(drop))
        index = one.index(header)
        rows = [r for r in (one.map_record(index, rec) for rec in records) if r is not None]
        assert many.map_records(many.index(header), records) == rows
        assert many.counts() == one.counts()
        assert many.rejects == one.rejects
        columns = Mapper(_config(drop))
        count, values = columns.map_columns(columns.index(header), records)
        assert count == len(rows)
        assert values == ([list(v) for v in zip(*rows, strict=True)] if rows else values)
        assert columns.counts() == one.counts()


@pytest.mark.parametrize("type_", ["decimal(5,2)", "date", "double precision"])
def test_a_value_holding_a_newline_never_takes_the_batch_path(type_: str) -> None:
    """The batch regex runs over values joined by newlines: a newline inside a value must not
    split it into two values that each match."""
    column = Column.of(ColumnConfig(name="c", type=type_, source="c"))
    good = {"decimal(5,2)": "1.5", "date": "2022-01-01", "double precision": "1.5"}[type_]
    assert column.many([good, good]) is not None
    assert column.many([good, f"{good}\n{good}"]) is None
    assert column.many([f"{good}\n"]) is None
