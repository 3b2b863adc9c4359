"""Type inference over CSV values: what Glue's crawler will see, and what Redshift type fits.

One classification of values serves both `wcpipe init` (which proposes Redshift types and cleaning
rules) and the sandbox's crawler (which catalogs Glue types the way the built-in CSV classifier
does), so what `init` proposes is what the crawler will see.

Contract: pure functions and small accumulators over strings; no IO, standard library only.
- `infer_glue_type(values)` -> one of `boolean`, `bigint`, `double`, `string` (the built-in CSV
  classifier's vocabulary: a column is typed only if every non-empty value fits; else `string`).
- `ColumnProfile` accumulates one column's values in constant memory; `propose(profile)` turns it
  into a Redshift type, nullability and suggested cleaning rules, each with a reason.
- `sniff(sample)` detects encoding, BOM, line endings, delimiter, quote and header.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

# The patterns of the cleaning rules this module proposes: a proposal matches what the rule does.
from wcpipe.datamap.values import FOOTNOTE, THOUSANDS

_INT = re.compile(r"[+-]?\d+")
_DEC = re.compile(r"[+-]?(\d+\.\d*|\.\d+|\d+)")
_FLOAT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_BOOL = {"true", "false"}
_ODD_SPACE = re.compile(r"[\u00a0\u2000-\u200b\u202f\u205f\u3000]")
TOTAL_WORDS = frozenset({"overall", "total", "totals", "grand total", "sum", "all"})


def _is_int(v: str) -> bool:
    return bool(_INT.fullmatch(v))


def _is_double(v: str) -> bool:
    return bool(_FLOAT.fullmatch(v))


def glue_type_of(value: str) -> str:
    """The narrowest Glue type one non-empty value fits."""
    v = value.strip()
    if v.lower() in _BOOL:
        return "boolean"
    if _is_int(v) and -(2**63) <= int(v) < 2**63:
        return "bigint"
    if _is_double(v):
        return "double"
    return "string"


_GLUE_ORDER = {"boolean": 0, "bigint": 1, "double": 2, "string": 3}


def widen(a: str | None, b: str) -> str:
    """The Glue type that holds both: bigint+double = double; boolean with a number = string."""
    if a is None or a == b:
        return b
    if {a, b} == {"bigint", "double"}:
        return "double"
    return "string"


def infer_glue_type(values: Iterable[str]) -> str:
    """The crawler's type for a column: every non-empty value must fit; all empty -> string."""
    current: str | None = None
    for v in values:
        if v.strip() == "":
            continue
        current = widen(current, glue_type_of(v))
        if current == "string":
            return "string"
    return current or "string"


def glue_header_names(header: list[str]) -> list[str]:
    """Catalog column names as the crawler writes them: Glue's naming, lower-cased."""
    from wcpipe.authoring.csvio import glue_names

    return [n.lower() for n in glue_names(header)]


def sql_name(source: str, position: int, taken: set[str]) -> str:
    """A safe Redshift column name for a source header (lower-case, [a-z0-9_], unique)."""
    name = re.sub(r"[^a-z0-9]+", "_", source.strip().lower()).strip("_")
    if not name:
        name = f"col{position}"
    if name[0].isdigit():
        name = f"c_{name}"
    from wcpipe.spec.model import RESERVED_WORDS

    if name in RESERVED_WORDS:
        name = f"{name}_"
    base, n = name[:120], 1
    while name in taken:
        n += 1
        name = f"{base}_{n}"
    taken.add(name)
    return name


def _parses(v: str, kind: str) -> bool:
    try:
        if kind == "date":
            date.fromisoformat(v)
        else:
            datetime.fromisoformat(v)
        return True
    except ValueError:
        return False


