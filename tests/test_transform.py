"""transform: cleaning rules, conversions, the Mapper on the real FIFA file, sums, job config."""

from __future__ import annotations

import ast
import io
import json
import zipfile
from datetime import date, datetime
from decimal import Decimal

import pytest
from support.paths import FIFA_CSV, ROOT

from wcpipe.authoring.csvio import Dialect, open_records
from wcpipe.datamap import transform
from wcpipe.datamap.config import JobConfig
from wcpipe.datamap.transform import (
    Mapper,
    accumulate_sums,
    counts_line,
    numeric_columns,
    parse_counts_line,
    source_sums,
)
from wcpipe.datamap.values import ConversionError, SqlType, clean, convert
from wcpipe.spec.job import job_arguments, job_config
from wcpipe.spec.model import type_family
from wcpipe.spec.names import Names


@pytest.fixture
def config(spec) -> JobConfig:  # type: ignore[no-untyped-def]
    names = Names.of(spec, "123456789012", "us-east-1")
    return JobConfig.from_json(job_arguments(spec, names)["--wcpipe_config"])


def fifa(config: JobConfig) -> tuple[Mapper, dict[int, tuple[object, ...]]]:
    mapper = Mapper(config)
    with FIFA_CSV.open("rb") as f:
        header, records = open_records(f, Dialect.from_config(config.csv))
        index = mapper.index(header)
        rows = [r for r in (mapper.map_record(index, rec) for rec in records) if r is not None]
    return mapper, {int(r[1]): r for r in rows}  # type: ignore[call-overload]


def test_fifa_end_to_end_counts(config: JobConfig) -> None:
    mapper, _ = fifa(config)
    assert mapper.counts() == {"read": 23, "dropped": 1, "loaded": 22, "rejected": 0}
    assert not mapper.rejects


def test_fifa_values(config: JobConfig) -> None:
    _, by_year = fifa(config)
    columns = config.column_names
    row_1950 = dict(zip(columns, by_year[1950], strict=True))
    assert row_1950["highest_attendance"] == 173850
    assert dict(zip(columns, by_year[2002], strict=True))["hosts"] == "South Korea Japan"
    assert by_year[1930][0] == 0  # source_index from the empty header (col0)
    games = dict(zip(columns, by_year[2022], strict=True))["games"]
    assert games == "Argentina 3\u20133 (4\u20132p) France, Final"
    assert sorted(by_year) == [1930, 1934, 1938, *range(1950, 2023, 4)]


def test_fifa_sums(config: JobConfig) -> None:
    assert "highest_attendance" in numeric_columns(config)
    assert "hosts" not in numeric_columns(config)
    with FIFA_CSV.open("rb") as f:
        header, records = open_records(f, Dialect())
        sums, mapper = source_sums(config, header, records)
    assert mapper.loaded == 22
    # The dropped "Overall" row states the tournament total: the loaded rows add up to it.
    assert sums["total_attendance"] == 43936730
    assert sums["matches"] == 964


def test_unconvertible_value_is_rejected_never_null(config: JobConfig) -> None:
    mapper = Mapper(config)
    header = ["col0", "Year", "Hosts", "Total_Attendance", "Matches", "Average_Attendance"]
    header += ["Number", "Venue", "Game(s)"]
    index = mapper.index(header)
    good = ["1", "1934", "Italy", "363000", "17", "21353", "55000", "Rome", "g"]
    assert mapper.map_record(index, good) is not None
    bad = [*good[:3], "12x", *good[4:]]
    assert mapper.map_record(index, bad) is None
    assert mapper.counts() == {"read": 2, "dropped": 0, "loaded": 1, "rejected": 1}
    assert mapper.rejects.counts == {"total_attendance": 1}
    assert "'12x'" in mapper.rejects.summary()


def test_reject_samples_are_short_whatever_the_value(config: JobConfig) -> None:
    """A broken quote can make one field of megabytes: its sample shows the start of the value
    and its length, not the value (the samples go into the job's log and its exception)."""
    mapper = Mapper(config)
    header = ["col0", "Year", "Hosts", "Total_Attendance", "Matches", "Average_Attendance"]
    header += ["Number", "Venue", "Game(s)"]
    index = mapper.index(header)
    huge = "a" * 3_000_000
    record = ["1", "1934", huge, huge, "17", "21353", "55000", "Rome", "g"]
    assert mapper.map_record(index, record) is None
    assert mapper.rejects.counts == {"hosts": 1, "total_attendance": 1}
    hosts, total = mapper.rejects.samples["hosts"][0], mapper.rejects.samples["total_attendance"][0]
    assert hosts.startswith("'aaaa") and "\u2026 (3000000 chars): " in hosts
    assert hosts.endswith(": 3000000 bytes (UTF-8) exceed varchar(64)")
    assert total.startswith("'aaaa") and ": not an integer: 'aaaa" in total  # the reason, cut
    assert max(len(hosts), len(total)) <= 350
    assert len(mapper.rejects.summary()) < 1000
    merged = transform.Rejects().merge(mapper.rejects)
    assert merged.samples == mapper.rejects.samples


