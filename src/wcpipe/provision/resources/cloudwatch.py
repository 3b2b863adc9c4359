"""CloudWatch: the pipeline's alarms (only with `alerts` in the spec).

Contract (see `resources/base.py`): `describe` reads only (describe_alarms with the exact name,
list_tags_for_resource); `differences` is pure and names each PutMetricAlarm field that differs,
and `tags`; `create`, `update` and `delete` are the only mutations. PutMetricAlarm creates or
replaces the whole alarm (so `update` sends it whole); it applies Tags only when it creates one,
so tags are changed with TagResource. An alarm's state is CloudWatch's, not ours: it is a fact
(`status` shows it), never a difference.

The alarms, and how they behave:
- `lambda-errors`: AWS/Lambda Errors of the start-job function, Sum over 1 minute > 0 ->
  ALARM, notifies the topic. No invocation is not an error (TreatMissingData notBreaching).
- `rejected-values`: wcpipe RowsRejected of the job (datamap/metrics.py), Sum over 1 minute > 0.
  It has NO action: a load that rejects values fails its run, and the job-failed rule's alert
  already says so, naming the run (events_alerts.py); a second message for the same incident,
  without the run id, would be noise. The alarm is the state `status` shows ("a load rejected
  values in the last minute").
- `no-load`: "no successful load within N minutes after an arrival" (N =
  `alerts.no_load_within_minutes`). Arrivals that reached the pipeline are the start-job
  function's invocations (each successful crawl of new data invokes it once, and it starts one
  run); successes are the job's LoadsSucceeded. Metric math over 1-minute periods:
  backlog = RUNNING_SUM(FILL(arrivals, 0)) - RUNNING_SUM(FILL(loads, 0)) over the N-minute
  evaluation range, ALARM when it is > 0 in all N of N periods. So: an arrival whose load
  succeeds within N minutes never alarms (the backlog drops to 0 before N periods pass); one
  whose load fails, or never starts, alarms once, N minutes after the arrival, and notifies the
  topic; a minute later the arrival leaves the evaluation range and the alarm returns to OK by
  itself (no OK action, so no second message). RUNNING_SUM and FILL are CloudWatch metric math
  functions ("Using metric math", Amazon CloudWatch User Guide); EvaluationPeriods x Period is
  at most one day, hence N <= 1440 (`spec.model.NO_LOAD_MINUTES_MAX`).
"""

from __future__ import annotations

from typing import Any, ClassVar

from wcpipe.core.errors import ignoring
from wcpipe.datamap import metrics
from wcpipe.provision.resources.base import (
    TAGS,
    Difference,
    Differences,
    Observed,
    Resource,
    tag_list,
    tags_from_list,
)
from wcpipe.provision.resources.sns import topic_arn

NOT_FOUND = "ResourceNotFound"
PERIOD = 60  # seconds: one-minute periods (standard resolution)
# The fields `differences` compares: what PutMetricAlarm takes (but Tags) and DescribeAlarms
# returns under the same names.
FIELDS = (
    "AlarmDescription",
    "ActionsEnabled",
    "AlarmActions",
    "OKActions",
    "Namespace",
    "MetricName",
    "Dimensions",
    "Statistic",
    "Period",
    "EvaluationPeriods",
    "DatapointsToAlarm",
    "Threshold",
    "ComparisonOperator",
    "TreatMissingData",
    "Metrics",
)
DEFAULTS: dict[str, Any] = {"OKActions": [], "AlarmActions": [], "ActionsEnabled": True}


def _metric(namespace: str, name: str, dimension: str, value: str) -> dict[str, Any]:
    return {
        "Namespace": namespace,
        "MetricName": name,
        "Dimensions": [{"Name": dimension, "Value": value}],
    }


def _any_in_a_minute(
    description: str, actions: list[str], metric: dict[str, Any]
) -> dict[str, Any]:
    """An alarm on `metric`'s Sum over one minute > 0; no datapoint is not breaching."""
    return {
        "AlarmDescription": description,
        "AlarmActions": actions,
        **metric,
        "Statistic": "Sum",
        "Period": PERIOD,
        "EvaluationPeriods": 1,
        "Threshold": 0.0,
        "ComparisonOperator": "GreaterThanThreshold",
        "TreatMissingData": "notBreaching",
    }


def _normalized(field: str, value: Any) -> Any:
    """A DescribeAlarms value as PutMetricAlarm was given it (floats as sent, queries with only
    what we send)."""
    if value in ("", []) and field not in DEFAULTS:
        return None  # a metric alarm lists no Metrics, a metric-math one no MetricName
    if field == "Metrics" and isinstance(value, list):
        return [_query(q) for q in value]
    if field == "Threshold" and value is not None:
        return float(value)
    return value


def _query(query: dict[str, Any]) -> dict[str, Any]:
    keep = ("Id", "Expression", "Label", "ReturnData", "MetricStat")
    out = {k: query[k] for k in keep if k in query}
    stat = out.get("MetricStat")
    if isinstance(stat, dict):
        out["MetricStat"] = {k: stat[k] for k in ("Metric", "Period", "Stat") if k in stat}
    return out


