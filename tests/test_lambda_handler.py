"""The Lambda handler against moto's Glue, fed the recorded Glue events."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
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
def handler_module(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """lambda/handler.py loaded by path as `handler` (as Lambda does), fresh for each test so
    its cached Glue client never outlives one moto mock. In sys.modules while it loads, as an
    import puts it (its dataclass looks its own module up there)."""
    spec = importlib.util.spec_from_file_location("handler", ROOT / "lambda" / "handler.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "handler", module)
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


# trigger on-arrival: arrivals start the crawler, coalesced ---------------------------------

BUCKET = "wcpipe-fifa-123456789012-us-east-1"
PREFIX = "raw/attendance/"


def object_created(key: str, time: str = "2026-12-03T12:00:00Z") -> dict[str, Any]:
    """An S3 Object Created event (Amazon S3 User Guide, "EventBridge event message structure")."""
    return {
        "version": "0",
        "id": f"arrival-{key}",
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": "123456789012",
        "time": time,
        "region": "us-east-1",
        "resources": [f"arn:aws:s3:::{BUCKET}"],
        "detail": {
            "version": "0",
            "bucket": {"name": BUCKET},
            "object": {"key": key, "size": 8, "etag": "e"},
            "reason": "PutObject",
        },
    }


@pytest.fixture
def arrivals(glue: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The crawler and the bucket, and the function's on-arrival environment."""
    monkeypatch.setenv("ARRIVAL_BUCKET", BUCKET)
    monkeypatch.setenv("ARRIVAL_PREFIX", PREFIX)
    glue.create_crawler(
        Name=CRAWLER,
        Role="arn:aws:iam::123456789012:role/wcpipe-fifa-glue",
        Targets={"S3Targets": [{"Path": f"s3://{BUCKET}/{PREFIX}"}]},
    )
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    return s3


def test_an_arrival_starts_the_crawler_and_a_burst_is_absorbed(
    handler_module: ModuleType, glue: Any, arrivals: Any
) -> None:
    first = handler_module.handler(object_created(f"{PREFIX}a.csv"), None)
    assert first["action"] == "started"
    assert glue.get_crawler(Name=CRAWLER)["Crawler"]["State"] == "RUNNING"
    later = [handler_module.handler(object_created(f"{PREFIX}{n}.csv"), None) for n in range(5)]
    assert {r["action"] for r in later} == {"absorbed"}
    assert job_runs(glue) == []


def _crawler(state: str, start: datetime) -> dict[str, Any]:
    last = {"Status": "SUCCEEDED", "StartTime": start}
    return {"Crawler": {"Name": CRAWLER, "State": state, "LastCrawl": last}}


def test_an_arrival_a_later_crawl_read_is_skipped(handler_module: ModuleType, moto: None) -> None:
    glue = boto3.client("glue", region_name="us-east-1")
    crawled = datetime(2026, 12, 3, 12, 0, 1, tzinfo=UTC)
    with Stubber(glue) as stub:
        for _ in range(2):
            stub.add_response("get_crawler", _crawler("READY", crawled), {"Name": CRAWLER})
        stub.add_response("start_crawler", {}, {"Name": CRAWLER})
        # Arrived in the second before the crawl began: read by it.
        before = object_created(f"{PREFIX}a.csv", "2026-12-03T12:00:00Z")
        assert handler_module.handle_arrival(before, glue, CRAWLER)["action"] == "skipped"
        # Arrived in the crawl's own second: maybe after its listing, so crawled again.
        same = object_created(f"{PREFIX}b.csv", "2026-12-03T12:00:01Z")
        assert handler_module.handle_arrival(same, glue, CRAWLER)["action"] == "started"
        stub.assert_no_pending_responses()


