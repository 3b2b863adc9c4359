"""Glue's moving parts: the S3 and the Redshift crawlers and the load job (`job_definition`
decides the job's whole definition from the spec). Same service and contract as `glue.py`, whose
`GlueResource` base they share (client, ARN, tags, not-found handling); in addition:
- Creating a crawler or a job retries while a new IAM role propagates (`wait.py`).
- A crawler that is crawling is left to finish before an update, and stopped (bounded wait)
  before a delete; Glue refuses both mid-crawl.
- `facts()` of a crawler reads its last crawl; of the job, one read of its most recent run.
"""

from __future__ import annotations

import json
from abc import abstractmethod
from datetime import datetime
from typing import Any, ClassVar

from wcpipe.core.errors import error_code, ignoring
from wcpipe.core.wait import poll, retry_while_role_propagates
from wcpipe.provision.artifacts import GLUE_LIBS_KEY
from wcpipe.provision.resources.base import TAGS, Context, Difference, Differences, Observed
from wcpipe.provision.resources.glue import ALREADY_EXISTS, NOT_FOUND, GlueResource
from wcpipe.spec.job import job_arguments


def _matches(observed: Any, desired: Any) -> bool:
    """Whether `observed` holds `desired`: dicts compare only the keys wcpipe sets (Glue adds
    empty lists and defaults of its own), lists item by item, anything else by equality."""
    if isinstance(desired, dict):
        return isinstance(observed, dict) and all(
            _matches(observed.get(k), v) for k, v in desired.items()
        )
    if isinstance(desired, list):
        return (
            isinstance(observed, list)
            and len(observed) == len(desired)
            and all(_matches(o, d) for o, d in zip(observed, desired, strict=True))
        )
    return bool(observed == desired)


def _role_name(role: str | None) -> str:
    """Glue accepts a role name or ARN and may echo either; compare the name."""
    return (role or "").rsplit("/", 1)[-1]


def _when(moment: Any) -> str:
    return moment.isoformat(timespec="seconds") if isinstance(moment, datetime) else ""


def _glue_role_arn(ctx: Context) -> str:
    fallback = ctx.names.role_arn(ctx.names.glue_role, ctx.aws.partition)
    return str(ctx.output_or("iam.glue-role", "arn") or fallback)


# Deterministic text; compared as parsed JSON because Glue may return it re-serialized.
CRAWLER_CONFIGURATION = json.dumps(
    {
        "Version": 1.0,
        "CrawlerOutput": {"Tables": {"AddOrUpdateBehavior": "MergeNewColumns"}},
        "Grouping": {"TableGroupingPolicy": "CombineCompatibleSchemas"},
    },
    sort_keys=True,
    separators=(",", ":"),
)


# Crawlers -----------------------------------------------------------------------------------


