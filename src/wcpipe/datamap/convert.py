"""Each column's cleaning and conversion compiled once, for one value and for a batch of values:
the speed of `transform.Mapper`, with the semantics of `values.clean` + `values.convert`.

Contract:
- Standard library only at module level (ships to AWS Glue in `wcpipe_lib.zip`, with transform).
- `Column.of(col)` gives `one(raw)` -> value (or ConversionError) and `many(raws)` -> values, or
  None when the batch fast path does not apply (then the caller maps each value with `one`).
  `raw` is the source text; None means absent and is taken as '' (as `Mapper` always has).
- `reasons(col, samples)`: why each of a few values an engine rejected is rejected, in the
  reference's words ((value, reason) pairs, for `Rejects.add_counted`).
- The reference is `values.clean`, then `values.convert`, then NULL in a NOT NULL column
  is a reject. Every fast path accepts only what the reference converts to the same value, and
  anything else goes to the reference itself, so the reasons and rejects are the reference's:
  * a value the fast paths accept is non-empty, without commas, brackets or inner spaces, so
    every cleaning rule leaves its meaning unchanged; ints go through int() (which ignores
    surrounding whitespace, as the reference's strip does; "1_000" is sent to the reference);
    decimals, floats and dates must match an ASCII pattern first (one that for decimals also
    encodes precision and scale); booleans are looked up as written;
  * text is accepted when it fits by length alone (at most 4 bytes a character) or is ASCII.
  tests/test_convert.py compares fast and reference paths on random values.
- `many` works column-wise with C-level map() calls: the rules by batch ("[" or "," absent in
  the whole batch skips strip_footnotes or thousands), then the conversion of the whole batch;
  decimals, floats and dates are matched by one regex over the batch joined by newlines (and
  the count of newlines proves that no value held one), dates parsed once per distinct value.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from wcpipe.datamap.config import ColumnConfig
from wcpipe.datamap.values import (
    BOOLEANS,
    FOOTNOTE,
    INT_RANGES,
    REAL_MAX,
    SPACES,
    TEXT_FAMILIES,
    THOUSANDS,
    ConversionError,
    clean,
    convert,
)

One = Callable[[str | None], object]
Many = Callable[[list[str]], list[object] | None]

_FLOAT_PATTERN = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
_DATE_PATTERN = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
_FAST_FLOAT = re.compile(_FLOAT_PATTERN).fullmatch
_FAST_DATE = re.compile(_DATE_PATTERN).fullmatch
_FAST_BOOLEANS = {f(k): v for k, v in BOOLEANS.items() for f in (str.lower, str.upper, str.title)}


@dataclass(frozen=True)
class Column:
    """One column's compiled converters (see the module docstring)."""

    name: str
    one: One
    many: Many

    @classmethod
    def of(cls, col: ColumnConfig) -> Column:
        return cls(col.name, column_converter(col), batch_converter(col))


def reasons(col: ColumnConfig, samples: Sequence[str]) -> list[tuple[str, str]]:
    """(value, the reference's reason) for each sample (see the module docstring)."""
    found = []
    for value in samples:
        try:
            Column.of(col).one(value)
            found.append((value, "does not convert"))
        except ConversionError as exc:
            found.append((value, str(exc)))
    return found


# ---------------------------------------------------------------------------------------------
# Cleaning rules as functions.


def _empty_as_null(value: str) -> str | None:
    return value or None


def _strip_footnotes(value: str) -> str:
    return FOOTNOTE.sub("", value) if "[" in value else value


def _thousands(value: str) -> str:
    if "," in value and THOUSANDS.fullmatch(value.strip()):
        return value.replace(",", "")
    return value


_normalize_space = functools.partial(SPACES.sub, " ")
_STEPS: dict[str, Callable[[str], str | None]] = {
    "trim": str.strip,
    "normalize_space": _normalize_space,
    "strip_footnotes": _strip_footnotes,
    "thousands": _thousands,
    "empty_as_null": _empty_as_null,
}


def cleaner(rules: Sequence[str]) -> Callable[[str], str | None] | None:
    """`values.clean(value, rules)` as one function (None when there are no rules)."""
    steps = tuple(_STEPS[rule] for rule in rules)
    if len(steps) <= 1:
        return steps[0] if steps else None

    def cleaned(value: str | None) -> str | None:
        for step in steps:
            if value is None:
                return None
            value = step(value)
        return value

    return cleaned