def test_a_crawl_that_objects_arrived_during_is_followed_by_another_not_the_job(
    handler_module: ModuleType, glue: Any, arrivals: Any
) -> None:
    arrivals.put_object(Bucket=BUCKET, Key=f"{PREFIX}late.csv", Body=b"a\n1\n")
    arrivals.put_object(Bucket=BUCKET, Key="elsewhere/x.csv", Body=b"a\n1\n")
    started = datetime.now(UTC) - timedelta(seconds=30)
    stubbed = boto3.client("glue", region_name="us-east-1")
    with Stubber(stubbed) as stub:
        stub.add_response("get_crawler", _crawler("READY", started), {"Name": CRAWLER})
        stub.add_response("start_crawler", {}, {"Name": CRAWLER})
        result = handler_module.handle(
            fixture_event("crawler-succeeded"),
            stubbed,
            JOB,
            CRAWLER,
            arrivals,
            (BUCKET, PREFIX),
        )
        stub.assert_no_pending_responses()
    assert result["action"] == "recrawling"
    assert result["reason"] == f"1 objects arrived during the crawl, e.g. {PREFIX}late.csv"


def test_a_crawl_nothing_arrived_during_starts_the_job(
    handler_module: ModuleType, glue: Any, arrivals: Any
) -> None:
    arrivals.put_object(Bucket=BUCKET, Key=f"{PREFIX}early.csv", Body=b"a\n1\n")
    later = datetime.now(UTC) + timedelta(seconds=5)
    stubbed = boto3.client("glue", region_name="us-east-1")
    with Stubber(stubbed) as stub:
        stub.add_response("get_crawler", _crawler("READY", later), {"Name": CRAWLER})
        stub.add_response("get_job_runs", {"JobRuns": []}, {"JobName": JOB, "MaxResults": 50})
        event = fixture_event("crawler-succeeded")
        stub.add_response(
            "start_job_run",
            {"JobRunId": "jr_1"},
            {"JobName": JOB, "Arguments": {"--wcpipe_event_id": event["id"]}},
        )
        result = handler_module.handle(event, stubbed, JOB, CRAWLER, arrivals, (BUCKET, PREFIX))
        stub.assert_no_pending_responses()
    assert result == {"action": "started", "reason": "crawler succeeded", "run_id": "jr_1"}


def test_a_crawler_running_again_defers_the_job(
    handler_module: ModuleType, glue: Any, arrivals: Any
) -> None:
    glue.start_crawler(Name=CRAWLER)  # an arrival started the next crawl already
    result = handler_module.handler(fixture_event("crawler-succeeded"), None)
    assert result["action"] == "deferred"
    assert job_runs(glue) == []


def test_a_run_that_objects_arrived_during_is_followed_by_a_crawl(
    handler_module: ModuleType, moto: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key=f"{PREFIX}during.csv", Body=b"a\n1\n")
    glue = boto3.client("glue", region_name="us-east-1")
    event = fixture_event("job-succeeded")
    run_id = event["detail"]["jobRunId"]
    for started, action in [
        (datetime.now(UTC) - timedelta(seconds=30), "recrawling"),  # the object came after
        (datetime.now(UTC) + timedelta(seconds=5), "ignored"),  # it was there before the run
    ]:
        with Stubber(glue) as stub:
            run = {"Id": run_id, "JobName": JOB, "StartedOn": started}
            stub.add_response("get_job_run", {"JobRun": run}, {"JobName": JOB, "RunId": run_id})
            if action == "recrawling":
                stub.add_response("start_crawler", {}, {"Name": CRAWLER})
            result = handler_module.handle_job_succeeded(event, glue, s3, CRAWLER, (BUCKET, PREFIX))
            stub.assert_no_pending_responses()
        assert result["action"] == action, result


def test_a_job_success_is_routed_only_with_trigger_on_arrival(
    handler_module: ModuleType, glue: Any
) -> None:
    # Without ARRIVAL_BUCKET (trigger manual) a job event is ignored, as before.
    result = handler_module.handler(fixture_event("job-succeeded"), None)
    assert result["reason"] == "not a crawler state change ('Glue Job State Change')"


