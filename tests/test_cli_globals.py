"""Global options work on either side of the command, as aws-cli's do, and every command's
--help lists them (issue 13: `wcpipe verify --output json` and `wcpipe up -c my.yaml` failed
with "No such option")."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.paths import SPEC_PATH

from wcpipe.cli import COMMANDS

GLOBAL_FLAGS = ("--config", "--profile", "--region", "--endpoint-url", "--output", "--debug")


def test_global_options_after_the_command(wcpipe: Callable[..., Any]) -> None:
    after = wcpipe("validate", "-c", str(SPEC_PATH), "--output", "json", "--profile", "x")
    before = wcpipe("-c", str(SPEC_PATH), "--output", "json", "--profile", "x", "validate")
    assert after.code == before.code == 0, (after, before)
    assert json.loads(after.out) == json.loads(before.out)
    assert json.loads(after.out)["pipeline"] == "fifa"


def test_given_after_the_command_it_wins(wcpipe: Callable[..., Any], tmp_path: Path) -> None:
    missing = tmp_path / "nothing.yaml"
    result = wcpipe("-c", str(missing), "validate", "-c", str(SPEC_PATH))
    assert result.code == 0, result
    wrong = wcpipe("-c", str(SPEC_PATH), "validate", "-c", str(missing))
    assert wrong.code == 2 and str(missing) in wrong.err


def test_a_flag_not_repeated_after_the_command_keeps_its_value(wcpipe: Callable[..., Any]) -> None:
    """`--debug` before the command is not reset by its absence after it."""
    result = wcpipe("--debug", "--output", "json", "validate", "-c", str(SPEC_PATH))
    assert result.code == 0 and json.loads(result.out)["valid"] is True


def test_a_bad_value_after_the_command_is_a_usage_error(wcpipe: Callable[..., Any]) -> None:
    result = wcpipe("validate", "--output", "yaml")
    assert result.code == 2
    assert "Invalid value for '--output'" in result.err


@pytest.mark.parametrize("name", [*COMMANDS, "sandbox serve"])
def test_every_command_help_lists_the_global_options(wcpipe: Callable[..., Any], name: str) -> None:
    result = wcpipe(*name.split(), "--help")
    assert result.code == 0, result
    missing = [flag for flag in GLOBAL_FLAGS if flag not in result.out]
    assert missing == [], (name, result.out)


@pytest.mark.parametrize("where", ["before", "after"])
def test_a_region_that_is_not_one_is_a_usage_error_before_any_request(
    wcpipe: Callable[..., Any], where: str
) -> None:
    """By botocore's own partition data; the endpoint is a closed port, so any request would
    end in a connection error instead of this line."""
    region = ["--region", "nowhere"]
    base = ["-c", str(SPEC_PATH), "--endpoint-url", "http://127.0.0.1:9"]
    args = [*region, *base, "plan"] if where == "before" else [*base, "plan", *region]
    result = wcpipe(*args)
    assert result.code == 2, result
    assert result.err.strip() == (
        "error: --region 'nowhere' is not an AWS region (e.g. us-east-1, eu-west-1)"
    )


def test_regions_of_every_partition_are_regions() -> None:
    from wcpipe.core.aws import is_region

    for name in ("us-east-1", "eu-central-2", "cn-north-1", "us-gov-west-1", "ap-southeast-7"):
        assert is_region(name), name
    for name in ("nowhere", "us-east", "US-EAST-1", "useast1"):
        assert not is_region(name), name
