"""The Glue operations moto 5.2.5 lacks, added to its GlueResponse dispatch, behaving as AWS does.

Contract (each checked against the Glue API reference):
- UpdateJob(JobName, JobUpdate): JobUpdate *replaces* the definition; what it leaves out is reset
  to its default (AWS: "unspecified configuration is removed or reset"). Tags, runs and the
  creation time stay. Returns {JobName}.
- UpdateCrawler(Name, ...): only the fields given change; Version goes up by one; a RUNNING or
  STOPPING crawler refuses with CrawlerRunningException.
- UpdateConnection(Name, ConnectionInput) replaces the input; DeleteConnection(ConnectionName).
- Create/Get/Update/DeleteClassifier, GetClassifiers (CSV, Grok, XML and JSON classifiers; kept
  on the backend as `backend.classifiers[name] = {"CsvClassifier": {...}}`, the GetClassifier
  shape). Classifiers cannot be tagged, as on AWS.
- GetJobBookmark / ResetJobBookmark: bookmarks live in `backend.job_bookmarks[job]` as
  JobBookmarkEntry dicts; job_load.py writes them with `put_bookmark()`. A job that never committed
  a bookmark has none: EntityNotFoundException "Continuation for job <job> not found" (AWS's text).
- GetCrawlerMetrics: from the attributes crawler.py keeps on a crawler (`runtimes_seconds`,
  `tables_created`, `tables_updated`, `tables_deleted`); zeros for a crawler never crawled.
Every "not found" is EntityNotFoundException and every duplicate AlreadyExistsException.
`install()` adds them once per process (`context.once`), for moto's in-process mock too: they are
what AWS does, sandbox or not. PINS names the moto internals used here.
"""

from __future__ import annotations

import functools
import json
import statistics
from typing import Any

from moto.core.responses import ActionResult, EmptyResult
from moto.core.utils import utcnow
from moto.glue.exceptions import (
    AlreadyExistsException,
    CrawlerRunningException,
    EntityNotFoundException,
)

from wcpipe.sandbox.context import once

PINS: tuple[tuple[str, str], ...] = (
    ("moto.glue.responses", "GlueResponse"),
    ("moto.glue.models", "GlueBackend"),
    ("moto.glue.models", "FakeJob"),
    ("moto.glue.models", "FakeCrawler"),
    ("moto.glue.exceptions", "EntityNotFoundException"),
    ("moto.glue.exceptions", "AlreadyExistsException"),
    ("moto.glue.exceptions", "CrawlerRunningException"),
    ("moto.glue.exceptions", "InvalidInputException"),
    ("moto.core.responses", "ActionResult"),
    ("moto.core.responses", "EmptyResult"),
    ("moto.core.utils", "utcnow"),
)

_CLASSIFIER_KINDS = ("CsvClassifier", "GrokClassifier", "XMLClassifier", "JsonClassifier")

# UpdateJob resets what JobUpdate omits. attribute on moto's FakeJob -> (JobUpdate key, default)
_JOB_FIELDS: dict[str, tuple[str, Any]] = {
    "description": ("Description", None),
    "log_uri": ("LogUri", None),
    "role": ("Role", None),
    "execution_property": ("ExecutionProperty", {}),
    "command": ("Command", None),
    "default_arguments": ("DefaultArguments", {}),
    "non_overridable_arguments": ("NonOverridableArguments", None),
    "connections": ("Connections", None),
    "max_retries": ("MaxRetries", 0),
    "allocated_capacity": ("AllocatedCapacity", None),
    "timeout": ("Timeout", 2880),
    "max_capacity": ("MaxCapacity", None),
    "worker_type": ("WorkerType", None),
    "number_of_workers": ("NumberOfWorkers", None),
    "security_configuration": ("SecurityConfiguration", None),
    "notification_property": ("NotificationProperty", None),
    "glue_version": ("GlueVersion", None),
    "code_gen_configuration_nodes": ("CodeGenConfigurationNodes", None),
    "execution_class": ("ExecutionClass", "STANDARD"),
    "source_control_details": ("SourceControlDetails", None),
}

# UpdateCrawler changes only what it is given. request key -> attribute on moto's FakeCrawler
_CRAWLER_FIELDS = {
    "Role": "role",
    "DatabaseName": "database_name",
    "Description": "description",
    "Targets": "targets",
    "Schedule": "schedule",
    "Classifiers": "classifiers",
    "TablePrefix": "table_prefix",
    "SchemaChangePolicy": "schema_change_policy",
    "RecrawlPolicy": "recrawl_policy",
    "LineageConfiguration": "lineage_configuration",
    "Configuration": "configuration",
    "CrawlerSecurityConfiguration": "crawler_security_configuration",
}


def _params(response: Any) -> dict[str, Any]:
    body = response.body
    return json.loads(body) if body else {}


