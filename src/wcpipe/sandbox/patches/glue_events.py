"""What crawls and job runs report, as Glue reports it: events on the default bus, lines in
CloudWatch Logs. Shared by `crawler.py` and `jobs.py` (and `job_run.RunOutput`).

Contract:
- `glue_event(sandbox, detail_type, detail)`: an event in the shape EventBridge delivers Glue's
  (version, id, detail-type, source "aws.glue", account, time, region, resources, detail; see
  tests/fixtures/glue-events/); `emit(...)` puts one on the bus. Delivery is best effort, as on
  AWS: a failure is logged to /aws-glue/sandbox, stream `events`, never raised.
- `safe_log(sandbox, group, stream, message)`: one log line; logging never breaks a crawl or a
  run, so a failure to log is dropped.
- `iso_z(moment)`: AWS's event time format (moto's naive datetimes are UTC); `log_link(...)`:
  the console link Glue puts in a crawler's events.
- `SettledStatus`: moto's ManagedState (FakeCrawl's and FakeJobRun's base) whose status moves
  only when the crawl or run moves it (moto's advances whenever it is read); put it first among
  the bases, before moto's class.
"""

from __future__ import annotations

import contextlib
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from moto.moto_api._internal.managed_state_model import ManagedState

if TYPE_CHECKING:
    from wcpipe.sandbox.context import SandboxView


def iso_z(moment: datetime | None = None) -> str:
    """AWS's event time format: 2026-11-23T10:00:00Z (moto's naive datetimes are UTC)."""
    moment = moment or datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def glue_event(sandbox: SandboxView, detail_type: str, detail: dict[str, Any]) -> dict[str, Any]:
    """An event as EventBridge delivers Glue's (see tests/fixtures/glue-events/)."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": "aws.glue",
        "account": sandbox.account_id,
        "time": iso_z(),
        "region": sandbox.region,
        "resources": [],
        "detail": detail,
    }


def emit(sandbox: SandboxView, detail_type: str, detail: dict[str, Any]) -> None:
    """Put a Glue event; delivery is best effort (as on AWS): a failure is logged, not raised."""
    try:
        sandbox.emit_event(glue_event(sandbox, detail_type, detail))
    except Exception as exc:  # best effort
        safe_log(sandbox, "/aws-glue/sandbox", "events", f"{detail_type}: delivery failed: {exc}")


def safe_log(sandbox: SandboxView, group: str, stream: str, message: str) -> None:
    with contextlib.suppress(Exception):  # logging never breaks a crawl or a run
        sandbox.log(group, stream, message)


def log_link(region: str, group: str, stream: str) -> str:
    return (
        f"https://console.aws.amazon.com/cloudwatch/home?region={region}"
        f"#logEventViewer:group={group};stream={stream}"
    )


class SettledStatus(ManagedState):
    """A `status` that changes only when set; `status_changed()` runs after each change."""

    _state: str

    @property
    def status(self) -> str:
        return self._state

    @status.setter
    def status(self, value: str) -> None:
        self._state = value
        self.status_changed()

    def status_changed(self) -> None:
        """Called after each change of `status` (nothing by default)."""
