"""The sandbox job's data path on DuckDB: the compiled expressions (`datamap.expr`, DuckDB
dialect) over the catalog table's objects, read in place (`athena_engine.csv_relation`), as the
Glue job runs them on Spark (`glue/load.py`): counts and rejects from one aggregate, then the
rows COPYed into PostgreSQL.

Contract:
- `tally(duck, config, relation, index)`: ONE aggregate over the objects, grouped by object:
  per object read, dropped, rejected, loaded and, per column, the rejected values' count; only
  when something was rejected (a run that fails), a second one for up to SAMPLE_BUCKETS
  samples (the least raw value in each hash bucket, as glue/load.py picks them: bounded
  whatever the number of rejects). Their reasons come from the reference (`convert.reasons`),
  on those few values only. Returns `ObjectTally`s in object order.
- `copy_rows(duck, config, relation, index, copy)`: the loaded rows (not dropped; the caller
  only copies when nothing was rejected), as DuckDB's CSV writer writes them, into an open
  PostgreSQL `COPY ... (FORMAT csv)`: DuckDB writes into a pipe on its own thread, this one
  feeds the pipe's bytes to the COPY a chunk at a time, so memory stays flat whatever the size.
  DuckDB's CSV: NULL as nothing, an empty string as "" (PostgreSQL's CSV reads them alike).
  `copy_query(duck, sql, copy)` does it for any query.
- `copy_statement(config, staging)`: that COPY.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from wcpipe.datamap import expr, loadsql
from wcpipe.datamap.config import JobConfig
from wcpipe.datamap.convert import reasons
from wcpipe.datamap.transform import Rejects

SAMPLE_BUCKETS = 5  # as glue/load.py
CHUNK = 1 << 20


@dataclass
class ObjectTally:
    path: str
    counts: dict[str, int]
    rejects: Rejects = field(default_factory=Rejects)
    rejected_by_column: list[int] = field(default_factory=list)


def _checked(config: JobConfig, relation: str, index: Mapping[str, int]) -> str:
    """The `checked` rows (values, _r<k> reject flags, _dropped, raw c<i>, "$path") as SQL."""
    q = expr.DUCKDB.ident
    plan = expr.compile_job(config, expr.DUCKDB, {s: f"c{i}" for s, i in index.items()})
    raws = [f"COALESCE(c{i}, '') AS c{i}" for i in sorted(set(index.values()))]
    cleaned = [f"{c.text} AS {q(c.name)}" for c in plan.columns]
    cleaned += [f"{plan.dropped} AS _dropped", *raws, '"$path"']
    checked = [f"{c.value} AS {q(c.name)}" for c in plan.columns]
    checked += [f"{c.rejected} AS _r{k}" for k, c in enumerate(plan.columns)]
    checked += ["_dropped", *(f"c{i}" for i in sorted(set(index.values()))), '"$path"']
    return (
        f"SELECT {', '.join(checked)} FROM (SELECT {', '.join(cleaned)} FROM {relation}) AS cleaned"
    )


def tally(
    duck: Any, config: JobConfig, relation: str, index: Mapping[str, int]
) -> list[ObjectTally]:
    """Counts per object from one aggregate; samples of the rejects from a second one, run
    only when something was rejected (see the module docstring)."""
    flags = [f"(NOT _dropped AND _r{k})" for k in range(len(config.columns))]
    checked = _checked(config, relation, index)
    parts = [
        '"$path"',
        "COUNT(*) AS read",
        "COUNT(*) FILTER (WHERE _dropped) AS dropped",
        f"COUNT(*) FILTER (WHERE {' OR '.join(flags)}) AS rejected",
        *(f"COUNT(*) FILTER (WHERE {flag}) AS n{k}" for k, flag in enumerate(flags)),
    ]
    found = []
    for row in _rows(duck, parts, checked):
        counts = {k: int(row[k]) for k in ("read", "dropped", "rejected")}
        counts["loaded"] = counts["read"] - counts["dropped"] - counts["rejected"]
        tallied = ObjectTally(str(row["$path"]), counts)
        tallied.rejected_by_column = [int(row[f"n{k}"]) for k in range(len(flags))]
        found.append(tallied)
    if any(t.counts["rejected"] for t in found):
        _add_samples(duck, config, checked, index, flags, found)
    return found


def _rows(duck: Any, parts: list[str], checked: str) -> list[dict[str, Any]]:
    query = (
        f'SELECT {", ".join(parts)} FROM ({checked}) AS checked GROUP BY "$path" ORDER BY "$path"'
    )
    cursor = duck.execute(query)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]


def _add_samples(
    duck: Any,
    config: JobConfig,
    checked: str,
    index: Mapping[str, int],
    flags: list[str],
    found: list[ObjectTally],
) -> None:
    parts = ['"$path"']
    for k, (flag, column) in enumerate(zip(flags, config.columns, strict=True)):
        raw = f"c{index[column.source]}"
        parts += [
            f"MIN({raw}) FILTER (WHERE {flag} AND HASH({raw}) % {SAMPLE_BUCKETS} = {j}) AS s{k}_{j}"
            for j in range(SAMPLE_BUCKETS)
        ]
    by_path = {t.path: t for t in found}
    for row in _rows(duck, parts, checked):
        tallied = by_path[str(row["$path"])]
        for k, column in enumerate(config.columns):
            if tallied.rejected_by_column[k]:
                samples = sorted({row[f"s{k}_{j}"] for j in range(SAMPLE_BUCKETS)} - {None})
                count = tallied.rejected_by_column[k]
                tallied.rejects.add_counted(column.name, count, reasons(column, samples))


def copy_statement(config: JobConfig, staging: str) -> str:
    table = f"{loadsql.ident(config.target_schema)}.{loadsql.ident(staging)}"
    columns = ", ".join(loadsql.ident(c) for c in config.column_names)
    return f"COPY {table} ({columns}) FROM STDIN (FORMAT csv, ENCODING 'UTF8')"


def copy_rows(
    duck: Any, config: JobConfig, relation: str, index: Mapping[str, int], copy: Any
) -> None:
    """The loaded rows into `copy` through a pipe (see the module docstring)."""
    q = expr.DUCKDB.ident
    columns = ", ".join(q(c) for c in config.column_names)
    checked = _checked(config, relation, index)
    # The rows' order means nothing to the table they go into; kept, DuckDB buffers what its
    # threads read ahead of the slowest one (1M rows: 202 MiB added against 137 MiB, loaded).
    duck.execute("SET preserve_insertion_order = false")
    copy_query(duck, f"SELECT {columns} FROM ({checked}) AS checked WHERE NOT _dropped", copy)


def copy_query(duck: Any, rows: str, copy: Any) -> None:
    """The rows of the query `rows`, as DuckDB's CSV writer writes them, into `copy`."""
    read_end, write_end = os.pipe()
    failure: list[BaseException] = []

    def write() -> None:
        try:
            target = f"/proc/self/fd/{write_end}"
            duck.execute(f"COPY ({rows}) TO '{target}' (FORMAT csv, HEADER false)")
        except BaseException as exc:  # handed to the reading thread
            failure.append(exc)
        finally:
            os.close(write_end)

    writer = threading.Thread(target=write, name="sandbox-job-copy", daemon=True)
    writer.start()
    try:
        with os.fdopen(read_end, "rb", buffering=0) as pipe:
            while chunk := pipe.read(CHUNK):
                copy.write(chunk)
    finally:
        writer.join()
    if failure:
        raise failure[0]
