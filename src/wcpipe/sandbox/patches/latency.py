"""Latency profiles for the sandbox: `--latency aws` makes the offline AWS as slow as the real one,
scaled down so that a run takes seconds instead of minutes.

Contract:
- `profile(name, scale=...)` returns a `Profile` (or None for "none"). A Profile is the
  `Sandbox.latency` hook: called by the server's middleware with (service, operation) before each
  request, it returns the seconds to sleep (the per-request delay, scaled).
- `Profile.ready_after(what)` is the scaled readiness delay, in sandbox seconds, of one of
  `READINESS` (0.0 for anything the profile does not model). Patched moto code asks the
  current sandbox's hook through `readiness(what)`, so a wrapper around a Profile (a counting
  hook, say) keeps the readiness delays as long as it exposes `ready_after`.
- `install()` (with the other patches, at sandbox start; once per process) installs the
  readiness patches, each as `context.or_moto` (moto as it is without a sandbox); they read the
  current sandbox's hook at request time, so sandboxes without a profile keep moto's timing:
    redshift cluster   DescribeClusters says `creating` until ready, then `available`
    lambda function    State `Pending` until ready, then `Active`
    vpc endpoint       State `pending` until ready, then `available`
    iam role           CreateFunction / CreateCrawler naming a role younger than the IAM
                       propagation delay fail as AWS fails them ("cannot be assumed"), so the
                       caller's retry is exercised
  Crawls and job runs wait on the sandbox's worker pools: `Sandbox.background` starts their work
  through `delayed_start(hook, pool, fn)`, so
    glue crawl         a crawl stays RUNNING for the crawl duration before it crawls
    glue job run       a run stays STARTING for the start-up delay before it runs
    redshift serverless  a workgroup is CREATING until ready, then AVAILABLE; a change is
                       MODIFYING (DELETING) until done (the sandbox's own backend,
                       `serverless_models`, asks `readiness` when each starts)
- All delays are AWS seconds divided by `scale` (default `DEFAULT_SCALE`): a profile keeps the
  ratios between the waits, so poll schedules (wcpipe's `Timing`, scaled by the same factor) see
  the same number of "not yet" answers they would see on AWS.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from wcpipe.sandbox.context import current, once, or_moto

DEFAULT_SCALE = 60.0
"""AWS seconds per sandbox second: a 6-minute cluster creation takes 6 s."""

# ---------------------------------------------------------------------------------------------
# The figures, in AWS seconds, and where they come from.

REQUEST_SECONDS = 0.1
"""Per request: an assumed ~100 ms round trip plus service time for a control-plane call from a
client in the same region. AWS publishes no figure; SDK retry and waiter defaults (tens of ms
base backoff, waiters polling every 5-60 s) are built around calls of this order. Order of
magnitude only: what matters is that it is small next to the readiness delays."""

READINESS: dict[str, float] = {
    # Provisioned cluster creation. The AWS SDKs' ClusterAvailable waiter polls DescribeClusters
    # every 60 s for up to 30 attempts (e.g. aws-sdk-ruby Aws::Redshift::Waiters::
    # ClusterAvailable: delay 60, max_attempts 30), and infrastructure tools document "roughly
    # 5-10 minutes to provision" (alchemy.run, AWS Redshift Cluster provider). We take 6 min.
    "redshift.cluster": 360.0,
    # Serverless workgroup creation: "asynchronous and takes roughly 2-5 minutes" (alchemy.run,
    # AWS RedshiftServerless Workgroup provider). We take 3 min.
    "redshift-serverless.workgroup": 180.0,
    # A Serverless change (UpdateWorkgroup / UpdateNamespace: MODIFYING) or deletion (DELETING)
    # until done. AWS publishes no figure; we assume 1 min, a third of creation.
    "redshift-serverless.change": 60.0,
    # IAM propagation: "it takes a few seconds for permissions to propagate through AWS"
    # (hashicorp/terraform#2869, citing the EC2 IAM-roles guide); deployment tools sleep 5-6 s
    # after creating a role before creating a Lambda function that uses it
    # (codeenigma/ce-provision#2438). Lambda's own error for this window is "The role defined
    # for the function cannot be assumed by Lambda". We take 8 s.
    "iam.role": 8.0,
    # Lambda function: `Pending` after CreateFunction while Lambda provisions it, `Active` when
    # invocable (AWS Lambda Developer Guide, "Lambda function states"). Without VPC or EFS
    # resources this takes seconds. We take 5 s.
    "lambda.function": 5.0,
    # S3 gateway endpoint: the AWS CLI example for create-vpc-endpoint (EC2 Developer Guide)
    # already shows "State": "available" in the create response; gateway endpoints are ready
    # within seconds. We take 5 s of `pending`.
    "ec2.vpc-endpoint": 5.0,
    # A crawl of a small S3 prefix: about a minute (start-up, classification, catalog update;
    # crawler examples poll GetCrawler every 10 s for up to 8 times, alchemy.run GetCrawler).
    "glue.crawl": 60.0,
    # Glue job start-up: Glue 2.0 and later "provide an upgraded infrastructure for running
    # Apache Spark ETL jobs with reduced startup times" (AWS Glue Developer Guide, "Running Spark
    # ETL jobs with reduced startup times"): tens of seconds rather than Glue 1.0's ~10 minutes.
    # We take 20 s in STARTING.
    "glue.job-start": 20.0,
}


@dataclass(frozen=True)
class Profile:
    """A latency profile: the sandbox's per-request hook plus readiness delays."""

    name: str
    scale: float = DEFAULT_SCALE
    request: float = REQUEST_SECONDS
    readiness: dict[str, float] = field(default_factory=lambda: dict(READINESS))

    def __call__(self, service: str, operation: str) -> float:
        return self.request / self.scale

    def ready_after(self, what: str) -> float:
        """Sandbox seconds until a new `what` is ready (0.0 if the profile does not model it)."""
        return self.readiness.get(what, 0.0) / self.scale

    def aws_seconds(self, sandbox_seconds: float) -> float:
        return sandbox_seconds * self.scale


