"""The spec's data declaration as one small expression form, compiled to each engine's SQL:
Spark SQL (the Glue job), PostgreSQL (the sandbox's warehouse), DuckDB (the sandbox's engine)
and Trino (Athena engine version 3: verify's source side).

Contract:
- Standard library only (ships to AWS Glue in `wcpipe_lib.zip`, with `values` and `config`).
- `column_exprs(col)` builds a column's expressions as trees of `Node`s (tuples: an operator
  and its operands) from its ColumnConfig: the raw text (absent is ''), then the cleaning rules
  in the spec's order, then the conversion by type family and the reject test. `Dialect.sql`
  renders a tree as one engine's SQL; `compile_job` renders a whole JobConfig.
- Two layers: `text` (the cleaned text, over the source columns) and, over a column holding
  that text, `value` (the target type, NULL when the text does not convert) and `rejected`
  (the text is there but `value` is NULL, or `value` is NULL in a NOT NULL column). A value that
  does not convert is never a silent NULL: `rejected` says so.
- The semantics are `values.clean` + `values.convert` (the reference, now the test oracle),
  value for value: tests/test_expr.py runs tests/support/corpus.py through DuckDB and the
  session's PostgreSQL, tests/spark through real Spark. Each engine's cast is only reached by
  text that already matches the reference's own ASCII pattern (and range guards where a cast
  would round or roll over: decimal places, 24:00, second 60), so what the cast accepts beyond
  that ('1_000' in PostgreSQL 16, ' 5 ' in Spark, 'Infinity') never matters.
- Whitespace is Python's str.isspace() set, spelled out (WHITESPACE): Java's \\s is ASCII only,
  PostgreSQL's depends on the locale, RE2's has no NBSP.

Known differences, refused or documented rather than papered over:
- PostgreSQL's float8 input refuses a value that underflows to zero ('1e-400', ERANGE) where
  Python, Java and DuckDB read 0.0: the PostgreSQL dialect reads such a value as 0 (a value
  with a negative exponent that fails float8 input); a mantissa of more than 308 digits with a
  negative exponent would be misread, and is not a value a CSV of measurements holds.
- `real` converts through double on every engine (the range check is the reference's, on the
  double); the narrowing to float4 is the writer's (Spark's FloatType, Redshift's REAL).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from wcpipe.datamap.config import ColumnConfig, JobConfig
from wcpipe.datamap.values import BOOLEANS, INT_RANGES, REAL_MAX, TEXT_FAMILIES

Node = tuple[Any, ...]

# Every character for which Python's str.isspace() is true (Unicode 15; tests/test_expr.py
# checks the list against the running Python): the set `trim` strips and `normalize_space` folds.
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680"
    "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)
_WS = "[" + WHITESPACE + "]"
_FOOTNOTE = r"\[([0-9]{1,4}|[A-Za-z])\]"
_THOUSANDS = f"^{_WS}*[+-]?[0-9]{{1,3}}(,[0-9]{{3}})+(\\.[0-9]+)?{_WS}*$"
_INT = r"^[+-]?[0-9]+$"
_FLOAT = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$"
_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
# values._TIMESTAMP: groups 1-3 the date, 4-7 the time, 8 the zone ('Z' or the offset, whose
# parts are taken by position: DuckDB's regexp_extract reads groups 0 to 9 only).
_TIMESTAMP = (
    r"^([0-9]{4})-([0-9]{2})-([0-9]{2})"
    r"(?:[T ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{1,6}))?)?"
    r"(Z|[+-][0-9]{2}:?[0-5][0-9])?)?$"
)
TRUE_WORDS = tuple(sorted(k for k, v in BOOLEANS.items() if v))
FALSE_WORDS = tuple(sorted(k for k, v in BOOLEANS.items() if not v))


def decimal_pattern(precision: int, scale: int) -> str:
    """values._to_decimal's test as one regex (no lookahead: RE2 has none): at most
    precision - scale digits before the point once leading zeros go, at most `scale` after."""
    whole = precision - scale
    head = f"0*[0-9]{{1,{whole}}}" if whole else "0+"
    alternatives = [f"{head}(\\.[0-9]{{0,{scale}}})?" if scale else f"{head}\\.?"]
    if scale:
        alternatives.append(f"\\.[0-9]{{1,{scale}}}")
    return "^[+-]?(" + "|".join(alternatives) + ")$"


# ---------------------------------------------------------------------------------------------
# The expression form: each node is (operator, operands...).


def col(name: str) -> Node:
    return ("col", name)


def lit(value: object) -> Node:
    return ("lit", value)


def case(*branches: tuple[Node, Node], default: Node | None = None) -> Node:
    return ("case", branches, default)


def _all(*conditions: Node) -> Node:
    return ("and", conditions)


def clean_text(raw: Node, rules: tuple[str, ...]) -> Node:
    """values.clean(raw or '', rules)."""
    x: Node = ("coalesce", raw, lit(""))
    for rule in rules:
        if rule == "trim":
            x = ("trim_ws", x)
        elif rule == "normalize_space":
            x = ("replace_re", x, _WS + "+", " ")
        elif rule == "strip_footnotes":
            x = ("replace_re", x, _FOOTNOTE, "")
        elif rule == "thousands":
            x = case((("matches", x, _THOUSANDS), ("replace", x, ",", "")), default=x)
        elif rule == "empty_as_null":
            x = ("nullif", x, lit(""))
        else:
            raise ValueError(f"unknown cleaning rule {rule!r}")
    return x


def converted(text: Node, column: ColumnConfig) -> Node:
    """values.convert(text, column.sql) with NULL for what raises ConversionError."""
    sql = column.sql
    if sql.family in TEXT_FAMILIES:
        return case((("le", ("octets", text), lit(sql.length)), text))
    t: Node = ("trim_ws", text)
    family = sql.family
    if family in INT_RANGES:
        return case((("matches", t, _INT), ("try_cast", t, family)))
    if family == "decimal":
        pattern = decimal_pattern(sql.precision, sql.scale)
        cast = ("try_cast", t, ("decimal", sql.precision, sql.scale))
        return case((("matches", t, pattern), cast))
    if family in ("real", "double"):
        x = ("try_cast", t, "double")
        limit = REAL_MAX if family == "real" else float("inf")
        return case((_all(("matches", t, _FLOAT), ("lt", ("abs", x), lit(limit))), x))
    if family == "boolean":
        low: Node = ("lower", t)
        return case((("in", low, TRUE_WORDS), lit(True)), (("in", low, FALSE_WORDS), lit(False)))
    if family == "date":
        ok = _all(("matches", t, _DATE), ("ne", ("substr", t, 1, 4), lit("0000")))
        return case((ok, ("try_cast", t, "date")))
    if family == "timestamp":
        return _timestamp(t)
    raise ValueError(f"no expression for type family {family!r}")


def _timestamp(t: Node) -> Node:
    """values._to_timestamp: the fields rebuilt as 'YYYY-MM-DD HH:MM:SS.f', cast, and the offset
    taken off (UTC wall-clock time, as a plain timestamp column holds it); Python's datetime
    refuses hour 24, second 60 and year 0, which some casts roll over, so they are guarded."""

    def group(i: int, default: str | None = None) -> Node:
        g: Node = ("group", t, _TIMESTAMP, i)
        return ("coalesce", g, lit(default)) if default is not None else g

    def number(i: int) -> Node:
        return ("to_int", group(i, "0"))

    zone: Node = ("coalesce", ("nullif", group(8), lit("Z")), lit("+0000"))
    hours: Node = ("to_int", ("substr", zone, 2, 2))
    minutes: Node = ("plus", ("times", hours, lit(60)), ("to_int", ("right", zone, 2)))

    parts = [group(1), "-", group(2), "-", group(3), " ", group(4, "00"), ":", group(5, "00")]
    parts += [":", group(6, "00"), ".", group(7, "0")]
    text: Node = ("concat", tuple(lit(p) if isinstance(p, str) else p for p in parts))
    offset = case((("eq", ("substr", zone, 1, 1), lit("-")), ("neg", minutes)), default=minutes)
    ok = _all(
        ("matches", t, _TIMESTAMP),
        ("ne", group(1), lit("0000")),
        ("le", number(4), lit(23)),
        ("le", number(5), lit(59)),
        ("le", number(6), lit(59)),
        ("le", hours, lit(23)),
    )
    return case((ok, ("minus_minutes", ("try_cast", text, "timestamp"), offset)))


def rejected(text: Node, value: Node, column: ColumnConfig) -> Node:
    """The text was there (non-text families: non-empty once trimmed) and did not convert, or
    the value is NULL in a NOT NULL column."""
    missing: Node = ("is_null", value)
    if not column.nullable:
        return missing
    if column.sql.family in TEXT_FAMILIES:
        present: Node = ("not_null", text)
    else:
        present = ("ne", ("coalesce", ("trim_ws", text), lit("")), lit(""))
    return _all(present, missing)


@dataclass(frozen=True)
class ColumnExprs:
    name: str
    text: Node  # over the source column
    value: Node  # over a column named `name` that holds `text`
    rejected: Node  # likewise


def column_exprs(column: ColumnConfig, raw: Node | None = None) -> ColumnExprs:
    text = clean_text(raw if raw is not None else col(column.source), column.clean)
    held = col(column.name)
    value = converted(held, column)
    return ColumnExprs(column.name, text, value, rejected(held, value, column))


def dropped(config: JobConfig, sources: Mapping[str, str] | None = None) -> Node:
    """drop_rows: the RAW value (absent is '') is one of the listed ones."""
    tests: list[Node] = []
    for source, values in config.drop_rows:
        raw = col((sources or {}).get(source, source))
        tests.append(("in", ("coalesce", raw, lit("")), tuple(sorted(values))))
    return ("or", tuple(tests)) if tests else lit(False)


# ---------------------------------------------------------------------------------------------
# Dialects.


# Operators whose operands are all nodes, rendered the same in every dialect.
_FORMATS = {"le": "({} <= {})", "lt": "({} < {})", "eq": "({} = {})", "ne": "({} <> {})"}
_FORMATS |= {"plus": "({} + {})", "times": "({} * {})", "neg": "(-{})", "abs": "ABS({})"}
_FORMATS |= {"is_null": "({} IS NULL)", "not_null": "({} IS NOT NULL)", "lower": "LOWER({})"}
_FORMATS |= {
    "coalesce": "COALESCE({}, {})",
    "nullif": "NULLIF({}, {})",
    "to_int": "CAST({} AS INT)",
}


class Dialect:
    """Renders nodes as one engine's SQL. Subclasses say how the engines differ."""

    name = ""
    types = {"smallint": "SMALLINT", "integer": "INT", "bigint": "BIGINT", "double": "DOUBLE"}
    types |= {"date": "DATE", "timestamp": "TIMESTAMP", "boolean": "BOOLEAN"}

    def ident(self, name: str) -> str:
        return '"' + name.replace('"', '""') + '"'

    def string(self, value: str) -> str:
        return "'" + value.replace("'", "''") + "'"

    def type_name(self, t: Any) -> str:
        if isinstance(t, tuple):
            return f"DECIMAL({t[1]},{t[2]})"
        return self.types[t]

    def literal(self, value: object) -> str:
        if value is None:
            return "NULL"
        if isinstance(value, bool):
            return "TRUE" if value else "FALSE"
        if isinstance(value, float):
            return "CAST('Infinity' AS DOUBLE)" if value == float("inf") else repr(value)
        if isinstance(value, int):
            return str(value)
        return self.string(str(value))

    def sql(self, node: Node) -> str:
        op, args = node[0], node[1:]
        if op in _FORMATS:
            return _FORMATS[op].format(*map(self.sql, args))
        s = self.sql
        if op == "col":
            return self.ident(args[0])
        if op == "lit":
            return self.literal(args[0])
        if op == "case":
            body = " ".join(f"WHEN {s(c)} THEN {s(v)}" for c, v in args[0])
            tail = f" ELSE {s(args[1])}" if args[1] is not None else ""
            return f"CASE {body}{tail} END"
        if op in ("and", "or"):
            return "(" + f" {op.upper()} ".join(map(s, args[0])) + ")"
        if op == "concat":
            return "(" + " || ".join(map(s, args[0])) + ")"
        if op == "in":
            return f"({s(args[0])} IN ({', '.join(map(self.string, args[1]))}))"
        if op == "replace":
            return f"REPLACE({s(args[0])}, {self.string(args[1])}, {self.string(args[2])})"
        if op == "substr":  # positions are ints, spelt as they are
            return f"SUBSTR({', '.join([s(args[0]), *map(str, args[1:])])})"
        if op == "right":
            return self.right(s(args[0]), args[1])
        x = s(args[0])
        hooks = {"trim_ws": self.trim, "octets": self.octets}
        if op in hooks:
            return hooks[op](x)
        if op == "replace_re":
            return self.replace_re(x, args[1], args[2])
        if op == "matches":
            return self.matches(x, args[1])
        if op == "group":
            return self.group(x, args[1], args[2])
        if op == "try_cast":
            return self.try_cast(x, args[1])
        if op == "minus_minutes":
            return self.minus_minutes(x, s(args[1]))
        raise ValueError(f"no SQL for operator {op!r}")

    def right(self, x: str, n: int) -> str:
        return f"RIGHT({x}, {n})"

    def trim(self, x: str) -> str:
        return f"TRIM(BOTH {self.string(WHITESPACE)} FROM {x})"

    def replace_re(self, x: str, pattern: str, replacement: str) -> str:
        return f"REGEXP_REPLACE({x}, {self.string(pattern)}, {self.string(replacement)}, 'g')"

    def matches(self, x: str, pattern: str) -> str:
        return f"REGEXP_MATCHES({x}, {self.string(pattern)})"

    def group(self, x: str, pattern: str, i: int) -> str:
        return f"NULLIF(REGEXP_EXTRACT({x}, {self.string(pattern)}, {i}), '')"

    def octets(self, x: str) -> str:
        return f"OCTET_LENGTH({x})"

    def try_cast(self, x: str, t: Any) -> str:
        return f"TRY_CAST({x} AS {self.type_name(t)})"

    def minus_minutes(self, ts: str, minutes: str) -> str:
        raise NotImplementedError


