"""What a job run loads: the catalog table's objects, mapped on DuckDB and COPYed into PostgreSQL.

Contract (the run itself, its states, events, metrics and log groups are `jobs.py`'s):
- `load(sandbox, backend, run, out)` does what `glue/load.py` does, with the same shared code:
  `config.JobConfig` from `--wcpipe_config`; the source is the catalog table (its columns
  name the fields, its SerDe gives delimiter and quote, `skip.header.line.count` the header);
  the objects under its location are read in place by DuckDB (`athena_engine.csv_relation`:
  the bytes in moto's buffers, never copied) and cleaned, converted and checked by the
  compiled expressions (`datamap.expr`'s DuckDB dialect, `job_engine`), the Glue job's own
  declaration; the Python Mapper is only the test oracle now. Counts and rejects per object
  come from ONE aggregate; any rejected value raises `JobFailed` (columns, counts and samples,
  their reasons from the reference, in the message) and nothing is loaded. Otherwise DuckDB
  writes the rows as CSV into a COPY of a staging table (`loadsql.create_staging`) and
  `loadsql.load_statements` move them into the target, all in ONE transaction; with no rows to
  load the target is not touched: a failed load leaves the target unchanged.
- `JobFailed`: a load that cannot finish (no `--wcpipe_config`, no catalog table or bucket,
  rejected values, a file DuckDB cannot read, named); its message becomes the run's ErrorMessage.
- Bookmarks (`--job-bookmark-option job-bookmark-enable`): per job, the (key, ETag) pairs already
  loaded; only new or changed objects are read; the bookmark advances (glue_ops.put_bookmark)
  only when the run SUCCEEDS (`job-bookmark-pause` reads incrementally without advancing).
  glue_ops serves Get/ResetJobBookmark; `reset_bookmark(backend, job)` forgets it entirely.
- Lines printed to `out`: counts per object, then `transform.counts_line`.
- With the job's role (`actor`), the catalog reads, the listing and each object read, the
  TempDir staging and COPY are asked of it first (`glue_access`); a refusal raises
  `actors.RoleDenied` before anything is loaded. Before the staging, the connector's checks of
  the TempDir's bucket (`glue_access.bucket_usage`): their WARN/ERROR lines go to the error log,
  and a denial of theirs is quiet.
- Reads moto's backends directly (the Glue catalog table, S3 objects); the moto names it relies
  on are pinned in `jobs.PINS`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from wcpipe.authoring import csvio
from wcpipe.datamap import loadsql
from wcpipe.datamap.config import JobConfig
from wcpipe.datamap.transform import Mapper, counts_line
from wcpipe.sandbox.patches import athena_engine, glue_access, glue_ops, job_engine

if TYPE_CHECKING:
    from moto.glue.models import GlueBackend

    from wcpipe.sandbox import authz
    from wcpipe.sandbox.context import SandboxView
    from wcpipe.sandbox.patches.job_run import RunOutput, SandboxJobRun


class JobFailed(Exception):
    """A run that cannot finish; the message becomes the run's ErrorMessage."""


# ---------------------------------------------------------------------------------------------
# Bookmarks: glue_ops keeps JobBookmarkEntry dicts (Get/ResetJobBookmark); ours is the JSON
# {"objects": {key: etag}} in the entry's JobBookmark, which ResetJobBookmark empties.


def processed_objects(backend: GlueBackend, job_name: str) -> dict[str, str]:
    """The S3 keys (and their ETags) the job's bookmark says were already loaded."""
    entry = glue_ops.bookmarks(backend).get(job_name)
    state = json.loads(entry["JobBookmark"] or "{}") if entry else {}
    return dict(state.get("objects", {}))


def reset_bookmark(backend: GlueBackend, job_name: str) -> None:
    """Forget what the job has loaded (the next run reads every object again)."""
    glue_ops.bookmarks(backend).pop(job_name, None)


def _commit_bookmark(
    backend: GlueBackend, job_name: str, run_id: str, loaded: dict[str, str]
) -> None:
    objects = {**processed_objects(backend, job_name), **loaded}
    glue_ops.put_bookmark(backend, job_name, run_id, {"objects": objects})


# ---------------------------------------------------------------------------------------------
# The load


@dataclass(frozen=True)
class Source:
    bucket: str
    prefix: str
    columns: list[str]
    dialect: csvio.Dialect
    table: dict[str, Any]


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
    return Source(bucket, prefix.rstrip("/") + "/" if prefix else "", columns, dialect, table)


