"""The Glue job on real Spark: the shipped, Spark-native `glue/load.py` (the compiled expressions,
`wcpipe.datamap.expr`) against the script it replaced (read from git at OLD_COMMIT: every row
through the Python Mapper in `mapPartitionsWithIndex`), with the same `wcpipe_lib.zip`, on the
sandbox's Spark engine (PySpark 3.5.6, local[2], the awsglue shim; see
`wcpipe.sandbox.glue_runtime`), alternating, in the same run, on the same objects.

Data: the FIFA file (22 tournaments) and generated CSVs of 100k and 1M rows in 10 objects
(--quick: FIFA and 100k). Each round empties the target and resets the bookmark, then runs the
job once per script. Time is StartJobRun until the sandbox is idle (the run and its event done),
so it includes starting the driver's JVM (~5 s), as a Glue run's start-up does, and the write
into the sandbox's warehouse. Figures are medians. Goal: the new script >= 1.7x the old one's
throughput on 1M rows, same output (both load every row).
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

import datagen
import sandboxes
from common import ROOT, Results, median, spread
from loadkit import LoadPipeline

FIFA = ROOT / "data" / "FIFA World Cup Attendance.csv"
OBJECTS = 10
# The last commit whose glue/load.py mapped rows with the Mapper in mapPartitionsWithIndex.
OLD_COMMIT = "9e1042fb8642fe26dc3bf638b1d758776a9e4397"
GOAL = 1.7  # issue 14: the Spark-native script's throughput over the old one's, 1M rows


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
    from wcpipe.provision import artifacts

    old = subprocess.run(
        ["git", "show", f"{OLD_COMMIT}:glue/load.py"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    scripts = {"old": old, "new": artifacts.glue_script()}
    box = pipeline.sb
    pipeline.setup()
    box.glue_engine = "spark"
    try:
        pipeline.put(paths)
        pipeline.crawl()
        seconds: dict[str, list[float]] = {name: [] for name in scripts}
        for _ in range(rounds):
            for name, body in scripts.items():
                pipeline.reset()
                n = pipeline.names
                pipeline.s3.put_object(Bucket=n.bucket, Key=n.glue_script_key, Body=body)
                run = pipeline.run_job()
                assert run.state == "SUCCEEDED", (name, run.error)
                assert pipeline.rows() == rows, (name, pipeline.rows(), run.counts)
                seconds[name].append(run.seconds)
    finally:
        box.glue_engine = "python"
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
    sizes = [(100_000, 1 if quick else 3)] + ([] if quick else [(1_000_000, 3)])
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
        new, old = median(f["seconds"]["new"]), median(f["seconds"]["old"])
        ratio = old / new
        goal = f["rows"] >= 1_000_000
        results.add(
            "spark",
            f"job run on real Spark, {f['label']}",
            f"{f['rows'] / new:,.0f} rows/s" if f["rows"] >= 1000 else f"{new:.1f} s a run",
            f">= {GOAL} x the mapPartitions script" if goal else "",
            ratio >= GOAL if goal else None,
            f"{ratio:.2f} x: Spark-native {spread(f['seconds']['new'])} s, "
            f"mapPartitions Mapper {spread(f['seconds']['old'])} s",
        )


if __name__ == "__main__":
    from common import offline, table

    offline()
    started = time.perf_counter()
    out = Results()
    run(out, quick=False)
    print(table(out.rows))
    print(f"({time.perf_counter() - started:.0f} s)")
