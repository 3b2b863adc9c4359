"""One value, from source text to a column's Python value: the cleaning rules, the Redshift types
a spec may declare (`SqlType`) and the conversion by type family. This is the reference that
`wcpipe.datamap.convert` compiles per column and `wcpipe.datamap.transform.Mapper` applies to
records.

Contract:
- Standard library only: this module ships to AWS Glue in `wcpipe_lib.zip` with `transform`.
- `clean(value, rules)` runs the rules in the order given: trim, normalize_space (NBSP U+00A0,
  U+2007, U+202F, every other Unicode space and ASCII whitespace become one ' ', runs collapsed),
  strip_footnotes ("[86]", "[a]"), thousands ("173,850" -> "173850", only when the value is a
  well-formed thousands-grouped number), empty_as_null. None stays None.
- `convert(value, sql)` converts by type family; ints are range-checked, decimals precision- and
  scale-checked (too many decimal places is a reject, not a rounding), varchar/char lengths
  count UTF-8 BYTES as Redshift does (an en dash is three). Non-text values ignore surrounding
  whitespace; an empty one is NULL. A text value stays '' unless empty_as_null.
- A value that cannot be converted is NEVER turned into NULL: `convert` raises ConversionError,
  whose message says why (the caller rejects the row).
- `SqlType.parse` accepts exactly the types in `_TYPES` (spec.type_family reads them through it)
  and raises ValueError for anything else.

The FIFA file (config/pipeline.yaml) shows why the rules exist:
- 1950's highest attendance reads "173,850[86]": [strip_footnotes, thousands] make it 173850;
- "South Korea<NBSP>Japan": normalize_space makes it "South Korea Japan";
- scores use en dashes ("6\u20131"), kept as written: the varchar sizes are in bytes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

RULES = ("trim", "normalize_space", "strip_footnotes", "thousands", "empty_as_null")
INT_RANGES = {"smallint": 2**15, "integer": 2**31, "bigint": 2**63}
TEXT_FAMILIES = frozenset({"varchar", "char"})

# The Redshift types a spec may declare (spec.type_family reads them through SqlType.parse).
_TYPES: dict[str, str] = {
    "smallint": r"smallint|int2",
    "integer": r"integer|int|int4",
    "bigint": r"bigint|int8",
    "decimal": r"(?:decimal|numeric)\((\d{1,2})(?:,\s*(\d{1,2}))?\)",
    "real": r"real|float4",
    "double": r"double precision|float8|float",
    "boolean": r"boolean|bool",
    "date": r"date",
    "timestamp": r"timestamp|timestamptz|timestamp with time zone|timestamp without time zone",
    "varchar": r"(?:varchar|character varying)\((\d{1,5}|max)\)",
    "char": r"(?:char|character)\((\d{1,4})\)",
}

# The patterns and table below are shared with wcpipe.datamap.convert, whose fast paths reproduce
# them.
SPACES = re.compile(r"\s+")  # str patterns: \s covers NBSP, U+2007, U+202F and all of Zs
# Digits are ASCII (re.ASCII): what every engine's cast reads. Python's \d and int() also take
# other decimal digits ('\u0663', fullwidth '\uff15'), which Spark, PostgreSQL and DuckDB refuse.
FOOTNOTE = re.compile(r"\[(?:\d{1,4}|[A-Za-z])\]", re.ASCII)
THOUSANDS = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?", re.ASCII)
_INT = re.compile(r"[+-]?\d+", re.ASCII)
_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)", re.ASCII)
_FLOAT = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
# ISO 8601 as YYYY-MM-DD[( |T)HH:MM[:SS[.ffffff]][Z|+HH:MM|+HHMM]], parsed field by field: the
# Glue 4.0 runtime is Python 3.10, whose datetime.fromisoformat refuses "Z", "+0100" and fractions
# of other than 3 or 6 digits, all of which 3.11 accepts (tests/test_glue_python.py runs this on
# every Glue version's Python). An offset needs a time: "2022-12-18+01:00" is refused, where
# fromisoformat would read "+" as the separator and "01:00" as the time.
_TIMESTAMP = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})"
    r"(?:[T ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{1,6}))?)?"
    r"(?:(Z)|([+-])([0-9]{2}):?([0-5][0-9]))?)?"
)
# datetime.UTC is Python 3.11+ (ruff's UP017 asks for it: its target is the CLI's Python);
# this module runs on Glue 4.0's Python 3.10 too.
_UTC = timezone.utc  # not datetime.UTC: Glue 4.0 runs Python 3.10
BOOLEANS = {"true": True, "t": True, "yes": True, "1": True}
BOOLEANS |= {"false": False, "f": False, "no": False, "0": False}
REAL_MAX = 3.4028235e38
# Redshift's DECIMAL: "The maximum precision is 38", "The maximum scale is 37", the scale at most
# the precision (Amazon Redshift Database Developer Guide, "Numeric types"). Spark's DecimalType
# and DuckDB's DECIMAL stop at 38 too, so a wider one would not compile for them either.
DECIMAL_MAX_PRECISION = 38


class DecimalRangeError(ValueError):
    """A DECIMAL whose precision or scale Redshift does not take (see DECIMAL_MAX_PRECISION)."""


class ConversionError(ValueError):
    """A value that does not fit its column; the message says why."""


@dataclass(frozen=True)
class SqlType:
    family: str
    precision: int = 0  # decimal(p, s)
    scale: int = 0
    length: int = 0  # varchar(n)/char(n), in bytes
    with_zone: bool = False  # timestamptz

    @classmethod
    def parse(cls, sql_type: str) -> SqlType:
        t = " ".join(sql_type.lower().split())
        for family, pattern in _TYPES.items():
            m = re.fullmatch(pattern, t)
            if not m:
                continue
            if family == "decimal":
                precision, scale = int(m[1]), int(m[2] or 0)
                if not 1 <= precision <= DECIMAL_MAX_PRECISION or scale > min(precision, 37):
                    raise DecimalRangeError(
                        f"{sql_type!r}: Redshift's DECIMAL takes a precision of 1 to "
                        f"{DECIMAL_MAX_PRECISION} and a scale of at most 37 and the precision"
                    )
                return cls(family, precision=precision, scale=scale)
            if family in TEXT_FAMILIES:
                return cls(family, length=65535 if m[1] == "max" else int(m[1]))
            return cls(family, with_zone=t in {"timestamptz", "timestamp with time zone"})
        raise ValueError(f"{sql_type!r} is not a supported Redshift type")


# ---------------------------------------------------------------------------------------------
# Cleaning and conversion of one value.


def clean(value: str | None, rules: Iterable[str]) -> str | None:
    """Apply the cleaning rules in order; None stays None."""
    for rule in rules:
        if value is None:
            return None
        if rule == "trim":
            value = value.strip()
        elif rule == "normalize_space":
            value = SPACES.sub(" ", value)
        elif rule == "strip_footnotes":
            value = FOOTNOTE.sub("", value)
        elif rule == "thousands":
            if THOUSANDS.fullmatch(value.strip()):
                value = value.replace(",", "")
        elif rule == "empty_as_null":
            value = value or None
        else:
            raise ValueError(f"unknown cleaning rule {rule!r}")
    return value


def convert(value: str | None, sql: SqlType) -> object:
    """The Python value for a column of type `sql`, or raise ConversionError."""
    if value is None:
        return None
    if sql.family in TEXT_FAMILIES:
        size = len(value.encode("utf-8"))
        if size > sql.length:
            raise ConversionError(f"{size} bytes (UTF-8) exceed {sql.family}({sql.length})")
        return value
    v = value.strip()
    if not v:
        return None
    return _CONVERTERS[sql.family](v, sql)


def _to_int(v: str, sql: SqlType) -> int:
    if not _INT.fullmatch(v):
        raise ConversionError(f"not an integer: {v!r}")
    n = int(v)
    bound = INT_RANGES[sql.family]
    if not -bound <= n < bound:
        raise ConversionError(f"{n} is out of range for {sql.family}")
    return n


def _to_decimal(v: str, sql: SqlType) -> Decimal:
    if not _DECIMAL.fullmatch(v):
        raise ConversionError(f"not a decimal number: {v!r}")
    whole, _, fraction = v.lstrip("+-").partition(".")
    if len(fraction) > sql.scale:
        raise ConversionError(f"{v!r} has more than {sql.scale} decimal places")
    if len(whole.lstrip("0")) > sql.precision - sql.scale:
        raise ConversionError(f"{v!r} exceeds decimal({sql.precision},{sql.scale})")
    return Decimal(v)  # the pattern excludes NaN, Infinity and exponents


def _to_float(v: str, sql: SqlType) -> float:
    if not _FLOAT.fullmatch(v):
        raise ConversionError(f"not a number: {v!r}")
    x = float(v)
    limit = REAL_MAX if sql.family == "real" else float("inf")
    if not abs(x) < limit or x != x:
        raise ConversionError(f"{v!r} is out of range for {sql.family}")
    return x


def _to_bool(v: str, sql: SqlType) -> bool:
    try:
        return BOOLEANS[v.lower()]
    except KeyError:
        raise ConversionError(f"not a boolean: {v!r}") from None


def _to_date(v: str, sql: SqlType) -> date:
    try:
        return date.fromisoformat(v if _DATE.fullmatch(v) else "")
    except ValueError:
        raise ConversionError(f"not an ISO date (YYYY-MM-DD): {v!r}") from None


def _to_timestamp(v: str, sql: SqlType) -> datetime:
    m = _TIMESTAMP.fullmatch(v)
    try:
        if m is None:
            raise ValueError(v)
        year, month, day, hour, minute, second, fraction, z, sign, off_h, off_m = m.groups()
        zone = None
        if z:
            zone = _UTC
        elif sign:
            offset = timedelta(hours=int(off_h), minutes=int(off_m))
            zone = timezone(-offset if sign == "-" else offset)  # refuses 24:00 and beyond
        ts = datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            int((fraction or "0").ljust(6, "0")),
            tzinfo=zone,
        )
    except ValueError:
        raise ConversionError(f"not an ISO timestamp: {v!r}") from None
    if ts.tzinfo is not None and not sql.with_zone:
        # A plain timestamp column holds UTC wall-clock time, as Redshift's COPY stores it.
        ts = ts.astimezone(_UTC).replace(tzinfo=None)
    return ts


_CONVERTERS = {"smallint": _to_int, "integer": _to_int, "bigint": _to_int, "decimal": _to_decimal}
_CONVERTERS |= {"real": _to_float, "double": _to_float, "boolean": _to_bool}
_CONVERTERS |= {"date": _to_date, "timestamp": _to_timestamp}
