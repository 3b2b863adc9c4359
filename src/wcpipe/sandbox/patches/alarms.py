"""CloudWatch alarms that are evaluated: moto 5.2.5 stores alarms and metrics but never moves an
alarm's state. Here the alarm shapes wcpipe creates (resources/cloudwatch.py) are evaluated
whenever a datapoint arrives for one of their metrics, and a state change notifies the alarm's
SNS actions, as CloudWatch does.

Contract:
- `evaluate(backend, alarm, now)`: (state, reason) of one alarm at `now`, or None for a shape
  not modelled here (an extended statistic, an anomaly band, a composite alarm). The semantics,
  from the Amazon CloudWatch User Guide ("Using Amazon CloudWatch alarms": evaluation period,
  datapoints to alarm, "Configuring how CloudWatch alarms treat missing data"; "Using metric
  math"): the evaluation range is the last EvaluationPeriods periods of Period seconds, aligned
  on the period, the current (partial) one last; each period's value is the statistic of the
  datapoints in it (Sum, SampleCount, Average, Minimum, Maximum), or missing; a metric-math
  alarm's value is its ReturnData expression's, over the queries' series; a period breaches
  when its value compares to Threshold by ComparisonOperator; the alarm is ALARM when at least
  DatapointsToAlarm (default EvaluationPeriods) periods breach; missing periods count as
  TreatMissingData says (missing, the default: all missing is INSUFFICIENT_DATA; ignore: the
  state stays; breaching; notBreaching); otherwise OK.
- Metric math: the functions our alarms use and no more, `FILL(series, number)`,
  `RUNNING_SUM(series)` (missing values skipped), `+` and `-` between series and numbers; an
  expression with anything else is not modelled (None).
- `install()` wraps CloudWatchBackend.put_metric_data (`context.or_moto`): after moto stores
  the data, every alarm of that backend on a metric just put is evaluated as of the data's
  time (its Timestamp, the latest of them; now when it has none, as the services put theirs:
  a datapoint stamped in the past is evaluated as CloudWatch would have when it arrived);
  a change updates the alarm (StateValue, StateReason, history, as SetAlarmState does) and, if
  its actions are enabled, publishes CloudWatch's notification (AlarmName, AlarmDescription,
  AWSAccountId, NewStateValue, NewStateReason, StateChangeTime, Region, AlarmArn,
  OldStateValue, Trigger) to each SNS topic among the actions of the new state, if the topic's
  policy lets cloudwatch.amazonaws.com publish for this alarm (aws:SourceArn,
  aws:SourceAccount); else nothing is sent. An evaluation error is dropped: a put never fails.
- Not modelled: evaluation on a clock. CloudWatch evaluates every period whether data arrives
  or not; here an alarm moves only when a datapoint of one of its metrics arrives (e.g. the
  no-load alarm fires when a later metric arrives after the N minutes, not at the minute).
"""

from __future__ import annotations

import contextlib
import json
import math
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from moto.cloudwatch.models import CloudWatchBackend
from moto.core.utils import utcnow

from wcpipe.sandbox.context import current, once, or_moto
from wcpipe.sandbox.patches.sns_delivery import allows

PINS: tuple[tuple[str, str], ...] = (
    ("moto.cloudwatch.models", "CloudWatchBackend"),
    ("moto.cloudwatch.models", "Alarm"),
    ("moto.cloudwatch.models", "MetricDatum"),
)
Series = list[float | None]
COMPARE: dict[str, Callable[[float, float], bool]] = {
    "GreaterThanThreshold": lambda v, t: v > t,
    "GreaterThanOrEqualToThreshold": lambda v, t: v >= t,
    "LessThanThreshold": lambda v, t: v < t,
    "LessThanOrEqualToThreshold": lambda v, t: v <= t,
}
STATISTICS: dict[str, Callable[[list[float]], float]] = {
    "Sum": sum,
    "SampleCount": lambda vs: float(len(vs)),
    "Average": lambda vs: sum(vs) / len(vs),
    "Minimum": min,
    "Maximum": max,
}


class NotModelled(Exception):
    """An alarm shape this evaluator does not model."""


def _naive_utc(moment: Any) -> datetime:
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def _periods(now: datetime, period: int, count: int) -> list[datetime]:
    """The starts of the evaluation range's periods, oldest first, the current one last."""
    epoch = datetime(1970, 1, 1)
    aligned = epoch + timedelta(seconds=period * math.floor((now - epoch).total_seconds() / period))
    return [aligned - timedelta(seconds=period * (count - 1 - k)) for k in range(count)]


