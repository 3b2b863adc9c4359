"""SNS as the pipeline's alerts need it: EventBridge delivers to SNS targets, email
subscriptions wait for confirmation, and what a topic publishes is kept and can be listened to.

Contract:
- EventBridge -> SNS: moto 5.2.5's `Rule.send_to_targets` raises NotImplementedError for an SNS
  target. Here an enabled rule whose pattern matches an event publishes to each SNS target
  (asynchronously, on the sandbox's "events" pool), as EventBridge does: the target's Input, or
  its InputTransformer applied (`transformed`), or the event itself; and only if the topic's
  policy lets events.amazonaws.com publish for this rule (`allows_events`: aws:SourceArn), as on
  AWS, otherwise AWS/Events FailedInvocations (RuleName) and nothing is published (EventBridge
  user guide, "Amazon SNS permissions": the topic policy must allow events.amazonaws.com).
  Invocations is counted for each delivery. Other targets go to the delivery installed before
  (lambda_runner's, then moto's): this module installs after lambda_runner (registry order).
- Topic.publish: moto's (which delivers to SQS subscriptions in-process, wrapped in the SNS
  envelope unless RawMessageDelivery), and then the message is appended to
  `sandbox.state["sns.published"]` and handed to every listener (`listen`), never raising.
- Email subscriptions (protocols email, email-json) stay pending, as on AWS until the person
  follows the link SNS mails: Subscribe answers "pending confirmation", ListSubscriptionsByTopic
  lists SubscriptionArn "PendingConfirmation", the topic counts them in SubscriptionsPending
  (others in SubscriptionsConfirmed), and Publish delivers nothing to them (moto delivers
  nothing to email anyway). Amazon SNS Developer Guide, "Email notifications" and
  ListSubscriptionsByTopic's SubscriptionArn.
- `one_line(topic, subject, message)`: how `wcpipe sandbox serve` prints each published message.
- Every patch is `context.or_moto`: moto's own behaviour when no sandbox runs.
"""

from __future__ import annotations

import contextlib
import copy
import fnmatch
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from moto.events.models import Rule
from moto.sns.models import SNSBackend, Topic

from wcpipe.sandbox.context import current, once, or_moto

if TYPE_CHECKING:
    from wcpipe.sandbox.context import SandboxView

PINS: tuple[tuple[str, str], ...] = (
    ("moto.events.models", "Rule"),
    ("moto.sns.models", "SNSBackend"),
    ("moto.sns.models", "Topic"),
)
PENDING_PROTOCOLS = frozenset({"email", "email-json"})
PENDING_ARN = "PendingConfirmation"  # as ListSubscriptionsByTopic lists an unconfirmed one
PENDING_ANSWER = "pending confirmation"  # as Subscribe answers for one
PUBLISHED = "sns.published"
LISTENERS = "sns.listeners"
PENDING = "sns.pending"

Listener = Callable[[str, str | None, str], None]
"""(topic ARN, subject, message) of one published message."""


def listen(sandbox: SandboxView, listener: Listener) -> None:
    """Call `listener` for every message a topic of `sandbox` publishes from now on."""
    sandbox.state.setdefault(LISTENERS, []).append(listener)


def published(sandbox: SandboxView) -> list[dict[str, Any]]:
    """What the topics of `sandbox` published so far: TopicArn, Subject, Message."""
    return list(sandbox.state.get(PUBLISHED, []))


def one_line(topic_arn: str, subject: str | None, message: str) -> str:
    """A published message as one line (`sandbox serve` prints each): a wcpipe alert by its
    pipeline, hop, state, run and command; an alarm notification by its state, name and reason;
    anything else by its subject or first line."""
    topic = topic_arn.rsplit(":", 1)[-1]
    try:
        body = json.loads(message)
    except ValueError:
        body = None
    if isinstance(body, dict) and "hop" in body:
        run = f" run {body['run']}" if body.get("run") else ""
        text = f"{body.get('pipeline')} {body['hop']} {body.get('state')}{run}: {body.get('look')}"
    elif isinstance(body, dict) and "AlarmName" in body:
        text = f"{body.get('NewStateValue')} {body['AlarmName']}: {body.get('NewStateReason')}"
    else:
        text = subject or (message.splitlines() or [""])[0]
    return f"alert on {topic}: {' '.join(text.split())}"