def load(
    sandbox: SandboxView,
    backend: GlueBackend,
    run: SandboxJobRun,
    out: RunOutput,
    actor: authz.Actor | None = None,
) -> None:
    raw_config = (run.arguments or {}).get("--wcpipe_config")
    if not raw_config:
        raise JobFailed("argument --wcpipe_config is missing: this job was not made by wcpipe")
    config = JobConfig.from_json(raw_config)
    if actor:  # the job role reads the source table from the catalog
        glue_access.get_database(sandbox, actor, config.source_database)
        glue_access.table_action(
            sandbox, actor, "GetTable", config.source_database, config.source_table
        )
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
    if actor:  # the job role lists the source and reads each object; the connector stages
        # the rows under the TempDir and COPY reads them as the Redshift role
        keys = [k.name for k in objects]
        glue_access.read_objects(sandbox, actor, source.bucket, source.prefix, keys)
        temp_dir = str((run.arguments or {}).get("--TempDir") or "")
        if objects and temp_dir:
            # The connector's checks of the TempDir's bucket first, with glue/load.py's options
            for line in glue_access.bucket_usage(sandbox, actor, config.connection, temp_dir):
                out.error(line)  # log4j's line, on the run's error log as on Glue
            glue_access.stage_and_copy(sandbox, actor, config.iam_role, temp_dir, run.job_run_id)
    mapper = Mapper(config)
    try:
        index = mapper.index(source.columns)
    except ValueError as exc:
        raise JobFailed(str(exc)) from None
    staging = loadsql.staging_table(config, run.job_run_id)
    _load_on_duckdb(sandbox, source, objects, mapper, index, staging, out)
    if option == "job-bookmark-enable":
        loaded = {k.name: k.etag for k in objects}
        _commit_bookmark(backend, run.job_name, run.job_run_id, loaded)


def _load_on_duckdb(
    sandbox: SandboxView,
    source: Source,
    objects: Sequence[Any],
    mapper: Mapper,
    index: dict[str, int],
    staging: str,
    out: RunOutput,
) -> None:
    """Counts and rejects from one DuckDB aggregate, then (nothing rejected) the rows COPYed
    into the staging table and moved into the target, in ONE PostgreSQL transaction."""
    import duckdb

    config = mapper.config
    try:
        relation = athena_engine.csv_relation(
            sandbox, source.table, keys=list(objects), text=True, encoding=source.dialect.encoding
        )
    except ValueError as exc:
        raise JobFailed(str(exc)) from None
    duck = athena_engine.connect()
    try:
        for tallied in job_engine.tally(duck, config, relation.sql, index) if objects else []:
            mapper.read += tallied.counts["read"]
            mapper.dropped += tallied.counts["dropped"]
            mapper.loaded += tallied.counts["loaded"]
            mapper.rejected += tallied.counts["rejected"]
            mapper.rejects.merge(tallied.rejects)
            name = tallied.path.removeprefix(f"s3://{source.bucket}/")
            _print_counts(out, source, name, tallied.counts)
        with sandbox.pg_connect(config.target_database) as conn, conn.transaction():
            if mapper.loaded and not mapper.rejects:
                conn.execute(loadsql.create_staging(config, staging))
                statement = job_engine.copy_statement(config, staging)
                with conn.cursor() as cur, cur.copy(statement) as copy:
                    job_engine.copy_rows(duck, config, relation.sql, index, copy)
            _finish(conn, mapper, staging, bool(mapper.loaded and not mapper.rejects), out)
    except duckdb.Error as exc:
        raise JobFailed(relation.explain(str(exc))) from None
    finally:
        duck.close()
        relation.close()


def _analyze_due(conn: Any, config: JobConfig, loaded: int) -> bool:
    """Whether the target's statistics are due (autovacuum's rule: 50 rows + 10% of the table
    changed), now rather than up to a minute later: the next merge plans with them."""
    found = conn.execute(
        "SELECT greatest(reltuples, 0) FROM pg_class WHERE oid = %s::regclass",
        (loadsql.target(config),),
    ).fetchone()
    return bool(found) and loaded > 50 + 0.1 * float(found[0])


def _print_counts(out: RunOutput, source: Source, name: str, counts: dict[str, int]) -> None:
    out.print(f"s3://{source.bucket}/{name}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


def _finish(conn: Any, mapper: Mapper, staging: str, staged: bool, out: RunOutput) -> None:
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
