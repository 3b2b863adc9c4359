"""Test helper (not a conftest): record the operations a boto3 client sends."""

from __future__ import annotations

import json
from typing import Any

READ_PREFIXES = ("Get", "Head", "List", "Describe")


class Calls:
    """Register on a client's `before-call` event; `.ops` lists operation names in order."""

    def __init__(self, client: Any) -> None:
        self.ops: list[str] = []
        self.params: list[tuple[str, dict[str, Any]]] = []
        client.meta.events.register("before-call.*.*", self._record)

    def _record(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        self.ops.append(model.name)
        self.params.append((model.name, params))

    @property
    def mutating(self) -> list[str]:
        return [op for op in self.ops if not op.startswith(READ_PREFIXES)]

    def count(self, op: str) -> int:
        return self.ops.count(op)

    def clear(self) -> None:
        self.ops.clear()
        self.params.clear()


def teach_moto_secure_transport(monkeypatch: Any) -> None:
    """moto 5.2.5 evaluates bucket policies with no request context and supports only
    StringEquals, so any Deny that has a condition (our TLS-only statement) denies every object
    request. Give its evaluator what AWS would: `aws:SecureTransport` is "true" (boto3 talks to
    moto over https) and the `Bool` operator. Patches moto only, never wcpipe."""
    from moto.iam import policy_conditions
    from moto.iam.access_control import IAMPolicy
    from moto.s3.models import FakeBucket

    def bool_equals(expected: Any, actual: str) -> bool:
        values = expected if isinstance(expected, list) else [expected]
        return actual.lower() in [str(v).lower() for v in values]

    def get_permission(self: Any, action: str, resource: str) -> Any:
        from moto.iam.access_control import IAMPolicyStatement, PermissionResult

        if self.policy is None:
            return PermissionResult.NEUTRAL
        # moto also treats a statement whose condition does not hold as a Deny; in AWS it
        # simply does not apply, so leave such statements out before asking moto.
        context = {"aws:SecureTransport": "true"}
        policy = json.loads(self.policy.decode())
        statements = policy["Statement"]
        statements = statements if isinstance(statements, list) else [statements]
        policy["Statement"] = [
            s for s in statements if IAMPolicyStatement(s)._check_conditions(context)
        ]
        return IAMPolicy(json.dumps(policy)).is_action_permitted(
            action, resource, incoming_condition_values=context
        )

    operations = dict(policy_conditions.CONDITION_OPERATIONS, Bool=bool_equals)
    monkeypatch.setattr(policy_conditions, "CONDITION_OPERATIONS", operations)
    monkeypatch.setattr(FakeBucket, "get_permission", get_permission)
