"""Start the pipeline's Glue job and wait for a run.

Contract:
- `start_job_run(ctx)` refuses a second concurrent run: it looks for an active run first
  (GetJobRuns) and also turns Glue's `ConcurrentRunsExceededException` into the same clear
  `JobAlreadyRunning` error (the check and the start are not atomic).
- `wait_for_job_run(ctx, run_id)` polls GetJobRun to a terminal state within a bound (the spec's
  job timeout plus a margin) and returns a `JobRun`; it does not raise on a failed run, so the
  caller can show the run first. `JobRun.raise_if_failed()` raises `ResourceFailed` with Glue's
  ErrorMessage.
- Following a run while printing its log lines is `operate.logs.follow_job_run` (logs builds on
  this module, never the reverse).
Time comes from `ctx.timing`; nothing here writes to the terminal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from wcpipe.core.errors import ResourceFailed, WcpipeError
from wcpipe.core.wait import poll
from wcpipe.operate import not_created
from wcpipe.spec.model import DPU_PER_WORKER
from wcpipe.spec.session import Session

TERMINAL = frozenset({"SUCCEEDED", "FAILED", "STOPPED", "TIMEOUT", "ERROR", "EXPIRED"})
ACTIVE = frozenset({"STARTING", "RUNNING", "STOPPING", "WAITING"})
# DPUs per worker by worker type (AWS Glue pricing); Standard/unset jobs report MaxCapacity.


class JobAlreadyRunning(WcpipeError):
    """A run of the job is active; wcpipe never starts a second one."""


@dataclass(frozen=True)
class JobRun:
    id: str
    state: str
    started: datetime | None
    completed: datetime | None
    execution_seconds: int | None
    dpu_seconds: float | None
    error: str | None

    @classmethod
    def from_api(cls, run: dict[str, Any]) -> JobRun:
        return cls(
            id=str(run["Id"]),
            state=str(run.get("JobRunState", "UNKNOWN")),
            started=run.get("StartedOn"),
            completed=run.get("CompletedOn"),
            execution_seconds=run.get("ExecutionTime"),
            dpu_seconds=dpu_seconds(run),
            error=run.get("ErrorMessage"),
        )

    @property
    def terminal(self) -> bool:
        return self.state in TERMINAL

    @property
    def duration_seconds(self) -> float | None:
        """Wall time from start to completion (ExecutionTime when the dates are missing)."""
        if self.started and self.completed and self.terminal:
            return max(0.0, (self.completed - self.started).total_seconds())
        return float(self.execution_seconds) if self.execution_seconds is not None else None

    def raise_if_failed(self, job: str, ctx: Session | None = None) -> None:
        """ResourceFailed with Glue's ErrorMessage; with `ctx`, a connect timeout also names
        the service its subnet cannot reach and why (`provision.reachability.explain`)."""
        if self.state != "SUCCEEDED":
            why = None
            if ctx is not None:
                from wcpipe.provision.reachability import explain

                glue, ec2 = ctx.client("glue"), ctx.client("ec2")
                why = explain(ec2, glue, ctx.names.connection, self.error)
            raise ResourceFailed(
                f"job run {self.id} of {job} ended {self.state}: "
                f"{self.error or 'no error message'}" + (f"; {why}" if why else ""),
                hint=f"read its log: wcpipe logs job --run-id {self.id}"
                + ("; `wcpipe up` creates the missing endpoint" if why else ""),
            )

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.id,
            "state": self.state,
            "started": self.started.isoformat() if self.started else None,
            "duration_seconds": self.duration_seconds,
            "dpu_seconds": self.dpu_seconds,
            "error": self.error,
        }


def dpu_seconds(run: dict[str, Any]) -> float | None:
    """DPU-seconds a run consumed: DPUSeconds where Glue reports it (auto scaling, Flex), else
    ExecutionTime x workers x DPU per worker, else ExecutionTime x MaxCapacity."""
    if run.get("DPUSeconds") is not None:
        return float(run["DPUSeconds"])
    seconds = run.get("ExecutionTime")
    if seconds is None:
        return None
    per_worker = DPU_PER_WORKER.get(str(run.get("WorkerType")))
    if per_worker is not None and run.get("NumberOfWorkers"):
        return float(seconds) * int(run["NumberOfWorkers"]) * per_worker
    if run.get("MaxCapacity") is not None:
        return float(seconds) * float(run["MaxCapacity"])
    return None


def recent_runs(ctx: Session, *, limit: int = 25) -> list[dict[str, Any]]:
    """The job's most recent runs, newest first ([] if the job does not exist)."""
    glue = ctx.client("glue")
    try:
        runs = glue.get_job_runs(JobName=ctx.names.job, MaxResults=limit)["JobRuns"]
    except glue.exceptions.EntityNotFoundException:
        return []
    return sorted(runs, key=lambda r: r.get("StartedOn") or datetime.min, reverse=True)


def latest_run(ctx: Session) -> JobRun | None:
    runs = recent_runs(ctx, limit=10)
    return JobRun.from_api(runs[0]) if runs else None


def active_run(ctx: Session) -> dict[str, Any] | None:
    return next((r for r in recent_runs(ctx) if r.get("JobRunState") in ACTIVE), None)


def start_job_run(ctx: Session) -> str:
    """Start a run of the pipeline's job and return its id; refuse if one is active."""
    glue = ctx.client("glue")
    job = ctx.names.job
    active = active_run(ctx)
    if active is not None:
        raise _already_running(job, str(active["Id"]), str(active.get("JobRunState")))
    try:
        return str(glue.start_job_run(JobName=job)["JobRunId"])
    except glue.exceptions.ConcurrentRunsExceededException:
        active = active_run(ctx)
        raise _already_running(
            job,
            str(active["Id"]) if active else "?",
            str(active.get("JobRunState")) if active else "active",
        ) from None
    except glue.exceptions.EntityNotFoundException:
        raise not_created(f"job {job!r}") from None


def _already_running(job: str, run_id: str, state: str) -> JobAlreadyRunning:
    return JobAlreadyRunning(
        f"job {job} already has a run in progress ({run_id}, {state}); not starting another",
        hint=f"wait for it: wcpipe logs job --run-id {run_id} --follow",
    )


def default_timeout(ctx: Session) -> float:
    """The job's own timeout plus ten minutes for start-up and shutdown."""
    return ctx.spec.glue.timeout_minutes * 60.0 + 600.0


def get_run(ctx: Session, run_id: str) -> JobRun:
    glue = ctx.client("glue")
    return JobRun.from_api(glue.get_job_run(JobName=ctx.names.job, RunId=run_id)["JobRun"])


def wait_for_job_run(
    ctx: Session,
    run_id: str,
    *,
    timeout: float | None = None,
    on_poll: Callable[[JobRun, float], None] | None = None,
) -> JobRun:
    """Poll the run to a terminal state (bounded); return it, failed or not."""
    return poll(
        lambda: get_run(ctx, run_id),
        what=f"job run {run_id}",
        done=lambda r: r.terminal,
        timeout=timeout or default_timeout(ctx),
        timing=ctx.timing,
        on_poll=on_poll,
    )
