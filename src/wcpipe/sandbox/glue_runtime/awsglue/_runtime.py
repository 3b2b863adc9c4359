"""What the sandbox tells the shim about this run, and what the shim tells it back.

The sandbox's engine sets `WCPIPE_GLUE_RUNTIME` to a JSON object:
- `work_dir`: a directory of this run's own (downloaded source objects, temporary files);
- `result`: the file this module writes at `Job.commit()`: the bookmark state to commit;
- `warehouse_dsn`: the sandbox warehouse's maintenance DSN (the shim connects with the
  database the Glue connection names, as Glue's connector does over JDBC);
- `bookmark`: the job's committed bookmark state, `{"objects": {key: etag}}`;
- `faults`: test-only fault injection (see `_faults`).
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
    """A boto3 client; the engine points AWS_ENDPOINT_URL at the sandbox (fake credentials)."""
    import boto3

    return boto3.client(service)  # type: ignore[call-overload]


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