def test_short_reject_samples_are_kept_whole() -> None:
    rejects = transform.Rejects()
    rejects.add("c", "x" * 98, "bad")  # its repr is 100 characters: whole
    rejects.add("c", None, "NULL in a NOT NULL column")
    assert rejects.samples["c"] == [f"'{'x' * 98}': bad", "None: NULL in a NOT NULL column"]


def test_varchar_counts_bytes(config: JobConfig) -> None:
    mapper = Mapper(config)
    header = ["col0", "year", "hosts", "total_attendance", "matches", "average_attendance"]
    header += ["number", "venue", "game(s)"]  # as Glue's catalog lower-cases them
    index = mapper.index(header)
    hosts = "\u2013" * 22  # 22 characters, 66 bytes > varchar(64)
    row = ["1", "1934", hosts, "363000", "17", "21353", "55000", "Rome", ""]
    assert mapper.map_record(index, row) is None
    assert mapper.rejects.counts == {"hosts": 1}
    assert "66 bytes" in mapper.rejects.samples["hosts"][0]
    ok = mapper.map_record(index, [*row[:2], "\u2013" * 21, *row[3:]])
    assert ok is not None
    assert ok[2] == "\u2013" * 21


def _one_column(**column: object) -> JobConfig:
    return JobConfig.from_dict(
        {
            "source": {"database": "d", "table": "t", "drop_rows": []},
            "target": {"schema": "public", "table": "t", "database": "dev", "connection": "c"},
            "columns": [{"name": "c", "type": "varchar(8)", "source": "C", **column}],
            "load": {"mode": "append", "keys": []},
        }
    )


@pytest.mark.parametrize(
    ("column", "expected", "rejected"),
    [
        ({"nullable": True, "clean": []}, ("",), 0),  # text stays as written
        ({"nullable": True, "clean": ["trim", "empty_as_null"]}, (None,), 0),
        ({"nullable": False, "clean": ["trim", "empty_as_null"]}, None, 1),
        ({"nullable": False, "clean": []}, ("",), 0),  # '' is not NULL
    ],
)
def test_empty_text(column: dict[str, object], expected: object, rejected: int) -> None:
    mapper = Mapper(_one_column(**column))
    assert mapper.map_record(mapper.index(["c"]), [""]) == expected
    assert mapper.rejected == rejected


def test_not_null_and_missing_columns(config: JobConfig) -> None:
    mapper = Mapper(config)
    with pytest.raises(ValueError, match="Game"):
        mapper.index(["col0", "Year"])
    header = ["col0", "Year", "Hosts", "Total_Attendance", "Matches"]
    header += ["Average_Attendance", "Number", "Venue", "Game(s)"]
    index = mapper.index(header)
    assert mapper.map_record(index, ["1", "", "x", "1", "1", "1", "1", "v", ""]) is None
    assert mapper.rejects.counts == {"year": 1}
    assert "NOT NULL" in mapper.rejects.samples["year"][0]


@pytest.mark.parametrize(
    ("value", "rules", "expected"),
    [
        ("  a\u00a0 b\u2007c\u202fd\u3000e ", ["normalize_space", "trim"], "a b c d e"),
        ("173,850[86]", ["strip_footnotes", "thousands"], "173850"),
        ("1,234.5[a]", ["strip_footnotes", "thousands"], "1234.5"),
        ("12,34", ["thousands"], "12,34"),  # not a thousands pattern: left for conversion to reject
        ("Paris, France", ["thousands"], "Paris, France"),
        ("", ["empty_as_null"], None),
        ("  ", ["trim", "empty_as_null"], None),
        ("  ", ["empty_as_null", "trim"], ""),  # declared order matters
    ],
)
def test_clean(value: str, rules: list[str], expected: str | None) -> None:
    assert clean(value, rules) == expected


@pytest.mark.parametrize(
    ("sql_type", "value", "expected"),
    [
        ("smallint", "32767", 32767),
        ("integer", " -5 ", -5),
        ("bigint", "", None),
        ("decimal(5,2)", "123.45", Decimal("123.45")),
        ("decimal(5,2)", "-0.5", Decimal("-0.5")),
        ("real", "1.5e3", 1500.0),
        ("double precision", "-.25", -0.25),
        ("boolean", "Yes", True),
        ("boolean", "0", False),
        ("date", "2022-12-18", date(2022, 12, 18)),
        ("timestamp", "2022-12-18T18:00:00+03:00", datetime(2022, 12, 18, 15, 0)),
        ("varchar(3)", "", ""),
        ("char(3)", "\u00e9a", "\u00e9a"),
    ],
)
def test_convert(sql_type: str, value: str, expected: object) -> None:
    assert convert(value, SqlType.parse(sql_type)) == expected