def _series(
    backend: Any,
    namespace: str,
    name: str,
    dims: dict[str, str],
    stat: str,
    starts: list[datetime],
    period: int,
) -> Series:
    if stat not in STATISTICS:
        raise NotModelled(f"statistic {stat}")
    values: list[list[float]] = [[] for _ in starts]
    for datum in backend.metric_data:
        if datum.namespace != namespace or datum.name != name or not hasattr(datum, "value"):
            continue
        if {d.name: d.value for d in datum.dimensions} != dims:
            continue
        moment = _naive_utc(datum.timestamp)
        for k, start in enumerate(starts):
            if start <= moment < start + timedelta(seconds=period):
                values[k].append(float(datum.value))
    return [STATISTICS[stat](vs) if vs else None for vs in values]


# Metric math, for the functions our alarms use -------------------------------------------
TOKEN = re.compile(r"\s*(?:(\d+(?:\.\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|(.))")


def _tokens(text: str) -> list[str]:
    return [m.group(0).strip() for m in TOKEN.finditer(text) if m.group(0).strip()]


def expression(text: str, env: dict[str, Series], size: int) -> Series:
    """The value of a metric-math expression over `env`'s series (see the module docstring)."""
    tokens = _tokens(text)
    pos = 0

    def peek() -> str | None:
        return tokens[pos] if pos < len(tokens) else None

    def take(expected: str | None = None) -> str:
        nonlocal pos
        token = peek()
        if token is None or (expected is not None and token != expected):
            raise NotModelled(f"expression {text!r}")
        pos += 1
        return token

    def as_series(value: Series | float) -> Series:
        return value if isinstance(value, list) else [value] * size

    def term() -> Series | float:
        token = take()
        if re.fullmatch(r"\d+(?:\.\d+)?", token):
            return float(token)
        if peek() == "(":
            take("(")
            args = [sum_()]
            while peek() == ",":
                take(",")
                args.append(sum_())
            take(")")
            return call(token, args)
        if token in env:
            return env[token]
        raise NotModelled(f"{token!r} in {text!r}")

    def call(name: str, args: list[Series | float]) -> Series:
        if name == "FILL" and len(args) == 2 and isinstance(args[1], float):
            fill = args[1]
            return [fill if v is None else v for v in as_series(args[0])]
        if name == "RUNNING_SUM" and len(args) == 1:
            out: Series = []
            total = 0.0
            for v in as_series(args[0]):
                total += v or 0.0
                out.append(total if v is not None else None)
            return out
        raise NotModelled(f"function {name}")

    def sum_() -> Series | float:
        value = term()
        while peek() in ("+", "-"):
            op = take()
            right = as_series(term())
            left = as_series(value)
            sign = 1.0 if op == "+" else -1.0
            value = [
                None if a is None or b is None else a + sign * b
                for a, b in zip(left, right, strict=True)
            ]
        return value

    result = sum_()
    if peek() is not None:
        raise NotModelled(f"expression {text!r}")
    return as_series(result)


# Evaluation ---------------------------------------------------------------------------------
def _values(backend: Any, alarm: Any, starts: list[datetime], period: int) -> Series:
    if not alarm.metric_data_queries:
        dims = {d.name: d.value for d in alarm.dimensions}
        stat = alarm.statistic or ""
        return _series(backend, alarm.namespace, alarm.metric_name, dims, stat, starts, period)
    env: dict[str, Series] = {}
    returned: Series | None = None
    for query in alarm.metric_data_queries:
        if query.metric_stat is not None:
            metric = query.metric_stat.metric
            dims = {d.name: d.value for d in metric.dimensions}
            env[query.id] = _series(
                backend,
                metric.namespace,
                metric.metric_name,
                dims,
                query.metric_stat.stat,
                starts,
                period,
            )
    for query in alarm.metric_data_queries:
        if query.expression:
            env[query.id] = expression(query.expression, env, len(starts))
        if str(query.return_data).lower() in ("true", "none", ""):
            returned = env.get(query.id)
    if returned is None:
        raise NotModelled("no query returns data")
    return returned


def _period(alarm: Any) -> int:
    if alarm.period:
        return int(alarm.period)
    for query in alarm.metric_data_queries:
        if query.metric_stat is not None and query.metric_stat.period:
            return int(query.metric_stat.period)
    raise NotModelled("no period")


