"""What the sandbox tells the shim about this run, and what the shim tells it back.

The sandbox's engine sets `WCPIPE_GLUE_RUNTIME` to a JSON object:
- `work_dir`: a directory of this run's own (downloaded source objects, temporary files);
- `result`: the file this module writes at `Job.commit()`: the bookmark state to commit;
- `warehouse_dsn`: the sandbox warehouse's maintenance DSN (the shim connects with the
  database the Glue connection names, as Glue's connector does over JDBC);
- `bookmark`: the job's committed bookmark state, `{"objects": {key: etag}}`;
- `faults`: test-only fault injection (see `_faults`);
- `sandbox_credentials`: the sandbox's own, for what the shim looks up that no AWS service asks
  of the job's role (which cluster or workgroup a JDBC host is; `sandbox_client`);
- `warehouse_roles`: `{role ARN: AWS_* credentials}`, a session of each role a warehouse
  holds, for COPY, which reads S3 as its `aws_iam_role` (`role_client`).
The process itself signs with the job's role's STS credentials (`client`), as on Glue.
On Glue the same facts come from the service (the JVM side of GlueContext and Job); nothing here
is visible to the script.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ENV = "WCPIPE_GLUE_RUNTIME"


def client(service: str) -> Any:
    """A boto3 client as the job's role (the engine sets its credentials and points
    AWS_ENDPOINT_URL at the sandbox): what Glue itself does for the script."""
    import boto3

    return boto3.client(service)  # type: ignore[call-overload]


def _signed_with(service: str, credentials: dict[str, str]) -> Any:
    import boto3

    return boto3.client(  # type: ignore[call-overload]
        service,
        aws_access_key_id=credentials["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=credentials["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=credentials.get("AWS_SESSION_TOKEN"),
    )


def sandbox_client(service: str) -> Any:
    """A client with the sandbox's own credentials (see the module docstring)."""
    return _signed_with(service, config()["sandbox_credentials"])


def role_client(service: str, role_arn: str) -> Any:
    """A client as `role_arn`, which a warehouse holds (PermissionError if none does)."""
    credentials = (config().get("warehouse_roles") or {}).get(role_arn)
    if credentials is None:
        raise PermissionError(f"no warehouse of this sandbox holds IAM role {role_arn}")
    return _signed_with(service, credentials)


def config() -> dict[str, Any]:
    raw = os.environ.get(ENV)
    if not raw:
        raise RuntimeError(f"{ENV} is not set: this shim runs only inside the wcpipe sandbox")
    value: dict[str, Any] = json.loads(raw)
    return value


@dataclass
class State:
    job_name: str = ""
    bookmark_option: str = "job-bookmark-disable"
    read: dict[str, str] = field(default_factory=dict)  # key -> etag, read by bookmarked sources

    def committed(self) -> dict[str, str]:
        return dict((config().get("bookmark") or {}).get("objects") or {})

    def commit(self) -> None:
        if self.bookmark_option != "job-bookmark-enable":
            return  # pause reads incrementally without advancing; disable keeps no state
        state = {"objects": {**self.committed(), **self.read}}
        Path(config()["result"]).write_text(json.dumps({"bookmark": state}))


STATE = State()