PROFILES = ("none", "aws")


def profile(name: str, *, scale: float = DEFAULT_SCALE) -> Profile | None:
    """The named profile: "none" (no delay) or "aws" (published figures, divided by `scale`)."""
    if name == "none":
        return None
    if name == "aws":
        if scale <= 0:
            raise ValueError(f"latency scale must be positive, not {scale}")
        return Profile("aws", scale=scale)
    raise ValueError(f"unknown latency profile {name!r} (choose from {', '.join(PROFILES)})")


def readiness(what: str) -> float:
    """The current sandbox's scaled readiness delay for `what` (0.0 without a profile); only
    patched code a sandbox serves asks (the patches are `or_moto`)."""
    return _ready_after(current().latency, what)


def _ready_after(hook: Callable[[str, str], float] | None, what: str) -> float:
    ready_after: Callable[[str], float] | None = getattr(hook, "ready_after", None)
    return ready_after(what) if ready_after is not None else 0.0


_POOL_READINESS = {"crawls": "glue.crawl", "jobs": "glue.job-start"}


def delayed_start(
    hook: Callable[[str, str], float] | None, pool: str, fn: Callable[..., Any]
) -> Callable[..., Any]:
    """`fn` as `Sandbox.background` runs it on `pool`: crawls and job runs, which wait on the
    sandbox's worker pools, start after the profile's delay (`fn` itself without one)."""
    delay = _ready_after(hook, _POOL_READINESS[pool]) if pool in _POOL_READINESS else 0.0
    return _after(delay, fn) if delay > 0 else fn


def _after(delay: float, fn: Callable[..., Any]) -> Callable[..., Any]:
    def delayed(*args: Any, **kwargs: Any) -> Any:
        time.sleep(delay)
        return fn(*args, **kwargs)

    return delayed


# ---------------------------------------------------------------------------------------------
# Readiness patches: a state reads as "not ready" until its deadline (time.monotonic()).

_role_created: dict[str, float] = {}  # role name -> monotonic time of CreateRole