def evaluate(backend: Any, alarm: Any, now: datetime) -> tuple[str, str] | None:
    """(state, reason) of `alarm` at `now`, or None if its shape is not modelled here."""
    try:
        if alarm.extended_statistic or alarm.rule or alarm.threshold_metric_id:
            raise NotModelled("extended statistic, composite or band")
        compare = COMPARE[alarm.comparison_operator]
        period, count = _period(alarm), int(alarm.evaluation_periods)
        starts = _periods(now, period, count)
        values = _values(backend, alarm, starts, period)
    except (NotModelled, KeyError):
        return None
    needed = int(alarm.datapoints_to_alarm or count)
    threshold = float(alarm.threshold)
    treat = alarm.treat_missing_data or "missing"
    present = [v for v in values if v is not None]
    breaching = sum(1 for v in present if compare(v, threshold))
    if treat == "breaching":
        breaching += len(values) - len(present)
    if breaching >= needed:
        shown = ", ".join("missing" if v is None else f"{v:g}" for v in values)
        reason = (
            f"Threshold Crossed: {breaching} out of the last {count} datapoints [{shown}] "
            f"breached the threshold ({threshold:g})."
        )
        return "ALARM", reason
    if not present and treat == "missing":
        return "INSUFFICIENT_DATA", f"Insufficient Data: {count} datapoints were unknown."
    if not present and treat == "ignore":
        return alarm.state_value, str(alarm.state_reason)
    return "OK", f"Threshold Crossed: fewer than {needed} of the last {count} datapoints breached."


def notification(alarm: Any, old: str, region: str, account: str) -> dict[str, Any]:
    """The JSON CloudWatch publishes to an alarm action's topic."""
    return {
        "AlarmName": alarm.name,
        "AlarmDescription": alarm.description,
        "AWSAccountId": account,
        "NewStateValue": alarm.state_value,
        "NewStateReason": alarm.state_reason,
        "StateChangeTime": alarm.state_updated_timestamp.strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
        "Region": region,
        "AlarmArn": alarm.alarm_arn,
        "OldStateValue": old,
        "Trigger": {
            "MetricName": alarm.metric_name,
            "Namespace": alarm.namespace,
            "Statistic": alarm.statistic,
            "Period": alarm.period,
            "EvaluationPeriods": alarm.evaluation_periods,
            "ComparisonOperator": alarm.comparison_operator,
            "Threshold": alarm.threshold,
            "TreatMissingData": alarm.treat_missing_data,
        },
    }


def _notify(sandbox: Any, alarm: Any, old: str) -> None:
    actions = {
        "ALARM": alarm.alarm_actions,
        "OK": alarm.ok_actions,
        "INSUFFICIENT_DATA": alarm.insufficient_data_actions,
    }.get(alarm.state_value) or []
    if not alarm.actions_enabled:
        return
    sns = sandbox.backend("sns")
    message = json.dumps(notification(alarm, old, sandbox.region, sandbox.account_id))
    subject = f'{alarm.state_value}: "{alarm.name}" in {sandbox.region}'[:100]
    for arn in actions:
        if ":sns:" not in arn:
            continue
        try:
            topic = sns.get_topic(arn)
        except Exception:
            continue  # CloudWatch drops a notification to a topic that is gone
        if allows(topic.policy, "cloudwatch.amazonaws.com", alarm.alarm_arn, sandbox.account_id):
            sns.publish(message, arn=arn, subject=subject)


def evaluate_for(sandbox: Any, backend: Any, metrics: set[tuple[str, str]], now: datetime) -> None:
    """Evaluate, as of `now`, every alarm of `backend` that watches one of `metrics`
    (namespace, name)."""
    for alarm in list(backend.alarms.values()):
        watched = {(alarm.namespace, alarm.metric_name)} | {
            (q.metric_stat.metric.namespace, q.metric_stat.metric.metric_name)
            for q in alarm.metric_data_queries
            if q.metric_stat is not None
        }
        if not watched & metrics:
            continue
        found = evaluate(backend, alarm, now)
        if found is None or found[0] == alarm.state_value:
            continue
        old = alarm.state_value
        alarm.update_state(found[1], json.dumps({"version": "1.0"}), found[0])
        _notify(sandbox, alarm, old)


def _put_then_evaluate(original: Callable[..., None]) -> Callable[..., None]:
    def put_metric_data(self: Any, namespace: str, metric_data: list[dict[str, Any]]) -> None:
        original(self, namespace, metric_data)
        names = {(namespace, str(m.get("MetricName"))) for m in metric_data}
        stamps = [_naive_utc(m["Timestamp"]) for m in metric_data if m.get("Timestamp")]
        with contextlib.suppress(Exception):  # an evaluation never fails a put
            evaluate_for(current(), self, names, max(stamps, default=utcnow()))

    return put_metric_data


@once
def install() -> None:
    """Evaluate alarms when their metrics arrive."""
    original = CloudWatchBackend.put_metric_data
    CloudWatchBackend.put_metric_data = or_moto(  # type: ignore[method-assign]
        _put_then_evaluate(original), original
    )