@dataclass
class ColumnProfile:
    """One column's values, summarised in constant memory."""

    source: str
    count: int = 0
    empty: int = 0
    max_bytes: int = 0
    odd_spaces: int = 0
    padded: int = 0
    kinds: dict[str, int] = field(default_factory=dict)
    int_min: int = 0
    int_max: int = 0
    scale: int = 0
    digits: int = 0
    cleaned: dict[str, int] = field(default_factory=dict)  # rule -> values it rescues
    samples: dict[str, str] = field(default_factory=dict)  # rule -> an example value

    def add(self, value: str) -> None:
        self.count += 1
        self.max_bytes = max(self.max_bytes, len(value.encode("utf-8")))
        if _ODD_SPACE.search(value):
            self.odd_spaces += 1
        if value != value.strip():
            self.padded += 1
        v = _ODD_SPACE.sub(" ", value).strip()
        if v == "":
            self.empty += 1
            return
        kind, rescued_by = self._kind(v)
        self.kinds[kind] = self.kinds.get(kind, 0) + 1
        for rule in rescued_by:
            self.cleaned[rule] = self.cleaned.get(rule, 0) + 1
            self.samples.setdefault(rule, value)

    def _kind(self, v: str) -> tuple[str, tuple[str, ...]]:
        rules: tuple[str, ...] = ()
        if FOOTNOTE.search(v):
            stripped = FOOTNOTE.sub("", v).strip()
            if stripped and _number_kind(stripped.replace(",", "")) != "text":
                v, rules = stripped, ("strip_footnotes",)
        if THOUSANDS.fullmatch(v):
            v, rules = v.replace(",", ""), (*rules, "thousands")
        kind = _number_kind(v)
        if kind == "int":
            n = int(v)
            if not self.kinds.get("int") and not self.kinds.get("decimal"):
                self.int_min = self.int_max = n
            self.int_min, self.int_max = min(self.int_min, n), max(self.int_max, n)
            self.digits = max(self.digits, len(v.lstrip("+-")))
        elif kind == "decimal":
            whole, _, frac = v.lstrip("+-").partition(".")
            self.scale = max(self.scale, len(frac))
            self.digits = max(self.digits, len(whole.lstrip("0") or "0"))
        elif kind == "text":
            if v.lower() in _BOOL | {"t", "f", "yes", "no"}:
                return "boolean", ()
            if _parses(v, "date") and len(v) == 10:
                return "date", ()
            if _parses(v, "timestamp"):
                return "timestamp", ()
            return "text", ()
        return kind, rules


def _number_kind(v: str) -> str:
    if _INT.fullmatch(v):
        return "int"
    if _DEC.fullmatch(v):
        try:
            Decimal(v)
            return "decimal"
        except InvalidOperation:
            return "text"
    return "text"


@dataclass(frozen=True)
class Proposal:
    type: str
    nullable: bool
    clean: tuple[str, ...]
    reasons: tuple[str, ...]


# Headroom: a sample shows a handful of rows, and next month's data may not fit the narrowest
# type that holds them. Integers get room for HEADROOM times the largest magnitude seen (so never
# smallint: 32,767 is close to many counts and years), decimals DECIMAL_HEADROOM_DIGITS more
# whole digits within Redshift's precision of 38 (Amazon Redshift Database Developer Guide,
# "Numeric types": DECIMAL precision up to 38), text twice the longest value, rounded up to a
# power of two and at least VARCHAR_MIN (VARCHAR holds up to 65,535 bytes, "Character types").
HEADROOM = 10
DECIMAL_HEADROOM_DIGITS = 3
VARCHAR_MIN = 32
VARCHAR_MAX = 65535
MAX_DECIMAL_PRECISION = 38


def varchar_size(max_bytes: int) -> int:
    """Headroom: the next power of two at or above twice the longest value, at least VARCHAR_MIN
    (at most VARCHAR_MAX)."""
    size = VARCHAR_MIN
    while size < 2 * max_bytes:
        size *= 2
    return min(size, VARCHAR_MAX)


def integer_type(lo: int, hi: int) -> str:
    """The narrowest of integer, bigint, decimal(38,0) that holds HEADROOM times the values."""
    room = HEADROOM * max(abs(lo), abs(hi))
    if room < 2**31:
        return "integer"
    if room < 2**63:
        return "bigint"
    return f"decimal({MAX_DECIMAL_PRECISION},0)"


def _numeric(p: ColumnProfile, kinds: set[str]) -> tuple[str, str]:
    """(type, what was seen and why the type is wider)."""
    seen = p.count - p.empty
    if kinds == {"int"}:
        sql = integer_type(p.int_min, p.int_max)
        return sql, (
            f"{sql}: {seen} value(s) from {p.int_min} to {p.int_max}; room for {HEADROOM}x "
            "the largest, as a sample is not all the data"
        )
    whole = p.digits
    precision = min(MAX_DECIMAL_PRECISION, whole + DECIMAL_HEADROOM_DIGITS + p.scale)
    precision = max(precision, p.scale + 1)
    sql = f"decimal({precision},{p.scale})"
    return sql, (
        f"{sql}: {seen} value(s), up to {whole} whole digit(s) and {p.scale} decimal place(s); "
        f"{DECIMAL_HEADROOM_DIGITS} more whole digits of room"
    )


