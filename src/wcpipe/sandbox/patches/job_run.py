"""A job run as the sandbox keeps it: its record in moto (`SandboxJobRun`) and its log lines
(`RunOutput`). Shared by `jobs.py` (which starts and finishes runs), `job_load.py` and
`glue_runtime.engine` (which do a run's work).

Contract:
- `SandboxJobRun` is moto's FakeJobRun whose state moves only when the run moves it
  (`glue_events.SettledStatus`; each move stamps ModifiedOn), with GetJobRun's ExecutionTime,
  LogGroupName, GlueVersion, JobMode, and CompletedOn, ErrorMessage and DPUSeconds once known.
- `RunOutput(sandbox, run_id)`: `print` writes a line to /aws-glue/jobs/output, `error` to
  /aws-glue/jobs/error, stream = run id (best effort: `glue_events.safe_log`); `counts` is the
  last `wcpipe-counts` line printed, parsed (for the run's metrics).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from moto.core.utils import utcnow
from moto.glue.models import FakeJobRun

from wcpipe.sandbox.patches.glue_events import SettledStatus, safe_log
from wcpipe.spec.names import GLUE_JOB_ERROR_LOG_GROUP, GLUE_JOB_OUTPUT_LOG_GROUP

if TYPE_CHECKING:
    from wcpipe.sandbox import authz
    from wcpipe.sandbox.context import SandboxView

OUTPUT_GROUP = GLUE_JOB_OUTPUT_LOG_GROUP  # where AWS's job runs log (spec.names)
ERROR_GROUP = GLUE_JOB_ERROR_LOG_GROUP


class SandboxJobRun(SettledStatus, FakeJobRun):
    """A run whose state moves only when the run moves it (moto's advances on every read)."""

    def __init__(self, glue_version: str | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._state = "STARTING"
        self.glue_version = glue_version
        self.error_message: str | None = None
        self.execution_time = 0
        self.dpu_seconds: float | None = None
        self.completed_on = None  # type: ignore[assignment]

    def status_changed(self) -> None:
        self.modified_on = utcnow()

    def as_dict(self) -> dict[str, Any]:
        out = super().as_dict()
        out.update(
            ExecutionTime=self.execution_time,
            LogGroupName="/aws-glue/jobs",
            GlueVersion=self.glue_version or "0.9",
            JobMode="SCRIPT",
        )
        if self.completed_on is None:
            out.pop("CompletedOn", None)
        if self.error_message:
            out["ErrorMessage"] = self.error_message
        if self.dpu_seconds is not None:
            out["DPUSeconds"] = self.dpu_seconds
        return out


class RunOutput:
    """The run's log lines: `print` to the output group, `error` to the error group. With the
    job's role (`actor`), a line is written only if the role may write it (`glue_access`)."""

    def __init__(self, sandbox: SandboxView, run_id: str, actor: authz.Actor | None = None) -> None:
        self.sandbox, self.run_id, self.actor = sandbox, run_id, actor
        self._access: dict[str, bool] = {}
        self.counts: dict[str, int] | None = None  # the last counts line printed

    def _write(self, group: str, line: str) -> None:
        from wcpipe.sandbox.patches.actors import may_log

        if self.actor and not may_log(self.sandbox, self.actor, group, self.run_id, self._access):
            return  # the role may not log: the run goes on without its lines, as on AWS
        safe_log(self.sandbox, group, self.run_id, line)

    def print(self, line: str) -> None:
        from wcpipe.datamap.transform import parse_counts_line

        self.counts = parse_counts_line(line) or self.counts
        self._write(OUTPUT_GROUP, line)

    def error(self, line: str) -> None:
        self._write(ERROR_GROUP, line)
