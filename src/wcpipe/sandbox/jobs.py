"""Job runs that run: StartJobRun in the sandbox performs the job's load into PostgreSQL.

Contract:
- `install(sandbox)` patches moto's GlueBackend.start_job_run once per process; each run belongs
  to `core.current()` (with no sandbox running, moto's own behaviour is kept). Runs respect the
  job's MaxConcurrentRuns (default 1) with ConcurrentRunsExceededException, as AWS does, and
  carry the merged arguments (DefaultArguments, then the run's, then NonOverridableArguments).
- A run goes STARTING -> RUNNING -> SUCCEEDED | FAILED (ErrorMessage) on the sandbox's "jobs"
  pool, with StartedOn/CompletedOn, ExecutionTime (seconds) and DPUSeconds (ExecutionTime x
  NumberOfWorkers x DPU per worker). A "Glue Job State Change" event ends every run.
- The load does what `glue/load.py` does, with the same shared code: `transform.JobConfig` from
  `--wcpipe_config`; the source is the catalog table (its columns name the fields, its SerDe
  gives delimiter and quote, `skip.header.line.count` the header); every object under its
  location is streamed (a chunk at a time, never whole) through `csvio` and `transform.Mapper`
  (`job_workers`). Any rejected value FAILS the run (columns, counts and samples in the message)
  and nothing is loaded. Otherwise the rows are COPYed into a staging table
  (`loadsql.create_staging`) and `loadsql.load_statements` move them into the target in ONE
  transaction; with no rows to load the target is not touched. Small loads do all of it in one
  transaction in the run's thread; from PARALLEL_MIN_BYTES of objects, one worker process per
  core maps and COPYs (the staging table is committed first so their connections see it, and is
  dropped whatever happens): either way a failed run leaves the target unchanged.
- Bookmarks (`--job-bookmark-option job-bookmark-enable`): per job, the (key, ETag) pairs already
  loaded; only new or changed objects are read; the bookmark advances (glue_ops.put_bookmark)
  only when the run SUCCEEDS (`job-bookmark-pause` reads incrementally without advancing).
  glue_ops serves Get/ResetJobBookmark; `reset_bookmark(backend, job)` forgets it entirely.
- Lines go to /aws-glue/jobs/output (counts per object, then `transform.counts_line`) and errors
  to /aws-glue/jobs/error, stream = run id.
"""

from __future__ import annotations

import json
import math
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from moto.core.utils import utcnow
from moto.glue.exceptions import ConcurrentRunsExceededException
from moto.glue.models import FakeJob, FakeJobRun, GlueBackend

from wcpipe import csvio, loadsql
from wcpipe.sandbox import job_workers, warehouse_pg
from wcpipe.sandbox.crawler import emit, safe_log
from wcpipe.transform import JobConfig, Mapper, counts_line

if TYPE_CHECKING:
    from wcpipe.sandbox.core import Sandbox

OUTPUT_GROUP = "/aws-glue/jobs/output"
ERROR_GROUP = "/aws-glue/jobs/error"
ACTIVE = ("STARTING", "RUNNING", "STOPPING", "WAITING")
DPU_PER_WORKER = {"G.025X": 0.25, "G.1X": 1.0, "G.2X": 2.0, "G.4X": 4.0, "G.8X": 8.0, "Z.2X": 2.0}
HOOK_PINS: tuple[tuple[str, str], ...] = (
    ("moto.glue.models", "GlueBackend"),
    ("moto.glue.models", "FakeJob"),
    ("moto.glue.models", "FakeJobRun"),
    ("moto.glue.exceptions", "ConcurrentRunsExceededException"),
    ("moto.s3.models", "FakeKey"),  # job_workers.ObjectReader reads _value_buffer under .lock
)
PARALLEL_MIN_BYTES = 4 << 20  # below this, a run maps in its own thread (see `_workers`)


class JobFailed(Exception):
    """A run that cannot finish; the message becomes the run's ErrorMessage."""


