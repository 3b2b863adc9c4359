"""IAM authorization in the sandbox: may this actor (a role) do this action on this resource?

Contract:
- `Actor(role_arn)` is who acts: a role, as the session of it that STS hands a service
  (`assumed_arn`, the principal AWS names in its AccessDenied messages).
- `evaluate(documents, action, resource, context)` is AWS's evaluation of identity-based
  policies within one account (IAM User Guide, "Policy evaluation logic": an explicit Deny in
  any statement wins; otherwise an Allow is needed; otherwise the request is implicitly denied).
  Each statement is judged by moto's own `IAMPolicyStatement` (moto/iam/access_control.py:
  Action/NotAction, Resource matching; both case-sensitive, as the project's policies are
  spelled), with two of its gaps closed here, as AWS does them:
  `*` and `?` are the only wildcards of an ARN pattern (IAM JSON policy elements: Resource),
  moto turns the pattern into a regular expression as it stands; and a statement whose
  Condition does not hold does not apply (moto answers Deny for it). moto's
  `policy_conditions` knows only StringEquals and passes a condition whose key is absent, so
  the operators the project's policies use are judged here (IAM JSON policy elements:
  Condition operators):
  StringEquals/NotEquals, StringLike/NotLike, ArnEquals/ArnLike (and Not), Bool, each with
  `...IfExists`, the `ForAllValues:`/`ForAnyValue:` set qualifiers, and Null. Condition keys match
  case-insensitively; a key absent from the request fails its condition, except under
  IfExists and ForAllValues (IAM: "Condition with multiple context keys or values"). An
  operator not modelled raises ValueError: a policy is never judged by half its condition.
- `role_documents(iam_backend, role_name)`: the role's inline and attached managed policies,
  read from moto's IAM backend (what `AssumedRoleAccessKey.collect_policies` reads).
- `authorize(iam_backend, actor, action, resource, context)` returns a `Decision`; its
  `message` is AWS's AccessDenied text (IAM User Guide, "Troubleshoot access denied error
  messages": "User: <principal> is not authorized to perform: <action> on resource: <arn>
  because no identity-based policy allows the <action> action", or "... with an explicit deny
  in an identity-based policy"). Every request is evaluated with `aws:SecureTransport = true`:
  the sandbox stands in for AWS's TLS endpoints (as `patches/s3_policy.py` does).
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from moto.iam.access_control import IAMPolicyStatement, PermissionResult
from moto.iam.exceptions import NotFoundException

PINS: tuple[tuple[str, str], ...] = (
    ("moto.iam.access_control", "IAMPolicyStatement"),
    ("moto.iam.access_control", "PermissionResult"),
    ("moto.iam.exceptions", "NotFoundException"),
)

# Request context every sandbox request carries (it stands in for a TLS endpoint).
BASE_CONTEXT: dict[str, str] = {"aws:SecureTransport": "true"}

ContextValue = str | list[str]


@dataclass(frozen=True)
class Actor:
    """A role acting through a session of it (a service's, or the sandbox's for a test)."""

    role_arn: str
    session: str = "wcpipe-sandbox"

    @property
    def role_name(self) -> str:
        return self.role_arn.rsplit("/", 1)[-1]

    @property
    def account_id(self) -> str:
        return self.role_arn.split(":")[4]

    @property
    def partition(self) -> str:
        return self.role_arn.split(":")[1]

    @property
    def assumed_arn(self) -> str:
        """The principal AWS names: arn:<p>:sts::<account>:assumed-role/<role>/<session>."""
        return (
            f"arn:{self.partition}:sts::{self.account_id}:assumed-role/"
            f"{self.role_name}/{self.session}"
        )


@dataclass(frozen=True)
class Decision:
    actor: Actor
    action: str
    resource: str
    allowed: bool
    explicit_deny: bool = False
    statement: str | None = None  # the Sid (or index) of the deciding statement

    @property
    def message(self) -> str:
        head = (
            f"User: {self.actor.assumed_arn} is not authorized to perform: {self.action} "
            f"on resource: {self.resource}"
        )
        if self.explicit_deny:
            return f"{head} with an explicit deny in an identity-based policy"
        return f"{head} because no identity-based policy allows the {self.action} action"


# Condition operators --------------------------------------------------------------------
def _values(value: Any) -> list[str]:
    return [str(v) for v in (value if isinstance(value, list) else [value])]


def _like(expected: Any, actual: str) -> bool:
    return any(fnmatch.fnmatchcase(actual, _glob(p)) for p in _values(expected))


def _equals(expected: Any, actual: str) -> bool:
    return actual in _values(expected)


def _bool(expected: Any, actual: str) -> bool:
    return actual.lower() in [v.lower() for v in _values(expected)]


_POSITIVE = {
    "StringEquals": _equals,
    "StringLike": _like,
    "ArnEquals": _equals,
    "ArnLike": _like,
    "Bool": _bool,
}
_NEGATED = {
    "StringNotEquals": _equals,
    "StringNotLike": _like,
    "ArnNotEquals": _equals,
    "ArnNotLike": _like,
}


def _glob(pattern: str) -> str:
    """An IAM pattern as an fnmatch pattern: only `*` and `?` are wildcards ('[' is literal)."""
    return pattern.replace("[", "[[]")


def _null(key_values: Mapping[str, Any], lowered: Mapping[str, Any]) -> bool:
    """`Null`: "true" holds where the key is absent (or empty), "false" where it is present
    (IAM JSON policy elements: Condition operators, "Condition operator to check existence of
    condition keys"). The guard a `ForAllValues:` condition needs, since that qualifier holds
    for a request without the key (IAM User Guide, "Multivalued context key examples")."""
    for key, expected in key_values.items():
        value = lowered.get(key.lower())
        absent = value is None or value == [] or value == ""
        if str(expected).lower() != str(absent).lower():
            return False
    return True


def _holds(operator: str, key_values: Mapping[str, Any], context: Mapping[str, Any]) -> bool:
    if operator == "Null":
        return _null(key_values, {k.lower(): v for k, v in context.items()})
    qualifier, _, op = operator.rpartition(":")
    if_exists = op.endswith("IfExists")
    op = op.removesuffix("IfExists")
    negated = op in _NEGATED
    test = _NEGATED.get(op) or _POSITIVE.get(op)
    if test is None:
        raise ValueError(f"condition operator {operator} is not modelled by the sandbox")
    lowered = {k.lower(): v for k, v in context.items()}
    for key, expected in key_values.items():
        if key.lower() not in lowered:
            if if_exists or qualifier == "ForAllValues":
                continue
            return False
        actual = _values(lowered[key.lower()])
        matches = [test(expected, value) != negated for value in actual]
        ok = all(matches) if qualifier == "ForAllValues" else any(matches)
        if not ok:
            return False
    return True


class Statement(IAMPolicyStatement):
    """moto's statement, with AWS's wildcards and conditions (see the module docstring)."""

    def conditions_hold(self, context: Mapping[str, Any]) -> bool:
        conditions: dict[str, Any] = self._statement.get("Condition") or {}
        return all(_holds(op, kv, context) for op, kv in conditions.items())

    def _check_conditions(self, incoming_condition_values: Any) -> bool:
        return True  # judged by `conditions_hold` first: a false condition does not apply

    @staticmethod
    def _match(pattern: str, string: str) -> Any:
        return fnmatch.fnmatchcase(string, _glob(pattern)) or None

    def judge(self, action: str, resource: str, context: Mapping[str, Any]) -> PermissionResult:
        if not self.conditions_hold(context):
            return PermissionResult.NEUTRAL
        return self.is_action_permitted(action, resource)


def _statements(document: Any) -> list[dict[str, Any]]:
    doc = json.loads(document) if isinstance(document, str) else document
    statements = doc["Statement"]
    return statements if isinstance(statements, list) else [statements]


def evaluate(
    documents: list[Any],
    action: str,
    resource: str,
    context: Mapping[str, ContextValue] | None = None,
    *,
    actor: Actor | None = None,
) -> Decision:
    """AWS's decision over identity-based `documents` (dicts or JSON text)."""
    ctx = {**BASE_CONTEXT, **(context or {})}
    who = actor or Actor("arn:aws:iam::000000000000:role/unknown")
    allowed_by: str | None = None
    for document in documents:
        for index, raw in enumerate(_statements(document)):
            result = Statement(raw).judge(action, resource, ctx)
            sid = str(raw.get("Sid", index))
            if result == PermissionResult.DENIED:
                return Decision(who, action, resource, False, explicit_deny=True, statement=sid)
            if result == PermissionResult.PERMITTED and allowed_by is None:
                allowed_by = sid
    return Decision(who, action, resource, allowed_by is not None, statement=allowed_by)


def role_documents(iam_backend: Any, role_name: str) -> list[str]:
    """The role's policy documents (inline, then attached managed: their default version)."""
    role = iam_backend.get_role(role_name)
    documents = [role.policies[name] for name in sorted(role.policies)]
    for policy in role.managed_policies.values():
        default = next(v for v in policy.versions if v.is_default)
        documents.append(default.document)
    return [d if isinstance(d, str) else json.dumps(d) for d in documents]


def authorize(
    iam_backend: Any,
    actor: Actor,
    action: str,
    resource: str,
    context: Mapping[str, ContextValue] | None = None,
) -> Decision:
    """May `actor` do `action` on `resource`? Read the role's policies from moto's IAM backend
    (a role that no longer exists may do nothing)."""
    try:
        documents = role_documents(iam_backend, actor.role_name)
    except NotFoundException:
        documents = []
    return evaluate(documents, action, resource, context, actor=actor)
