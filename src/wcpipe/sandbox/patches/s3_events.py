"""S3 -> EventBridge as AWS sends it: an object created in a bucket with EventBridge
notifications enabled puts one "Object Created" event on the account's default bus.

moto sends one already (`moto.s3.notifications._send_event_bridge_message`), but not in AWS's
shape: every event has the same id (its template's), `time` is an epoch number, the object's
ETag is `eTag`, `reason` is "ObjectCreated" whatever the request, and it goes to every bus. The
shape here is the Amazon S3 User Guide's "EventBridge event message structure" (ev-events.html):
version "0", a UUID `id` for every event, detail-type "Object Created", source "aws.s3", the
bucket owner's account, the time, the bucket's region, `resources` [the bucket's ARN], and
`detail` {version "0", bucket.name, object {key, size, etag, version-id (a versioned bucket
only), sequencer}, request-id, requester, source-ip-address, reason}, where `reason` names the
API that created the object: PutObject, POST Object, CopyObject or CompleteMultipartUpload
(that page's "Event message detail field"; an example of CompleteMultipartUpload's in
tests/sandbox/test_s3_events.py). Amazon S3 delivers to the default bus only ("Using
EventBridge", EventBridge.html).

moto also keeps a bucket's EventBridgeConfiguration but leaves it out of
GetBucketNotificationConfiguration's answer; S3 answers it (an empty element) when EventBridge
notifications are on (Amazon S3 API Reference, GetBucketNotificationConfiguration).

Contract: `install()` (once per process) makes GetBucketNotificationConfiguration answer
EventBridgeConfiguration (plain: it holds for moto's in-process mock too), and replaces moto's
send function (as `context.or_moto`): an
Object Created event goes through `sandbox.emit_event`, which delivers it to every matching
rule's targets (Lambda targets through lambda_runner). Other event types (deleted, tags, ACL,
restore) keep moto's own delivery. A multipart upload puts one event (moto notifies twice).
Delivery is best effort, as moto's is: a failure is logged to /aws-s3/sandbox, stream `events`,
and never fails the request that created the object.
"""

from __future__ import annotations

import uuid
from typing import Any

from moto.s3 import notifications
from moto.s3.notifications import S3NotificationEvent
from moto.s3.responses import S3Response

from wcpipe.sandbox.context import current, once, or_moto
from wcpipe.sandbox.patches.glue_events import iso_z, safe_log

PINS: tuple[tuple[str, str], ...] = (
    ("moto.s3.notifications", "_send_event_bridge_message"),
    ("moto.s3.notifications", "S3NotificationEvent"),
    ("moto.s3.models", "FakeKey"),  # .multipart: set on an object a multipart upload completed
    ("moto.s3.responses", "S3Response"),  # get_bucket_notification
)

# The API each object-created notification stands for: detail.reason (module docstring).
REASONS: dict[str, str] = {
    S3NotificationEvent.OBJECT_CREATED_PUT_EVENT.value: "PutObject",
    S3NotificationEvent.OBJECT_CREATED_POST_EVENT.value: "POST Object",
    S3NotificationEvent.OBJECT_CREATED_COPY_EVENT.value: "CopyObject",
    S3NotificationEvent.OBJECT_CREATED_COMPLETE_MULTIPART_UPLOAD_EVENT.value: (
        "CompleteMultipartUpload"
    ),
}
LOG_GROUP = "/aws-s3/sandbox"


def object_created_event(account_id: str, bucket: Any, reason: str, key: Any) -> dict[str, Any]:
    """The event as S3 puts it on the bus (module docstring), for moto's bucket and key."""
    obj: dict[str, Any] = {
        "key": key.name,
        "size": key.size,
        "etag": key.etag.replace('"', ""),
        "sequencer": f"{uuid.uuid4().int % 16**18:018X}",
    }
    if getattr(bucket, "is_versioned", False) and key.version_id:
        obj["version-id"] = key.version_id
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": account_id,
        "time": iso_z(),
        "region": bucket.region_name,
        "resources": [bucket.arn],
        "detail": {
            "version": "0",
            "bucket": {"name": bucket.name},
            "object": obj,
            "request-id": uuid.uuid4().hex[:16].upper(),
            "requester": account_id,
            "source-ip-address": "127.0.0.1",
            "reason": reason,
        },
    }


_moto_send: Any = notifications._send_event_bridge_message


def _send(account_id: str, bucket: Any, event_name: Any, key: Any) -> None:
    name = getattr(event_name, "value", event_name)
    reason = REASONS.get(str(name))
    if reason is None:  # not an object-created event: moto's own delivery
        _moto_send(account_id, bucket, event_name, key)
        return
    if reason == "PutObject" and getattr(key, "multipart", None) is not None:
        # moto's CompleteMultipartUpload stores the object through put_object, which notifies
        # a Put first; S3 sends only the CompleteMultipartUpload event, which follows.
        return
    sandbox = current()
    try:
        sandbox.emit_event(object_created_event(account_id, bucket, reason, key))
    except Exception as exc:  # best effort, as on AWS: never fails the upload
        safe_log(sandbox, LOG_GROUP, "events", f"Object Created {key.name}: not delivered: {exc}")


_moto_get_notification: Any = S3Response.get_bucket_notification


def _get_bucket_notification(self: Any) -> Any:
    """moto's answer, with EventBridgeConfiguration when the bucket has it."""
    config = self.backend.get_bucket_notification_configuration(self.bucket_name)
    if config is None or config.event_bridge is None:
        return _moto_get_notification(self)
    from moto.core.responses import ActionResult

    def build(items: list[Any], arn_key: str) -> list[dict[str, Any]]:
        return [_configuration(item, arn_key) for item in items]

    result = {
        "TopicConfigurations": build(config.topic, "TopicArn"),
        "QueueConfigurations": build(config.queue, "QueueArn"),
        "LambdaFunctionConfigurations": build(config.cloud_function, "LambdaFunctionArn"),
        "EventBridgeConfiguration": {},
    }
    self.data["Action"] = "GetBucketNotificationConfiguration"
    return self.serialized(ActionResult(result))


def _configuration(item: Any, arn_key: str) -> dict[str, Any]:
    """One topic/queue/function configuration as moto's own get_bucket_notification builds it."""
    out: dict[str, Any] = {"Id": item.id, arn_key: item.arn, "Events": item.events}
    if item.filters:
        out["Filter"] = {"Key": {"FilterRules": item.filters["S3Key"]["FilterRule"]}}
    return out


@once
def install() -> None:
    """Put S3's Object Created events on the bus in AWS's shape; answer EventBridgeConfiguration."""
    notifications._send_event_bridge_message = or_moto(_send, _moto_send)
    S3Response.get_bucket_notification = _get_bucket_notification  # type: ignore[method-assign]
