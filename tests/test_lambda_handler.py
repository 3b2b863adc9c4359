"""The Lambda handler against moto's Glue, fed the recorded Glue events."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from support.paths import EVENTS_DIR, ROOT

JOB = "wcpipe-fifa-load"
CRAWLER = "wcpipe-fifa-s3-crawler"
LOG_KEYS = {"level", "message", "event_id", "crawler", "job", "run_id"}


def fixture_event(name: str) -> dict[str, Any]:
    return dict(json.loads((EVENTS_DIR / f"{name}.json").read_text()))


@pytest.fixture
def handler_module() -> ModuleType:
    """lambda/handler.py loaded by path as `handler` (as Lambda does), fresh for each test so
    its cached Glue client never outlives one moto mock."""
    spec = importlib.util.spec_from_file_location("handler", ROOT / "lambda" / "handler.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def glue(moto: None, monkeypatch: pytest.MonkeyPatch) -> Any:
    """moto Glue with the pipeline's job, and the function's environment."""
    monkeypatch.setenv("GLUE_JOB_NAME", JOB)
    monkeypatch.setenv("CRAWLER_NAME", CRAWLER)
    client = boto3.client("glue", region_name="us-east-1")
    client.create_job(
        Name=JOB,
        Role="arn:aws:iam::123456789012:role/wcpipe-fifa-glue",
        Command={"Name": "glueetl", "ScriptLocation": "s3://bucket/wcpipe/glue/load.py"},
    )
    return client


@pytest.fixture
def runs_stay_active() -> Iterator[None]:
    """Job runs in moto stay STARTING (they advance only after 1000 reads)."""
    from moto.moto_api import state_manager

    state_manager.set_transition(
        model_name="glue::job_run", transition={"progression": "manual", "times": 1000}
    )
    yield
    state_manager.unset_transition("glue::job_run")


def job_runs(glue: Any) -> list[dict[str, Any]]:
    return list(glue.get_job_runs(JobName=JOB)["JobRuns"])


def test_crawler_succeeded_starts_the_job_with_the_event_id(
    handler_module: ModuleType, glue: Any
) -> None:
    event = fixture_event("crawler-succeeded")
    result = handler_module.handler(event, None)
    [run] = job_runs(glue)
    assert result == {"action": "started", "reason": "crawler succeeded", "run_id": run["Id"]}
    assert run["Arguments"]["--wcpipe_event_id"] == event["id"]


def test_duplicate_delivery_starts_one_run(handler_module: ModuleType, glue: Any) -> None:
    event = fixture_event("crawler-succeeded")
    first = handler_module.handler(event, None)
    second = handler_module.handler(event, None)
    assert second == {"action": "skipped", "reason": "already handled", "run_id": first["run_id"]}
    assert len(job_runs(glue)) == 1


def test_duplicate_while_the_first_run_is_going_is_already_handled(
    handler_module: ModuleType, glue: Any, runs_stay_active: None
) -> None:
    event = fixture_event("crawler-succeeded")
    handler_module.handler(event, None)
    assert handler_module.handler(event, None)["reason"] == "already handled"
    assert len(job_runs(glue)) == 1


def test_a_run_in_progress_is_not_doubled(
    handler_module: ModuleType, glue: Any, runs_stay_active: None
) -> None:
    started = glue.start_job_run(JobName=JOB)["JobRunId"]  # e.g. `wcpipe start-job`
    result = handler_module.handler(fixture_event("crawler-succeeded"), None)
    assert result == {
        "action": "skipped",
        "reason": "already running (STARTING)",
        "run_id": started,
    }
    assert len(job_runs(glue)) == 1


def test_a_new_crawl_after_a_finished_run_starts_again(
    handler_module: ModuleType, glue: Any
) -> None:
    first = fixture_event("crawler-succeeded")
    handler_module.handler(first, None)
    second = {**first, "id": "0b1e8a2c-0000-4000-8000-000000000099"}
    assert handler_module.handler(second, None)["action"] == "started"
    ids = sorted(r["Arguments"]["--wcpipe_event_id"] for r in job_runs(glue))
    assert ids == [first["id"], second["id"]]


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("crawler-started", "crawler state is 'Started', not 'Succeeded'"),
        ("crawler-failed", "crawler state is 'Failed', not 'Succeeded'"),
        ("job-succeeded", "not a crawler state change ('Glue Job State Change')"),
        ("job-failed", "not a crawler state change ('Glue Job State Change')"),
    ],
)
def test_other_glue_events_are_ignored(
    handler_module: ModuleType, glue: Any, name: str, reason: str
) -> None:
    result = handler_module.handler(fixture_event(name), None)
    assert result == {"action": "ignored", "reason": reason, "run_id": None}
    assert job_runs(glue) == []


def test_another_crawler_is_ignored(
    handler_module: ModuleType, glue: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRAWLER_NAME", "wcpipe-other-s3-crawler")
    result = handler_module.handler(fixture_event("crawler-succeeded"), None)
    assert result["action"] == "ignored"
    assert result["reason"] == ("crawler 'wcpipe-fifa-s3-crawler' is not 'wcpipe-other-s3-crawler'")
    assert job_runs(glue) == []


def test_without_crawler_name_any_crawler_counts(
    handler_module: ModuleType, glue: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CRAWLER_NAME")
    assert handler_module.handler(fixture_event("crawler-succeeded"), None)["action"] == "started"


def test_non_glue_event_is_ignored(handler_module: ModuleType, glue: Any) -> None:
    event = {**fixture_event("crawler-succeeded"), "source": "aws.s3"}
    assert handler_module.handler(event, None)["reason"] == "not a Glue event (source 'aws.s3')"


def test_log_lines_are_json_with_the_context(
    handler_module: ModuleType, glue: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    event = fixture_event("crawler-succeeded")
    handler_module.handler(event, None)
    handler_module.handler(event, None)
    handler_module.handler(fixture_event("job-succeeded"), None)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["message"] for line in lines] == [
        f"started {JOB}",
        f"not starting {JOB}: already handled",
        "ignored: not a crawler state change ('Glue Job State Change')",
    ]
    for line in lines:
        assert set(line) == LOG_KEYS
        assert line["job"] == JOB
        assert line["level"] == "INFO"
    assert lines[0]["event_id"] == event["id"]
    assert lines[0]["crawler"] == CRAWLER
    assert lines[0]["run_id"] == job_runs(glue)[0]["Id"]


def test_missing_job_is_an_error_so_the_invocation_is_retried(
    handler_module: ModuleType, glue: Any
) -> None:
    glue.delete_job(JobName=JOB)
    with pytest.raises(glue.exceptions.EntityNotFoundException):
        handler_module.handler(fixture_event("crawler-succeeded"), None)


def test_missing_job_name_is_an_error(
    handler_module: ModuleType, glue: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GLUE_JOB_NAME")
    with pytest.raises(RuntimeError, match="GLUE_JOB_NAME"):
        handler_module.handler(fixture_event("crawler-succeeded"), None)


def test_a_start_that_races_another_is_skipped(handler_module: ModuleType, moto: None) -> None:
    # moto cannot make GetJobRuns show nothing while StartJobRun finds a run: stub that race.
    event = fixture_event("crawler-succeeded")
    glue = boto3.client("glue", region_name="us-east-1")
    with Stubber(glue) as stub:
        stub.add_response("get_job_runs", {"JobRuns": []}, {"JobName": JOB, "MaxResults": 50})
        stub.add_client_error(
            "start_job_run",
            "ConcurrentRunsExceededException",
            "Concurrent runs exceeded for wcpipe-fifa-load",
            400,
            expected_params={"JobName": JOB, "Arguments": {"--wcpipe_event_id": event["id"]}},
        )
        result = handler_module.handle(event, glue, JOB, CRAWLER)
        stub.assert_no_pending_responses()
    assert result == {
        "action": "skipped",
        "reason": "already running (concurrent runs exceeded)",
        "run_id": None,
    }


def test_the_glue_client_is_made_once(handler_module: ModuleType, glue: Any) -> None:
    assert handler_module._glue() is handler_module._glue()
