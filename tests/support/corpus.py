"""The conformance corpus: awkward source values for every type family and cleaning rule, with
the answer of today's Python path (`convert.Column.of(col).one`, the Mapper's converters) as the
oracle. Every engine that runs the compiled expressions (`wcpipe.datamap.expr`) must give the
same value, or reject the same values: tests/test_expr.py (DuckDB, the session's PostgreSQL),
tests/spark/test_expr_spark.py (real Spark).

`run(columns, evaluate)` groups the cases by column and compares; `evaluate(column, raws)`
returns, for each raw value, (value, rejected) from the engine."""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from wcpipe.datamap.config import ColumnConfig
from wcpipe.datamap.convert import Column
from wcpipe.datamap.values import ConversionError

REJECT = "<rejected>"

NUMBERS_AS_TEXT = ["1", "+5", "-0", "0005", " 12 ", "\u00a05\u2007", "1,000", "1_000", ""]
NON_ASCII_DIGITS = ["\u0663", "\uff11\uff12", "\u0661.\u0665", "\u0662\u0660\u0662\u0662-01-01"]
TEXT = [" \u00e9 ", "a\u0301a\u0301"]  # a combining accent: 2 characters, 3 bytes each pair
BOOLEANS = ["true", "TRUE", "T", "yes", "Yes", "1", "0", "no", "false", "F", "y", "on", "tRuE"]
SPACES = [" ", "\u3000", "\t", "\r\n", "\x1c", "\x85", "\u2028", "\ufeff"]


def _c(type_: str, clean: tuple[str, ...] = (), nullable: bool = True, n: int = 0) -> ColumnConfig:
    return ColumnConfig(name=f"c{n}", type=type_, source="raw", nullable=nullable, clean=clean)


# (column, raw values): every value goes through every column listed with it.
_GROUPS: list[tuple[list[ColumnConfig], list[str | None]]] = [
    (
        [
            _c("varchar(64)"),
            _c("varchar(64)", ("strip_footnotes", "thousands")),
            _c("varchar(64)", ("normalize_space", "trim")),
            _c("varchar(64)", ("trim", "normalize_space", "empty_as_null")),
            _c("varchar(64)", ("empty_as_null",), nullable=False),
            _c("varchar(64)", ("strip_footnotes", "trim", "thousands", "empty_as_null")),
        ],
        [
            "173,850[86]",
            "South Korea\u00a0Japan",
            " a\u2007b\u202fc ",
            "\u3000x\u3000",
            "x\x1c",
            "[a]b[12345][Z]",
            "[\u0663]",
            "[]x[1]",
            "",
            None,
            "   ",
            "line1\nline2",
            "\ufeffBOM",
            "a\r\n",
            "1,234,567.89",
            "12,34",
            " -1,000 ",
            "1,000,00",
            "6\u20131",
            "caf\u00e9",
            *SPACES,
        ],
    ),
    (
        [_c("varchar(4)"), _c("char(5)"), _c("varchar(4)", ("trim",))],
        [
            "abcd",
            "abcde",
            "\u00e9\u00e9",
            "\u00e9\u00e9\u00e9",
            "\u20ac\u20ac",
            "\U0001f600",
            *TEXT,
        ],
    ),
    (
        [
            _c("smallint"),
            _c("smallint", ("thousands",)),
            _c("smallint", nullable=False),
            _c("integer", ("strip_footnotes", "thousands")),
            _c("bigint"),
        ],
        [
            *NUMBERS_AS_TEXT,
            *NON_ASCII_DIGITS,
            *SPACES,
            None,
            "32767",
            "32768",
            "-32768",
            "-32769",
            "2147483647",
            "2147483648",
            "9223372036854775807",
            "9223372036854775808",
            "-9223372036854775809",
            "1" * 30,
            "1.0",
            "1e3",
            "0x1F",
            "1 000",
            "++1",
            "173,850[86]",
            "12[a]",
        ],
    ),
    (
        [_c("decimal(5,2)"), _c("decimal(3,3)"), _c("decimal(38,10)"), _c("decimal(4,0)")],
        [
            *NUMBERS_AS_TEXT,
            *NON_ASCII_DIGITS,
            None,
            "123.45",
            "123.456",
            "1234.5",
            "-0.5",
            ".5",
            "5.",
            "+.5",
            "-.",
            ".",
            "0000123.45",
            "0" * 50 + "1",
            "1e2",
            "NaN",
            "Infinity",
            "999.99",
            "-999.99",
            "1000",
            ".123",
            "0.1234",
            "1" * 28 + "." + "1" * 10,
            "1" * 29,
        ],
    ),
    (
        [_c("real"), _c("double precision"), _c("float8", nullable=False)],
        [
            *NUMBERS_AS_TEXT,
            *NON_ASCII_DIGITS,
            None,
            "1.5",
            "-1e10",
            "1E+2",
            "3.4e38",
            "3.5e38",
            "1e39",
            "1e308",
            "1.7976931348623157e308",
            "1e309",
            "-1e309",
            "1e-400",
            "-1e-400",
            "4.9e-324",
            "NaN",
            "inf",
            "Infinity",
            ".5",
            "5.",
            "1.5d",
            "0x1p3",
            "1e",
            "e5",
        ],
    ),
    (
        [_c("boolean"), _c("bool", nullable=False)],
        [*BOOLEANS, "", " true ", None, "\u0661", "\u212a"],
    ),
    (
        [_c("date")],
        [
            "2022-12-18",
            "2022-02-29",
            "2024-02-29",
            "1900-02-29",
            "2000-02-29",
            "0000-01-01",
            "0001-01-01",
            "9999-12-31",
            "2022-1-1",
            "20221218",
            "2022-12-18T00:00",
            "2022-13-01",
            "2022-12-32",
            " 2022-12-18 ",
            "",
            None,
            *NON_ASCII_DIGITS,
        ],
    ),
    (
        [_c("timestamp"), _c("timestamptz")],
        [
            "2022-12-18 10:00",
            "2022-12-18T10:00:00Z",
            "2022-12-18T10:00:00+01:00",
            "2022-12-18T10:00:00-0130",
            "2022-12-18 10:00:00.5",
            "2022-12-18 10:00:00.123456",
            "2022-12-18 10:00:00.1234567",
            "2022-12-18 24:00",
            "2022-12-18 23:59:60",
            "2022-12-18 23:60",
            "2022-12-18 10:00+24:00",
            "2022-12-18 10:00+23:59",
            "2022-12-18 10:00+01:60",
            "2022-12-18",
            "2022-12-18+01:00",
            "2022-12-31T23:30-01:00",
            "2024-02-29T12:00Z",
            "2023-02-29T12:00Z",
            "0000-01-01 00:00",
            "2022-12-18 10",
            "2022-12-18T10:00:00.Z",
            "",
            None,
        ],
    ),
]


