"""Running one Glue job run on real PySpark (see the package docstring for the contract).

`run(sandbox, backend, job, run, out)` is called by `patches/jobs._run` when the sandbox's
`glue_engine` is "spark". What it does is what Glue does for a `glueetl` job, in order:
1. fetch `Command.ScriptLocation` and every `--extra-py-files` object from S3 (the sandbox's S3;
   a missing object fails the run, as on Glue);
2. start `python <script> --JOB_ID <id> --JOB_RUN_ID <run id> --JOB_NAME <job>` followed by the
   run's arguments (DefaultArguments, then the run's, then NonOverridableArguments: aws-glue-libs
   PR #206 shows Glue's argv), with the zips on the driver's path and Spark's `--py-files`
   (Glue puts `--extra-py-files` on the executors' path), Spark in local mode with two task
   threads and up to four attempts per task, and the shim `awsglue` first on the path;
3. the script's stdout to /aws-glue/jobs/output and its stderr to /aws-glue/jobs/error (the run
   id is the stream), the run FAILED with the exception the script died of, or SUCCEEDED;
4. on success, the bookmark the script's `job.commit()` recorded becomes the job's.

The run's own directory (source objects, temporary files) is removed afterwards.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from moto.glue.models import FakeJob, GlueBackend

    from wcpipe.sandbox.context import SandboxView as Sandbox
    from wcpipe.sandbox.patches.job_run import RunOutput, SandboxJobRun

# Spark of each Glue version: AWS Glue developer guide, "AWS Glue versions" (release-notes.html);
# their Pythons are spec.model.GLUE_PYTHON's.
GLUE_SPARK = {"4.0": "3.3.0", "5.0": "3.5.4", "5.1": "3.5.6", "6.0": "4.1.1"}
SPARK_VERSION = "3.5.6"  # pinned in pyproject's `spark` extra: Glue 5.1's Spark
TASK_ATTEMPTS = 4  # spark.task.maxFailures on a cluster (Spark's default); local mode has 1
THREADS = 2
SHIM_DIR = Path(__file__).parent  # holds awsglue/


class EngineMissing(Exception):
    """This machine cannot run the Spark engine (the message says what to install)."""


class JobFailed(Exception):
    """The script failed; the message is the run's ErrorMessage."""


def check() -> None:
    """Raise EngineMissing unless a Java runtime and pyspark (the pinned version) are here."""
    if importlib.util.find_spec("pyspark") is None:
        raise EngineMissing(
            "the Spark engine needs pyspark: pip install 'wcpipe[spark]' "
            "(or use --glue-engine python)"
        )
    java_home = os.environ.get("JAVA_HOME")
    java = shutil.which("java") or (java_home and shutil.which("java", path=f"{java_home}/bin"))
    if not java:
        raise EngineMissing(
            "the Spark engine needs a Java runtime (java not found on PATH): install Java 17, "
            "e.g. apt-get install openjdk-17-jre-headless (or use --glue-engine python)"
        )
    from pyspark.version import __version__

    if __version__ != SPARK_VERSION:
        raise EngineMissing(
            f"the Spark engine runs pyspark {SPARK_VERSION} (Glue 5.1's Spark); "
            f"this environment has {__version__}: pip install 'wcpipe[spark]'"
        )


def _s3_object(sandbox: Sandbox, uri: str) -> bytes:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    s3 = sandbox.backend("s3")
    try:
        return bytes(s3.get_object(bucket, key).value)
    except Exception:
        raise JobFailed(f"cannot read {uri}: the object or its bucket does not exist") from None


def argv(job: FakeJob, run: SandboxJobRun, script: Path) -> list[str]:
    """The script's command line, as Glue builds it."""
    args = [
        sys.executable,
        str(script),
        "--JOB_ID",
        "j_" + hashlib.sha256(job.name.encode()).hexdigest()[:32],  # one id per job, every run
        "--JOB_RUN_ID",
        run.job_run_id,
        "--JOB_NAME",
        job.name,
    ]
    for key, value in (run.arguments or {}).items():
        args += [key, str(value)]
    return args


def spark_conf(faults: dict[str, Any]) -> dict[str, str]:
    conf = {
        "spark.ui.enabled": "false",
        "spark.sql.shuffle.partitions": str(THREADS * 2),
        "spark.driver.host": "127.0.0.1",
        "spark.sql.session.timeZone": "UTC",
    }
    if faults.get("evict"):
        conf["spark.memory.fraction"] = "0.0001"  # no cached block fits: every read recomputes
    return conf


def error_text(stderr: str) -> str:
    """The exception the script died of: the last `Name: message` line of its traceback."""
    lines = stderr.splitlines()
    for i in range(len(lines) - 1, -1, -1):
        if lines[i].startswith("Traceback (most recent call last):"):
            tail = [ln for ln in lines[i + 1 :] if ln and not ln.startswith((" ", "\t"))]
            if tail:
                return "\n".join(tail).strip()
    found = [ln for ln in lines if re.match(r"^[A-Za-z_.]*(Error|Exception)\b", ln)]
    return found[-1] if found else "the script exited without an exception (see the error log)"


