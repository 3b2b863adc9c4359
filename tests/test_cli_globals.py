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

GLOBAL_FLAGS = (
    "--config",
    "--profile",
    "--region",
    "--endpoint-url",
    "--output",
    "--debug",
    "--no-color",
)


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


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_refused_local_endpoint_fails_fast_naming_the_sandbox(
    wcpipe: Callable[..., Any],
) -> None:
    """Issue 13: a refused connection spent botocore's whole retry budget (34-39 s) before the
    error; now two attempts, then one line whose hint names `wcpipe sandbox serve`."""
    import time

    url = f"http://127.0.0.1:{_closed_port()}"
    started = time.monotonic()
    result = wcpipe("-c", str(SPEC_PATH), "--endpoint-url", url, "status")
    elapsed = time.monotonic() - started
    assert result.code == 1, result
    assert f"cannot reach {url}" in result.err, result
    assert "wcpipe sandbox serve" in result.err, result
    assert "Traceback" not in result.err
    assert elapsed < 10, elapsed


def test_only_a_refused_connection_loses_its_retries() -> None:
    """The hook re-raises a connection error after CONNECT_ATTEMPTS and leaves every other retry
    decision (throttling, 5xx, a dropped connection) to botocore's standard mode."""
    from botocore.exceptions import ConnectionClosedError, EndpointConnectionError

    from wcpipe.core.aws import CONNECT_ATTEMPTS, _fail_fast_on_refused

    refused = EndpointConnectionError(endpoint_url="http://127.0.0.1:9")
    assert _fail_fast_on_refused(attempts=CONNECT_ATTEMPTS - 1, caught_exception=refused) is None
    with pytest.raises(EndpointConnectionError):
        _fail_fast_on_refused(attempts=CONNECT_ATTEMPTS, caught_exception=refused)
    dropped = ConnectionClosedError(endpoint_url="http://127.0.0.1:9")
    assert _fail_fast_on_refused(attempts=5, caught_exception=dropped) is None
    assert _fail_fast_on_refused(attempts=5, caught_exception=None) is None


def test_a_remote_endpoint_that_cannot_be_reached_does_not_name_the_sandbox() -> None:
    from botocore.exceptions import EndpointConnectionError

    from wcpipe.core.errors import translate

    error = translate(EndpointConnectionError(endpoint_url="https://glue.eu-west-1.amazonaws.com"))
    assert "cannot reach https://glue.eu-west-1.amazonaws.com" in str(error)
    assert "sandbox" not in (error.hint or "")


def test_a_denied_request_points_at_the_policy_wcpipe_needs() -> None:
    """A real AccessDenied (moto authorising a user with no policy): the hint says where the
    least-privilege policy comes from."""
    import boto3
    from botocore.exceptions import ClientError
    from moto import mock_aws
    from moto.core import set_initial_no_auth_action_count

    from wcpipe.core.errors import translate

    @set_initial_no_auth_action_count(2)  # create_user and create_access_key, then authorised
    @mock_aws
    def denied() -> ClientError:
        iam = boto3.client("iam", region_name="us-east-1")
        iam.create_user(UserName="operator")
        key = iam.create_access_key(UserName="operator")["AccessKey"]
        s3 = boto3.client(  # S3: moto answers its denial in AWS's shape (XML, AccessDenied)
            "s3",
            region_name="us-east-1",
            aws_access_key_id=key["AccessKeyId"],
            aws_secret_access_key=key["SecretAccessKey"],
        )
        with pytest.raises(ClientError) as caught:
            s3.list_objects_v2(Bucket="wcpipe-fifa-123456789012-us-east-1")
        return caught.value

    error = translate(denied(), "describing S3 bucket wcpipe-fifa-123456789012-us-east-1")
    assert "describing S3 bucket" in str(error)
    assert "`wcpipe iam-policy`" in (error.hint or "")
