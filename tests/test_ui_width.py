"""Tables at 80 columns (COLUMNS=80): names wrap after their separators, never mid-word; a
number is never split across lines; a table too wide to keep its numbers whole is shown one
block per row (as psql's expanded display). Rendered through `wcpipe.ui` as the commands do."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from contextlib import redirect_stdout

import pytest
from support.paths import SPEC_PATH

from wcpipe import ui
from wcpipe.spec.model import load_spec
from wcpipe.spec.names import Names


@pytest.fixture(autouse=True)
def eighty(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("COLUMNS", "80")
    ui.reset()
    yield
    ui.reset()


def _render(*args: object, **kwargs: object) -> str:
    out = io.StringIO()
    with redirect_stdout(out):
        ui.table(*args, **kwargs)  # type: ignore[arg-type]
    ui.reset()
    return out.getvalue()


def _cells(text: str, column: int) -> list[str]:
    """The text of one column, line by line (the rules between columns are │ and ┃)."""
    lines = [ln for ln in text.splitlines() if "│" in ln]
    return [re.split("[│┃]", ln)[column].strip() for ln in lines]


def test_status_names_wrap_after_separators_at_80_columns() -> None:
    spec = load_spec(SPEC_PATH)
    names = Names.of(spec, account_id="123456789012", region="us-east-1")
    rows = [
        ("s3.bucket", names.bucket, "present", "versioning: Enabled; objects: 2"),
        (
            "glue.crawler",
            names.s3_crawler,
            "present",
            f"last crawl: SUCCEEDED; db: {names.database}",
        ),
        ("logs.log-group", names.function_log_group, "missing", ""),
        (
            "redshift-serverless.workgroup",
            "wcpipe-fifa-sl",
            "drifted",
            "endpoint: wcpipe-fifa-sl.123456789012.us-east-1.redshift-serverless.amazonaws.com:"
            "5439; differs: base_capacity: 8 -> 16",
        ),
    ]
    text = _render(["resource", "name", "state", "facts"], rows)
    assert all(len(ln) <= 80 for ln in text.splitlines()), text
    for column in (0, 1):  # resource kinds and names: each breaks only after a separator
        pieces = _cells(text, column)
        assert _rejoin(pieces) == [r[column] for r in rows], pieces
    assert any(p.endswith("-") for p in _cells(text, 1)), "nothing needed wrapping"
    facts = "".join(_cells(text, 3)).replace(" ", "")
    assert facts == "".join(r[3] for r in rows).replace(" ", ""), text


def _rejoin(pieces: list[str]) -> list[str]:
    """Lines of a column back into cells: a line that ends with a separator continues."""
    cells, current = [], ""
    for piece in pieces:
        current += piece
        if not piece or piece[-1] not in "-/:_.":
            cells.append(current)
            current = ""
    return [c for c in cells if c]


def test_verify_figures_are_never_split_and_wide_rows_become_blocks() -> None:
    report = _render(
        ["check", "source", "warehouse", "result"],
        [
            ("rows", 22, 22, "ok"),
            ("sum of total_attendance", 938283, 938283, "ok"),
            (
                "sum of a column with a long name that must wrap somewhere",
                1850547.25,
                1850547.25,
                "ok",
            ),
        ],
    )
    assert all(len(ln) <= 80 for ln in report.splitlines()), report
    assert "1850547.25" in _cells(report, 1) and "938283" in _cells(report, 2), report

    columns = ["source_index", "year", "hosts", "total_attendance", "matches"]
    columns += ["average_attendance", "highest_attendance", "highest_attendance_venue"]
    columns += ["champion", "runner_up", "teams", "venues"]
    row = [1, 1930, "Uruguay", 434000, 18, 24139, 93000, "Estadio Centenario, Montevideo"]
    row += ["Uruguay", "Argentina", 13, 3]
    wide = _render(columns, [row, row], title="public.attendance: first 2 rows")
    assert all(len(ln) <= 80 for ln in wide.splitlines()), wide
    assert wide.count("public.attendance: first 2 rows: row ") == 2, wide
    values = _cells(wide, 1)
    for number in ("1930", "434000", "24139", "93000"):
        assert number in values, wide


def test_piped_tables_are_not_wrapped_without_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS")
    ui.reset()
    name = "x-" * 60
    text = _render(["name"], [(name,)])
    assert name in text
