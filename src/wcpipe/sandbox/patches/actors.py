"""Requests made as a role are authorised as that role (moto authorises nothing by default).

Contract:
- `assume(sandbox, role_arn, session)` is what a service does before it acts for a role: STS
  AssumeRole in moto's STS backend (the credentials moto itself recognises as the role's), and
  the access key recorded as an `authz.Actor` of this sandbox (`sandbox.state["actors"]`). It
  returns the credentials as AWS_* environment variables. The Lambda runner hands them to the
  function, as Lambda does its execution role's.
- `install()` patches moto's own authorization hook, `ActionAuthenticatorMixin`'s
  `_authenticate_and_authorize_normal_action` and `_authenticate_and_authorize_s3_action`
  (moto/core/authorization.py; moto calls them before serving every request and, with
  INITIAL_NO_AUTH_ACTION_COUNT at its default, authorises nothing). A request signed with an
  actor's access key is evaluated by `authz.authorize` against the role's policies, on the
  resource the request names; a denial is AWS's error for the service: S3's
  AccessDenied (403) and, for the JSON services, AccessDeniedException (400), each with the
  message AWS writes. Any other request (the operator's, with the sandbox's credentials) is
  moto's as before: unrestricted. As `context.or_moto`: moto's own hook without a sandbox.
- Work the sandbox does itself on a role's behalf (a crawl, a job run: `glue_access`) asks
  through the same evaluation: `service_actor(sandbox, role, session)`, then `require(...)`
  (raises `RoleDenied`, whose `aws_error` is the service's error) or `check(...)` (the
  denial or None, for what AWS skips quietly when denied, e.g. log lines). Every denial, of a
  request or of the sandbox's own work, is kept in order in `denials(sandbox)` (tests read
  which action was refused). With `record_grants(sandbox)`, every allowed decision is kept
  too, with the Sid of the statement that allowed it (a test replays a statement's removal
  only against the commands that used it).
- What a request asks IAM (its action on each resource, and the dependent actions AWS checks
  with it: iam:PassRole, tag-on-create) is `sandbox/arns.py`'s (`checks`, `s3_checks`), read
  off the Service Authorization Reference; an operation it does not know is judged on "*".
- The operator (`install_operator`): a role of the sandbox holding exactly the given policy
  documents, assumed like any actor, so `wcpipe` run with its credentials is authorised as a
  person holding that policy would be (`wcpipe sandbox serve --operator-policy`).
PINS names the moto internals used here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from moto.core.authorization import ActionAuthenticatorMixin
from moto.core.exceptions import JsonRESTError, _RESTError
from moto.iam.exceptions import NotFoundException

from wcpipe.sandbox import arns, authz
from wcpipe.sandbox.context import current, once, or_moto

if TYPE_CHECKING:
    from wcpipe.sandbox.context import SandboxView

PINS: tuple[tuple[str, str], ...] = (
    ("moto.core.authorization", "ActionAuthenticatorMixin"),
    ("moto.core.exceptions", "JsonRESTError"),
    ("moto.core.exceptions", "_RESTError"),  # the XML error of the query protocol
    ("moto.s3.exceptions", "S3ClientError"),
    ("moto.sts.models", "sts_backends"),
    *authz.PINS,
)

_KEY = re.compile(r"Credential=([^/,\s]+)/")
# Lambda's REST paths name the function (or, for tags, its ARN) in the URI.
_LAMBDA_PATH = re.compile(r"/(functions|tags)/([^/?]+)")


class RoleDenied(Exception):
    """The sandbox's work for a role was refused: `decision` says what, on which resource."""

    def __init__(self, decision: authz.Decision) -> None:
        super().__init__(decision.message)
        self.decision = decision

    @property
    def aws_error(self) -> str:
        """As the service reports it: S3's code is AccessDenied, the JSON services'
        AccessDeniedException."""
        code = "AccessDenied" if self.decision.action.startswith("s3:") else "AccessDeniedException"
        return f"{code}: {self.decision.message}"


def denials(sandbox: SandboxView) -> list[authz.Decision]:
    """Every denial in this sandbox so far, in order."""
    found: list[authz.Decision] = sandbox.state.setdefault("denials", [])
    return found


def record_grants(sandbox: SandboxView) -> list[authz.Decision]:
    """From now on, every allowed decision in this sandbox, in order (`Decision.statement` is
    the Sid that allowed it). Off unless asked: a long-running sandbox keeps nothing."""
    found: list[authz.Decision] = sandbox.state.setdefault("grants", [])
    return found


