"""Bounded waits and the IAM-propagation retry, on injected time."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from wcpipe.core.errors import ResourceFailed, WaitTimeout
from wcpipe.core.wait import Timing, is_role_propagation_error, poll, retry_while_role_propagates


def _client_error(code: str, message: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "CreateFunction")


def test_poll_backs_off_until_done(clock) -> None:  # type: ignore[no-untyped-def]
    states = iter(["creating", "creating", "creating", "available"])
    timing = Timing(sleep=clock.sleep, clock=clock, initial=1, maximum=3, factor=2)
    assert (
        poll(
            lambda: next(states),
            what="cluster",
            done=lambda s: s == "available",
            timeout=60,
            timing=timing,
        )
        == "available"
    )
    assert clock.sleeps == [1, 2, 3]


def test_poll_raises_on_failure_state(clock) -> None:  # type: ignore[no-untyped-def]
    timing = Timing(sleep=clock.sleep, clock=clock)
    with pytest.raises(ResourceFailed, match="crawler: FAILED"):
        poll(
            lambda: "FAILED",
            what="crawler",
            done=lambda s: False,
            failed=lambda s: s if s == "FAILED" else None,
            timeout=60,
            timing=timing,
        )


def test_poll_times_out_with_what_it_waited_for(clock) -> None:  # type: ignore[no-untyped-def]
    timing = Timing(sleep=clock.sleep, clock=clock, initial=10, maximum=10)
    with pytest.raises(WaitTimeout, match="waiting for job run"):
        poll(lambda: "RUNNING", what="job run", done=lambda s: False, timeout=35, timing=timing)
    assert clock.now <= 35


@pytest.mark.parametrize(
    ("code", "message", "expected"),
    [
        (
            "InvalidParameterValueException",
            "The role defined for the function cannot be assumed by Lambda.",
            True,
        ),
        (
            "InvalidInputException",
            "Service is unable to assume provided role. Please verify role's TrustPolicy",
            True,
        ),
        ("InvalidParameterValueException", "Unzipped size must be smaller than 262144000", False),
        ("ThrottlingException", "cannot be assumed", False),
    ],
)
def test_role_propagation_errors(code: str, message: str, expected: bool) -> None:
    assert is_role_propagation_error(_client_error(code, message)) is expected


def test_retry_while_role_propagates_succeeds(clock) -> None:  # type: ignore[no-untyped-def]
    calls = []

    def create() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise _client_error(
                "InvalidParameterValueException",
                "The role defined for the function cannot be assumed by Lambda.",
            )
        return "ok"

    timing = Timing(sleep=clock.sleep, clock=clock)
    assert retry_while_role_propagates(create, what="Lambda function", timing=timing) == "ok"
    assert len(clock.sleeps) == 2


def test_retry_while_role_propagates_budget(clock) -> None:  # type: ignore[no-untyped-def]
    def create() -> str:
        raise _client_error("InvalidInputException", "Service is unable to assume provided role.")

    timing = Timing(sleep=clock.sleep, clock=clock)
    with pytest.raises(WaitTimeout, match="still cannot be assumed"):
        retry_while_role_propagates(create, what="Glue job", timing=timing, budget=30)
    assert clock.now <= 30


def test_other_errors_are_not_retried(clock) -> None:  # type: ignore[no-untyped-def]
    def create() -> str:
        raise _client_error("AccessDeniedException", "not allowed")

    with pytest.raises(ClientError):
        retry_while_role_propagates(create, what="x", timing=Timing(sleep=clock.sleep, clock=clock))
    assert clock.sleeps == []
