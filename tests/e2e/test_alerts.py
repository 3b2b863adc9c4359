"""Alerts end to end on the sandbox, through the `wcpipe` command and plain boto3: `up` with
`alerts` makes the topic, its email subscription (pending) and the alert rules; a good load
alerts nobody; a file with a rejected value makes ONE alert on the topic, read through a
subscribed SQS queue, naming the pipeline, the hop and the run; `down` removes it all."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.paths import ROOT, SPEC_PATH
from support.sandbox import job_metrics

pytestmark = pytest.mark.e2e
NAME = "fifa-al"
BAD_ROW = (
    ",Year,Hosts,Total_Attendance,Matches,Average_Attendance,Number,Venue,Game(s)\n"
    '23,twenty-six,United States,6000000,104,57692,94000,"MetLife Stadium","Final"\n'
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The FIFA project as pipeline `fifa-al`, with alerts to one address."""
    (tmp_path / "config").mkdir()
    shutil.copytree(ROOT / "data", tmp_path / "data")
    text = SPEC_PATH.read_text().replace("name: fifa\n", f"name: {NAME}\n", 1)
    text = text.replace("  name: attendance\n", "  name: attendance_al\n", 1)
    text += "\nalerts:\n  email: [ops@example.com]\n"
    spec = tmp_path / "config" / "pipeline.yaml"
    spec.write_text(text)
    return spec


def _subscribed_queue(sandbox: Any, topic_arn: str) -> str:
    """A queue anyone might subscribe, with plain boto3 (not wcpipe)."""
    sqs = sandbox.client("sqs")
    url = sqs.create_queue(QueueName=f"{NAME}-alerts-reader")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    allow = {
        "Effect": "Allow",
        "Principal": {"Service": "sns.amazonaws.com"},
        "Action": "sqs:SendMessage",
        "Resource": arn,
        "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}},
    }
    sqs.set_queue_attributes(
        QueueUrl=url, Attributes={"Policy": json.dumps({"Statement": [allow]})}
    )
    sandbox.client("sns").subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn)
    return str(url)


def _alerts(sandbox: Any, url: str) -> list[dict[str, Any]]:
    sqs = sandbox.client("sqs")
    found = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    messages = [json.loads(m["Body"]) for m in found.get("Messages", [])]
    for m in found.get("Messages", []):
        sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return [json.loads(envelope["Message"]) for envelope in messages]


def test_a_rejected_value_makes_one_alert_naming_the_hop_and_the_run(
    sandbox: Any, project: Path, wcpipe: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WCPIPE_POLL_INTERVAL", "0.1")
    base = ["-c", str(project), "--endpoint-url", sandbox.endpoint]
    up = wcpipe(*base, "up", "--yes")
    assert up.code == 0, up
    again = wcpipe(*base, "up", "--yes")
    assert again.code == 0 and again.err.count("No changes.") == 1, again
    topic = sandbox.client("sns").list_topics()["Topics"]
    [topic_arn] = [t["TopicArn"] for t in topic if t["TopicArn"].endswith(f":wcpipe-{NAME}-alerts")]
    [mail] = [
        s
        for s in sandbox.client("sns").list_subscriptions_by_topic(TopicArn=topic_arn)[
            "Subscriptions"
        ]
        if s["Protocol"] == "email"
    ]
    assert mail["SubscriptionArn"] == "PendingConfirmation"
    url = _subscribed_queue(sandbox, topic_arn)

    # A good load: nobody hears anything.
    assert wcpipe(*base, "run").code == 0
    assert sandbox.idle()
    assert _alerts(sandbox, url) == []

    # A file with a value that is not a smallint, put by any client: the run fails, one alert.
    bucket = f"wcpipe-{NAME}-123456789012-us-east-1"
    sandbox.client("s3").put_object(
        Bucket=bucket, Key="raw/attendance/bad.csv", Body=BAD_ROW.encode()
    )
    failed = wcpipe(*base, "run")
    assert failed.code == 1, failed
    assert sandbox.idle()
    [alert] = _alerts(sandbox, url)
    runs = sandbox.client("glue").get_job_runs(JobName=f"wcpipe-{NAME}-load")["JobRuns"]
    [run_id] = [r["Id"] for r in runs if r["JobRunState"] == "FAILED"]
    assert alert["pipeline"] == NAME
    assert alert["hop"] == "load"
    assert alert["state"] == "FAILED"
    assert alert["run"] == run_id
    assert alert["look"] == f"wcpipe logs job --run-id {run_id}"
    assert "year" in alert["message"], alert
    assert _alerts(sandbox, url) == []

    # status: the address waits for its confirmation; the rejected-values alarm went off.
    status = wcpipe(*base, "--output", "json", "status")
    assert status.code == 0, status
    alerts = json.loads(status.out)["alerts"]
    assert alerts["ops@example.com"] == "pending confirmation"
    assert alerts[f"wcpipe-{NAME}-rejected-values"].startswith("ALARM: Threshold Crossed")
    assert alerts[f"wcpipe-{NAME}-lambda-errors"] == "OK"
    assert alerts[f"wcpipe-{NAME}-no-load"] == "OK"
    text = wcpipe(*base, "status")
    assert "pending confirmation" in text.out, text
    # Both runs published their counts (the good one 22 rows, the bad one its reject).
    assert job_metrics(sandbox, f"wcpipe-{NAME}-load") == {
        "LoadsSucceeded": 1.0,
        "RowsDropped": 1.0,
        "RowsLoaded": 22.0,
        "RowsRead": 24.0,
        "RowsRejected": 1.0,
    }

    # The spec drops `alerts`: plan shows each alert resource's removal, `up` deletes them.
    project.write_text(project.read_text().replace("\nalerts:\n  email: [ops@example.com]\n", ""))
    plan = json.loads(wcpipe(*base, "--output", "json", "plan").out)
    removals = {c["resource"]: c["reason"] for c in plan["changes"] if c["action"] == "delete"}
    assert len(removals) == 7 and "sns.topic" in removals, removals
    assert set(removals.values()) == {
        "the spec no longer declares it (it exists only with alerts)"
    }, removals
    assert wcpipe(*base, "up", "--yes").code == 0
    assert not [t for t in sandbox.client("sns").list_topics()["Topics"] if NAME in t["TopicArn"]]
    assert json.loads(wcpipe(*base, "--output", "json", "plan").out)["pending"] == 0

    down = wcpipe(*base, "down", "--yes")
    assert down.code == 0, down
    assert not [t for t in sandbox.client("sns").list_topics()["Topics"] if NAME in t["TopicArn"]]
    rules = sandbox.client("events").list_rules(NamePrefix=f"wcpipe-{NAME}-")["Rules"]
    assert rules == []