class _Crawler(GlueResource):
    """A crawler: create, update and delete shared by the S3 and the Redshift crawlers."""

    kind = "Glue crawler"
    arn_type = "crawler"
    stop_timeout: ClassVar[float] = 600.0
    """How long to wait for a running crawl to stop before deleting or updating."""

    @property
    @abstractmethod
    def database_name(self) -> str: ...

    @property
    @abstractmethod
    def description(self) -> str: ...

    @abstractmethod
    def targets(self) -> dict[str, Any]: ...

    def classifiers(self) -> list[str]:
        return []

    def schedule(self) -> str | None:
        """The crawler's Glue schedule (a cron(...) expression), or None: run on demand."""
        return None

    def definition(self) -> dict[str, Any]:
        return {
            "Name": self.name,
            "Role": _glue_role_arn(self.ctx),
            "DatabaseName": self.database_name,
            "Description": self.description,
            "Targets": self.targets(),
            "Classifiers": self.classifiers(),
            "SchemaChangePolicy": {
                "UpdateBehavior": "UPDATE_IN_DATABASE",
                "DeleteBehavior": "LOG",
            },
            "RecrawlPolicy": {"RecrawlBehavior": "CRAWL_EVERYTHING"},
            "Configuration": CRAWLER_CONFIGURATION,
        }

    def describe(self) -> Observed | None:
        return self._observe(lambda: self.glue.get_crawler(Name=self.name)["Crawler"])

    def differences(self, observed: Observed) -> list[Difference]:
        want, data = self.definition(), observed.data
        fields = []
        if _role_name(data.get("Role")) != _role_name(want["Role"]):
            fields.append(
                Difference("Role", _role_name(data.get("Role")), _role_name(want["Role"]))
            )
        for k in ("DatabaseName", "Description", "SchemaChangePolicy", "RecrawlPolicy"):
            if not _matches(data.get(k), want[k]):
                fields.append(Difference(k, data.get(k), want[k]))
        if (data.get("Classifiers") or []) != want["Classifiers"]:
            fields.append(
                Difference("Classifiers", data.get("Classifiers") or [], want["Classifiers"])
            )
        targets = data.get("Targets") or {}
        extra = [k for k, v in targets.items() if v and k not in want["Targets"]]
        if extra or not _matches(targets, want["Targets"]):
            fields.append(Difference("Targets", targets, want["Targets"]))
        have_schedule = (data.get("Schedule") or {}).get("ScheduleExpression") or None
        if have_schedule != self.schedule():
            fields.append(Difference("Schedule", have_schedule, self.schedule()))
        have_config = json.loads(data.get("Configuration") or "null")
        if have_config != json.loads(want["Configuration"]):
            fields.append(
                Difference("Configuration", have_config, json.loads(want["Configuration"]))
            )
        return fields + self.tag_differences(observed)

    def create(self) -> Observed | None:
        definition = self.definition()
        schedule = self.schedule()
        timed: dict[str, Any] = {"Schedule": schedule} if schedule else {}
        response = retry_while_role_propagates(
            lambda: ignoring(
                lambda: self.glue.create_crawler(**definition, **timed, Tags=self.ctx.tags),
                ALREADY_EXISTS,
            ),
            what=f"creating {self.kind} {self.name}",
            timing=self.ctx.timing,
        )
        if schedule:
            timed = {"Schedule": {"ScheduleExpression": schedule, "State": "SCHEDULED"}}
        return self._created(response, {**definition, **timed, "State": "READY"})

    def update(self, observed: Observed, fields: Differences) -> None:
        if any(f != TAGS for f in fields.fields):
            # An empty Schedule removes one (as terraform-provider-aws's crawler update sends
            # it when the schedule is dropped); UpdateCrawler leaves fields it is not sent.
            definition = {**self.definition(), "Schedule": self.schedule() or ""}
            try:
                self.glue.update_crawler(**definition)
            except Exception as exc:
                # Glue refuses to change a crawler mid-crawl: let the crawl finish, then update.
                if error_code(exc) != "CrawlerRunningException":
                    raise
                self._wait_until_ready("finish its crawl")
                self.glue.update_crawler(**definition)
        if TAGS in fields:
            self._sync_tags(observed)

    def delete(self, observed: Observed) -> None:
        if observed.data.get("State") in ("RUNNING", "STOPPING"):
            self._stop()
        try:
            ignoring(lambda: self.glue.delete_crawler(Name=self.name), NOT_FOUND)
        except Exception as exc:
            # It started after we looked (a schedule, a person): stop it and try once more.
            if error_code(exc) != "CrawlerRunningException":
                raise
            self._stop()
            ignoring(lambda: self.glue.delete_crawler(Name=self.name), NOT_FOUND)

    def _stop(self) -> None:
        ignoring(
            lambda: self.glue.stop_crawler(Name=self.name),
            "CrawlerNotRunningException",
            "CrawlerStoppingException",
            NOT_FOUND,
        )
        self._wait_until_ready("stop")

    def _wait_until_ready(self, doing: str) -> None:
        def state() -> str:
            crawler = ignoring(lambda: self.glue.get_crawler(Name=self.name), NOT_FOUND)
            return "GONE" if crawler is None else str(crawler["Crawler"].get("State"))

        self.ctx.note(self.key, f"waiting for crawler {self.name} to {doing}")
        poll(
            state,
            what=f"{self.kind} {self.name} to {doing}",
            done=lambda s: s in ("READY", "GONE"),
            timeout=self.stop_timeout,
            timing=self.ctx.timing,
        )

    def facts(self, observed: Observed) -> dict[str, str]:
        last = observed.data.get("LastCrawl") or {}
        when = _when(last.get("StartTime"))
        return {
            "state": str(observed.data.get("State", "")),
            "last crawl": f"{last['Status']} {when}".strip() if last.get("Status") else "never",
        }


class S3Crawler(_Crawler):
    key = "glue.s3-crawler"
    depends_on = ("glue.classifier", "glue.s3-database", "iam.glue-role", "s3.bucket")

    @property
    def name(self) -> str:
        return self.ctx.names.s3_crawler

    @property
    def database_name(self) -> str:
        return self.ctx.names.s3_database

    @property
    def description(self) -> str:
        return (
            f"wcpipe {self.ctx.spec.name}: catalogs the CSV files under {self.ctx.names.data_uri}"
        )

    def targets(self) -> dict[str, Any]:
        return {"S3Targets": [{"Path": self.ctx.names.data_uri}]}

    def classifiers(self) -> list[str]:
        return [self.ctx.names.classifier]

    def schedule(self) -> str | None:
        # trigger cron(...): the crawler's own Glue schedule (README, "What starts the
        # pipeline"); its success starts the job through the rule, as a manual crawl's does.
        return self.ctx.spec.schedule


