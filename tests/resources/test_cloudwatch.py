"""The alarms on moto: what each watches and whom it tells, ensure twice, delete twice, drift."""

from __future__ import annotations

import pytest
from support.plan import names
from support.requests import Requests

from wcpipe.provision.resources import catalog
from wcpipe.provision.resources.base import Context
from wcpipe.provision.resources.cloudwatch import (
    LambdaErrorsAlarm,
    NoLoadAlarm,
    RejectedValuesAlarm,
    _Alarm,
)
from wcpipe.provision.resources.sns import Topic

ALARMS = (LambdaErrorsAlarm, RejectedValuesAlarm, NoLoadAlarm)


def _alarm(ctx: Context, name: str) -> dict[str, object]:
    [found] = ctx.client("cloudwatch").describe_alarms(AlarmNames=[name])["MetricAlarms"]
    return dict(found)


def test_the_catalog_has_the_alarms_only_with_alerts(ctx: Context, alerting: Context) -> None:
    keys = {a.key for a in ALARMS}
    assert not keys & {r.key for r in catalog(ctx)}
    assert keys <= {r.key for r in catalog(alerting)}


def test_lambda_errors_alarm_tells_the_topic(alerting: Context) -> None:
    Topic(alerting).ensure()
    assert LambdaErrorsAlarm(alerting).ensure() == "created"
    alarm = _alarm(alerting, "wcpipe-fifa-lambda-errors")
    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/Lambda", "Errors")
    assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": "wcpipe-fifa-start-job"}]
    assert alarm["AlarmActions"] == [alerting.aws.arn("sns", "wcpipe-fifa-alerts")]
    assert alarm["TreatMissingData"] == "notBreaching"
    tags = alerting.client("cloudwatch").list_tags_for_resource(ResourceARN=alarm["AlarmArn"])
    assert {"Key": "wcpipe:pipeline", "Value": "fifa"} in tags["Tags"]


def test_rejected_values_alarm_watches_the_jobs_metric_and_sends_nothing(
    alerting: Context,
) -> None:
    RejectedValuesAlarm(alerting).ensure()
    alarm = _alarm(alerting, "wcpipe-fifa-rejected-values")
    assert (alarm["Namespace"], alarm["MetricName"]) == ("wcpipe", "RowsRejected")
    assert alarm["Dimensions"] == [{"Name": "JobName", "Value": "wcpipe-fifa-load"}]
    assert alarm["AlarmActions"] == []


def test_no_load_alarm_is_metric_math_over_the_stated_minutes(alerting: Context) -> None:
    Topic(alerting).ensure()
    NoLoadAlarm(alerting).ensure()
    alarm = _alarm(alerting, "wcpipe-fifa-no-load")
    assert (alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (60, 60)
    queries = {q["Id"]: q for q in alarm["Metrics"]}
    assert queries["backlog"]["Expression"] == (
        "RUNNING_SUM(FILL(arrivals, 0)) - RUNNING_SUM(FILL(loads, 0))"
    )
    assert queries["loads"]["MetricStat"]["Metric"]["MetricName"] == "LoadsSucceeded"
    assert queries["arrivals"]["MetricStat"]["Metric"]["MetricName"] == "Invocations"


@pytest.mark.parametrize("cls", ALARMS, ids=lambda c: c.key)
def test_alarms_ensure_twice_and_destroy_twice(alerting: Context, cls: type[_Alarm]) -> None:
    Topic(alerting).ensure()
    alarm = cls(alerting)
    assert alarm.ensure() == "created"
    sent = Requests.on(alerting.client("cloudwatch"))
    observed = alarm.describe()
    assert observed is not None
    assert alarm.differences(observed) == []
    assert alarm.ensure() == "unchanged"
    assert sent.mutating == []
    assert alarm.destroy() == "deleted"
    assert alarm.destroy() == "absent"


def test_a_threshold_changed_by_hand_is_drift_and_put_back(alerting: Context) -> None:
    Topic(alerting).ensure()
    alarm = LambdaErrorsAlarm(alerting)
    alarm.ensure()
    params = {k: v for k, v in alarm.definition().items() if v is not None}
    alerting.client("cloudwatch").put_metric_alarm(
        AlarmName=alarm.name, **{**params, "Threshold": 5.0}
    )
    observed = alarm.describe()
    assert observed is not None
    assert names(alarm.differences(observed)) == ["Threshold"]
    assert alarm.ensure() == "updated"
    observed = alarm.describe()
    assert observed is not None
    assert alarm.differences(observed) == []


def test_an_alarm_not_ours_is_kept(alerting: Context) -> None:
    alerting.client("cloudwatch").put_metric_alarm(
        AlarmName="wcpipe-fifa-rejected-values",
        Namespace="x",
        MetricName="y",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1.0,
        ComparisonOperator="GreaterThanThreshold",
    )
    assert RejectedValuesAlarm(alerting).destroy() == "kept"