class SandboxJobRun(FakeJobRun):
    """A run whose state moves only when the run moves it (moto's advances on every read)."""

    def __init__(self, glue_version: str | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._state = "STARTING"
        self.glue_version = glue_version
        self.error_message: str | None = None
        self.execution_time = 0
        self.dpu_seconds: float | None = None
        self.completed_on = None  # type: ignore[assignment]

    @property
    def status(self) -> str:
        return self._state

    @status.setter
    def status(self, value: str) -> None:
        self._state = value
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


# ---------------------------------------------------------------------------------------------
# Bookmarks: glue_ops keeps JobBookmarkEntry dicts (Get/ResetJobBookmark); ours is the JSON
# {"objects": {key: etag}} in the entry's JobBookmark, which ResetJobBookmark empties.


def processed_objects(backend: GlueBackend, job_name: str) -> dict[str, str]:
    """The S3 keys (and their ETags) the job's bookmark says were already loaded."""
    from wcpipe.sandbox import glue_ops

    entry = glue_ops.bookmarks(backend).get(job_name)
    state = json.loads(entry["JobBookmark"] or "{}") if entry else {}
    return dict(state.get("objects", {}))


def reset_bookmark(backend: GlueBackend, job_name: str) -> None:
    """Forget what the job has loaded (the next run reads every object again)."""
    from wcpipe.sandbox import glue_ops

    glue_ops.bookmarks(backend).pop(job_name, None)


def _commit_bookmark(
    backend: GlueBackend, job_name: str, run_id: str, loaded: dict[str, str]
) -> None:
    from wcpipe.sandbox import glue_ops

    objects = {**processed_objects(backend, job_name), **loaded}
    glue_ops.put_bookmark(backend, job_name, run_id, {"objects": objects})


# ---------------------------------------------------------------------------------------------
# StartJobRun


def _current() -> Sandbox:
    from wcpipe.sandbox import core

    return core.current()


_original_start_job_run = GlueBackend.start_job_run


def _start_job_run(backend: GlueBackend, name: str, *args: Any, **kwargs: Any) -> str:
    try:
        sandbox = _current()
    except RuntimeError:  # no sandbox in this process: moto as it is
        return _original_start_job_run(backend, name, *args, **kwargs)
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


def _run(sandbox: Sandbox, backend: GlueBackend, job: FakeJob, run: SandboxJobRun) -> None:
    began = time.monotonic()
    run.started_on = utcnow()
    run.status = "RUNNING"
    out = _Output(sandbox, run.job_run_id)
    try:
        _load(sandbox, backend, run, out)
        state = "SUCCEEDED"
    except JobFailed as exc:
        state, run.error_message = "FAILED", str(exc)
    except Exception as exc:  # a bug or a database error: the run fails, with its text
        state, run.error_message = "FAILED", f"{type(exc).__name__}: {exc}"
    if run.error_message:
        out.error(run.error_message)
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


class _Output:
    def __init__(self, sandbox: Sandbox, run_id: str) -> None:
        self.sandbox, self.run_id = sandbox, run_id

    def print(self, line: str) -> None:
        safe_log(self.sandbox, OUTPUT_GROUP, self.run_id, line)

    def error(self, line: str) -> None:
        safe_log(self.sandbox, ERROR_GROUP, self.run_id, line)


# ---------------------------------------------------------------------------------------------
# The load


@dataclass(frozen=True)
class Source:
    bucket: str
    prefix: str
    columns: list[str]
    dialect: csvio.Dialect


def _source(backend: GlueBackend, config: JobConfig) -> Source:
    try:
        table = backend.get_table(config.source_database, config.source_table).as_dict()
    except Exception:  # moto's EntityNotFound (database or table)
        raise JobFailed(
            f"Entity Not Found: table {config.source_table} in database "
            f"{config.source_database} (has the S3 crawler run?)"
        ) from None
    storage = table.get("StorageDescriptor") or {}
    location = str(storage.get("Location") or "")
    if not location.startswith("s3://"):
        raise JobFailed(f"catalog table {config.source_table} has no S3 location ({location!r})")
    bucket, _, prefix = location.removeprefix("s3://").partition("/")
    serde = (storage.get("SerdeInfo") or {}).get("Parameters") or {}
    params = {**(storage.get("Parameters") or {}), **(table.get("Parameters") or {})}
    wanted = csvio.Dialect.from_config(config.csv)
    dialect = csvio.Dialect(
        header=str(params.get("skip.header.line.count", "0")) == "1",
        delimiter=serde.get("separatorChar")
        or serde.get("field.delim")
        or params.get("delimiter")
        or wanted.delimiter,
        quote=serde.get("quoteChar") or wanted.quote,
        encoding=wanted.encoding,
    )
    columns = [str(c["Name"]) for c in storage.get("Columns") or []]
    return Source(bucket, prefix.rstrip("/") + "/" if prefix else "", columns, dialect)


def _load(sandbox: Sandbox, backend: GlueBackend, run: SandboxJobRun, out: _Output) -> None:
    raw_config = (run.arguments or {}).get("--wcpipe_config")
    if not raw_config:
        raise JobFailed("argument --wcpipe_config is missing: this job was not made by wcpipe")
    config = JobConfig.from_json(raw_config)
    source = _source(backend, config)
    option = (run.arguments or {}).get("--job-bookmark-option", "job-bookmark-disable")
    s3 = sandbox.backend("s3")
    if source.bucket not in s3.buckets:
        raise JobFailed(f"bucket {source.bucket} of the source table does not exist")
    keys = s3.list_objects(s3.get_bucket(source.bucket), source.prefix or None, None, None, None)[0]
    objects = sorted((k for k in keys if not k.name.endswith("/")), key=lambda k: k.name)
    if option != "job-bookmark-disable":
        done = processed_objects(backend, run.job_name)
        objects = [k for k in objects if done.get(k.name) != k.etag]
    mapper = Mapper(config)
    try:
        index = mapper.index(source.columns)
    except ValueError as exc:
        raise JobFailed(str(exc)) from None
    staging = loadsql.staging_table(config, run.job_run_id)
    workers = _workers(sandbox, objects)
    if workers > 1:
        _load_in_workers(sandbox, raw_config, source, objects, mapper, staging, workers, out)
    else:
        _load_here(sandbox, source, objects, mapper, index, staging, out)
    if option == "job-bookmark-enable":
        loaded = {k.name: k.etag for k in objects}
        _commit_bookmark(backend, run.job_name, run.job_run_id, loaded)


def _workers(sandbox: Sandbox, objects: Sequence[Any]) -> int:
    """Worker processes for this run: one per core (at most one per object) once the objects
    add up to PARALLEL_MIN_BYTES; below that, starting them costs more than they save.
    `sandbox.state["job_workers"]` and `["job_parallel_min_bytes"]` override both."""
    workers = int(sandbox.state.get("job_workers") or os.cpu_count() or 1)
    threshold = int(sandbox.state.get("job_parallel_min_bytes", PARALLEL_MIN_BYTES))
    if sum(k.size for k in objects) < threshold:
        return 1
    return min(workers, len(objects))


def _load_here(
    sandbox: Sandbox,
    source: Source,
    objects: Sequence[Any],
    mapper: Mapper,
    index: dict[str, int],
    staging: str,
    out: _Output,
) -> None:
    """Map in this thread: staging table, COPY and load statements in ONE transaction."""
    config, d = mapper.config, source.dialect
    with sandbox.pg_connect(config.target_database) as conn, conn.transaction():
        if objects:
            conn.execute(loadsql.create_staging(config, staging))
            statement = job_workers.copy_statement(config, staging)
            with conn.cursor() as cur, cur.copy(statement) as copy:
                for key in objects:
                    before = mapper.counts()
                    with job_workers.open_object(key) as stream:
                        job_workers.copy_records(copy, config, d, stream, mapper, index)
                    counts = {k: v - before[k] for k, v in mapper.counts().items()}
                    _print_counts(out, source, key.name, counts)
        _finish(conn, mapper, staging, bool(objects), out)


def _load_in_workers(
    sandbox: Sandbox,
    raw_config: str,
    source: Source,
    objects: Sequence[Any],
    mapper: Mapper,
    staging: str,
    workers: int,
    out: _Output,
) -> None:
    """Map on worker processes. Their COPYs need the staging table committed first; then the
    load statements (the DROP included) run in ONE transaction, and whatever fails, the staging
    table is dropped: the target changes only if every object was mapped and copied."""
    config = mapper.config
    dsn = warehouse_pg.dsn_for(sandbox.pg_dsn, config.target_database)
    with sandbox.pg_connect(config.target_database) as conn:
        conn.execute(loadsql.create_staging(config, staging))  # autocommit: committed
        try:
            try:
                results = job_workers.copy_in_workers(
                    dsn,
                    raw_config,
                    staging,
                    source.dialect,
                    source.columns,
                    [(k.name, k) for k in objects],
                    workers,
                )
            except job_workers.WorkerFailed as exc:
                raise JobFailed(str(exc)) from None
            for result in results:
                mapper.read += result.counts["read"]
                mapper.dropped += result.counts["dropped"]
                mapper.loaded += result.counts["loaded"]
                mapper.rejected += result.counts["rejected"]
                mapper.rejects.merge(result.rejects)
                _print_counts(out, source, result.name, result.counts)
            with conn.transaction():
                _finish(conn, mapper, staging, True, out)
        finally:
            conn.execute(loadsql.drop_staging(config, staging))  # gone already if it loaded


def _analyze_due(conn: Any, config: JobConfig, loaded: int) -> bool:
    """Whether the target's statistics are due (autovacuum's rule: 50 rows + 10% of the table
    changed), now rather than up to a minute later: the next merge plans with them."""
    found = conn.execute(
        "SELECT greatest(reltuples, 0) FROM pg_class WHERE oid = %s::regclass",
        (loadsql.target(config),),
    ).fetchone()
    return bool(found) and loaded > 50 + 0.1 * float(found[0])


def _print_counts(out: _Output, source: Source, name: str, counts: dict[str, int]) -> None:
    out.print(f"s3://{source.bucket}/{name}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


def _finish(conn: Any, mapper: Mapper, staging: str, staged: bool, out: _Output) -> None:
    """Inside the load's transaction: refuse rejects, else move the staging rows in."""
    config = mapper.config
    out.print(counts_line(mapper.counts()))
    if mapper.rejects:
        message = (
            f"{mapper.rejected} row(s) have values that do not fit the target table; "
            f"nothing was loaded.\n{mapper.rejects.summary()}"
        )
        raise JobFailed(message)  # leaving the transaction rolls everything back
    if mapper.loaded:
        if config.load_mode == "merge":
            # The delete should read only the target rows whose keys are staged, as the sort
            # key's zone maps let Redshift do. PostgreSQL needs the fresh staging table's
            # statistics (Redshift's COPY updates them itself) and, to prefer the key's index
            # to a hash join over the whole target, the random_page_cost for data in memory.
            conn.execute(f"ANALYZE {loadsql.ident(config.target_schema)}.{loadsql.ident(staging)}")
            conn.execute("SET LOCAL random_page_cost = 1.1")
        for statement in loadsql.load_statements(config, staging):
            conn.execute(statement)
        if config.load_mode == "merge" and _analyze_due(conn, config, mapper.loaded):
            conn.execute(f"ANALYZE {loadsql.target(config)}")
    else:
        out.print("wcpipe: nothing to load (no new rows); the target table is unchanged")
        if staged:
            conn.execute(loadsql.drop_staging(config, staging))


_installed = False


def install(sandbox: Sandbox) -> None:
    """Make StartJobRun run (once per process; each run belongs to `core.current()`)."""
    global _installed
    if not _installed:
        GlueBackend.start_job_run = _start_job_run  # type: ignore[method-assign,assignment]
        _installed = True
