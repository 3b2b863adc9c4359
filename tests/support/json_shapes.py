"""Checking a command's `--output json` against the schema `wcpipe schema COMMAND` prints."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import jsonschema

from support.cli import CliResult


def schema_of(wcpipe: Callable[..., CliResult], command: str) -> dict[str, Any]:
    result = wcpipe("schema", command)
    assert result.code == 0, result
    schema: dict[str, Any] = json.loads(result.out)
    jsonschema.Draft202012Validator.check_schema(schema)
    return schema


def check(wcpipe: Callable[..., CliResult], command: str, document: Any) -> None:
    """`document` is valid under `wcpipe schema command` (timestamps checked as date-time)."""
    validator = jsonschema.Draft202012Validator(
        schema_of(wcpipe, command), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]
    assert errors == [], (command, errors)
    if isinstance(document, dict):
        _assert_snake_keys(document, command)


def _assert_snake_keys(value: Any, where: str) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            # Resource keys (s3.bucket), crawler and column names are data, not keys of a shape.
            if where.endswith(("result", "columns", "added", "removed", "retyped", "alerts")):
                continue
            assert re.fullmatch(r"[a-z][a-z0-9_]*", k), f"{where}: key {k!r} is not snake_case"
            _assert_snake_keys(v, f"{where}.{k}")
    elif isinstance(value, list):
        for item in value:
            _assert_snake_keys(item, where)