class _Alarm(Resource):
    kind = "CloudWatch alarm"
    declared_by = "alerts"
    depends_on: ClassVar[tuple[str, ...]] = ("sns.topic",)

    @property
    def _cloudwatch(self) -> Any:
        return self.ctx.client("cloudwatch")

    @property
    def arn(self) -> str:
        return self.ctx.aws.arn("cloudwatch", f"alarm:{self.name}")

    def definition(self) -> dict[str, Any]:
        """PutMetricAlarm's parameters, without AlarmName and Tags."""
        raise NotImplementedError

    def _wanted(self) -> dict[str, Any]:
        wanted = {**DEFAULTS, **self.definition()}
        return {k: _normalized(k, wanted.get(k)) for k in FIELDS}

    def describe(self) -> Observed | None:
        found = self._cloudwatch.describe_alarms(AlarmNames=[self.name], AlarmTypes=["MetricAlarm"])
        alarms = [a for a in found.get("MetricAlarms", []) if a.get("AlarmName") == self.name]
        if not alarms:
            return None
        alarm = alarms[0]
        arn = alarm.get("AlarmArn") or self.arn
        tags = self._cloudwatch.list_tags_for_resource(ResourceARN=arn).get("Tags")
        return Observed(data=alarm, tags=tags_from_list(tags))

    def differences(self, observed: Observed) -> list[Difference]:
        have = {**DEFAULTS, **observed.data}
        wanted = self._wanted()
        fields = [
            Difference(k, _normalized(k, have.get(k)), wanted[k])
            for k in FIELDS
            if _normalized(k, have.get(k)) != wanted[k]
        ]
        return fields + self.tag_differences(observed)

    def _put(self, **extra: Any) -> None:
        params = {k: v for k, v in {**DEFAULTS, **self.definition()}.items() if v is not None}
        self._cloudwatch.put_metric_alarm(AlarmName=self.name, **params, **extra)

    def create(self) -> Observed | None:
        # PutMetricAlarm is an upsert: an alarm created meanwhile is simply replaced.
        self._put(Tags=self.ctx.tag_list())
        return None  # the alarm's state and ARN are CloudWatch's: describe

    def update(self, observed: Observed, fields: Differences) -> None:
        if set(fields.fields) - {TAGS}:
            self._put()
        if TAGS in fields:
            arn = observed.data.get("AlarmArn") or self.arn
            self.sync_tags(
                observed,
                lambda tags: self._cloudwatch.tag_resource(ResourceARN=arn, Tags=tag_list(tags)),
            )

    def delete(self, observed: Observed) -> None:
        ignoring(lambda: self._cloudwatch.delete_alarms(AlarmNames=[self.name]), NOT_FOUND)

    def facts(self, observed: Observed) -> dict[str, str]:
        return {
            "state": str(observed.data.get("StateValue", "?")),
            "reason": str(observed.data.get("StateReason", ""))[:80],
        }


class LambdaErrorsAlarm(_Alarm):
    key = "cloudwatch.lambda-errors-alarm"

    @property
    def name(self) -> str:
        return self.ctx.names.lambda_errors_alarm

    def definition(self) -> dict[str, Any]:
        function = self.ctx.names.function
        return _any_in_a_minute(
            f"wcpipe {self.ctx.spec.name}: the Lambda {function} that starts the load errored. "
            "Look: wcpipe logs lambda",
            [topic_arn(self)],
            _metric("AWS/Lambda", "Errors", "FunctionName", function),
        )


class RejectedValuesAlarm(_Alarm):
    key = "cloudwatch.rejected-values-alarm"

    @property
    def name(self) -> str:
        return self.ctx.names.rejected_values_alarm

    def definition(self) -> dict[str, Any]:
        job = self.ctx.names.job
        return _any_in_a_minute(
            f"wcpipe {self.ctx.spec.name}: a load by {job} rejected values (the job-failed "
            "alert names the run). Look: wcpipe logs job",
            [],
            _metric(metrics.NAMESPACE, metrics.ROWS["rejected"], metrics.DIMENSION, job),
        )


class NoLoadAlarm(_Alarm):
    key = "cloudwatch.no-load-alarm"

    @property
    def name(self) -> str:
        return self.ctx.names.no_load_alarm

    def definition(self) -> dict[str, Any]:
        alerts = self.ctx.spec.alerts
        minutes = alerts.no_load_within_minutes if alerts else 60
        names = self.ctx.names
        arrivals = _metric("AWS/Lambda", "Invocations", "FunctionName", names.function)
        loads = _metric(metrics.NAMESPACE, metrics.SUCCEEDED, metrics.DIMENSION, names.job)
        queries = [
            {
                "Id": "arrivals",
                "MetricStat": {"Metric": arrivals, "Period": PERIOD, "Stat": "Sum"},
                "ReturnData": False,
            },
            {
                "Id": "loads",
                "MetricStat": {"Metric": loads, "Period": PERIOD, "Stat": "Sum"},
                "ReturnData": False,
            },
            {
                "Id": "backlog",
                "Expression": "RUNNING_SUM(FILL(arrivals, 0)) - RUNNING_SUM(FILL(loads, 0))",
                "Label": "arrivals not loaded",
                "ReturnData": True,
            },
        ]
        return {
            "AlarmDescription": f"wcpipe {self.ctx.spec.name}: data arrived and no load "
            f"succeeded within {minutes} minutes. Look: wcpipe logs all --since {minutes + 5}m",
            "AlarmActions": [topic_arn(self)],
            "Metrics": queries,
            "EvaluationPeriods": minutes,
            "DatapointsToAlarm": minutes,
            "Threshold": 0.0,
            "ComparisonOperator": "GreaterThanThreshold",
            "TreatMissingData": "notBreaching",
        }
