"""Fixtures for the operating commands, on moto's in-process mock.

- `deployed`: the FIFA pipeline's pieces the commands read (bucket with the real CSV, admin
  secret, Glue databases, both crawlers, the job, the Lambda with its rule, target and invoke
  permission), created directly with boto3 -- the resources package is someone else's; its value
  is their `Names`. (Not called `pipeline`: that is `support.harness.Pipeline`, which `wcpipe up`
  made on a sandbox.)
- `world`: injected time. `world.sleep` advances a FakeClock and runs the hooks a test
  registered ("while we wait, the Lambda starts the job"); `invoke` hands `world.timing()` to the
  CLI (`wcpipe.cli.main(timing=...)`), so commands wait on it too.
- `transitions`: moto's state manager, process-global, always unset afterwards.
- `crawls_fail`, `job_runs_fail`, `crawler_writes_table`: patch moto's glue models (restored by
  monkeypatch) for what moto cannot do by itself: fail, or change the catalog.
- `data_api` (tests/conftest.py): moto's Data API, made to finish; `data_api.answer(fn)` answers
  each statement with the rows `fn(sql)`.
- `athena`: verify's source side: the sandbox's Athena serving the mock (`support.athena`).
- `invoke`: `wcpipe -c <the FIFA spec> <args>` in this process, on the world's time: a
  `CliResult`, which unpacks as (exit code, stdout, stderr).
"""

from __future__ import annotations

import contextlib
import io
import json
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from support.cli import CliResult, run_cli
from support.clock import FakeClock
from support.paths import FIFA_CSV, SPEC_PATH


class World:
    def __init__(self) -> None:
        self.clock = FakeClock()
        self.hooks: list[Callable[[], None]] = []

    def sleep(self, seconds: float) -> None:
        self.clock.sleep(seconds)
        for hook in list(self.hooks):
            hook()

    def timing(self) -> Any:
        from wcpipe.core.wait import Timing

        return Timing(sleep=self.sleep, clock=self.clock)


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture
def octx(spec, aws, world):  # type: ignore[no-untyped-def]
    from wcpipe.provision.resources.base import Context

    return Context(spec=spec, aws=aws, timing=world.timing())


@pytest.fixture
def transitions() -> Iterator[Callable[[str, int], None]]:
    from moto.moto_api import state_manager

    used: list[str] = []

    def manual(model: str, times: int) -> None:
        state_manager.set_transition(
            model_name=model, transition={"progression": "manual", "times": times}
        )
        used.append(model)

    yield manual
    for model in used:
        state_manager.unset_transition(model)


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("handler.py", "def handler(event, context):\n    return None\n")
    return buf.getvalue()


