"""verify's source figures as one SQL statement (`wcpipe.datamap.figures`) on DuckDB over CSV
files, against the Python reference (`support.oracle`: the Mapper, and last-version-wins for
merge mode): the same counts, rejects, expected rows, duplicate keys and sums."""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path
from typing import Any

import pytest
from support.oracle import python_figures as _python
from support.paths import FIFA_CSV

from wcpipe.authoring import csvio
from wcpipe.datamap import expr, figures, transform
from wcpipe.datamap.config import JobConfig
from wcpipe.spec.job import job_config
from wcpipe.spec.names import Names


@pytest.fixture
def config(spec) -> JobConfig:  # type: ignore[no-untyped-def]
    return JobConfig.from_dict(job_config(spec, Names.of(spec, "123456789012", "us-east-1")))


def _files(tmp_path: Path, parts: list[list[str]]) -> list[Path]:
    lines = FIFA_CSV.read_text(encoding="utf-8").splitlines(keepends=True)
    paths = []
    for n, part in enumerate(parts):
        path = tmp_path / f"part{n}.csv"
        path.write_text("".join([lines[0], *part]), encoding="utf-8")
        paths.append(path)
    return paths


def _duckdb(config: JobConfig, paths: list[Path]) -> dict[str, Any]:
    import duckdb

    with paths[0].open(encoding="utf-8", newline="") as f:
        header = csvio.glue_names(next(csv.reader(f)))
    index = transform.Mapper(config).index(header)
    names = [f"s{i}" for i in range(len(header))]
    files = ", ".join(f"'{p}'" for p in paths)
    scan = (
        f"read_csv([{files}], header = false, skip = 1, all_varchar = true, filename = true, "
        f"names = {names}, quote = '\"', delim = ',')"
    )
    relation = f"(SELECT *, ROW_NUMBER() OVER () AS line FROM {scan}) AS source"
    sources = {source: f"s{i}" for source, i in index.items()}
    query = figures.figures_sql(config, expr.DUCKDB, relation, sources, ("filename", "line"))
    cursor = duckdb.connect().execute(query)
    row = dict(zip([d[0] for d in cursor.description], cursor.fetchone(), strict=True))
    numeric = [(i, c.name) for i, c in enumerate(config.columns) if c.family in figures.NUMERIC]
    out: dict[str, Any] = {k: int(row[k]) for k in transform.Mapper(config).counts()}
    out["expected_rows"] = int(row["expected_rows"])
    out["duplicate_source_keys"] = int(row["duplicate_source_keys"])
    out["sums"] = {name: int(row[f"s{i}"] or 0) for i, name in numeric}
    rejects = {c.name: int(row[f"n{i}"]) for i, c in enumerate(config.columns)}
    out["rejects"] = {k: v for k, v in rejects.items() if v}
    return out


def test_append_figures_match_on_the_fifa_file(config: JobConfig, tmp_path: Path) -> None:
    lines = FIFA_CSV.read_text(encoding="utf-8").splitlines(keepends=True)[1:]
    paths = _files(tmp_path, [lines[:10], lines[10:]])
    python = _python(config, paths)
    assert python["loaded"] == 22 and python["dropped"] == 1
    assert _duckdb(config, paths) == python


def test_rejects_are_counted_per_column(config: JobConfig, tmp_path: Path) -> None:
    lines = FIFA_CSV.read_text(encoding="utf-8").splitlines(keepends=True)[1:]
    lines[1] = lines[1].replace(",363000,", ",363x000,")
    lines[19] = lines[19].replace(",64,", ",sixty-four,")
    paths = _files(tmp_path, [lines[:10], lines[10:]])
    python = _python(config, paths)
    assert python["rejected"] == 2, python
    assert _duckdb(config, paths) == python


def test_merge_keeps_the_last_version_of_each_key(config: JobConfig, tmp_path: Path) -> None:
    merge = dataclasses.replace(config, load_mode="merge", load_keys=("year",))
    lines = FIFA_CSV.read_text(encoding="utf-8").splitlines(keepends=True)[1:]
    again = [ln.replace(",363000,", ",400000,") for ln in lines[:3]]  # 1930-1938, new totals
    twice = lines[5].replace(",16,", ",17,")  # 1954 again, in the same file, later
    paths = _files(tmp_path, [lines[:10], [twice, *lines[10:]], again])
    python = _python(merge, paths)
    assert python["duplicate_source_keys"] == 4 and python["expected_rows"] == 22, python
    assert _duckdb(merge, paths) == python
