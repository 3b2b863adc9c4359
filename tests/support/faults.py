"""Deterministic transient faults, injected client-side: what botocore's standard retry mode must
absorb.

`Faults(every=n).install()` hooks `before-send` on every client wcpipe builds (through
`wcpipe.core.aws.instrument`) and answers every n-th first attempt of a request itself, in place
of the server, alternating throttling and a 5xx, each as the service really sends it
(`error_response`, in the service's own protocol). Retries are never faulted. `uninstall()`
removes the hooks (for clients built afterwards).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

# botocore's hyphenized service ids of every client wcpipe builds: `before-send.<id>` is more
# specific than moto's own in-process `before-send` handler, so ours answers first either way.
SERVICES = (
    "s3",
    "iam",
    "sts",
    "ec2",
    "secrets-manager",
    "redshift",
    "redshift-data",
    "redshift-serverless",
    "glue",
    "lambda",
    "eventbridge",
    "cloudwatch-logs",
    "cloudwatch",
    "resource-groups-tagging-api",
)


class _Raw:
    """The minimum of urllib3's response that botocore reads from a response body."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


def error_response(protocol: str, status: int, code: str, message: str) -> Any:
    """An AWS error response in the service's own protocol (what the real service sends)."""
    from botocore.awsrequest import AWSResponse

    headers = {"x-amzn-RequestId": "injected-fault"}
    if protocol not in ("json", "rest-json"):
        # XML text: a message quoting a value with & or < (a password) must stay well-formed,
        # or botocore takes the answer for a garbled one and retries it against the server.
        from xml.sax.saxutils import escape

        code, message = escape(code), escape(message)
    if protocol in ("json", "rest-json"):
        body = json.dumps({"__type": code, "message": message}).encode()
        headers["Content-Type"] = "application/x-amz-json-1.1"
        headers["x-amzn-ErrorType"] = code
    elif protocol == "ec2":
        body = (
            f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error>"
            "</Errors><RequestID>injected-fault</RequestID></Response>"
        ).encode()
    elif protocol == "rest-xml":
        body = f"<Error><Code>{code}</Code><Message>{message}</Message></Error>".encode()
    else:  # query
        body = (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>"
            f"<Message>{message}</Message></Error><RequestId>injected-fault</RequestId>"
            "</ErrorResponse>"
        ).encode()
    return AWSResponse("https://injected.invalid/", status, headers, _Raw(body))


def _throttle(service: str, protocol: str) -> tuple[int, str, str]:
    """The throttling error each service really sends."""
    if service == "s3":
        return 503, "SlowDown", "Please reduce your request rate."
    if service == "ec2":
        return 503, "RequestLimitExceeded", "Request limit exceeded."
    if protocol == "query":
        return 400, "Throttling", "Rate exceeded"
    if service == "lambda":
        return 429, "TooManyRequestsException", "Rate exceeded"
    return 400, "ThrottlingException", "Rate exceeded"


def _server_error(protocol: str) -> tuple[int, str, str]:
    if protocol in ("json", "rest-json"):
        return 500, "InternalServiceException", "An internal error occurred."
    return 500, "InternalError", "We encountered an internal error. Please try again."


@dataclass
class Faults:
    """Every `every`-th first attempt of a request gets a transient error instead of an answer,
    alternating throttling and a 5xx. Retries are never faulted, so each injected fault must be
    absorbed by exactly one retry -- which the hook sees as `attempt=2` in `amz-sdk-request`."""

    every: int = 4
    seen: int = 0
    injected: dict[str, int] = field(default_factory=dict)
    retries: int = 0
    by_operation: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _remove: list[Callable[[], None]] = field(default_factory=list)

    def install(self) -> Faults:
        from wcpipe.core.aws import instrument

        for service in SERVICES:
            self._remove.append(instrument(f"before-send.{service}", self._before_send))
        return self

    def uninstall(self) -> None:
        for remove in self._remove:
            remove()
        self._remove.clear()

    @property
    def total(self) -> int:
        return sum(self.injected.values())

    def _before_send(self, request: Any, **kwargs: Any) -> Any:
        header = request.headers.get("amz-sdk-request", b"")
        header = header.decode() if isinstance(header, bytes) else str(header)
        event = str(kwargs.get("event_name", ""))  # before-send.<service>.<Operation>
        _, service, operation = [*event.split("."), "", ""][:3]
        with self._lock:
            if _attempt(header) != 1:
                self.retries += 1
                return None
            self.seen += 1
            if self.seen % self.every:
                return None
            throttling = (self.seen // self.every) % 2 == 1
            from botocore.session import get_session

            model = get_session().get_service_model(_model_name(service))
            # The protocol this botocore speaks to the service (CloudWatch lists
            # smithy-rpc-v2-cbor first, but botocore resolves it to json).
            protocol = model.resolved_protocol
            status, code, message = (
                _throttle(service, protocol) if throttling else _server_error(protocol)
            )
            self.injected[code] = self.injected.get(code, 0) + 1
            self.by_operation[f"{service}.{operation}"] = (
                self.by_operation.get(f"{service}.{operation}", 0) + 1
            )
        return error_response(protocol, status, code, message)


def _attempt(header: str) -> int:
    """The attempt number from `amz-sdk-request: attempt=N; max=M` (1 if absent)."""
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == "attempt" and value.isdigit():
            return int(value)
    return 1


_MODEL_NAMES = {
    "secrets-manager": "secretsmanager",
    "eventbridge": "events",
    "cloudwatch-logs": "logs",
    "resource-groups-tagging-api": "resourcegroupstaggingapi",
}


def _model_name(service_id: str) -> str:
    return _MODEL_NAMES.get(service_id, service_id)