# trigger on-arrival with a settle window: the crawl starts once nothing newer arrived -------

SETTLE = 5.0


def _second(offset: int) -> int:
    """The current epoch second plus `offset`."""
    return int(datetime.now(UTC).timestamp()) + offset


def _at(second: int) -> str:
    return datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _count_listings(s3: Any) -> list[str]:
    """The ListObjectsV2 calls (pages) the client sends from now on."""
    calls: list[str] = []
    s3.meta.events.register("before-call.s3.ListObjectsV2", lambda **_: calls.append(""))
    return calls


def _settle(
    handler_module: ModuleType, glue: Any, s3: Any, event: Any, sleep: Any, after: float = 0.5
) -> Any:
    """handle_arrival with the settle window, invoked `after` seconds past the event's time."""
    arrived = handler_module._seconds(event["time"])
    settle = handler_module.Settle(SETTLE, sleep, lambda: arrived + after)
    return handler_module.handle_arrival(event, glue, CRAWLER, s3, (BUCKET, PREFIX), settle)


# Invoked at once (the look before the wait finds the newer one) or late (the one listing does).
@pytest.mark.parametrize("after", [0.5, 60.0])
def test_an_arrival_with_a_newer_one_leaves_the_start_to_it_without_waiting(
    handler_module: ModuleType, glue: Any, arrivals: Any, after: float
) -> None:
    arrivals.put_object(Bucket=BUCKET, Key=f"{PREFIX}newer.csv", Body=b"a\n1\n")
    older = object_created(f"{PREFIX}older.csv", _at(_second(-5)))
    slept: list[float] = []
    result = _settle(handler_module, glue, arrivals, older, slept.append, after)
    assert result["action"] == "deferred", result
    assert result["reason"].startswith(f"{PREFIX}newer.csv arrived after it")
    assert slept == []
    assert glue.get_crawler(Name=CRAWLER)["Crawler"]["State"] == "READY"


def test_the_newest_arrival_waits_the_settle_time_out_then_starts_the_crawler(
    handler_module: ModuleType, glue: Any, arrivals: Any
) -> None:
    arrivals.put_object(Bucket=BUCKET, Key=f"{PREFIX}before.csv", Body=b"a\n1\n")
    newest = object_created(f"{PREFIX}newest.csv", _at(_second(2)))  # nothing is newer
    slept: list[float] = []
    result = _settle(handler_module, glue, arrivals, newest, slept.append)
    assert result["action"] == "started", result
    # Until SETTLE seconds after the event's second ended: the clock reads half past it.
    assert slept == [SETTLE + 0.5]
    assert glue.get_crawler(Name=CRAWLER)["Crawler"]["State"] == "RUNNING"
    # A duplicate delivery of the same event settles too, and the running crawl absorbs it.
    again = _settle(handler_module, glue, arrivals, newest, slept.append)
    assert again["action"] == "absorbed", again


def test_an_arrival_during_the_settle_time_takes_the_start_over(
    handler_module: ModuleType, glue: Any, arrivals: Any
) -> None:
    first = object_created(f"{PREFIX}first.csv", _at(_second(-3)))

    def another_arrives(seconds: float) -> None:  # the next object of the burst, put meanwhile
        arrivals.put_object(Bucket=BUCKET, Key=f"{PREFIX}next.csv", Body=b"a\n1\n")

    result = _settle(handler_module, glue, arrivals, first, another_arrives)
    assert result["action"] == "deferred", result
    assert result["reason"].startswith(f"{PREFIX}next.csv arrived after it")
    assert glue.get_crawler(Name=CRAWLER)["Crawler"]["State"] == "READY"