def _batch_step(rule: str) -> Callable[[list[str]], list[str | None]]:
    if rule == "strip_footnotes":
        strip = functools.partial(FOOTNOTE.sub, "")
        return lambda values: list(map(strip, values)) if "[" in "".join(values) else values  # type: ignore[return-value]
    if rule == "thousands":

        def thousands(values: list[str]) -> list[str]:
            if "," not in "".join(values):
                return values
            return [_thousands(v) if "," in v else v for v in values]

        return thousands  # type: ignore[return-value]
    if rule == "empty_as_null":
        return lambda values: [v or None for v in values] if "" in values else values  # type: ignore[return-value]
    step = _STEPS[rule]
    return lambda values: list(map(step, values))


# ---------------------------------------------------------------------------------------------
# One value.


def _reference(col: ColumnConfig) -> One:
    rules, sql, nullable = col.clean, col.sql, col.nullable

    def reference(raw: str | None) -> object:
        out = convert(clean(raw if raw is not None else "", rules), sql)
        if out is None and not nullable:
            raise ConversionError("NULL in a NOT NULL column")
        return out

    return reference


def column_converter(col: ColumnConfig) -> One:
    """The raw source value (None when absent) -> the column's value, or ConversionError."""
    family, slow = col.sql.family, _reference(col)
    if family in TEXT_FAMILIES:
        return _text_converter(col)
    if family in INT_RANGES:
        bound = INT_RANGES[family]

        def to_int(raw: str | None) -> object:
            try:
                n = int(raw)  # type: ignore[arg-type]  # None: TypeError, the reference
            except (ValueError, TypeError):
                return slow(raw)
            ok = -bound <= n < bound and "_" not in raw and raw.isascii()  # type: ignore[union-attr,operator]
            return n if ok else slow(raw)  # int() takes any Nd digit; the reference ASCII only

        return to_int
    if family in ("real", "double"):
        limit = REAL_MAX if family == "real" else float("inf")

        def to_float(raw: str | None) -> object:
            if raw and _FAST_FLOAT(raw):
                x = float(raw)
                if -limit < x < limit:
                    return x
            return slow(raw)

        return to_float
    if family == "boolean":

        def to_bool(raw: str | None) -> object:
            b = _FAST_BOOLEANS.get(raw)  # type: ignore[arg-type]
            return slow(raw) if b is None else b

        return to_bool
    fast = _fast_parser(col)
    if fast is None:
        return slow
    matches, make = fast

    def matched(raw: str | None) -> object:
        if raw and matches(raw):
            try:
                return make(raw)
            except ValueError:  # date.fromisoformat("2022-02-30"): the reference says why
                pass
        return slow(raw)

    return matched


def _fast_pattern(col: ColumnConfig) -> str | None:
    """The ASCII pattern a decimal or date value must match to take the fast path."""
    if col.sql.family == "decimal":
        whole, scale = col.sql.precision - col.sql.scale, col.sql.scale
        return rf"[+-]?(?=\.?[0-9])0*[0-9]{{0,{whole}}}(?:\.[0-9]{{0,{scale}}})?"
    if col.sql.family == "date":
        return _DATE_PATTERN
    return None


def _fast_parser(
    col: ColumnConfig,
) -> tuple[Callable[[str], object], Callable[[str], object]] | None:
    """(pattern.fullmatch, parse) for decimals and dates; None for timestamps."""
    pattern = _fast_pattern(col)
    if pattern is None:
        return None
    parse = Decimal if col.sql.family == "decimal" else date.fromisoformat
    return re.compile(pattern).fullmatch, parse


def _all_match(pattern: str) -> Callable[[list[str]], bool]:
    """Whether every value (none holding a newline) fully matches `pattern`: one regex over the
    batch joined by newlines instead of one call per value."""
    lines = re.compile(rf"(?:{pattern})(?:\n(?:{pattern}))*").fullmatch

    def all_match(values: list[str]) -> bool:
        joined = "\n".join(values)
        return joined.count("\n") == len(values) - 1 and lines(joined) is not None

    return all_match


