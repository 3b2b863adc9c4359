"""`--output json` has one documented shape per command: `wcpipe schema COMMAND` prints its JSON
Schema (from the pydantic models in `wcpipe.ui.shapes`), and what the command prints validates
against it (here the commands that need no AWS; tests/e2e/test_json_output.py runs the rest on
the sandbox)."""

from __future__ import annotations

import json

import pytest
from support.json_shapes import check, schema_of
from support.paths import SPEC_PATH

from wcpipe.ui.shapes import SHAPES


@pytest.mark.parametrize("command", sorted(SHAPES))
def test_every_command_has_a_valid_json_schema(wcpipe, command: str) -> None:
    schema = schema_of(wcpipe, command)
    assert schema["$comment"] == f"`wcpipe {command} --output json`"


def test_schema_without_a_command_is_the_spec_and_an_unknown_one_is_a_usage_error(wcpipe) -> None:
    assert json.loads(wcpipe("schema").out)["title"] == "Spec"
    code, out, err = wcpipe("schema", "nope")
    assert (code, out) == (2, "")
    assert err.splitlines() == [
        "error: schema 'nope': no such command with JSON output; choose one of "
        + ", ".join(["spec", *SHAPES])
    ]


def test_validate_json_is_typed_and_fits_its_schema(wcpipe) -> None:
    result = wcpipe("-c", str(SPEC_PATH), "--output", "json", "validate")
    assert result.code == 0, result
    doc = json.loads(result.out)
    check(wcpipe, "validate", doc)
    assert doc["data"] == {"files": 1, "prefix": "raw/attendance/"}
    assert doc["glue"]["workers"] == 2 and doc["warehouse"]["nodes"] == 1


def test_a_shape_refuses_what_it_does_not_declare() -> None:
    from pydantic import ValidationError

    from wcpipe.ui import shapes

    with pytest.raises(ValidationError):
        shapes.render("init", {"written": "x", "extra": 1})
    # A timestamp is printed as ISO 8601 with its offset, whatever form it came in.
    from datetime import UTC, datetime

    run = {"run_id": "jr_1", "state": "RUNNING", "duration_seconds": None}
    run |= {"started": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), "dpu_seconds": 1, "error": None}
    assert shapes.render("start-job", run)["started"] == "2026-01-02T03:04:05Z"