class DuckDB(Dialect):
    """DuckDB: RE2 regexes, TRY_CAST; strlen counts a VARCHAR's UTF-8 bytes. TRIM with a set
    of characters is about ten times slower than a regex in DuckDB 2.0 (7 s against 0.7 s on a
    million values, here): the ends are stripped by REGEXP_REPLACE, only where one is a space."""

    name = "duckdb"

    def trim(self, x: str) -> str:
        ends = self.string(f"^{_WS}|{_WS}$")
        runs = self.string(f"^{_WS}+|{_WS}+$")
        stripped = f"REGEXP_REPLACE({x}, {runs}, '', 'g')"
        return f"CASE WHEN REGEXP_MATCHES({x}, {ends}) THEN {stripped} ELSE {x} END"

    def octets(self, x: str) -> str:
        return f"STRLEN({x})"

    def minus_minutes(self, ts: str, minutes: str) -> str:
        return f"({ts} - TO_MINUTES({minutes}))"


class Spark(Dialect):
    """Spark SQL 3.5 (Glue 5.1), session time zone UTC: Java regexes (REGEXP_REPLACE replaces
    every match), backslash escapes in string literals, TRY_CAST (NULL where CAST fails)."""

    name = "spark"

    def ident(self, name: str) -> str:
        return "`" + name.replace("`", "``") + "`"

    def string(self, value: str) -> str:
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"

    def replace_re(self, x: str, pattern: str, replacement: str) -> str:
        return f"REGEXP_REPLACE({x}, {self.string(pattern)}, {self.string(replacement)})"

    def matches(self, x: str, pattern: str) -> str:
        return f"({x} RLIKE {self.string(pattern)})"

    def minus_minutes(self, ts: str, minutes: str) -> str:
        return f"TIMESTAMPADD(MINUTE, -({minutes}), {ts})"


