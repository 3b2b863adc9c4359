"""The Glue job on real Spark: the shipped `glue/load.py` and `wcpipe_lib.zip` run by
the sandbox's Spark engine (PySpark 3.5.6, local[2], the awsglue shim; see
`wcpipe.sandbox.glue_runtime`) against the sandbox's Python emulation of the same job, in the
same run, on the same objects.

Data: the FIFA file (22 tournaments) and generated CSVs of 100k and 1M rows in 10 objects
(--quick: FIFA and 100k). Each round empties the target and resets the bookmark, then runs the
job once per engine. Time is StartJobRun until the sandbox is idle (the run and its event done):
for Spark it includes starting the driver's JVM (~5 s), as a Glue run's start-up does. Figures
are medians. No goal: Glue's own engine on a laptop is the fidelity tier, not the fast path; the
rows/s say what a run of this size costs there.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import datagen
import sandboxes
from common import ROOT, Results, median
from loadkit import LoadPipeline

FIFA = ROOT / "data" / "FIFA World Cup Attendance.csv"
OBJECTS = 10


class SparkPipeline(LoadPipeline):
    """A LoadPipeline whose job is deployed as `up` deploys it: the script and the lib zip in
    the bucket, `--extra-py-files`, `--TempDir` and the Glue connection the writer reads."""

    def __init__(self, name: str, table: str, spec: Any = None) -> None:
        super().__init__(name, table)
        if spec is not None:
            from wcpipe.spec.names import Names

            self.spec = spec
            self.names = Names.of(spec, "123456789012", "us-east-1")

    def setup(self) -> SparkPipeline:
        from wcpipe.provision import artifacts
        from wcpipe.spec.job import job_arguments

        super().setup()
        n = self.names
        script = f"s3://{n.bucket}/{n.glue_script_key}"
        libs = f"s3://{n.bucket}/{artifacts.GLUE_LIBS_KEY}"
        self.s3.put_object(Bucket=n.bucket, Key=n.glue_script_key, Body=artifacts.glue_script())
        self.s3.put_object(
            Bucket=n.bucket, Key=artifacts.GLUE_LIBS_KEY, Body=artifacts.glue_libs_zip()
        )
        self.glue.create_connection(
            ConnectionInput={
                "Name": n.connection,
                "ConnectionType": "JDBC",
                "ConnectionProperties": {
                    "JDBC_CONNECTION_URL": "jdbc:redshift://bench.invalid:5439/dev",
                    "USERNAME": "bench",
                    "PASSWORD": "bench",
                },
            }
        )
        self.glue.delete_job(JobName=n.job)
        bookmark = "job-bookmark-enable" if self.spec.glue.bookmarks else "job-bookmark-disable"
        self.glue.create_job(
            Name=n.job,
            Role=n.role_arn(n.glue_role),
            Command={"Name": "glueetl", "ScriptLocation": script, "PythonVersion": "3"},
            DefaultArguments={
                **job_arguments(self.spec, n),
                "--job-bookmark-option": bookmark,
                "--TempDir": n.glue_temp_dir,
                "--extra-py-files": libs,
            },
            ExecutionProperty={"MaxConcurrentRuns": 1},
            GlueVersion="5.1",
            WorkerType="G.1X",
            NumberOfWorkers=2,
        )
        return self


def measure(
    label: str, pipeline: SparkPipeline, paths: list[Path], rows: int, rounds: int
) -> dict[str, Any]:
    box = pipeline.sb
    pipeline.setup()
    try:
        pipeline.put(paths)
        pipeline.crawl()
        seconds: dict[str, list[float]] = {"python": [], "spark": []}
        for _ in range(rounds):
            for engine in ("python", "spark"):
                pipeline.reset()
                box.glue_engine = engine
                try:
                    run = pipeline.run_job()
                finally:
                    box.glue_engine = "python"
                assert run.state == "SUCCEEDED", (engine, run.error)
                assert pipeline.rows() == rows, (engine, pipeline.rows(), run.counts)
                seconds[engine].append(run.seconds)
    finally:
        pipeline.drop()
    return {"label": label, "rows": rows, "seconds": seconds}


def run(results: Results, *, quick: bool) -> None:
    figures = [
        measure(
            "FIFA file",
            SparkPipeline("bench-spark-fifa", "unused", sandboxes.fifa_spec("bench-spark-fifa")),
            [FIFA],
            22,
            1 if quick else 3,
        )
    ]
    sizes = [(100_000, 1 if quick else 2)] + ([] if quick else [(1_000_000, 1)])
    for rows, rounds in sizes:
        label = f"{rows // 1000}k" if rows < 1_000_000 else f"{rows // 1_000_000}m"
        name = f"bench-spark-{label}"
        figures.append(
            measure(
                f"{rows:,} generated rows",
                SparkPipeline(name, f"spark_{label}"),
                datagen.parts(rows, OBJECTS),
                rows,
                rounds,
            )
        )
    results.details["spark"] = figures
    for f in figures:
        spark, python = median(f["seconds"]["spark"]), median(f["seconds"]["python"])
        results.add(
            "spark",
            f"job run on real Spark, {f['label']}",
            f"{f['rows'] / spark:,.0f} rows/s" if f["rows"] >= 1000 else f"{spark:.1f} s a run",
            "",
            None,
            f"{spark:.1f} s (Python emulation {python:.1f} s, {spark / python:.1f} x); "
            f"n={len(f['seconds']['spark'])}",
        )


if __name__ == "__main__":
    from common import offline, table

    offline()
    started = time.perf_counter()
    out = Results()
    run(out, quick=False)
    print(table(out.rows))
    print(f"({time.perf_counter() - started:.0f} s)")