@pytest.mark.parametrize(
    ("sql_type", "value"),
    [
        ("smallint", "32768"),
        ("integer", "1_000"),
        ("integer", "12x"),
        ("integer", "1.0"),
        ("bigint", str(2**63)),
        ("decimal(5,2)", "1234.5"),
        ("decimal(5,2)", "1.234"),
        ("decimal(5,2)", "NaN"),
        ("real", "1e39"),
        ("float8", "inf"),
        ("boolean", "maybe"),
        ("date", "20221218"),
        ("date", "2022-02-30"),
        ("timestamp", "yesterday"),
        ("char(1)", "\u00e9"),
    ],
)
def test_convert_rejects(sql_type: str, value: str) -> None:
    with pytest.raises(ConversionError):
        convert(value, SqlType.parse(sql_type))


@pytest.mark.parametrize(
    "sql_type",
    [
        "int2",
        "int",
        "int8",
        "numeric(12, 2)",
        "float4",
        "float",
        "bool",
        "date",
        "timestamptz",
        "character varying(max)",
        "character(4)",
        "double precision",
    ],
)
def test_type_families_match_spec(sql_type: str) -> None:
    assert SqlType.parse(sql_type).family == type_family(sql_type)


def test_job_arguments_are_deterministic_json(spec) -> None:  # type: ignore[no-untyped-def]
    names = Names.of(spec, "123456789012", "us-east-1")
    args = job_arguments(spec, names)
    assert list(args) == ["--wcpipe_config"]
    assert args == job_arguments(spec, names)
    data = json.loads(args["--wcpipe_config"])
    assert data == job_config(spec, names)
    assert data["source"] == {
        "database": "wcpipe_fifa_s3",
        "table": "attendance",
        "drop_rows": [{"column": "Year", "values": ["Overall"]}],
    }
    assert data["csv"] == {"header": True, "delimiter": ",", "quote": '"', "encoding": "utf-8"}
    assert data["load"] == {"mode": "merge", "keys": ["year"]}
    assert data["columns"][0]["source"] == "col0"


def test_counts_line_round_trip() -> None:
    line = counts_line({"read": 3, "loaded": 2})
    assert parse_counts_line(f"INFO {line}") == {"loaded": 2, "read": 3}
    assert parse_counts_line("something else") is None


def test_accumulate_sums_skips_nulls(config: JobConfig) -> None:
    row = (1, 1930, "x", 10, 2, 5, None, "v", None)
    sums = accumulate_sums(config, [row, row])
    assert sums["total_attendance"] == 20
    assert sums["highest_attendance"] == 0


def _module_level_imports(source: bytes) -> list[str]:
    """The modules a module imports at module level (TYPE_CHECKING imports are nested)."""
    modules: list[str] = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.ImportFrom) and node.module:
            modules.append(node.module)
        elif isinstance(node, ast.Import):
            modules.extend(alias.name for alias in node.names)
    return modules


def _stdlib() -> frozenset[str]:
    import sys

    return frozenset({"__future__", *sys.stdlib_module_names})


def test_shipped_modules_import_only_the_standard_library_and_each_other() -> None:
    """Every module in the Glue library zip (as built) imports, at module level, only the
    standard library or modules of wcpipe.datamap that the zip holds: Glue has nothing else."""
    from wcpipe.provision.artifacts import glue_libs_zip

    archive = zipfile.ZipFile(io.BytesIO(glue_libs_zip()))
    names = archive.namelist()
    shipped = {n.removesuffix(".py").removesuffix("/__init__").replace("/", ".") for n in names}
    assert {"wcpipe.datamap.transform", "wcpipe.datamap.values"} <= shipped
    for name in names:
        for module in _module_level_imports(archive.read(name)):
            if module.split(".")[0] == "wcpipe":
                assert module.startswith("wcpipe.datamap.") and module in shipped, (name, module)
            else:
                assert module.split(".")[0] in _stdlib(), (name, module)


def test_csvio_imports_only_the_standard_library() -> None:
    """authoring/csvio reads CSV for the sandbox's job runner and verify, as the Glue job would."""
    source = (ROOT / "src" / "wcpipe" / "authoring" / "csvio.py").read_bytes()
    assert all(m.split(".")[0] in _stdlib() for m in _module_level_imports(source))


def test_transform_has_no_pydantic_at_runtime() -> None:
    assert "pydantic" not in vars(transform)