def _job(backend: Any, name: str) -> Any:
    job = backend.jobs.get(name)
    if job is None:
        raise EntityNotFoundException(f"Job {name} not found.")
    return job


def _crawler(backend: Any, name: str) -> Any:
    crawler = backend.crawlers.get(name)
    if crawler is None:
        raise EntityNotFoundException(f"Crawler entry with name {name} does not exist")
    return crawler


# Jobs ----------------------------------------------------------------------------------------
def update_job(self: Any) -> ActionResult:
    p = _params(self)
    job = _job(self.glue_backend, p["JobName"])
    update = p.get("JobUpdate") or {}
    for attr, (key, default) in _JOB_FIELDS.items():
        setattr(job, attr, update.get(key, default))
    job.last_modified_on = utcnow()
    return ActionResult({"JobName": job.name})


def bookmarks(backend: Any) -> dict[str, dict[str, Any]]:
    """The job bookmarks of one Glue backend: job name -> JobBookmarkEntry."""
    store = getattr(backend, "job_bookmarks", None)
    if store is None:
        store = {}
        backend.job_bookmarks = store
    return store


def put_bookmark(backend: Any, job: str, run_id: str, state: dict[str, Any]) -> dict[str, Any]:
    """Commit a run's bookmark (what a Glue script's `job.commit()` does); returns the entry."""
    store = bookmarks(backend)
    previous = store.get(job)
    entry = {
        "JobName": job,
        "Version": (previous["Version"] + 1) if previous else 1,
        "Run": (previous["Run"] + 1) if previous else 1,
        "Attempt": 0,
        "PreviousRunId": previous["RunId"] if previous else "",
        "RunId": run_id,
        "JobBookmark": json.dumps(state),
    }
    store[job] = entry
    return entry


def _bookmark(self: Any) -> tuple[dict[str, dict[str, Any]], str]:
    name = _params(self)["JobName"]
    _job(self.glue_backend, name)
    store = bookmarks(self.glue_backend)
    if name not in store:
        raise EntityNotFoundException(f"Continuation for job {name} not found")
    return store, name


def get_job_bookmark(self: Any) -> ActionResult:
    store, name = _bookmark(self)
    return ActionResult({"JobBookmarkEntry": store[name]})


def reset_job_bookmark(self: Any) -> ActionResult:
    store, name = _bookmark(self)
    entry = dict(store[name])
    entry.update(Version=entry["Version"] + 1, JobBookmark=json.dumps({}))
    store[name] = entry
    return ActionResult({"JobBookmarkEntry": entry})


# Crawlers ------------------------------------------------------------------------------------
def update_crawler(self: Any) -> ActionResult:
    p = _params(self)
    crawler = _crawler(self.glue_backend, p["Name"])
    if crawler.status in ("RUNNING", "STOPPING"):
        raise CrawlerRunningException(f"Crawler with name {crawler.name} has already started")
    for key, attr in _CRAWLER_FIELDS.items():
        if key in p:
            setattr(crawler, attr, p[key])
    crawler.version += 1
    crawler.last_updated = utcnow()
    return EmptyResult()


def crawler_metrics(crawler: Any) -> dict[str, Any]:
    runtimes: list[float] = getattr(crawler, "runtimes_seconds", [])
    return {
        "CrawlerName": crawler.name,
        "TimeLeftSeconds": 0.0,
        "StillEstimating": crawler.status == "RUNNING",
        "LastRuntimeSeconds": runtimes[-1] if runtimes else 0.0,
        "MedianRuntimeSeconds": statistics.median(runtimes) if runtimes else 0.0,
        "TablesCreated": getattr(crawler, "tables_created", 0),
        "TablesUpdated": getattr(crawler, "tables_updated", 0),
        "TablesDeleted": getattr(crawler, "tables_deleted", 0),
    }


def get_crawler_metrics(self: Any) -> ActionResult:
    p = _params(self)
    crawlers = self.glue_backend.crawlers
    names = p.get("CrawlerNameList") or list(crawlers)
    found = [crawler_metrics(crawlers[n]) for n in names if n in crawlers]
    start = int(p.get("NextToken") or 0)
    limit = int(p.get("MaxResults") or 1000)
    body: dict[str, Any] = {"CrawlerMetricsList": found[start : start + limit]}
    if start + limit < len(found):
        body["NextToken"] = str(start + limit)
    return ActionResult(body)


# Connections ---------------------------------------------------------------------------------
def update_connection(self: Any) -> ActionResult:
    p = _params(self)
    backend = self.glue_backend
    name = p["Name"]
    old = backend.connections.get(name)
    if old is None:
        raise EntityNotFoundException(f"Connection {name} not found.")
    connection_input = dict(p["ConnectionInput"])
    new = type(old)(backend, old.catalog_id, connection_input, {})
    new.created_time = old.created_time
    new.arn = old.arn
    if connection_input.get("Name", name) != name:
        del backend.connections[name]
    backend.connections[new.name] = new
    return EmptyResult()


