"""Job runs that run: StartJobRun in the sandbox performs the job's load into PostgreSQL.

Contract (what a run loads, and its bookmarks, are `job_load.py`'s):
- `install()` patches moto's GlueBackend.start_job_run once per process (`context.once`), as
  `context.or_moto`: each run belongs to `context.current()`, and with no sandbox running moto's
  own behaviour is kept. Runs respect the job's MaxConcurrentRuns (default 1) with
  ConcurrentRunsExceededException, as AWS does, and carry the merged arguments
  (DefaultArguments, then the run's, then NonOverridableArguments).
- A run goes STARTING -> RUNNING -> SUCCEEDED | FAILED (ErrorMessage) on the sandbox's "jobs"
  pool, with StartedOn/CompletedOn, ExecutionTime (seconds) and DPUSeconds (ExecutionTime x
  NumberOfWorkers x the worker type's DPUs, `spec.model.DPU_PER_WORKER`; ExecutionTime x
  MaxCapacity otherwise). A "Glue Job State Change" event ends every run.
- With `sandbox.glue_engine == "spark"` the run's work is `glue_runtime.engine.run`: the
  deployed script on real PySpark (see its docstring). Otherwise it is `job_load.load` (see
  its docstring: the source table, streaming, staging, COPY, the load statements in ONE
  transaction, worker processes, bookmarks). It SUCCEEDS when the load returns;
  `job_load.JobFailed` (rejected values, no source, ...) or any other error FAILS it with that
  message, and a failed run leaves the target unchanged.
- The run acts as the job's role (`glue_access`, when the sandbox's IAM holds it): before the
  script, the code, bookmark and connection (secret, network interface) are asked of the role;
  the load asks for the catalog, the objects, the TempDir and COPY (as the Redshift role); the
  log lines and metrics are written only if the role may. A denial FAILS the run with AWS's
  AccessDenied as its ErrorMessage (and error log line).
- The run is a `job_run.SandboxJobRun`. Lines go to /aws-glue/jobs/output (`job_run.RunOutput`:
  counts per object, then `transform.counts_line`) and errors to /aws-glue/jobs/error, stream =
  run id; the event is `glue_events.emit`'s. Every run ends by publishing its counts as
  glue/load.py does (`datamap.metrics`; with the spark engine the script itself publishes).
- PINS names the moto internals used here and in `job_run` and `job_load`.
"""

from __future__ import annotations

import math
import threading
import time
from typing import TYPE_CHECKING, Any

from moto.core.utils import utcnow
from moto.glue.exceptions import ConcurrentRunsExceededException
from moto.glue.models import FakeJob, GlueBackend

from wcpipe.datamap import metrics
from wcpipe.sandbox.context import current, once, or_moto
from wcpipe.sandbox.glue_runtime import engine
from wcpipe.sandbox.patches import glue_access, glue_network
from wcpipe.sandbox.patches.actors import RoleDenied, service_actor
from wcpipe.sandbox.patches.glue_events import emit
from wcpipe.sandbox.patches.job_load import JobFailed, load
from wcpipe.sandbox.patches.job_run import RunOutput, SandboxJobRun
from wcpipe.spec.model import DPU_PER_WORKER

if TYPE_CHECKING:
    from wcpipe.sandbox import authz
    from wcpipe.sandbox.context import SandboxView

ACTIVE = ("STARTING", "RUNNING", "STOPPING", "WAITING")
PINS: tuple[tuple[str, str], ...] = (
    ("moto.glue.models", "GlueBackend"),
    ("moto.glue.models", "FakeJob"),
    ("moto.glue.models", "FakeJobRun"),
    ("moto.glue.exceptions", "ConcurrentRunsExceededException"),
    ("moto.core.utils", "utcnow"),
    ("moto.moto_api._internal.managed_state_model", "ManagedState"),  # glue_events.SettledStatus
    ("moto.s3.models", "FakeKey"),  # athena_engine reads _value_buffer's file under .lock
)


# ---------------------------------------------------------------------------------------------
# StartJobRun


def _start_job_run(backend: GlueBackend, name: str, *args: Any, **kwargs: Any) -> str:
    sandbox = current()
    params = dict(
        zip(
            (
                "arguments",
                "allocated_capacity",
                "max_capacity",
                "timeout",
                "worker_type",
                "security_configuration",
                "number_of_workers",
                "notification_property",
                "previous_run_id",
            ),
            args,
            strict=False,
        ),
        **kwargs,
    )
    job = backend.get_job(name)
    lock = sandbox.state.setdefault("glue_job_lock", threading.Lock())
    with lock:
        active = [r for r in job.job_runs if r.status in ACTIVE]
        if len(active) >= (job.execution_property or {}).get("MaxConcurrentRuns", 1):
            raise ConcurrentRunsExceededException(f"Concurrent runs exceeded for {name}")
        arguments = {**job.default_arguments, **(params.get("arguments") or {})}
        arguments.update(job.non_overridable_arguments or {})
        run = SandboxJobRun(
            job.glue_version,
            job_name=name,
            arguments=arguments,
            allocated_capacity=params.get("allocated_capacity") or job.allocated_capacity,
            max_capacity=params.get("max_capacity") or job.max_capacity,
            timeout=params.get("timeout") or job.timeout,
            worker_type=params.get("worker_type") or job.worker_type,
            security_configuration=params.get("security_configuration")
            or job.security_configuration,
            number_of_workers=params.get("number_of_workers") or job.number_of_workers,
            notification_property=params.get("notification_property") or job.notification_property,
            job_run_id=params.get("previous_run_id"),
        )
        job.job_runs.append(run)
    sandbox.background("jobs", _run, sandbox, backend, job, run)
    return run.job_run_id


