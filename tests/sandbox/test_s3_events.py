"""S3 -> EventBridge in the sandbox: objects created by plain boto3 in a bucket with EventBridge
notifications put "Object Created" events in AWS's shape on the default bus, and a rule filtered
on the prefix delivers them to its target (an SQS queue here, read back through boto3)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

BUCKET = "wcpipe-events-test"
PREFIX = "raw/attendance/"
# The example S3 publishes for a multipart upload (Amazon S3 User Guide, "EventBridge event
# message structure"; the detail's keys are those every Object Created event carries).
DETAIL_KEYS = {"version", "bucket", "object", "request-id", "requester", "source-ip-address"}


@pytest.fixture(scope="module")
def queue(client: Callable[[str], Any]) -> str:
    """A bucket with EventBridge notifications, a rule on Object Created under PREFIX, and the
    queue it delivers to."""
    s3, events, sqs = client("s3"), client("events"), client("sqs")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_notification_configuration(
        Bucket=BUCKET, NotificationConfiguration={"EventBridgeConfiguration": {}}
    )
    s3.create_bucket(Bucket=f"{BUCKET}-quiet")  # no notifications: no events
    url = sqs.create_queue(QueueName="arrivals")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    pattern = {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": [BUCKET]}, "object": {"key": [{"prefix": PREFIX}]}},
    }
    events.put_rule(Name="arrivals", EventPattern=json.dumps(pattern), State="ENABLED")
    events.put_targets(Rule="arrivals", Targets=[{"Id": "q", "Arn": arn["QueueArn"]}])
    return str(url)


def _received(sqs: Any, url: str, wanted: int) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = []
    deadline = time.monotonic() + 10
    while len(got) < wanted and time.monotonic() < deadline:
        page = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        for message in page.get("Messages", []):
            got.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        if len(got) < wanted:
            time.sleep(0.1)
    return got


def test_put_copy_and_multipart_upload_each_put_one_event(
    client: Callable[[str], Any], queue: str, sandbox: Any
) -> None:
    s3, sqs = client("s3"), client("sqs")
    s3.put_object(Bucket=BUCKET, Key=f"{PREFIX}put.csv", Body=b"a,b\n1,2\n")
    s3.copy_object(
        Bucket=BUCKET,
        Key=f"{PREFIX}copy.csv",
        CopySource={"Bucket": BUCKET, "Key": f"{PREFIX}put.csv"},
    )
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key=f"{PREFIX}big.csv")["UploadId"]
    part = s3.upload_part(
        Bucket=BUCKET, Key=f"{PREFIX}big.csv", UploadId=upload, PartNumber=1, Body=b"x" * 10
    )
    s3.complete_multipart_upload(
        Bucket=BUCKET,
        Key=f"{PREFIX}big.csv",
        UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
    )
    events = _received(sqs, queue, 3)
    assert {e["detail"]["object"]["key"]: e["detail"]["reason"] for e in events} == {
        f"{PREFIX}put.csv": "PutObject",
        f"{PREFIX}copy.csv": "CopyObject",
        f"{PREFIX}big.csv": "CompleteMultipartUpload",
    }
    head = s3.head_object(Bucket=BUCKET, Key=f"{PREFIX}put.csv")
    # The envelope as put on the bus (moto's own SQS delivery drops `account` from it).
    put = next(e for e in sandbox.events if e["detail"]["object"]["key"] == f"{PREFIX}put.csv")
    assert put["detail-type"] == "Object Created" and put["source"] == "aws.s3"
    assert put["account"] == sandbox.account_id and put["region"] == sandbox.region
    assert put["resources"] == [f"arn:aws:s3:::{BUCKET}"]
    assert set(put["detail"]) >= DETAIL_KEYS and put["detail"]["bucket"] == {"name": BUCKET}
    assert put["detail"]["object"]["size"] == 8
    assert put["detail"]["object"]["etag"] == head["ETag"].strip('"')
    assert put["time"].endswith("Z") and "T" in put["time"]
    assert len(sandbox.events) == 3  # one each: a multipart upload is not also a Put
    assert len({e["id"] for e in events}) == 3  # a UUID per event
    uuid.UUID(put["id"])


def test_objects_outside_the_prefix_or_the_notifying_bucket_put_nothing_the_rule_matches(
    client: Callable[[str], Any], queue: str, sandbox: Any
) -> None:
    s3, sqs = client("s3"), client("sqs")
    before = len(sandbox.events)
    s3.put_object(Bucket=BUCKET, Key="elsewhere/x.csv", Body=b"x")
    s3.put_object(Bucket=f"{BUCKET}-quiet", Key=f"{PREFIX}x.csv", Body=b"x")
    s3.put_object(Bucket=BUCKET, Key=f"{PREFIX}marker.csv", Body=b"x")
    events = _received(sqs, queue, 1)
    assert [e["detail"]["object"]["key"] for e in events] == [f"{PREFIX}marker.csv"]
    # On the bus: the notifying bucket's two objects, not the quiet bucket's.
    keys = [e["detail"]["object"]["key"] for e in sandbox.events[before:]]
    assert keys == ["elsewhere/x.csv", f"{PREFIX}marker.csv"]
    assert _received(sqs, queue, 1) == []