def service_actor(sandbox: SandboxView, role: str | None, session: str) -> authz.Actor | None:
    """The actor a service is when it acts as `role` (a name or an ARN, as Glue accepts them),
    or None when the sandbox's IAM holds no such role: that work is not authorised. A gap on
    purpose: AWS would refuse to assume the role, but the sandbox's own tests of crawls and runs
    make crawlers and jobs without one; everything `wcpipe up` deploys has its role."""
    if not role:
        return None
    arn = role if role.startswith("arn:") else f"arn:aws:iam::{sandbox.account_id}:role/{role}"
    actor = authz.Actor(arn, session)
    try:
        sandbox.backend("iam").get_role(actor.role_name)
    except NotFoundException:
        return None
    return actor


def arn(sandbox: SandboxView, service: str, resource: str) -> str:
    """arn:aws:<service>:<region>:<account>:<resource> in this sandbox."""
    return f"arn:aws:{service}:{sandbox.region}:{sandbox.account_id}:{resource}"


def check(
    sandbox: SandboxView,
    actor: authz.Actor,
    action: str,
    targets: list[str] | str,
    context: dict[str, authz.ContextValue] | None = None,
) -> authz.Decision | None:
    """The first denial of `action` on `targets` (kept in `denials`), or None if all allowed."""
    iam = sandbox.backend("iam")
    for resource in [targets] if isinstance(targets, str) else targets:
        decision = authz.authorize(iam, actor, action, resource, context)
        if not decision.allowed:
            denials(sandbox).append(decision)
            return decision
        granted = sandbox.state.get("grants")
        if granted is not None:
            granted.append(decision)
    return None


def require(
    sandbox: SandboxView,
    actor: authz.Actor,
    action: str,
    targets: list[str] | str,
    context: dict[str, authz.ContextValue] | None = None,
) -> None:
    """`check`, raising `RoleDenied` on a denial."""
    decision = check(sandbox, actor, action, targets, context)
    if decision is not None:
        raise RoleDenied(decision)


def _allowed(sandbox: SandboxView, actor: authz.Actor, action: str, target: str) -> bool:
    return check(sandbox, actor, action, target) is None


def may_log(
    sandbox: SandboxView, actor: authz.Actor, group: str, stream: str, cache: dict[str, bool]
) -> bool:
    """May the role write this stream's lines (asked once per stream; `cache` keeps the
    answer)? The group and stream are created as the role would create them."""
    key = f"{group}:{stream}"
    if key not in cache:
        groups = sandbox.backend("logs").groups
        group_arn = arn(sandbox, "logs", f"log-group:{group}")
        stream_arn = f"{group_arn}:log-stream:{stream}"
        ok = group in groups or _allowed(sandbox, actor, "logs:CreateLogGroup", group_arn)
        if ok and (group not in groups or stream not in groups[group].streams):
            ok = _allowed(sandbox, actor, "logs:CreateLogStream", stream_arn)
        cache[key] = ok and _allowed(sandbox, actor, "logs:PutLogEvents", stream_arn)
    return cache[key]


def _state(sandbox: SandboxView) -> dict[str, authz.Actor]:
    actors: dict[str, authz.Actor] = sandbox.state.setdefault("actors", {})
    return actors


def assume(sandbox: SandboxView, role_arn: str, session: str) -> dict[str, str]:
    """Credentials of `role_arn` (STS AssumeRole in moto), recorded as an actor."""
    from moto.sts.models import sts_backends

    sts = sts_backends[sandbox.account_id]["aws"]
    assumed = sts.assume_role(
        region_name=sandbox.region,
        role_session_name=session,
        role_arn=role_arn,
        policy="",
        duration=3600,
        external_id="",
    )
    _state(sandbox)[assumed.access_key_id] = authz.Actor(role_arn, session)
    return {
        "AWS_ACCESS_KEY_ID": assumed.access_key_id,
        "AWS_SECRET_ACCESS_KEY": assumed.secret_access_key,
        "AWS_SESSION_TOKEN": assumed.session_token,
    }


def _actor(response: Any) -> authz.Actor | None:
    match = _KEY.search(response.headers.get("Authorization", ""))
    if match is None:
        return None
    return _state(current()).get(match.group(1))