@pytest.fixture
def deployed(moto, spec, aws, world):  # type: ignore[no-untyped-def]
    """Create the pieces the operating commands read; returns the Names. Moto's crawls move on
    only when ListCrawls is called (its default transition for glue::crawl is manual): here
    they move on as the world's time passes."""
    from wcpipe.spec.names import Names

    names = Names.of(spec, aws.account_id, aws.region)
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=names.bucket)
    s3.put_object(
        Bucket=names.bucket, Key=f"{names.prefix}{FIFA_CSV.name}", Body=FIFA_CSV.read_bytes()
    )
    aws.client("secretsmanager").create_secret(Name=names.secret, SecretString="{}")
    iam = aws.client("iam")
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": ["glue.amazonaws.com", "lambda.amazonaws.com"]},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )
    role = iam.create_role(RoleName=names.glue_role, AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    glue = aws.client("glue")
    for db in (names.s3_database, names.redshift_database):
        glue.create_database(DatabaseInput={"Name": db})
    glue.create_crawler(
        Name=names.s3_crawler,
        Role=role,
        DatabaseName=names.s3_database,
        Targets={"S3Targets": [{"Path": names.data_uri}]},
    )
    glue.create_crawler(
        Name=names.redshift_crawler,
        Role=role,
        DatabaseName=names.redshift_database,
        Targets={
            "JdbcTargets": [{"ConnectionName": names.connection, "Path": names.jdbc_include_path}]
        },
    )
    glue.create_job(
        Name=names.job,
        Role=role,
        GlueVersion="4.0",
        WorkerType="G.1X",
        NumberOfWorkers=2,
        ExecutionProperty={"MaxConcurrentRuns": 1},
        Command={"Name": "glueetl", "ScriptLocation": f"s3://{names.bucket}/x.py"},
    )
    fn = aws.client("lambda").create_function(
        FunctionName=names.function,
        Runtime="python3.12",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": _zip()},
    )["FunctionArn"]
    events = aws.client("events")
    pattern = {
        "source": ["aws.glue"],
        "detail-type": ["Glue Crawler State Change"],
        "detail": {"crawlerName": [names.s3_crawler], "state": ["Succeeded"]},
    }
    rule_arn = events.put_rule(Name=names.rule, EventPattern=json.dumps(pattern))["RuleArn"]
    events.put_targets(Rule=names.rule, Targets=[{"Id": "start-job", "Arn": fn}])
    aws.client("lambda").add_permission(
        FunctionName=names.function,
        StatementId=names.permission_sid,
        Action="lambda:InvokeFunction",
        Principal="events.amazonaws.com",
        SourceArn=rule_arn,
    )

    def crawls_move_on() -> None:
        for crawler in (names.s3_crawler, names.redshift_crawler):
            glue.list_crawls(CrawlerName=crawler)

    world.hooks.append(crawls_move_on)
    return names


@pytest.fixture
def crawls_fail(monkeypatch: pytest.MonkeyPatch) -> str:
    """Every new crawl ends FAILED, and LastCrawl carries an ErrorMessage (as AWS's does)."""
    from moto.glue import models

    message = "Insufficient Lake Formation permission(s) on wcpipe_fifa_s3"
    start, as_dict = models.FakeCrawler.start_crawler, models.FakeCrawler.as_dict

    def failing_start(self):  # type: ignore[no-untyped-def]
        start(self)
        self.crawls[-1]._transitions = [("RUNNING", "FAILED")]

    def with_error(self):  # type: ignore[no-untyped-def]
        data = as_dict(self)
        if data.get("LastCrawl", {}).get("Status") == "FAILED":
            data["LastCrawl"]["ErrorMessage"] = message
        return data

    monkeypatch.setattr(models.FakeCrawler, "start_crawler", failing_start)
    monkeypatch.setattr(models.FakeCrawler, "as_dict", with_error)
    return message


@pytest.fixture
def crawler_writes_table(monkeypatch: pytest.MonkeyPatch, aws):  # type: ignore[no-untyped-def]
    """Make the next crawl (re)write a catalog table with the given columns, as a crawler does."""
    from moto.glue import models

    plan: dict[str, Any] = {}
    start = models.FakeCrawler.start_crawler

    def writing_start(self):  # type: ignore[no-untyped-def]
        start(self)
        if plan:
            glue = self.backend
            sd = {"Columns": [{"Name": n, "Type": t} for n, t in plan["columns"].items()]}
            table_input = {"Name": plan["table"], "StorageDescriptor": sd}
            with contextlib.suppress(Exception):
                glue.delete_table(plan["database"], plan["table"])
            glue.create_table(plan["database"], plan["table"], table_input)

    monkeypatch.setattr(models.FakeCrawler, "start_crawler", writing_start)

    def configure(database: str, table: str, columns: dict[str, str]) -> None:
        plan.update(database=database, table=table, columns=columns)

    return configure


@pytest.fixture
def job_runs_fail(monkeypatch: pytest.MonkeyPatch) -> str:
    """Every new job run ends FAILED with an ErrorMessage."""
    from moto.glue import models

    message = "AnalysisException: Table or view not found: wcpipe_fifa_s3.attendance"
    start, as_dict = models.FakeJob.start_job_run, models.FakeJobRun.as_dict

    def failing_start(self, **kwargs):  # type: ignore[no-untyped-def]
        run_id = start(self, **kwargs)
        self.job_runs[-1]._transitions = [("STARTING", "RUNNING"), ("RUNNING", "FAILED")]
        return run_id

    def with_error(self):  # type: ignore[no-untyped-def]
        data = as_dict(self)
        if data["JobRunState"] == "FAILED":
            data["ErrorMessage"] = message
        return data

    monkeypatch.setattr(models.FakeJob, "start_job_run", failing_start)
    monkeypatch.setattr(models.FakeJobRun, "as_dict", with_error)
    return message


@pytest.fixture
def invoke(world: World) -> Callable[..., CliResult]:
    """`wcpipe -c <the FIFA spec> <args>` through `support.cli.run_cli`, on the world's time."""

    def run(*args: str) -> CliResult:
        return run_cli("-c", str(SPEC_PATH), *args, timing=world.timing())

    return run


@pytest.fixture
def athena(deployed, octx, aws, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """verify's source side on moto: the sandbox's Athena (DuckDB) serving the mock, the S3
    crawler's table as the sandbox crawler writes it, and the pipeline's workgroup."""
    from support.athena import crawl_s3_table, serve_athena

    from wcpipe.provision.resources.athena import Workgroup
    from wcpipe.sandbox.patches import glue_ops

    glue_ops.install()
    view = serve_athena(monkeypatch, aws.account_id, aws.region)
    crawl_s3_table(view, aws, deployed)
    Workgroup(octx).ensure()
    return view