def run(
    sandbox: Sandbox, backend: GlueBackend, job: FakeJob, run: SandboxJobRun, out: RunOutput
) -> None:
    from wcpipe.sandbox.context import FAKE_CREDENTIALS
    from wcpipe.sandbox.patches import glue_ops

    check_or_fail()
    from wcpipe.spec.model import DEFAULT_GLUE_VERSION, GLUE_PYTHON

    version = job.glue_version or DEFAULT_GLUE_VERSION
    spark, python = GLUE_SPARK.get(version, "?"), GLUE_PYTHON.get(version, "?")
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    if (spark, python) != (SPARK_VERSION, here):
        out.print(
            f"wcpipe-sandbox: GlueVersion {version} runs Spark {spark} on Python {python}; "
            f"this sandbox runs Spark {SPARK_VERSION} on Python {here}"
        )
    arguments = run.arguments or {}
    work = Path(tempfile.mkdtemp(prefix="wcpipe-glue-"))
    try:
        script = work / "script.py"
        command: Any = job.command or {}
        script.write_bytes(_s3_object(sandbox, str(command.get("ScriptLocation", ""))))
        zips = []
        for n, uri in enumerate(u for u in arguments.get("--extra-py-files", "").split(",") if u):
            path = work / f"extra-{n}-{Path(uri).name}"
            path.write_bytes(_s3_object(sandbox, uri.strip()))
            zips.append(str(path))
        entry = glue_ops.bookmarks(backend).get(job.name)
        bookmark = json.loads(entry["JobBookmark"] or "{}") if entry else {}
        faults = dict(sandbox.glue_faults)
        result = work / "result.json"
        runtime = {
            "work_dir": str(work),
            "result": str(result),
            "warehouse_dsn": sandbox.pg_dsn,
            "bookmark": bookmark,
            "faults": faults,
            "sandbox_credentials": dict(FAKE_CREDENTIALS),
            "warehouse_roles": _warehouse_roles(sandbox),
        }
        conf = " ".join(f"--conf {k}={v}" for k, v in spark_conf(faults).items())
        py_files = f"--py-files {','.join(zips)} " if zips else ""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PYSPARK_"))}
        env.update(
            _role_credentials(sandbox, job),
            AWS_DEFAULT_REGION=sandbox.region,
            AWS_ENDPOINT_URL=sandbox.endpoint,
            AWS_CONFIG_FILE=os.devnull,
            AWS_SHARED_CREDENTIALS_FILE=os.devnull,
            AWS_EC2_METADATA_DISABLED="true",
            PYTHONPATH=os.pathsep.join([str(SHIM_DIR), *zips]),
            PYSPARK_PYTHON=sys.executable,
            PYSPARK_SUBMIT_ARGS=(
                f"--master local[{THREADS},{TASK_ATTEMPTS}] {py_files}{conf} pyspark-shell"
            ),
            SPARK_LOCAL_IP="127.0.0.1",
            WCPIPE_GLUE_RUNTIME=json.dumps(runtime),
        )
        timeout = 60 * float(run.timeout or 2880)  # minutes; Glue's default is 2880
        try:
            done = subprocess.run(
                argv(job, run, script),
                cwd=work,
                env=env,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise JobFailed(f"the run exceeded its Timeout of {run.timeout} minutes") from None
        for line in done.stdout.splitlines():
            out.print(line)
        for line in done.stderr.splitlines():
            out.error(line)
        if done.returncode != 0:
            raise JobFailed(error_text(done.stderr))
        if result.exists():
            state = json.loads(result.read_text()).get("bookmark")
            if state is not None:
                glue_ops.put_bookmark(backend, job.name, run.job_run_id, state)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _role_credentials(sandbox: Sandbox, job: FakeJob) -> dict[str, str]:
    """What the script's process signs with: STS credentials of the job's role, as Glue hands
    its job (so every request the script makes is authorised as the role), or the sandbox's
    own when its IAM holds no such role (`actors.service_actor`'s gap)."""
    from wcpipe.sandbox.context import FAKE_CREDENTIALS
    from wcpipe.sandbox.patches import actors, glue_access

    actor = actors.service_actor(sandbox, job.role, glue_access.JOB_SESSION)
    if actor is None:
        return dict(FAKE_CREDENTIALS)
    return actors.assume(sandbox, actor.role_arn, actor.session)


def _warehouse_roles(sandbox: Sandbox) -> dict[str, dict[str, str]]:
    """For each role a cluster or namespace holds (what COPY may assume), credentials of a
    session of it as Redshift's COPY gets one, so the shim's COPY reads S3 as that role."""
    from wcpipe.sandbox.patches import actors, glue_access
    from wcpipe.sandbox.patches.serverless_models import role_arns

    arns = {a for c in sandbox.backend("redshift").clusters.values() for a in c.iam_roles_arn}
    arns |= {
        a for n in sandbox.backend("redshift-serverless").namespaces.values() for a in role_arns(n)
    }
    found = {}
    for arn in sorted(arns):
        actor = actors.service_actor(sandbox, arn, glue_access.REDSHIFT_SESSION)
        if actor is not None:
            found[arn] = actors.assume(sandbox, arn, actor.session)
    return found


def check_or_fail() -> None:
    try:
        check()
    except EngineMissing as exc:
        raise JobFailed(str(exc)) from None
