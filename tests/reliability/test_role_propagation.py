"""Promise 2: IAM eventual consistency. A role created a moment ago cannot be assumed yet: for
its first N tries, Lambda's CreateFunction and Glue's CreateCrawler / CreateJob answer with the
errors AWS really sends then. `up` retries within its budget and succeeds; when the role never
becomes usable it fails with one clear line (exit code 1).

`up` is run here as the library calls it (`engine.plan` then `engine.apply`, the code behind
`wcpipe up`), on injected time (the budget is two minutes of real time), and on only some of the
resources when the test names them.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from support.census import census
from support.clock import FakeClock
from support.faults import error_response
from support.figures import report
from support.harness import Pipeline

LAMBDA_ERROR = (
    "InvalidParameterValueException",
    "The role defined for the function cannot be assumed by Lambda.",
)
GLUE_ERROR = (
    "InvalidInputException",
    "Service is unable to assume provided role. Please verify role's TrustPolicy",
)
REFUSES = {
    ("lambda", "CreateFunction"): LAMBDA_ERROR,
    ("glue", "CreateCrawler"): GLUE_ERROR,
    ("glue", "CreateJob"): GLUE_ERROR,
}


class RoleNotReady:
    """Refuse each create the first `times` times it is sent, as a role still propagating."""

    def __init__(self, times: int) -> None:
        self.times = times
        self.refused: dict[str, int] = {}
        self.sent: dict[str, int] = {}
        self._lock = threading.Lock()

    def __call__(self, request: Any, event_name: str, **_: Any) -> Any:
        _, service, operation = event_name.split(".")[:3]
        refusal = REFUSES.get((service, operation))
        if refusal is None:
            return None
        with self._lock:
            self.sent[operation] = self.sent.get(operation, 0) + 1
            # Per resource: the Glue crawlers are two resources behind one operation.
            key = f"{operation}:{hash(request.body)}"
            if self.refused.get(key, 0) >= self.times:
                return None
            self.refused[key] = self.refused.get(key, 0) + 1
        return error_response("rest-json" if service == "lambda" else "json", 400, *refusal)

    def install(self) -> list[Any]:
        from wcpipe.core.aws import instrument

        return [instrument(f"before-send.{s}", self) for s in ("lambda", "glue")]


class ThreadClock:
    """Injected time for concurrent waits: each engine thread sees its own sleeps pass (threads
    wait side by side, as they do in real time), and `longest` is the longest wait."""

    def __init__(self) -> None:
        self._local = threading.local()
        self.longest = 0.0

    def __call__(self) -> float:
        return float(getattr(self._local, "now", 0.0))

    def sleep(self, seconds: float) -> None:
        self._local.now = self() + seconds
        self.longest = max(self.longest, self._local.now)


def _up(pl: Pipeline, clock: Any, keys: set[str] | None = None) -> dict[str, str]:
    """What `wcpipe up --yes` does, with time injected; only `keys` if given."""
    from wcpipe.core.wait import Timing
    from wcpipe.provision import engine
    from wcpipe.provision.resources import catalog

    ctx = pl.context(Timing(sleep=clock.sleep, clock=clock))
    resources = [r for r in catalog(ctx) if keys is None or r.key in keys]
    return engine.apply(ctx, resources, engine.plan(ctx, resources))


def test_up_waits_for_new_roles_within_its_budget(pipeline: Pipeline) -> None:
    clock = ThreadClock()
    refusals = 4
    hook = RoleNotReady(times=refusals)
    removers = hook.install()
    try:
        outcome = _up(pipeline, clock)
    finally:
        for remove in removers:
            remove()
    assert set(outcome.values()) == {"created"}
    # Each of the function, the two crawlers and the job was refused 4 times, then created.
    assert sorted(hook.refused.values()) == [refusals] * 4
    assert hook.sent == {"CreateFunction": 5, "CreateCrawler": 10, "CreateJob": 5}
    assert census(pipeline).converged() == {}
    assert 0 < clock.longest < 120, "within the two-minute budget"
    report(f"role propagation: 16 refusals absorbed, longest wait {clock.longest:.0f}s (injected)")


LAMBDA_ONLY = {"s3.bucket", "s3.artifacts", "iam.lambda-role", "logs.lambda-log-group",
               "lambda.function"}  # fmt: skip
GLUE_JOB_ONLY = {"s3.bucket", "s3.artifacts", "iam.glue-role", "glue.job"}


@pytest.mark.parametrize(
    ("keys", "what", "message"),
    [
        (LAMBDA_ONLY, "Lambda function", LAMBDA_ERROR[1]),
        (GLUE_JOB_ONLY, "Glue job", GLUE_ERROR[1]),
    ],
    ids=["lambda", "glue"],
)
def test_up_gives_up_with_one_clear_line(
    pipeline: Pipeline, clock: FakeClock, keys: set[str], what: str, message: str
) -> None:
    from wcpipe.core.errors import WaitTimeout

    hook = RoleNotReady(times=10**6)
    removers = hook.install()
    try:
        with pytest.raises(WaitTimeout) as caught:
            _up(pipeline, clock, keys)
    finally:
        for remove in removers:
            remove()
    error = caught.value
    text = str(error)
    assert error.exit_code == 1
    assert "\n" not in text
    assert what in text and "cannot be assumed" in text and message in text, text
    assert error.hint and "trust policy" in error.hint
    assert 110 <= clock.now <= 130, "gave up at the end of the two-minute budget"
    report(f"role propagation ({what}): gave up after {sum(hook.sent.values())} tries: {text}")
