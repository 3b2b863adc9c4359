"""Trino SQL (Athena engine version 3) rewritten as DuckDB SQL, for the handful of functions
that differ between the two: the sandbox's Athena runs queries on DuckDB (`patches/athena_queries`).

Contract:
- `to_duckdb(sql)` returns the statement with these calls rewritten, everything else (spacing,
  literals, identifiers, keywords) as written; a statement it cannot parse (unbalanced
  parentheses) comes back unchanged, for DuckDB to refuse with its own message.
- What differs, and what each becomes (Trino docs, "Regular expression functions", "String
  functions", "Date and time functions"; DuckDB docs, "Regular Expressions", "Text Functions"):
  * REGEXP_LIKE(x, p): Trino's match anywhere in x -> DuckDB's REGEXP_MATCHES(x, p), the same;
  * REGEXP_REPLACE(x, p[, r]): Trino replaces every match, DuckDB only the first without the
    'g' option -> REGEXP_REPLACE(x, p, r, 'g') (r defaults to '' in Trino);
  * REGEXP_EXTRACT(x, p[, g]): Trino's NULL when nothing matches, DuckDB's '' ->
    NULLIF(REGEXP_EXTRACT(x, p, g), '') (an empty group that did match reads NULL too);
  * LENGTH(TO_UTF8(x)), a VARCHAR's bytes -> STRLEN(x); TO_UTF8(x) alone -> ENCODE(x);
  * DATE_ADD('unit', n, ts) -> (ts + TO_<UNIT>S(n)) (DuckDB's DATE_ADD takes an interval);
  * TRIM(BOTH 'chars' FROM x), the same in both, but DuckDB's is ten times slower than a regex
    (`expr.DuckDB.trim`) -> REGEXP_REPLACE of the runs of those characters at either end.
  Both spell SUBSTR with a negative start, TRY_CAST, || and "quoted"
  identifiers alike. A function not listed here reaches DuckDB as written.
- `words(sql)`: the bare words and quoted identifiers, what may name a table.
- Pure text in, text out: no DuckDB, no moto (tests/sandbox/test_trino_sql.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

_TOKEN = re.compile(
    r"'(?:[^']|'')*'"  # a string literal
    r'|"(?:[^"]|"")*"'  # a quoted identifier
    r"|--[^\n]*|/\*.*?\*/"  # comments
    r"|\w+|\s+|.",
    re.DOTALL,
)
_WORD = re.compile(r"\w+")
_UNITS = {"second": "SECONDS", "minute": "MINUTES", "hour": "HOURS", "day": "DAYS"}
_UNITS |= {"week": "WEEKS", "month": "MONTHS", "year": "YEARS"}


@dataclass
class _Call:
    """`name(args...)`, or a bare parenthesis when `name` is empty; args as token sequences."""

    name: str
    gap: str  # what stood between the name and its parenthesis
    args: list[list[_Item]]


_Item = str | _Call


class _Unbalanced(Exception):
    pass


def to_duckdb(sql: str) -> str:
    """The statement with Trino's differing calls rewritten (see the module docstring)."""
    try:
        items, _ = _parse(_TOKEN.findall(sql), 0, inside=False)
    except _Unbalanced:
        return sql
    return _render(items[0])


def _parse(tokens: list[str], i: int, *, inside: bool) -> tuple[list[list[_Item]], int]:
    """Items up to the closing parenthesis (when `inside`), split at the top-level commas."""
    args: list[list[_Item]] = []
    seq: list[_Item] = []
    while i < len(tokens):
        token = tokens[i]
        if token == "(":
            name, gap = _take_name(seq)
            inner, i = _parse(tokens, i + 1, inside=True)
            seq.append(_Call(name, gap, inner))
            continue
        if inside and token in (")", ","):
            args.append(seq)
            if token == ")":
                return args, i + 1
            seq = []
        elif token == ")":
            raise _Unbalanced
        else:
            seq.append(token)
        i += 1
    if inside:
        raise _Unbalanced
    return [seq], i