def test_the_settle_time_comes_from_the_environment(
    handler_module: ModuleType, glue: Any, arrivals: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    arrivals.put_object(Bucket=BUCKET, Key=f"{PREFIX}newer.csv", Body=b"a\n1\n")
    older = object_created(f"{PREFIX}older.csv", _at(_second(-5)))
    monkeypatch.setenv("ARRIVAL_SETTLE_SECONDS", "30")  # unset: no settling (tests above)
    assert handler_module.handler(older, None)["action"] == "deferred"
    assert glue.get_crawler(Name=CRAWLER)["Crawler"]["State"] == "READY"


def test_the_crawl_after_a_run_waits_for_a_burst_still_arriving_to_settle(
    handler_module: ModuleType, moto: None
) -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key=f"{PREFIX}burst-00.csv", Body=b"a\n1\n")
    newest = int(s3.list_objects_v2(Bucket=BUCKET)["Contents"][0]["LastModified"].timestamp())
    glue = boto3.client("glue", region_name="us-east-1")
    event = fixture_event("job-succeeded")
    run_id = event["detail"]["jobRunId"]
    slept: list[float] = []
    calls = _count_listings(s3)
    with Stubber(glue) as stub:
        run = {"Id": run_id, "JobName": JOB, "StartedOn": datetime.now(UTC) - timedelta(seconds=30)}
        stub.add_response("get_job_run", {"JobRun": run}, {"JobName": JOB, "RunId": run_id})
        stub.add_response("start_crawler", {}, {"Name": CRAWLER})
        settle = handler_module.Settle(SETTLE, slept.append, lambda: newest + 0.5)
        result = handler_module.handle_job_succeeded(
            event, glue, s3, CRAWLER, (BUCKET, PREFIX), settle
        )
        stub.assert_no_pending_responses()
    assert result["action"] == "recrawling", result
    # The newest object is half a second old: wait until SETTLE seconds after its second ended.
    assert slept == [SETTLE + 0.5]
    assert len(calls) == 1  # what arrived during the run, and the newest of it: one listing


def test_the_crawl_after_a_crawl_waits_for_the_burst_then_starts(
    handler_module: ModuleType, glue: Any, arrivals: Any
) -> None:
    arrivals.put_object(Bucket=BUCKET, Key=f"{PREFIX}late.csv", Body=b"a\n1\n")
    newest = int(arrivals.list_objects_v2(Bucket=BUCKET)["Contents"][0]["LastModified"].timestamp())
    started = datetime.now(UTC) - timedelta(seconds=30)
    slept: list[float] = []
    calls = _count_listings(arrivals)
    stubbed = boto3.client("glue", region_name="us-east-1")
    with Stubber(stubbed) as stub:
        stub.add_response("get_crawler", _crawler("READY", started), {"Name": CRAWLER})
        stub.add_response("start_crawler", {}, {"Name": CRAWLER})
        settle = handler_module.Settle(SETTLE, slept.append, lambda: newest + 9)
        again = handler_module._reason_to_crawl_again(
            stubbed, arrivals, CRAWLER, (BUCKET, PREFIX), settle
        )
        stub.assert_no_pending_responses()
    assert again is not None and again[0] == "recrawling", again
    # Settled already (nine seconds after the newest second, SETTLE is five): no wait.
    assert slept == [0.0]
    assert len(calls) == 1


def test_arrivals_of_one_second_leave_the_start_to_the_last_key(
    handler_module: ModuleType, glue: Any, arrivals: Any
) -> None:
    # Two objects of one burst in the same second: whole seconds cannot order them, so both
    # would wake together and each start a crawl. The last key leads; the other defers at once.
    for name in ("burst-01.csv", "burst-02.csv"):
        arrivals.put_object(Bucket=BUCKET, Key=f"{PREFIX}{name}", Body=b"a\n1\n")
    listed = arrivals.list_objects_v2(Bucket=BUCKET)["Contents"]
    seconds = {int(o["LastModified"].timestamp()) for o in listed}
    if len(seconds) != 1:  # the two puts straddled a second: the later one is newer anyway
        seconds = {max(seconds)}
    second = seconds.pop()
    slept: list[float] = []
    first = _settle(
        handler_module,
        glue,
        arrivals,
        object_created(f"{PREFIX}burst-01.csv", _at(second)),
        slept.append,
    )
    assert first["action"] == "deferred", first
    assert first["reason"].startswith(f"{PREFIX}burst-02.csv arrived after it")
    assert slept == []
    last = _settle(
        handler_module,
        glue,
        arrivals,
        object_created(f"{PREFIX}burst-02.csv", _at(second)),
        slept.append,
    )
    assert last["action"] == "started", last
    assert slept == [SETTLE + 0.5]


