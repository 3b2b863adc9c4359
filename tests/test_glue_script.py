"""glue/load.py, run in-process against the fake awsglue/pyspark in tests/fake_awsglue."""

from __future__ import annotations

import runpy
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from wcpipe.authoring.csvio import Dialect, open_records
from wcpipe.datamap import loadsql
from wcpipe.datamap.transform import JobConfig, RejectedRows, job_arguments
from wcpipe.spec.names import Names

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "glue" / "load.py"
FAKES = ROOT / "tests" / "fake_awsglue"
FIFA = ROOT / "data" / "FIFA World Cup Attendance.csv"


@pytest.fixture
def glue(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The fake Glue's recorder; the fakes leave sys.path and sys.modules afterwards."""
    monkeypatch.syspath_prepend(str(FAKES))
    before = set(sys.modules)
    import fake_recorder

    yield fake_recorder
    for name in set(sys.modules) - before:
        if name.split(".")[0] in {"awsglue", "pyspark", "fake_recorder"}:
            del sys.modules[name]


@pytest.fixture
def argv(spec) -> list[str]:  # type: ignore[no-untyped-def]
    args = job_arguments(spec, Names.of(spec, "123456789012", "us-east-1"))
    return [
        "load.py",
        "--JOB_NAME", "wcpipe-fifa-load",
        "--JOB_RUN_ID", "jr_abc",
        "--TempDir", "s3://bucket/wcpipe/tmp/",
        "--wcpipe_config", args["--wcpipe_config"],
    ]  # fmt: skip


def catalog_rows() -> tuple[list[str], list[list[Any]]]:
    """The FIFA file as the crawler's catalog serves it: lower-cased names, col0 typed bigint."""
    with FIFA.open("rb") as f:
        header, records = open_records(f, Dialect())
        rows: list[list[Any]] = [[int(r[0]), *r[1:]] for r in records]
    return [h.lower() for h in header], rows


def run(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", argv)
    runpy.run_path(str(SCRIPT), run_name="__main__")


def test_loads_fifa_through_staging(
    glue: Any, argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    glue.reset(*catalog_rows())
    run(argv, monkeypatch)

    assert glue.called("job.init")[0]["name"] == "wcpipe-fifa-load"
    assert glue.called("from_catalog") == [
        {"database": "wcpipe_fifa_s3", "table_name": "attendance", "transformation_ctx": "source"}
    ]
    (write,) = glue.called("from_jdbc_conf")
    config = JobConfig.from_json(argv[-1])
    pre, post = loadsql.glue_pre_post_actions(config, "attendance_stg_jr_abc")
    assert write["catalog_connection"] == "wcpipe-fifa-redshift"
    assert write["connection_options"] == {
        "dbtable": "public.attendance_stg_jr_abc",
        "database": "dev",
        "preactions": pre,
        "postactions": post,
    }
    assert write["redshift_tmp_dir"] == "s3://bucket/wcpipe/tmp/"
    assert write["transformation_ctx"] == "target"
    rows = {r[1]: r for r in write["rows"]}
    assert len(rows) == 22
    assert rows[1950][6] == 173850
    assert rows[2002][2] == "South Korea Japan"
    assert [name for name, _ in glue.calls][-1] == "job.commit"
    out = capsys.readouterr().out
    assert 'wcpipe-counts {"dropped": 1, "loaded": 22, "read": 23, "rejected": 0}' in out


def test_a_value_that_does_not_convert_fails_the_job(
    glue: Any, argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    header, rows = catalog_rows()
    rows[5][3] = "12x"  # total_attendance of 1954
    glue.reset(header, rows)
    with pytest.raises(RejectedRows, match="total_attendance: 1 value"):
        run(argv, monkeypatch)
    assert glue.called("from_jdbc_conf") == []
    assert glue.called("job.commit") == []
    assert "'12x'" in capsys.readouterr().out


def test_nothing_new_writes_nothing_and_commits(
    glue: Any, argv: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    header, rows = catalog_rows()
    glue.reset(header, rows[-1:])  # only the totals row: dropped
    run(argv, monkeypatch)
    assert glue.called("from_jdbc_conf") == []
    assert len(glue.called("job.commit")) == 1


def test_missing_source_column_fails_on_the_driver(
    glue: Any, argv: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    header, rows = catalog_rows()
    glue.reset(header[:-1], [r[:-1] for r in rows])
    with pytest.raises(ValueError, match=r"Game\(s\)"):
        run(argv, monkeypatch)


def test_without_job_run_id_the_staging_table_is_manual(
    glue: Any, argv: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    glue.reset(*catalog_rows())
    run(argv[:3] + argv[5:], monkeypatch)
    (write,) = glue.called("from_jdbc_conf")
    assert write["connection_options"]["dbtable"] == "public.attendance_stg_manual"
