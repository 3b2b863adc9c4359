"""`verify`'s source-side figures as ONE SQL statement, run where the data is (the engine scans;
the client reads one row whatever the size), built from the same compiled expressions as the
job (`wcpipe.datamap.expr`).

Contract:
- Standard library only (it sits in `wcpipe.datamap`, which ships to Glue).
- `figures_sql(config, dialect, relation, sources, order)` reads `relation` (a FROM item: the
  source's raw text columns, named by `sources`, and in merge mode the columns of `order`, which
  sort the records as they were read: object key, then line) and returns one row:
  `read`, `dropped`, `rejected`, `loaded`, `expected_rows`, `duplicate_source_keys`, one
  `n{i}` (values of column i rejected) per column and one `s{i}` (sum of the loaded values)
  per numeric column, as `verify.source_figures` gives them from the Mapper:
  * dropped: drop_rows matched the raw value; rejected: any column's `rejected`, not dropped;
  * append/truncate: expected_rows = loaded, sums over the loaded rows;
  * merge: per key the LAST loaded row by `order` survives (`ROW_NUMBER() ... DESC`):
    expected_rows = the survivors, duplicate_source_keys = loaded - survivors, sums over the
    survivors. The duplicate keys are counted in SQL, never held in the client.
- `SUM` over no row is NULL; read it as 0 (`verify._sums_equal` does).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import wcpipe.datamap.expr as expr
from wcpipe.datamap.config import JobConfig

NUMERIC = frozenset({"smallint", "integer", "bigint", "decimal", "real", "double"})


def figures_sql(
    config: JobConfig,
    dialect: expr.Dialect,
    relation: str,
    sources: Mapping[str, str] | None = None,
    order: Sequence[str] = (),
) -> str:
    """The statement (see the module docstring)."""
    q = dialect.ident
    plan = expr.compile_job(config, dialect, sources)
    orders = [q(o) for o in order]
    cleaned = [f"{c.text} AS {q(c.name)}" for c in plan.columns]
    cleaned += [f"{plan.dropped} AS _dropped", *orders]
    checked = [f"{c.value} AS {q(c.name)}" for c in plan.columns]
    checked += [f"{c.rejected} AS _r{i}" for i, c in enumerate(plan.columns)]
    checked += ["_dropped", *orders]
    any_rejected = " OR ".join(f"_r{i}" for i in range(len(plan.columns)))
    numeric = [(i, c.name) for i, c in enumerate(config.columns) if c.family in NUMERIC]
    tally = [
        "COUNT(*) AS read",
        "SUM(CASE WHEN _dropped THEN 1 ELSE 0 END) AS dropped",
        f"SUM(CASE WHEN NOT _dropped AND ({any_rejected}) THEN 1 ELSE 0 END) AS rejected",
    ]
    tally += [
        f"SUM(CASE WHEN NOT _dropped AND _r{i} THEN 1 ELSE 0 END) AS n{i}"
        for i in range(len(plan.columns))
    ]
    ctes = [
        f"cleaned AS (SELECT {', '.join(cleaned)} FROM {relation})",
        f"checked AS (SELECT {', '.join(checked)} FROM cleaned)",
        f"loaded AS (SELECT * FROM checked WHERE NOT _dropped AND NOT ({any_rejected}))",
        f"tally AS (SELECT {', '.join(tally)} FROM checked)",
    ]
    survivors = "loaded"
    if config.load_keys:
        if not orders:
            raise ValueError("merge mode needs the records' order (object key, line)")
        keys = ", ".join(q(k) for k in config.load_keys)
        latest = ", ".join(f"{o} DESC" for o in orders)
        ranked = f"ROW_NUMBER() OVER (PARTITION BY {keys} ORDER BY {latest}) AS _rank"
        ctes.append(f"ranked AS (SELECT *, {ranked} FROM loaded)")
        survivors = "(SELECT * FROM ranked WHERE _rank = 1) AS latest"
    kept = ["COUNT(*) AS expected_rows", *(f"SUM({q(name)}) AS s{i}" for i, name in numeric)]
    ctes.append(f"kept AS (SELECT {', '.join(kept)} FROM {survivors})")
    return (
        f"WITH {', '.join(ctes)} SELECT tally.*, (tally.read - tally.dropped - tally.rejected)"
        " AS loaded, kept.*, (tally.read - tally.dropped - tally.rejected - kept.expected_rows)"
        " AS duplicate_source_keys FROM tally CROSS JOIN kept"
    )