def _delayed_state(cls: Any, attr: str, ready: str, not_ready: str, what: str) -> None:
    """Make `cls.<attr>` read `not_ready` while it is `ready` and the object is younger than the
    profile's delay for `what` (the deadline is fixed when the attribute is first set)."""
    slot = f"_latency_{attr}"
    deadline = f"_latency_{attr}_ready_at"

    def get(self: Any) -> Any:
        # Objects made before the patch keep their plain attribute.
        return self.__dict__[slot] if slot in self.__dict__ else self.__dict__.get(attr)

    def get_delayed(self: Any) -> Any:
        value = get(self)
        if value == ready and time.monotonic() < self.__dict__.get(deadline, 0.0):
            return not_ready
        return value

    def set_(self: Any, value: Any) -> None:
        self.__dict__[slot] = value

    def set_with_deadline(self: Any, value: Any) -> None:
        if deadline not in self.__dict__:
            self.__dict__[deadline] = time.monotonic() + readiness(what)
        set_(self, value)

    setattr(cls, attr, property(or_moto(get_delayed, get), or_moto(set_with_deadline, set_)))


def _role_name(role: str) -> str:
    return role.rsplit("/", 1)[-1]


def _role_too_young(role: str | None) -> bool:
    if not role:
        return False
    created = _role_created.get(_role_name(role))
    return created is not None and time.monotonic() < created + readiness("iam.role")


def _patch_iam() -> None:
    from moto.iam.models import IAMBackend

    original = IAMBackend.create_role

    def create_role(self: Any, role_name: str, *args: Any, **kwargs: Any) -> Any:
        role = original(self, role_name, *args, **kwargs)
        _role_created[role_name] = time.monotonic()
        return role

    IAMBackend.create_role = or_moto(create_role, original)  # type: ignore[method-assign]


def _patch_lambda() -> None:
    from moto.awslambda.exceptions import InvalidParameterValueException
    from moto.awslambda.models import LambdaBackend, LambdaFunction

    _delayed_state(LambdaFunction, "state", "Active", "Pending", "lambda.function")
    original = LambdaBackend.create_function

    def create_function(self: Any, spec: dict[str, Any]) -> Any:
        if _role_too_young(spec.get("Role")):
            raise InvalidParameterValueException(
                "The role defined for the function cannot be assumed by Lambda."
            )
        return original(self, spec)

    LambdaBackend.create_function = or_moto(create_function, original)  # type: ignore[method-assign]


def _patch_glue() -> None:
    from moto.glue.exceptions import InvalidInputException
    from moto.glue.models import GlueBackend

    original = GlueBackend.create_crawler

    def create_crawler(self: Any, name: str, role: str, *args: Any, **kwargs: Any) -> Any:
        if _role_too_young(role):
            raise InvalidInputException(
                "CreateCrawler",
                "Service is unable to assume provided role. Please verify role's TrustPolicy",
            )
        return original(self, name, role, *args, **kwargs)

    GlueBackend.create_crawler = or_moto(create_crawler, original)  # type: ignore[method-assign]


@once
def install() -> None:
    """Install the readiness patches."""
    from moto.ec2.models.vpcs import VPCEndPoint
    from moto.redshift.models import Cluster

    _delayed_state(Cluster, "status", "available", "creating", "redshift.cluster")
    _delayed_state(VPCEndPoint, "state", "available", "pending", "ec2.vpc-endpoint")
    _patch_iam()
    _patch_lambda()
    _patch_glue()


# moto internals patched here (tests/sandbox/test_moto_pins.py checks them).
PINS: tuple[tuple[str, str], ...] = (
    ("moto.redshift.models", "Cluster"),
    ("moto.ec2.models.vpcs", "VPCEndPoint"),
    ("moto.iam.models", "IAMBackend"),
    ("moto.awslambda.models", "LambdaBackend"),
    ("moto.awslambda.models", "LambdaFunction"),
    ("moto.awslambda.exceptions", "InvalidParameterValueException"),
    ("moto.glue.models", "GlueBackend"),
    ("moto.glue.exceptions", "InvalidInputException"),
)
