"""`wcpipe demo --warehouse serverless`: the bundled FIFA pipeline on the sandbox's Redshift
Serverless, up to a matching verify and down, through the command as a user runs it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

pytestmark = pytest.mark.e2e


def test_demo_on_serverless_verifies_and_leaves_nothing(
    wcpipe: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WCPIPE_POLL_INTERVAL", "0.1")
    result = wcpipe("demo", "--warehouse", "serverless")
    assert result.code == 0, result
    assert "Redshift Serverless workgroup wcpipe-fifa: created" in result.err
    verify = result.out[result.out.index("verify public.attendance") :]
    assert " rows " in verify and "MISMATCH" not in verify
    assert verify.count(" ok") >= 17, verify  # rows, NOT NULLs, sums, duplicate keys
    assert "Redshift Serverless workgroup wcpipe-fifa: deleted" in result.err
    assert "Redshift Serverless namespace wcpipe-fifa: deleted" in result.err


def test_demo_output_json_prints_only_its_one_document(
    wcpipe: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only JSON on stdout (progress on stderr), valid under `wcpipe schema demo`."""
    import json

    from support.json_shapes import check

    monkeypatch.setenv("WCPIPE_POLL_INTERVAL", "0.1")
    result = wcpipe("--output", "json", "demo")
    assert result.code == 0, result
    doc = json.loads(result.out)
    check(wcpipe, "demo", doc)
    assert doc["run"]["verify"]["ok"] is True
    assert len(doc["first_rows"]) == 5 and isinstance(doc["first_rows"][0]["year"], int)
    assert doc["up"]["outputs"]["job"] == "wcpipe-fifa-load"
    assert "redshift.cluster" in doc["down"]["deleted"]
    assert "wcpipe up --yes" in result.err


def test_demo_unattended_loads_what_is_pushed_with_no_run(
    wcpipe: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WCPIPE_POLL_INTERVAL", "0.1")
    result = wcpipe("demo", "--unattended")
    assert result.code == 0, result
    assert "wcpipe run" not in result.err  # nobody runs it
    assert "EventBridge rule wcpipe-fifa-object-created: created" in result.err, result.err
    assert "raw/attendance/FIFA World Cup Attendance.csv" in result.out
    verify = result.out[result.out.index("verify public.attendance") :]
    assert " rows " in verify and "MISMATCH" not in verify
    assert "EventBridge rule wcpipe-fifa-object-created: deleted" in result.err
    # A file with a bad value: the arrival runs the job, it fails, and the alert is heard.
    assert "the load failed before writing, as it must" in result.err, result.err
    said = " ".join(result.err.split())
    assert "alert on wcpipe-fifa-alerts: fifa load FAILED run jr_" in said, said
    assert "wcpipe logs job --run-id jr_" in said, said
