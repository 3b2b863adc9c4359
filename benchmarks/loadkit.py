"""The data half of a pipeline on the sandbox, set up directly (as tests/sandbox/test_jobs.py does):
bucket, CSV classifier, catalog database, S3 crawler, target table, and the Glue job with
wcpipe's own job arguments, so a job run does exactly what it does after `wcpipe up`.

`run_job()` times one job run from StartJobRun until the sandbox is idle again (the run and its
completion event done) and samples the RSS of this process and of the run's worker processes
meanwhile; `copy_baseline()` times
PostgreSQL's own `COPY ... FROM STDIN (FORMAT csv)` of the same bytes into an empty table shaped
like the target: the local limit for a load.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import datagen
import sandboxes
from common import PeakRss

ACCOUNT, REGION = "123456789012", "us-east-1"


@dataclass
class JobRun:
    seconds: float
    state: str
    counts: dict[str, int]
    rss_added_mib: float
    error: str = ""
    workers_rss_mib: float = 0.0  # peak RSS of the run's worker processes, together


def _descendants(pid: int) -> list[int]:
    """Every process below `pid` (the job's workers are the forkserver's children)."""
    out, todo = [], [pid]
    while todo:
        parent = todo.pop()
        tasks: list[Path] = []
        with contextlib.suppress(OSError):  # a process that ended between two reads
            tasks = list(Path(f"/proc/{parent}/task").glob("*"))
        for task in tasks:
            with contextlib.suppress(OSError):
                children = [int(c) for c in (task / "children").read_text().split()]
                out += children
                todo += children
    return out


def _rss(pid: int) -> int:
    with contextlib.suppress(OSError, IndexError, ValueError):
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    return 0


class WorkersRss:
    """Peak summed RSS of the processes that appear below this one while the block runs (the
    job's worker processes; the forkserver that forks them was there before)."""

    def __init__(self, interval: float = 0.005) -> None:
        self.interval, self.peak = interval, 0
        self._stop = threading.Event()
        self._before: set[int] = set()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> WorkersRss:
        self._before = set(_descendants(os.getpid()))
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            new = [p for p in _descendants(os.getpid()) if p not in self._before]
            self.peak = max(self.peak, sum(map(_rss, new)))

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def mib(self) -> float:
        return self.peak / 2**20


class LoadPipeline:
    def __init__(self, name: str, table: str, *, bookmarks: bool = True) -> None:
        from wcpipe.spec.model import parse_spec
        from wcpipe.spec.names import Names

        self.sb = sandboxes.sandbox()
        self.spec = parse_spec(datagen.spec_text(name, table, bookmarks=bookmarks))
        self.names = Names.of(self.spec, ACCOUNT, REGION)
        self.s3 = self.sb.client("s3")
        self.glue = self.sb.client("glue")
        self.logs = self.sb.client("logs")
        self.keys: list[str] = []

    # Setup -----------------------------------------------------------------------------------
    def setup(self) -> LoadPipeline:
        from wcpipe.sandbox import warehouse_pg
        from wcpipe.spec.job import job_arguments
        from wcpipe.warehouse import sql

        n = self.names
        self.s3.create_bucket(Bucket=n.bucket)
        self.glue.create_classifier(
            CsvClassifier={
                "Name": n.classifier,
                "Delimiter": ",",
                "QuoteSymbol": '"',
                "ContainsHeader": "PRESENT",
            }
        )
        self.glue.create_database(DatabaseInput={"Name": n.s3_database})
        self.glue.create_crawler(
            Name=n.s3_crawler,
            Role=n.role_arn(n.glue_role),
            DatabaseName=n.s3_database,
            Classifiers=[n.classifier],
            Targets={"S3Targets": [{"Path": n.data_uri}]},
        )
        with self.sb.pg_connect(self.spec.warehouse.database) as conn:
            conn.execute(f"DROP TABLE IF EXISTS {sql.qualified(self.spec.table)}")
            for statement in warehouse_pg.to_pg_statements(sql.create_table(self.spec), None):
                conn.execute(statement)
        bookmark = "job-bookmark-enable" if self.spec.glue.bookmarks else "job-bookmark-disable"
        self.glue.create_job(
            Name=n.job,
            Role=n.role_arn(n.glue_role),
            Command={"Name": "glueetl", "ScriptLocation": f"s3://{n.bucket}/wcpipe/glue/load.py"},
            DefaultArguments={**job_arguments(self.spec, n), "--job-bookmark-option": bookmark},
            ExecutionProperty={"MaxConcurrentRuns": 1},
            GlueVersion="4.0",
            WorkerType="G.1X",
            NumberOfWorkers=2,
        )
        return self

    def put(self, paths: list[Path]) -> None:
        for path in paths:
            key = f"{self.names.prefix}{path.name}"
            with open(path, "rb") as f:
                self.s3.put_object(Bucket=self.names.bucket, Key=key, Body=f)
            self.keys.append(key)

    def crawl(self) -> float:
        start = time.perf_counter()
        self.glue.start_crawler(Name=self.names.s3_crawler)
        assert self.sb.idle(timeout=600), "crawl did not finish"
        seconds = time.perf_counter() - start
        last = self.glue.get_crawler(Name=self.names.s3_crawler)["Crawler"].get("LastCrawl", {})
        assert last.get("Status") == "SUCCEEDED", last
        return seconds

    # Runs ------------------------------------------------------------------------------------
    def run_job(self) -> JobRun:
        from wcpipe.datamap.transform import parse_counts_line

        with PeakRss() as mem, WorkersRss() as workers:
            start = time.perf_counter()
            run_id = self.glue.start_job_run(JobName=self.names.job)["JobRunId"]
            assert self.sb.idle(timeout=3600), "job run did not finish"
            seconds = time.perf_counter() - start
        run = self.glue.get_job_run(JobName=self.names.job, RunId=run_id)["JobRun"]
        try:
            events = self.logs.get_log_events(
                logGroupName="/aws-glue/jobs/output", logStreamName=run_id
            )["events"]
        except self.logs.exceptions.ResourceNotFoundException:
            events = []  # the run logged nothing: its state and error say why
        counts = next((c for e in events if (c := parse_counts_line(e["message"])) is not None), {})
        return JobRun(
            seconds,
            run["JobRunState"],
            counts,
            mem.added_mib,
            run.get("ErrorMessage", ""),
            workers.mib,
        )

    def reset(self) -> None:
        """Empty the target table and forget the bookmark: the next run loads everything."""
        from wcpipe.warehouse import sql

        # EntityNotFound: no run has made a bookmark yet.
        with contextlib.suppress(self.glue.exceptions.EntityNotFoundException):
            self.glue.reset_job_bookmark(JobName=self.names.job)
        with self.sb.pg_connect(self.spec.warehouse.database) as conn:
            conn.execute(f"TRUNCATE {sql.qualified(self.spec.table)}")

    def table_stats(self) -> dict[str, int]:
        """PostgreSQL's counters for the target table: rows read by sequential scans
        ("scanned"), rows fetched through an index ("fetched"), inserted, deleted."""
        with self.sb.pg_connect(self.spec.warehouse.database) as conn:
            conn.execute("SELECT pg_stat_force_next_flush()")
            row = conn.execute(
                "SELECT coalesce(seq_tup_read, 0), coalesce(idx_tup_fetch, 0), n_tup_ins, "
                "n_tup_del, n_live_tup "
                "FROM pg_stat_user_tables WHERE schemaname = %s AND relname = %s",
                (self.spec.table.schema_, self.spec.table.name),
            ).fetchone()
        assert row is not None
        keys = ("scanned", "fetched", "inserted", "deleted", "live")
        return dict(zip(keys, map(int, row), strict=True))

    def rows(self) -> int:
        from wcpipe.warehouse import sql

        with self.sb.pg_connect(self.spec.warehouse.database) as conn:
            row = conn.execute(f"SELECT count(*) FROM {sql.qualified(self.spec.table)}").fetchone()
        return int(row[0]) if row else 0

    def copy_baseline(self, paths: list[Path]) -> float:
        """Seconds for PostgreSQL's own CSV COPY of the same files into an empty like-table (a
        column whose values need `thousands` cleaning is text there: COPY cannot parse them)."""
        from wcpipe.warehouse import sql

        table = sql.qualified(self.spec.table, f"{self.spec.table.name}_copy")
        with self.sb.pg_connect(self.spec.warehouse.database) as conn:
            conn.execute(f"DROP TABLE IF EXISTS {table}")
            conn.execute(f"CREATE TABLE {table} (LIKE {sql.qualified(self.spec.table)})")
            for column in self.spec.table.columns:
                if "thousands" in column.clean:  # "1,234.50": COPY cannot clean, keep text
                    conn.execute(
                        f"ALTER TABLE {table} ALTER COLUMN {sql.ident(column.name)} TYPE text"
                    )
            start = time.perf_counter()
            with conn.transaction():
                for path in paths:
                    with (
                        conn.cursor() as cur,
                        cur.copy(f"COPY {table} FROM STDIN (FORMAT csv, HEADER true)") as copy,
                        open(path, "rb") as f,
                    ):
                        while chunk := f.read(1 << 20):
                            copy.write(chunk)
            seconds = time.perf_counter() - start
            conn.execute(f"DROP TABLE {table}")
        return seconds

    def drop(self) -> None:
        """Free what the pipeline holds (moto keeps objects in memory or spooled files)."""
        from wcpipe.warehouse import sql

        for key in self.keys:
            self.s3.delete_object(Bucket=self.names.bucket, Key=key)
        self.keys.clear()
        with self.sb.pg_connect(self.spec.warehouse.database) as conn:
            conn.execute(f"DROP TABLE IF EXISTS {sql.qualified(self.spec.table)}")


def describe(run: JobRun) -> dict[str, Any]:
    return {"seconds": run.seconds, "state": run.state, "counts": run.counts}