class Postgres(Dialect):
    """PostgreSQL 16+ (the sandbox's is 18): ARE regexes, pg_input_is_valid for a cast that
    cannot fail (PostgreSQL has no TRY_CAST)."""

    name = "postgres"
    types = {**Dialect.types, "integer": "INTEGER", "double": "DOUBLE PRECISION"}

    def literal(self, value: object) -> str:
        if isinstance(value, float) and value == float("inf"):
            return "CAST('Infinity' AS DOUBLE PRECISION)"
        return super().literal(value)

    def matches(self, x: str, pattern: str) -> str:
        return f"({x} ~ {self.string(pattern)})"

    def group(self, x: str, pattern: str, i: int) -> str:
        return f"(REGEXP_MATCH({x}, {self.string(pattern)}))[{i}]"

    def try_cast(self, x: str, t: Any) -> str:
        name = self.type_name(t)
        valid = f"WHEN PG_INPUT_IS_VALID({x}, {self.string(name)}) THEN CAST({x} AS {name})"
        if t == "double":  # ERANGE on underflow: 0.0, as strtod's result is (module docstring)
            return f"CASE {valid} WHEN {x} ~ '[eE]-' THEN CAST(0 AS DOUBLE PRECISION) END"
        return f"CASE {valid} END"

    def minus_minutes(self, ts: str, minutes: str) -> str:
        return f"({ts} - MAKE_INTERVAL(mins => {minutes}))"