def delete_connection(self: Any) -> ActionResult:
    p = _params(self)
    name = p["ConnectionName"]
    if self.glue_backend.connections.pop(name, None) is None:
        raise EntityNotFoundException(f"Connection {name} not found.")
    forget_tags(self.glue_backend, "connection", name)
    return EmptyResult()


def forget_tags(backend: Any, kind: str, name: str) -> None:
    """On AWS a resource's tags go with it; moto's Glue keeps them after a delete (and the
    tagging API then still lists the resource)."""
    suffix = f":{kind}/{name}"
    for arn in [a for a in backend.tagger.tags if a.endswith(suffix)]:
        backend.tagger.delete_all_tags_for_resource(arn)


def _forgetting_tags(original: Any, kind: str) -> Any:
    @functools.wraps(original)
    def delete(self: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        result = original(self, name, *args, **kwargs)
        forget_tags(self, kind, name)
        return result

    return delete


_DELETES_KEEPING_TAGS = {
    "delete_database": "database",
    "delete_crawler": "crawler",
    "delete_job": "job",
}


# Classifiers ---------------------------------------------------------------------------------
def classifiers(backend: Any) -> dict[str, dict[str, Any]]:
    """The classifiers of one Glue backend: name -> {"CsvClassifier": {...}} (GetClassifier)."""
    store = getattr(backend, "classifiers", None)
    if store is None:
        store = {}
        backend.classifiers = store
    return store


def _classifier_input(p: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    from moto.glue.exceptions import InvalidInputException

    given = [k for k in _CLASSIFIER_KINDS if k in p]
    if len(given) != 1:
        raise InvalidInputException("CreateClassifier", "Exactly one classifier must be given.")
    return given[0], dict(p[given[0]])


def create_classifier(self: Any) -> ActionResult:
    kind, spec = _classifier_input(_params(self))
    store = classifiers(self.glue_backend)
    if spec["Name"] in store:
        raise AlreadyExistsException(f"Classifier {spec['Name']}")
    now = utcnow()
    spec.update(CreationTime=now, LastUpdated=now, Version=1)
    store[spec["Name"]] = {kind: spec}
    return EmptyResult()


def _get_classifier(backend: Any, name: str) -> dict[str, Any]:
    entry = classifiers(backend).get(name)
    if entry is None:
        raise EntityNotFoundException(f"Classifier {name} not found.")
    return entry


def get_classifier(self: Any) -> ActionResult:
    return ActionResult({"Classifier": _get_classifier(self.glue_backend, _params(self)["Name"])})


def get_classifiers(self: Any) -> ActionResult:
    p = _params(self)
    found = list(classifiers(self.glue_backend).values())
    start = int(p.get("NextToken") or 0)
    limit = int(p.get("MaxResults") or 1000)
    body: dict[str, Any] = {"Classifiers": found[start : start + limit]}
    if start + limit < len(found):
        body["NextToken"] = str(start + limit)
    return ActionResult(body)


def update_classifier(self: Any) -> ActionResult:
    kind, spec = _classifier_input(_params(self))
    entry = _get_classifier(self.glue_backend, spec["Name"])
    if kind not in entry:
        from moto.glue.exceptions import InvalidInputException

        raise InvalidInputException("UpdateClassifier", f"Classifier is not a {kind}.")
    current = entry[kind]
    current.update(spec)
    current.update(LastUpdated=utcnow(), Version=current["Version"] + 1)
    return EmptyResult()


def delete_classifier(self: Any) -> ActionResult:
    name = _params(self)["Name"]
    if classifiers(self.glue_backend).pop(name, None) is None:
        raise EntityNotFoundException(f"Classifier {name} not found.")
    return EmptyResult()


_PATCHES = {
    "update_job": update_job,
    "get_job_bookmark": get_job_bookmark,
    "reset_job_bookmark": reset_job_bookmark,
    "update_crawler": update_crawler,
    "get_crawler_metrics": get_crawler_metrics,
    "update_connection": update_connection,
    "delete_connection": delete_connection,
    "create_classifier": create_classifier,
    "get_classifier": get_classifier,
    "get_classifiers": get_classifiers,
    "update_classifier": update_classifier,
    "delete_classifier": delete_classifier,
}


@once
def install() -> None:
    """Add the operations to moto's GlueResponse (only those moto does not implement), and make
    the deletes forget their resource's tags."""
    from moto.glue.models import GlueBackend
    from moto.glue.responses import GlueResponse

    for name, fn in _PATCHES.items():
        if name not in vars(GlueResponse):
            setattr(GlueResponse, name, fn)
    for name, kind in _DELETES_KEEPING_TAGS.items():
        setattr(GlueBackend, name, _forgetting_tags(getattr(GlueBackend, name), kind))