def propose(p: ColumnProfile) -> Proposal:
    """The Redshift type, nullability and cleaning rules a column needs, with reasons (what was
    seen, and the headroom left above it)."""
    kinds = {k for k, n in p.kinds.items() if n}
    clean: list[str] = []
    reasons: list[str] = []
    nullable = p.empty > 0 or p.count == 0
    if kinds and kinds <= {"int", "decimal"}:
        for rule in ("strip_footnotes", "thousands"):
            if p.cleaned.get(rule):
                clean.append(rule)
                reasons.append(f"{rule}: {p.cleaned[rule]} value(s) like {p.samples[rule]!r}")
        sql, why = _numeric(p, kinds)
        return Proposal(sql, nullable, tuple(clean), (*reasons, why))
    if kinds == {"boolean"}:
        return Proposal("boolean", nullable, (), ())
    if kinds == {"date"}:
        return Proposal("date", nullable, (), ())
    if kinds and kinds <= {"date", "timestamp"}:
        return Proposal("timestamp", nullable, (), ())
    if p.odd_spaces or p.padded:
        clean += ["normalize_space", "trim"]
        reasons.append(
            f"normalize_space, trim: {p.odd_spaces} value(s) with non-breaking or other Unicode "
            f"spaces, {p.padded} with leading/trailing spaces"
        )
    if nullable:
        clean.append("empty_as_null")
        reasons.append(f"empty_as_null: {p.empty} empty value(s) load as NULL, not ''")
    size = varchar_size(p.max_bytes)
    reasons.append(
        f"varchar({size}): longest value {p.max_bytes} bytes in UTF-8; room for twice that"
    )
    return Proposal(f"varchar({size})", nullable, tuple(clean), tuple(reasons))


def is_total_label(value: str) -> bool:
    return _ODD_SPACE.sub(" ", value).strip().lower() in TOTAL_WORDS


# -- dialect -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Detected:
    encoding: str
    bom: bool
    line_ending: str
    delimiter: str
    quote: str
    header: bool


def sniff(sample: bytes) -> Detected:
    """Detect how a CSV sample is written. A UTF-8 BOM means utf-8; undecodable UTF-8 falls
    back to cp1252 (the usual spreadsheet export)."""
    bom = sample.startswith(b"\xef\xbb\xbf")
    body = sample[3:] if bom else sample
    try:
        text = body.decode("utf-8")
        encoding = "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(body) - 3:  # a multi-byte character cut by the sample's end
            text = body[: exc.start].decode("utf-8")
            encoding = "utf-8"
        else:
            text, encoding = body.decode("cp1252", errors="replace"), "cp1252"
    line_ending = "\r\n" if "\r\n" in text else "\n"
    lines = text.splitlines()
    head = "\n".join(lines[:50])
    try:
        d = csv.Sniffer().sniff(head, delimiters=",;\t|")
        delimiter, quote = d.delimiter, d.quotechar or '"'
    except csv.Error:
        counts = {c: head.count(c) for c in ",;\t|"}
        delimiter, quote = max(counts, key=lambda c: counts[c]), '"'
    header = _has_header(text, delimiter, quote)
    return Detected(encoding, bom, line_ending, delimiter, quote, header)


def _has_header(text: str, delimiter: str, quote: str) -> bool:
    """A header row is one whose values are not of the type their column has below, or, when
    every column is text, a row whose values all differ from every later value in the column
    (Glue's built-in classifier cannot decide that case, which is why wcpipe declares it)."""
    rows = list(csv.reader(text.splitlines()[:200], delimiter=delimiter, quotechar=quote))
    rows = [r for r in rows if r]
    if len(rows) < 2:
        return False
    first, rest = rows[0], rows[1:]
    typed = typed_mismatch = 0
    for i, name in enumerate(first):
        column = [r[i] for r in rest if i < len(r)]
        t = infer_glue_type(column)
        if t != "string":
            typed += 1
            if name.strip() == "" or widen(glue_type_of(name), t) != t:
                typed_mismatch += 1
    if typed:
        return typed_mismatch > 0
    return all(
        name.strip() and all(name != r[i] for r in rest if i < len(r))
        for i, name in enumerate(first)
    )