# EventBridge's input transformer, for the shapes our rules use --------------------------------
def _path(event: Any, path: str) -> Any:
    """The value at a JSONPath of the form `$.a.b` (what an InputPathsMap of ours names)."""
    value = event
    for part in path.removeprefix("$").strip(".").split("."):
        if not part:
            continue
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def transformed(target: dict[str, Any], event: dict[str, Any]) -> str:
    """What EventBridge hands the target: Input as given; else the InputTransformer's template
    with each <placeholder> replaced (a string value JSON-escaped, since our placeholders stand
    inside quotes, as EventBridge escapes string values there; another value as JSON; a path
    that matches nothing as null, or as nothing inside quotes); else the event as JSON
    (EventBridge user guide, "Transforming target input")."""
    if "Input" in target:
        return str(target["Input"])
    transformer = target.get("InputTransformer")
    if not transformer:
        return json.dumps(event)
    text = str(transformer.get("InputTemplate", ""))
    for name, path in (transformer.get("InputPathsMap") or {}).items():
        value = _path(event, path)
        quoted = f'"<{name}>"' in text or f"<{name}>" in _quoted_parts(text)
        if isinstance(value, str):
            text = text.replace(f"<{name}>", json.dumps(value)[1:-1])
        elif value is None:
            text = text.replace(f"<{name}>", "" if quoted else "null")
        else:
            text = text.replace(f"<{name}>", json.dumps(value))
    return text


def _quoted_parts(template: str) -> str:
    """The parts of `template` inside double quotes, joined (to tell a quoted placeholder)."""
    return "".join(template.split('"')[1::2])


# The topic's policy, as SNS decides for EventBridge ----------------------------------------
def allows_events(policy_text: str, rule_arn: str) -> bool:
    """Does the topic policy let EventBridge publish for this rule?"""
    return allows(policy_text, "events.amazonaws.com", rule_arn)


def allows(policy_text: str, service: str, source_arn: str, account: str | None = None) -> bool:
    """Does the topic policy let `service` publish on behalf of `source_arn` (in `account`)?
    An Allow statement for the service (or "*") with sns:Publish whose aws:SourceArn
    (ArnEquals, ArnLike) and aws:SourceAccount (StringEquals) conditions, if any, hold."""
    try:
        policy = json.loads(policy_text or "{}")
    except ValueError:
        return False
    statements = policy.get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        principal = statement.get("Principal", {})
        named = principal.get("Service") if isinstance(principal, dict) else principal
        services = named if isinstance(named, list) else [named]
        actions = statement.get("Action", [])
        actions = actions if isinstance(actions, list) else [actions]
        if statement.get("Effect") != "Allow" or not ({service, "*"} & set(services)):
            continue
        if not any(fnmatch.fnmatchcase("sns:publish", a.lower()) for a in actions):
            continue
        if _conditions_hold(statement.get("Condition", {}), source_arn, account):
            return True
    return False


def _conditions_hold(condition: dict[str, Any], arn: str, account: str | None) -> bool:
    checks: tuple[tuple[str, str, Callable[[str, str], bool], str | None], ...] = (
        ("ArnEquals", "aws:sourcearn", str.__eq__, arn),
        ("ArnLike", "aws:sourcearn", fnmatch.fnmatchcase, arn),
        ("StringEquals", "aws:sourceaccount", str.__eq__, account),
    )
    for operator, wanted_key, test, actual in checks:
        for key, wanted in (condition.get(operator) or {}).items():
            if key.lower() != wanted_key:
                continue
            values = wanted if isinstance(wanted, list) else [wanted]
            if actual is None or not any(test(actual, v) for v in values):
                return False
    return True


def deliver(sandbox: SandboxView, rule: Any, target: dict[str, Any], event: dict[str, Any]) -> None:
    """Publish one event to one SNS target (runs on the "events" pool)."""
    dims = {"RuleName": rule.name}
    sns = sandbox.backend("sns")
    try:
        topic = sns.get_topic(target["Arn"])
    except Exception:
        topic = None
    if topic is None or not allows_events(topic.policy, rule.arn):
        sandbox.put_metric("AWS/Events", "FailedInvocations", 1, dims, unit="Count")
        return
    sandbox.put_metric("AWS/Events", "Invocations", 1, dims, unit="Count")
    sns.publish(transformed(target, event), arn=target["Arn"])