@dataclass(frozen=True)
class Group:
    column: ColumnConfig
    raws: tuple[str | None, ...]


def groups() -> list[Group]:
    out = []
    for columns, raws in _GROUPS:
        out += [Group(column, tuple(raws)) for column in columns]
    return out


def oracle(column: ColumnConfig, raw: str | None) -> object:
    """Today's Python answer: the Mapper's converter (fast paths and the reference behind them)."""
    try:
        return normalised(column, Column.of(column).one(raw))
    except ConversionError:
        return REJECT


def normalised(column: ColumnConfig, value: object) -> object:
    """One comparable form across engines: decimals by value, `real` as float4 (the engines give
    the double the writer narrows), timestamps as UTC wall-clock time."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return value.normalize() if value else Decimal(0)
    if isinstance(value, float) and column.family == "real":
        return struct.unpack("f", struct.pack("f", value))[0]
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


Evaluate = Callable[[ColumnConfig, Sequence[str | None]], Sequence[tuple[object, bool]]]


def differences(evaluate: Evaluate) -> list[str]:
    """Every (column, raw) where the engine and the oracle disagree, spelt out."""
    found = []
    for group in groups():
        results = evaluate(group.column, group.raws)
        assert len(results) == len(group.raws), group
        for raw, (value, rejected) in zip(group.raws, results, strict=True):
            got = REJECT if rejected else normalised(group.column, value)
            want = oracle(group.column, raw)
            if got != want or type(got) is not type(want):
                found.append(
                    f"{group.column.type} {list(group.column.clean)} "
                    f"{'NULL' if group.column.nullable else 'NOT NULL'} {raw!r}: "
                    f"engine {got!r}, Python {want!r}"
                )
    return found


def size() -> int:
    return sum(len(g.raws) for g in groups())