def _text_converter(col: ColumnConfig) -> One:
    sql, length, nullable = col.sql, col.sql.length, col.nullable
    quarter = length // 4  # a character is at most 4 bytes in UTF-8
    cleaned = cleaner(col.clean)

    def text(raw: str | None) -> object:
        v = "" if raw is None else raw
        if cleaned is not None:
            v = cleaned(v)  # type: ignore[assignment]
            if v is None:
                if nullable:
                    return None
                raise ConversionError("NULL in a NOT NULL column")
        if len(v) <= quarter or (len(v) <= length and v.isascii()):
            return v
        return convert(v, sql)  # counts the bytes, or says by how many they exceed

    return text


# ---------------------------------------------------------------------------------------------
# A batch of values (None: not on the fast path, map each value with `one`).


def batch_converter(col: ColumnConfig) -> Many:
    steps = tuple(_batch_step(rule) for rule in col.clean)
    convert_all = _batch_family(col)

    def many(values: list[str]) -> list[object] | None:
        if None in values:  # absent values: '' through the reference
            return None
        cleaned: list[str | None] = values  # type: ignore[assignment]
        for step in steps:
            if None in cleaned:  # empty_as_null before another rule: one by one
                return None
            cleaned = step(cleaned)  # type: ignore[arg-type]
        return convert_all(cleaned)

    return many


def _batch_family(col: ColumnConfig) -> Callable[[list[str | None]], list[object] | None]:
    family = col.sql.family
    if family in TEXT_FAMILIES:
        return _batch_text(col)
    if family in INT_RANGES:
        bound = INT_RANGES[family]

        def ints(values: list[str | None]) -> list[object] | None:
            try:
                out = list(map(int, values))  # type: ignore[arg-type]
            except (ValueError, TypeError):
                return None
            joined = "".join(values)  # type: ignore[arg-type]
            if out and (min(out) < -bound or max(out) >= bound or "_" in joined):
                return None
            if not joined.isascii():  # int() takes any Nd digit; the reference ASCII only
                return None
            return out  # type: ignore[return-value]

        return ints
    if family in ("real", "double"):
        limit = REAL_MAX if family == "real" else float("inf")
        all_floats = _all_match(_FLOAT_PATTERN)

        def floats(values: list[str | None]) -> list[object] | None:
            if None in values or not all_floats(values):  # type: ignore[arg-type]
                return None
            out = list(map(float, values))  # type: ignore[arg-type]
            return out if not out or (-limit < min(out) and max(out) < limit) else None  # type: ignore[return-value]

        return floats
    if family == "boolean":

        def bools(values: list[str | None]) -> list[object] | None:
            out = list(map(_FAST_BOOLEANS.get, values))  # type: ignore[arg-type]
            return None if None in out else out  # type: ignore[return-value]

        return bools
    fast, pattern = _fast_parser(col), _fast_pattern(col)
    if fast is None or pattern is None:
        return lambda values: None
    make, all_match = fast[1], _all_match(pattern)
    few = family == "date"  # a batch holds few distinct days: parse each once

    def matching(values: list[str | None]) -> list[object] | None:
        if None in values or not all_match(values):  # type: ignore[arg-type]
            return None
        try:
            if few:
                parsed = {v: make(v) for v in set(values)}  # type: ignore[arg-type]
                return list(map(parsed.__getitem__, values))
            return list(map(make, values))  # type: ignore[arg-type]
        except ValueError:
            return None

    return matching


def _batch_text(col: ColumnConfig) -> Callable[[list[str | None]], list[object] | None]:
    length, quarter, nullable = col.sql.length, col.sql.length // 4, col.nullable

    def texts(values: list[str | None]) -> list[object] | None:
        present: list[str] = values  # type: ignore[assignment]
        if None in values:  # NULL from empty_as_null
            if not nullable:
                return None
            present = [v for v in values if v is not None]
        if max(map(len, present), default=0) <= quarter:
            return values  # type: ignore[return-value]
        longer = [v for v in present if len(v) > quarter]  # may exceed: count their bytes
        if max(map(len, map(str.encode, longer))) <= length:
            return values  # type: ignore[return-value]
        return None

    return texts