# The patches -------------------------------------------------------------------------------
def _sns_targets_then(previous: Callable[..., None]) -> Callable[..., None]:
    def send_to_targets(self: Any, original_event: Any, transform_input: bool = True) -> None:
        topics = [t for t in self.targets if ":sns:" in t["Arn"]]
        if not topics:
            previous(self, original_event, transform_input)
            return
        rest = copy.copy(self)
        rest.targets = [t for t in self.targets if ":sns:" not in t["Arn"]]
        if rest.targets:
            previous(rest, original_event, transform_input)
        if self.state != "ENABLED" or not self.event_pattern.matches_event(original_event):
            return
        sandbox = current()
        event = copy.deepcopy(original_event)
        for target in topics:
            sandbox.background("events", deliver, sandbox, self, target, event)

    return send_to_targets


def _publish_then_keep(original: Callable[..., str]) -> Callable[..., str]:
    def publish(self: Any, message: str, subject: str | None = None, **kwargs: Any) -> str:
        message_id = original(self, message, subject, **kwargs)
        sandbox = current()
        entry = {"TopicArn": self.arn, "Subject": subject, "Message": message}
        sandbox.state.setdefault(PUBLISHED, []).append(entry)
        for listener in list(sandbox.state.get(LISTENERS, [])):
            with contextlib.suppress(Exception):  # a listener never breaks a publish
                listener(self.arn, subject, message)
        return message_id

    return publish


def _pending(sandbox: SandboxView) -> set[str]:
    found: set[str] = sandbox.state.setdefault(PENDING, set())
    return found


def _as_listed(subscription: Any, arn: str) -> Any:
    shown = copy.copy(subscription)
    shown.arn = arn
    return shown


def _subscribe(original: Callable[..., Any]) -> Callable[..., Any]:
    def subscribe(self: Any, topic_arn: str, endpoint: str, protocol: str) -> Any:
        existing = self._find_subscription(topic_arn, endpoint, protocol)
        subscription = original(self, topic_arn, endpoint, protocol)
        pending = _pending(current())
        if existing is None and protocol in PENDING_PROTOCOLS:
            pending.add(subscription.arn)
            subscription.attributes["PendingConfirmation"] = "true"
            subscription.topic.subscriptions_pending += 1
        elif existing is None:
            subscription.topic.subscriptions_confimed += 1
        if subscription.arn in pending:
            return _as_listed(subscription, PENDING_ANSWER)
        return subscription

    return subscribe


def _listing(original: Callable[..., Any]) -> Callable[..., Any]:
    def listed(self: Any, *args: Any, **kwargs: Any) -> Any:
        subscriptions, token = original(self, *args, **kwargs)
        pending = _pending(current())
        shown = [_as_listed(s, PENDING_ARN) if s.arn in pending else s for s in subscriptions]
        return shown, token

    return listed


def _unsubscribe(original: Callable[..., None]) -> Callable[..., None]:
    def unsubscribe(self: Any, subscription_arn: str) -> None:
        subscription = self.subscriptions.get(subscription_arn)
        original(self, subscription_arn)
        if subscription is not None and subscription_arn not in _pending(current()):
            subscription.topic.subscriptions_confimed -= 1

    return unsubscribe


@once
def install() -> None:
    """Patch moto's EventBridge delivery (SNS targets), Topic.publish and email subscriptions."""
    previous = Rule.send_to_targets
    Rule.send_to_targets = or_moto(_sns_targets_then(previous), previous)  # type: ignore[method-assign]
    Topic.publish = or_moto(_publish_then_keep(Topic.publish), Topic.publish)  # type: ignore[method-assign]
    SNSBackend.subscribe = or_moto(_subscribe(SNSBackend.subscribe), SNSBackend.subscribe)  # type: ignore[method-assign]
    for name in ("list_subscriptions_by_topic", "list_subscriptions"):
        original = getattr(SNSBackend, name)
        setattr(SNSBackend, name, or_moto(_listing(original), original))
    SNSBackend.unsubscribe = or_moto(_unsubscribe(SNSBackend.unsubscribe), SNSBackend.unsubscribe)  # type: ignore[method-assign]
