"""Bucket policies in the sandbox evaluated as AWS evaluates them for a TLS request.

moto 5.2.5 evaluates bucket policies with no request context and supports only StringEquals, and
it treats a statement whose condition does not hold as a Deny. wcpipe's TLS-only statement
(Deny when aws:SecureTransport is false) therefore denies every object request. AWS is only
reached over TLS; the sandbox listens on loopback HTTP, and stands in for that TLS endpoint: its
requests are evaluated with `aws:SecureTransport = "true"`, the `Bool` operator, and statements
whose conditions do not hold left out, as AWS does. Patches moto only, never wcpipe.

`install()` applies `patches()` once per process (`context.once`), for moto's in-process mock
too (not through `context.or_moto`): tests of the bucket policy on moto's mock apply the same
`patches()` themselves. PINS names the moto internals used here.
"""

from __future__ import annotations

import json
from typing import Any

from wcpipe.sandbox.context import once

CONTEXT = {"aws:SecureTransport": "true"}


def _bool_equals(expected: Any, actual: str) -> bool:
    values = expected if isinstance(expected, list) else [expected]
    return actual.lower() in [str(v).lower() for v in values]


def _get_permission(self: Any, action: str, resource: str) -> Any:
    from moto.iam.access_control import IAMPolicy, IAMPolicyStatement, PermissionResult

    if self.policy is None:
        return PermissionResult.NEUTRAL
    policy = json.loads(self.policy.decode())
    statements = policy["Statement"]
    statements = statements if isinstance(statements, list) else [statements]
    policy["Statement"] = [
        s for s in statements if IAMPolicyStatement(s)._check_conditions(CONTEXT)
    ]
    return IAMPolicy(json.dumps(policy)).is_action_permitted(
        action, resource, incoming_condition_values=CONTEXT
    )


def patches() -> list[tuple[Any, str, Any]]:
    """(object, attribute, replacement) triples; `install` applies them, tests may monkeypatch."""
    from moto.iam import policy_conditions
    from moto.s3.models import FakeBucket

    operations = dict(policy_conditions.CONDITION_OPERATIONS, Bool=_bool_equals)
    return [
        (policy_conditions, "CONDITION_OPERATIONS", operations),
        (FakeBucket, "get_permission", _get_permission),
    ]


# The moto internals used here (tests/sandbox/test_moto_pins.py checks them).
PINS: tuple[tuple[str, str], ...] = (
    ("moto.iam.policy_conditions", "CONDITION_OPERATIONS"),
    ("moto.s3.models", "FakeBucket"),
    ("moto.iam.access_control", "IAMPolicyStatement"),
    ("moto.iam.access_control", "IAMPolicy"),
)


@once
def install() -> None:
    for obj, attr, value in patches():
        setattr(obj, attr, value)
