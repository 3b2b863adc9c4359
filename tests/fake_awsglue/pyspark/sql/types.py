"""Spark SQL types, with the value checks Spark's createDataFrame(verifySchema=True) makes."""

from __future__ import annotations

import datetime
import decimal
from typing import Any


class DataType:
    python: tuple[type, ...] = (object,)

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and vars(self) == vars(other)

    def __hash__(self) -> int:
        return hash(type(self))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(map(repr, vars(self).values()))})"


class ShortType(DataType):
    python = (int,)


class IntegerType(DataType):
    python = (int,)


class LongType(DataType):
    python = (int,)


class FloatType(DataType):
    python = (float,)


class DoubleType(DataType):
    python = (float,)


class BooleanType(DataType):
    python = (bool,)


class DateType(DataType):
    python = (datetime.date,)


class TimestampType(DataType):
    python = (datetime.datetime,)


class StringType(DataType):
    python = (str,)


class DecimalType(DataType):
    python = (decimal.Decimal,)

    def __init__(self, precision: int = 10, scale: int = 0) -> None:
        self.precision = precision
        self.scale = scale


class StructField:
    def __init__(self, name: str, dataType: DataType, nullable: bool = True) -> None:
        self.name = name
        self.dataType = dataType
        self.nullable = nullable


class StructType(DataType):
    def __init__(self, fields: list[StructField]) -> None:
        self.fields = list(fields)

    def verify(self, row: tuple[Any, ...]) -> None:
        if len(row) != len(self.fields):
            raise ValueError(f"row has {len(row)} values for {len(self.fields)} fields")
        for f, v in zip(self.fields, row, strict=True):
            if v is None:
                if not f.nullable:
                    raise ValueError(f"field {f.name}: NULL in a non-nullable field")
            elif not isinstance(v, f.dataType.python) or (
                isinstance(v, bool) and not isinstance(f.dataType, BooleanType)
            ):
                raise TypeError(f"field {f.name}: {f.dataType!r} can not accept {v!r}")