def test_a_late_arrival_lists_the_prefix_once_and_does_not_wait(
    handler_module: ModuleType, glue: Any, arrivals: Any
) -> None:
    # Its invocation runs after the settle time passed (a retry, or Lambda's queue behind a
    # burst): the look before the wait would spare nothing, so only the deciding listing runs.
    arrivals.put_object(Bucket=BUCKET, Key=f"{PREFIX}late.csv", Body=b"a\n1\n")
    [listed] = arrivals.list_objects_v2(Bucket=BUCKET)["Contents"]
    second = int(listed["LastModified"].timestamp())
    calls, slept = _count_listings(arrivals), []
    event = object_created(f"{PREFIX}late.csv", _at(second))
    result = _settle(handler_module, glue, arrivals, event, slept.append, after=SETTLE + 30)
    assert result["action"] == "started", result
    assert (len(calls), slept) == (1, [])


def _page(second: int, *names: str, more: str | None = None) -> dict[str, Any]:
    """A ListObjectsV2 page of objects of `second`; `more`: the token of a next page."""
    modified = datetime.fromtimestamp(second, UTC)
    contents = [{"Key": f"{PREFIX}{n}", "LastModified": modified, "Size": 8} for n in names]
    page: dict[str, Any] = {"Contents": contents, "IsTruncated": more is not None}
    return {**page, "NextContinuationToken": more} if more else page


ARRIVED = f"{PREFIX}part-0500.csv"
LISTING = {"Bucket": BUCKET, "Prefix": PREFIX}
AFTER_IT = {**LISTING, "StartAfter": ARRIVED}
NOW = _second(0)


@pytest.mark.parametrize(
    ("pages", "newer", "slept"),
    [
        # The look reads the prefix's first page and the page after the arrival's own key,
        # where the next object of a burst named in order sorts, and no more: two requests
        # however many pages the prefix has, and no wait.
        (
            [
                (_page(NOW - 60, "old.csv", more="t"), LISTING),
                (_page(NOW, "part-0501.csv", more="u"), AFTER_IT),
            ],
            "part-0501.csv",
            [],
        ),
        # A newer object beyond both (sorting before the arrival's key, past the first page):
        # the whole listing after the wait finds it, so the start is still left to it.
        (
            [
                (_page(NOW - 60, "a.csv", more="t"), LISTING),
                (_page(NOW - 60, "part-0501.csv"), AFTER_IT),
                (_page(NOW - 60, "a.csv", more="t"), LISTING),
                (_page(NOW + 1, "b.csv"), {**LISTING, "ContinuationToken": "t"}),
            ],
            "b.csv",
            [SETTLE + 0.5],
        ),
    ],
    ids=["found-by-the-look", "found-after-the-wait"],
)
def test_the_look_before_the_wait_reads_two_pages_and_the_listing_after_it_decides(
    handler_module: ModuleType,
    glue: Any,
    arrivals: Any,
    pages: list[tuple[dict[str, Any], dict[str, Any]]],
    newer: str,
    slept: list[float],
) -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    waits: list[float] = []
    with Stubber(s3) as stub:  # exactly these requests, in this order
        for page, request in pages:
            stub.add_response("list_objects_v2", page, request)
        result = _settle(handler_module, glue, s3, object_created(ARRIVED, _at(NOW)), waits.append)
        stub.assert_no_pending_responses()
    assert (result["action"], waits) == ("deferred", slept), result
    assert result["reason"].startswith(f"{PREFIX}{newer} arrived after it")