def _start_as_role(
    sandbox: SandboxView, actor: authz.Actor | None, job: FakeJob, run: SandboxJobRun
) -> str | None:
    """What Glue does as the job's role before the script runs (`glue_access`): read the script
    and libraries, the bookmark, each connection (its secret, its network interface). Returns
    the interface to release at the end."""
    if actor is None:
        return None
    arguments = run.arguments or {}
    command: dict[str, Any] = job.command if isinstance(job.command, dict) else {}
    code = [str(command.get("ScriptLocation") or "")]
    code += [u for u in str(arguments.get("--extra-py-files") or "").split(",") if u]
    glue_access.read_code(sandbox, actor, [u for u in code if u.startswith("s3://")])
    if arguments.get("--job-bookmark-option", "job-bookmark-disable") != "job-bookmark-disable":
        glue_access.get_bookmark(sandbox, actor)
    eni = None
    for name in (job.connections or {}).get("Connections") or []:
        eni = glue_access.use_connection(sandbox, actor, name) or eni
    return eni


def _run(sandbox: SandboxView, backend: GlueBackend, job: FakeJob, run: SandboxJobRun) -> None:
    began = time.monotonic()
    run.started_on = utcnow()
    run.status = "RUNNING"
    actor = service_actor(sandbox, job.role, glue_access.JOB_SESSION)
    out = RunOutput(sandbox, run.job_run_id, actor)
    eni = None
    try:
        for name in (job.connections or {}).get("Connections") or []:
            glue_network.require_reachable(sandbox, name, glue_network.JOB_NEEDS)
        eni = _start_as_role(sandbox, actor, job, run)
        if sandbox.glue_engine == "spark":
            try:
                engine.run(sandbox, backend, job, run, out)
            except engine.JobFailed as exc:
                raise JobFailed(str(exc)) from None
        else:
            load(sandbox, backend, run, out, actor)
        state = "SUCCEEDED"
    except JobFailed as exc:
        state, run.error_message = "FAILED", str(exc)
    except RoleDenied as exc:  # the run fails with the service's AccessDenied
        state, run.error_message = "FAILED", exc.aws_error
    except glue_network.Unreachable as exc:  # the SDK in the job times out connecting
        state, run.error_message = "FAILED", exc.aws_error
    except Exception as exc:  # a bug or a database error: the run fails, with its text
        state, run.error_message = "FAILED", f"{type(exc).__name__}: {exc}"
    if run.error_message:
        out.error(run.error_message)
    if actor:
        glue_access.release_interface(sandbox, actor, eni)
        glue_access.may_put_metrics(sandbox, actor, run.arguments or {})
    if sandbox.glue_engine != "spark":  # the deployed script publishes its own (glue/load.py)
        _publish_counts(sandbox, actor, job.name, out.counts or {}, state == "SUCCEEDED")
    run.execution_time = max(1, math.ceil(time.monotonic() - began))
    workers, worker_type = run.number_of_workers, run.worker_type
    if workers and worker_type in DPU_PER_WORKER:
        run.dpu_seconds = run.execution_time * workers * DPU_PER_WORKER[worker_type]
    elif run.max_capacity:
        run.dpu_seconds = run.execution_time * float(run.max_capacity)
    run.completed_on = utcnow()
    run.status = state
    rid = run.job_run_id
    detail = {"jobName": job.name, "jobRunId": rid, "state": state}
    if state == "SUCCEEDED":
        detail.update(severity="INFO", message="Job run succeeded")
    else:
        message = f"JobName:{job.name} and JobRunId:{rid} failed to execute with exception "
        detail.update(severity="ERROR", message=message + str(run.error_message))
    emit(sandbox, "Glue Job State Change", detail)


def _publish_counts(
    sandbox: SandboxView,
    actor: authz.Actor | None,
    job_name: str,
    counts: dict[str, int],
    succeeded: bool,
) -> None:
    """The run's counts as glue/load.py publishes them (`datamap.metrics`), if the role may."""
    if actor is not None and not glue_access.may_publish(sandbox, actor, metrics.NAMESPACE):
        return  # the role may not: the run goes on without its metrics, as on AWS
    data = metrics.metric_data(job_name, counts, succeeded=succeeded)
    sandbox.backend("cloudwatch").put_metric_data(metrics.NAMESPACE, data)


@once
def install() -> None:
    """Make StartJobRun run (each run belongs to `context.current()`)."""
    GlueBackend.start_job_run = or_moto(  # type: ignore[method-assign]
        _start_job_run, GlueBackend.start_job_run
    )