def _deny(
    sandbox: SandboxView,
    actor: authz.Actor,
    action: str,
    targets: list[str],
    context: dict[str, authz.ContextValue],
    error: Callable[[str], Exception],
) -> None:
    decision = check(sandbox, actor, action, targets, context)
    if decision is not None:
        raise error(decision.message)


def _params(response: Any) -> dict[str, Any]:
    """The request's parameters: the query string's (form-encoded bodies included), the JSON
    body's, and for Lambda the function named in the path."""
    params: dict[str, Any] = {
        k: v[0] if isinstance(v, list) and len(v) == 1 else v
        for k, v in (getattr(response, "querystring", None) or {}).items()
    }
    try:
        body = json.loads(response.body or "{}")
    except (TypeError, ValueError):
        body = None
    if isinstance(body, dict):
        params.update(body)
    match = _LAMBDA_PATH.search(unquote(str(getattr(response, "path", "") or "")))
    if response.service_name in ("lambda", "awslambda") and match:
        params.setdefault("FunctionName" if match[1] == "functions" else "Resource", match[2])
    return params


_moto_normal = ActionAuthenticatorMixin._authenticate_and_authorize_normal_action
_moto_s3 = ActionAuthenticatorMixin._authenticate_and_authorize_s3_action


def _normal(self: Any, resource: str = "*") -> None:
    actor = _actor(self)
    if actor is None:
        return _moto_normal(self, resource)
    sandbox = current()

    form = "x-www-form-urlencoded" in str(self.headers.get("Content-Type", ""))

    def error(message: str) -> Exception:
        if form:  # a query-protocol service answers in XML, 403 (EC2: UnauthorizedOperation)
            code = "UnauthorizedOperation" if self.service_name == "ec2" else "AccessDenied"
            xml = _RESTError(code, message)
            xml.code = 403
            return xml
        exc = JsonRESTError("AccessDeniedException", message)
        exc.code = 400
        return exc

    for asked in arns.checks(sandbox, self.service_name, self._get_action(), _params(self)):
        _deny(sandbox, actor, asked.action, [asked.resource], asked.context, error)
    return None


def _s3(self: Any, bucket_name: str | None = None, key_name: str | None = None) -> None:
    actor = _actor(self)
    if actor is None:
        return _moto_s3(self, bucket_name, key_name)
    from moto.s3.exceptions import S3ClientError

    sandbox = current()
    query = self.querystring or {}
    body = self.body.decode("utf-8", "replace") if isinstance(self.body, bytes) else self.body
    asked = arns.s3_checks(self.method, query, bucket_name, key_name, str(body or ""))
    prefix = query.get("prefix")

    def error(message: str) -> Exception:
        return S3ClientError("AccessDenied", message)

    for check_ in asked:
        context: dict[str, authz.ContextValue] = {}
        if check_.action == "s3:ListBucket" and prefix is not None:  # absent without one
            context["s3:prefix"] = prefix[0] if isinstance(prefix, list) else prefix
        _deny(sandbox, actor, check_.action, [check_.resource], context, error)
    return None


@once
def install() -> None:
    """Authorise actors' requests in moto's own authorization hook."""
    ActionAuthenticatorMixin._authenticate_and_authorize_normal_action = or_moto(  # type: ignore[method-assign]
        _normal, _moto_normal
    )
    ActionAuthenticatorMixin._authenticate_and_authorize_s3_action = or_moto(  # type: ignore[method-assign]
        _s3, _moto_s3
    )


OPERATOR_ROLE = "wcpipe-sandbox-operator"


def install_operator(sandbox: SandboxView, documents: list[dict[str, Any]]) -> dict[str, str]:
    """The operator: a role holding exactly `documents`, each as a managed policy (as a person
    attaches what `wcpipe iam-policy` prints), assumed; its credentials as AWS_* variables.
    moto's IAM validates each document as IAM does (IAMPolicyDocumentValidator)."""
    iam = sandbox.backend("iam")
    root = f"arn:aws:iam::{sandbox.account_id}:root"
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": root}, "Action": "sts:AssumeRole"}],
    }
    role = iam.create_role(OPERATOR_ROLE, json.dumps(trust), "/", None, "wcpipe operator", [], None)
    for n, document in enumerate(documents, 1):
        name = f"{OPERATOR_ROLE}-{n}"
        policy = iam.create_policy("", "/", json.dumps(document), name, [])
        iam.attach_role_policy(policy.arn, OPERATOR_ROLE)
    return assume(sandbox, role.arn, "operator")
