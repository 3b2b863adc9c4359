"""Bounded waits: polling with backoff, and retrying while a new IAM role propagates.

Time is injected (`sleep`, `clock`) so tests end waits instantly, and every wait has a timeout,
an explicit set of failure states and a description of what it waits for.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from wcpipe.core.errors import ResourceFailed, WaitTimeout, error_code, error_message

T = TypeVar("T")

Sleep = Callable[[float], None]
Clock = Callable[[], float]


@dataclass(frozen=True)
class Timing:
    """How to wait: injected in tests, scaled by benchmarks."""

    sleep: Sleep = time.sleep
    clock: Clock = time.monotonic
    initial: float = 2.0
    maximum: float = 30.0
    factor: float = 1.5

    def intervals(self) -> Iterable[float]:
        delay = self.initial
        while True:
            yield delay
            delay = min(self.maximum, delay * self.factor)


def poll(
    read: Callable[[], T],
    *,
    what: str,
    done: Callable[[T], bool],
    failed: Callable[[T], str | None] = lambda _v: None,
    timeout: float,
    timing: Timing,
    on_poll: Callable[[T, float], None] | None = None,
) -> T:
    """Call `read` until `done(value)`; raise ResourceFailed if `failed(value)` names a failure,
    WaitTimeout after `timeout` seconds. Intervals grow geometrically up to `timing.maximum`."""
    start = timing.clock()
    for delay in timing.intervals():
        value = read()
        reason = failed(value)
        if reason:
            raise ResourceFailed(f"{what}: {reason}")
        if done(value):
            return value
        elapsed = timing.clock() - start
        if on_poll:
            on_poll(value, elapsed)
        if elapsed + delay > timeout:
            raise WaitTimeout(
                f"gave up waiting for {what} after {elapsed:.0f}s (limit {timeout:.0f}s)"
            )
        timing.sleep(delay)
    raise AssertionError("unreachable")


# Messages AWS returns while a freshly created role is not yet assumable by the service. Error
# codes alone cannot tell this apart from a real misconfiguration, so these are matched on the
# message -- the one place wcpipe does so, because AWS offers nothing better.
_PROPAGATION_CODES = {
    "InvalidParameterValueException",
    "InvalidInputException",
    "AccessDeniedException",
    "ValidationException",
    "InvalidParameterValue",
    "InvalidParameterCombination",
    "UnauthorizedOperation",
}
_PROPAGATION_PHRASES = (
    "cannot be assumed",
    "unable to assume",
    "could not be assumed",
    "not authorized to perform: sts:assumerole",
    "should be given assume role",
    "role defined for the function cannot be assumed",
)


def is_role_propagation_error(exc: BaseException) -> bool:
    code = error_code(exc)
    if code not in _PROPAGATION_CODES:
        return False
    message = error_message(exc).lower()
    return any(p in message for p in _PROPAGATION_PHRASES)


def retry_while_role_propagates(
    call: Callable[[], T], *, what: str, timing: Timing, budget: float = 120.0
) -> T:
    """Run `call`, retrying while AWS says a new role cannot be assumed yet, for up to `budget`
    seconds (AWS's own tools wait about two minutes)."""
    start = timing.clock()
    delay = 1.0
    attempts = 0
    while True:
        attempts += 1
        try:
            return call()
        except Exception as exc:
            if not is_role_propagation_error(exc):
                raise
            elapsed = timing.clock() - start
            if elapsed + delay > budget:
                raise WaitTimeout(
                    f"{what}: the new IAM role still cannot be assumed after {attempts} attempts "
                    f"over {elapsed:.0f}s: {error_message(exc)}",
                    hint="check the role's trust policy; IAM usually propagates within a minute",
                ) from None
            timing.sleep(delay)
            delay = min(delay * 2, 10.0)