def _take_name(seq: list[_Item]) -> tuple[str, str]:
    """The word just before a parenthesis (taken off `seq`), and the spacing after it."""
    j = len(seq) - 1
    while j >= 0 and isinstance(seq[j], str) and str(seq[j]).isspace():
        j -= 1
    if j >= 0 and isinstance(seq[j], str) and _WORD.fullmatch(str(seq[j])):
        name, gap = str(seq[j]), "".join(str(t) for t in seq[j + 1 :])
        del seq[j:]
        return name, gap
    return "", ""


def _render(seq: list[_Item]) -> str:
    return "".join(item if isinstance(item, str) else _render_call(item) for item in seq)


def _render_call(call: _Call) -> str:
    rule = _RULES.get(call.name.upper())
    if rule is not None:
        rewritten = rule(call)
        if rewritten is not None:
            return rewritten
    inner = ",".join(_render(arg) for arg in call.args)
    return f"{call.name}{call.gap}({inner})"


def _args(call: _Call) -> list[str]:
    return [_render(arg).strip() for arg in call.args]


def _regexp_like(call: _Call) -> str | None:
    return f"REGEXP_MATCHES({', '.join(_args(call))})" if len(call.args) == 2 else None


def _regexp_replace(call: _Call) -> str | None:
    args = _args(call)
    if len(args) == 2:
        args.append("''")
    return f"REGEXP_REPLACE({', '.join(args)}, 'g')" if len(args) == 3 else None


def _regexp_extract(call: _Call) -> str | None:
    args = _args(call)
    if len(args) == 2:
        args.append("0")
    return f"NULLIF(REGEXP_EXTRACT({', '.join(args)}), '')" if len(args) == 3 else None


def _length(call: _Call) -> str | None:
    if len(call.args) != 1:
        return None
    inner = [item for item in call.args[0] if not (isinstance(item, str) and item.isspace())]
    if len(inner) == 1 and isinstance(inner[0], _Call) and inner[0].name.upper() == "TO_UTF8":
        return f"STRLEN({', '.join(_args(inner[0]))})"
    return None


def _to_utf8(call: _Call) -> str | None:
    return f"ENCODE({', '.join(_args(call))})" if len(call.args) == 1 else None


def _date_add(call: _Call) -> str | None:
    args = _args(call)
    if len(args) != 3 or not args[0].startswith("'"):
        return None
    unit = _UNITS.get(args[0].strip("'").lower())
    return f"({args[2]} + TO_{unit}({args[1]}))" if unit else None


def _trim(call: _Call) -> str | None:
    if len(call.args) != 1:
        return None
    items = [i for i in call.args[0] if not (isinstance(i, str) and i.isspace())]
    if len(items) < 4 or not isinstance(items[1], str) or not items[1].startswith("'"):
        return None
    if str(items[0]).upper() != "BOTH" or str(items[2]).upper() != "FROM":
        return None
    chars = items[1][1:-1].replace("''", "'")
    group = "[" + "".join("\\" + c if c in "\\]^-[" else c for c in chars) + "]"
    x = _render(items[3:]).strip()
    ends = "'" + f"^{group}|{group}$".replace("'", "''") + "'"
    runs = "'" + f"^{group}+|{group}+$".replace("'", "''") + "'"
    stripped = f"REGEXP_REPLACE({x}, {runs}, '', 'g')"
    return f"CASE WHEN REGEXP_MATCHES({x}, {ends}) THEN {stripped} ELSE {x} END"


_RULES: dict[str, Callable[[_Call], str | None]] = {
    "TRIM": _trim,
    "REGEXP_LIKE": _regexp_like,
    "REGEXP_REPLACE": _regexp_replace,
    "REGEXP_EXTRACT": _regexp_extract,
    "LENGTH": _length,
    "TO_UTF8": _to_utf8,
    "DATE_ADD": _date_add,
}


def words(sql: str) -> list[str]:
    """The statement's bare words and quoted identifiers (unquoted), literals and comments
    left out: what may name a table."""
    found = []
    for token in _TOKEN.findall(sql):
        if token.startswith('"'):
            found.append(token[1:-1].replace('""', '"'))
        elif _WORD.fullmatch(token):
            found.append(token)
    return found