class Trino(Dialect):
    """Trino, as Athena engine version 3 runs it (Trino docs, "Regular expression functions",
    "String functions"): Java regexes; REGEXP_LIKE matches anywhere in the text;
    REGEXP_REPLACE replaces every match; REGEXP_EXTRACT is NULL without a match; TRY_CAST;
    no RIGHT (a reserved word): SUBSTR with a negative start counts from the end; a VARCHAR's
    UTF-8 bytes are LENGTH(TO_UTF8(x)); DATE_ADD(unit, n, ts) moves a timestamp."""

    name = "trino"

    def right(self, x: str, n: int) -> str:
        return f"SUBSTR({x}, -{n})"

    def replace_re(self, x: str, pattern: str, replacement: str) -> str:
        return f"REGEXP_REPLACE({x}, {self.string(pattern)}, {self.string(replacement)})"

    def matches(self, x: str, pattern: str) -> str:
        return f"REGEXP_LIKE({x}, {self.string(pattern)})"

    def octets(self, x: str) -> str:
        return f"LENGTH(TO_UTF8({x}))"

    def minus_minutes(self, ts: str, minutes: str) -> str:
        return f"DATE_ADD('minute', -({minutes}), {ts})"


SPARK, POSTGRES, DUCKDB, TRINO = Spark(), Postgres(), DuckDB(), Trino()


@dataclass(frozen=True)
class CompiledColumn:
    name: str
    text: str
    value: str
    rejected: str


@dataclass(frozen=True)
class CompiledJob:
    columns: tuple[CompiledColumn, ...]
    dropped: str


def compile_job(
    config: JobConfig, dialect: Dialect, sources: Mapping[str, str] | None = None
) -> CompiledJob:
    """Every column's text, value and rejected SQL, and drop_rows' test, in one dialect.
    `sources` maps a spec source name to the engine's column name (default: the same)."""
    names = sources or {}
    columns = []
    for column in config.columns:
        exprs = column_exprs(column, col(names.get(column.source, column.source)))
        columns.append(
            CompiledColumn(
                column.name,
                dialect.sql(exprs.text),
                dialect.sql(exprs.value),
                dialect.sql(exprs.rejected),
            )
        )
    return CompiledJob(tuple(columns), dialect.sql(dropped(config, names)))