class RedshiftCrawler(_Crawler):
    key = "glue.redshift-crawler"
    depends_on = (
        "glue.redshift-database",
        "glue.connection",
        "iam.glue-role",
        "redshift-data.table",
    )

    @property
    def name(self) -> str:
        return self.ctx.names.redshift_crawler

    @property
    def database_name(self) -> str:
        return self.ctx.names.redshift_database

    @property
    def description(self) -> str:
        table = self.ctx.names.jdbc_include_path
        return f"wcpipe {self.ctx.spec.name}: catalogs Redshift table {table}"

    def targets(self) -> dict[str, Any]:
        names = self.ctx.names
        return {
            "JdbcTargets": [{"ConnectionName": names.connection, "Path": names.jdbc_include_path}]
        }


# Job ----------------------------------------------------------------------------------------


def job_definition(ctx: Context) -> dict[str, Any]:
    """The CreateJob parameters (without Tags): the job's whole definition, decided from the
    spec and what dependencies published. Makes no AWS request beyond the cached account id."""
    spec, names = ctx.spec, ctx.names
    script = ctx.output_or("s3.artifacts", "glue_script_uri") or (
        f"s3://{names.bucket}/{names.glue_script_key}"
    )
    libs = ctx.output_or("s3.artifacts", "glue_libs_uri") or (
        f"s3://{names.bucket}/{GLUE_LIBS_KEY}"
    )
    bookmarks = "job-bookmark-enable" if spec.glue.bookmarks else "job-bookmark-disable"
    # Only names and the mapping travel in arguments: the job reads credentials from the
    # connection's secret, so no password ever appears here.
    arguments = {
        "--job-bookmark-option": bookmarks,
        "--TempDir": names.glue_temp_dir,
        "--enable-continuous-cloudwatch-log": "true",
        "--enable-metrics": "true",
        "--enable-job-insights": "true",
        "--extra-py-files": str(libs),
        **job_arguments(spec, names),
    }
    return {
        "Name": names.job,
        "Description": f"wcpipe {spec.name}: load {names.data_uri} into "
        f"{spec.table.schema_}.{spec.table.name}",
        "Role": _glue_role_arn(ctx),
        "Command": {"Name": "glueetl", "ScriptLocation": str(script), "PythonVersion": "3"},
        "GlueVersion": spec.glue.version,
        "WorkerType": spec.glue.worker_type,
        "NumberOfWorkers": spec.glue.workers,
        "Timeout": spec.glue.timeout_minutes,
        "MaxRetries": 0,
        "ExecutionProperty": {"MaxConcurrentRuns": 1},
        "Connections": {"Connections": [names.connection]},
        "DefaultArguments": arguments,
    }


class Job(GlueResource):
    key = "glue.job"
    kind = "Glue job"
    arn_type = "job"
    depends_on = ("iam.glue-role", "s3.artifacts", "glue.connection")

    @property
    def name(self) -> str:
        return self.ctx.names.job

    def describe(self) -> Observed | None:
        return self._observe(lambda: self.glue.get_job(JobName=self.name)["Job"])

    def differences(self, observed: Observed) -> list[Difference]:
        want, data = job_definition(self.ctx), observed.data
        fields = []
        for k, v in want.items():
            if k == "Name":
                continue
            if k == "Role":
                same = _role_name(data.get(k)) == _role_name(v)
            elif k == "DefaultArguments":  # exact: an argument added out of band is drift
                same = (data.get(k) or {}) == v
            else:
                same = _matches(data.get(k), v)
            if not same:
                fields.append(Difference(k, data.get(k), v))
        return fields + self.tag_differences(observed)

    def create(self) -> Observed | None:
        definition = job_definition(self.ctx)
        response = retry_while_role_propagates(
            lambda: ignoring(
                lambda: self.glue.create_job(**definition, Tags=self.ctx.tags),
                ALREADY_EXISTS,
                "IdempotentParameterMismatchException",
            ),
            what=f"creating {self.kind} {self.name}",
            timing=self.ctx.timing,
        )
        return self._created(response, definition)

    def update(self, observed: Observed, fields: Differences) -> None:
        if any(f != TAGS for f in fields.fields):
            job_update = {k: v for k, v in job_definition(self.ctx).items() if k != "Name"}
            self.glue.update_job(JobName=self.name, JobUpdate=job_update)
        if TAGS in fields:
            self._sync_tags(observed)

    def delete(self, observed: Observed) -> None:
        # Glue answers success for a job that does not exist.
        ignoring(lambda: self.glue.delete_job(JobName=self.name), NOT_FOUND)

    def facts(self, observed: Observed) -> dict[str, str]:
        """From the definition, no further read (the last run is `status`'s job section,
        operate.status, which reads the runs once)."""
        data = observed.data
        return {
            "glue version": str(data.get("GlueVersion", "")),
            "workers": f"{data.get('NumberOfWorkers', '')} x {data.get('WorkerType', '')}",
        }
