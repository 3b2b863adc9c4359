"""logs: sources, interleaving, de-duplication, missing groups, follow with backoff, CLI."""

from __future__ import annotations

import contextlib
import json
import time

import pytest

from wcpipe.core.errors import UsageError
from wcpipe.operate import logs as oplogs


def _now_ms() -> int:
    return int(time.time() * 1000)


def _put(client, group: str, stream: str, *events: tuple[int, str]) -> None:  # type: ignore[no-untyped-def]
    with contextlib.suppress(client.exceptions.ResourceAlreadyExistsException):
        client.create_log_group(logGroupName=group)
    with contextlib.suppress(client.exceptions.ResourceAlreadyExistsException):
        client.create_log_stream(logGroupName=group, logStreamName=stream)
    client.put_log_events(
        logGroupName=group,
        logStreamName=stream,
        logEvents=[{"timestamp": t, "message": m} for t, m in events],
    )


def test_parse_since() -> None:
    assert oplogs.parse_since("10m", now=1000.0) == 400_000
    assert oplogs.parse_since("2h", now=10_000.0) == 2_800_000
    assert oplogs.parse_since("1970-01-01T00:00:01") == 1000
    with pytest.raises(UsageError):
        oplogs.parse_since("yesterday")


def test_sources_for_all_use_the_latest_run(octx, deployed) -> None:
    run_id = octx.client("glue").start_job_run(JobName=deployed.job)["JobRunId"]
    sources = oplogs.log_sources(octx, "all")
    assert [(s.group, s.streams) for s in sources] == [
        ("/aws-glue/jobs/output", (run_id,)),
        ("/aws-glue/jobs/error", (run_id,)),
        ("/aws-glue/crawlers", (deployed.s3_crawler, deployed.redshift_crawler)),
        (deployed.function_log_group, None),
    ]


def test_tail_interleaves_by_time_and_never_repeats(octx, deployed) -> None:
    client = octx.client("logs")
    t = _now_ms()
    _put(client, "/aws-glue/jobs/output", "jr_1", (t, "out a"), (t + 20, "out c"))
    _put(client, "/aws-glue/jobs/error", "jr_1", (t + 10, "err b"))
    _put(client, "/aws-glue/jobs/error", "jr_other", (t + 5, "someone else's run"))
    tail = oplogs.LogTail(
        client,
        [oplogs.LogSource(g, ("jr_1",)) for g in ("/aws-glue/jobs/output", "/aws-glue/jobs/error")],
        start_ms=t - 1000,
    )

    assert [e.message for e in tail.poll()] == ["out a", "err b", "out c"]
    assert tail.poll() == []
    # A later event at the very millisecond the last poll ended on is new; the old one is not.
    _put(client, "/aws-glue/jobs/output", "jr_1", (t + 20, "out c2"))
    assert [e.message for e in tail.poll()] == ["out c2"]


def test_tail_missing_group_is_no_events_yet(octx, deployed) -> None:
    tail = oplogs.LogTail(octx.client("logs"), [oplogs.LogSource("/aws/lambda/nope")])
    assert tail.poll() == []
    assert tail.missing == {"/aws/lambda/nope"}


def test_tail_filter_text(octx, deployed) -> None:
    client = octx.client("logs")
    t = _now_ms()
    _put(client, "/aws-glue/crawlers", deployed.s3_crawler, (t, "INFO ok"), (t + 1, "ERROR bad"))
    tail = oplogs.LogTail(
        client, [oplogs.LogSource("/aws-glue/crawlers")], start_ms=t - 1, filter_text="ERROR"
    )
    assert [e.message for e in tail.poll()] == ["ERROR bad"]


class _Stop(Exception):
    pass


def test_follow_backs_off_when_idle_and_on_throttling_then_ctrl_c_ends_quietly(octx) -> None:
    from botocore.stub import Stubber

    client = octx.client("logs")
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 4:
            raise KeyboardInterrupt

    emitted: list[str] = []
    with Stubber(client) as stub:
        event = {"eventId": "1", "timestamp": 1000, "message": "hello", "logStreamName": "s"}
        stub.add_response(
            "filter_log_events",
            {"events": [event]},
            {"logGroupName": "g", "limit": 100, "startTime": 0},
        )
        stub.add_response("filter_log_events", {"events": []})
        stub.add_client_error("filter_log_events", "ThrottlingException")
        stub.add_response("filter_log_events", {"events": [event]})  # a repeat: not emitted
        tail = oplogs.LogTail(client, [oplogs.LogSource("g")], start_ms=0)
        oplogs.follow(tail, lambda e: emitted.append(e.message), sleep=sleep)

    assert emitted == ["hello"]
    assert sleeps[0] == 1.0 and sleeps[1] == 2.0  # idle: back off
    assert sleeps[2] >= 30.0  # throttled: back off a lot


def test_follow_propagates_other_errors(octx) -> None:
    from botocore.stub import Stubber

    client = octx.client("logs")
    with Stubber(client) as stub:
        stub.add_client_error("filter_log_events", "AccessDeniedException")
        tail = oplogs.LogTail(client, [oplogs.LogSource("g")])
        with pytest.raises(Exception, match="AccessDenied"):
            oplogs.follow(tail, lambda e: None, sleep=lambda s: None)


def test_format_event() -> None:
    e = oplogs.LogEvent(1_700_000_000_123, "/aws-glue/jobs/error", "jr_1", "boom\n", "1", "error")
    assert oplogs.format_event(e) == "2023-11-14T22:13:20.123Z error boom"


def test_cli_logs_prints_interleaved_lines(invoke, deployed, octx) -> None:
    client = octx.client("logs")
    t = _now_ms()
    _put(client, "/aws-glue/crawlers", deployed.s3_crawler, (t, "crawl started"))
    _put(client, deployed.function_log_group, "2024/01/01/[$LATEST]abc", (t + 1, "started jr_1"))
    code, out, err = invoke("logs", "all", "--since", "5m")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].endswith(f"{deployed.s3_crawler} crawl started")
    assert lines[1].endswith("lambda started jr_1")


def test_cli_logs_no_group_yet(invoke, deployed) -> None:
    code, out, err = invoke("logs", "lambda")
    assert code == 0
    assert out == ""
    assert "no events yet" in err


def test_cli_logs_json(invoke, deployed, octx) -> None:
    _put(octx.client("logs"), "/aws-glue/crawlers", deployed.s3_crawler, (_now_ms(), "hi"))
    code, out, _ = invoke("--output", "json", "logs", "crawler")
    assert code == 0
    assert [e["message"] for e in json.loads(out)] == ["hi"]


def test_cli_logs_follow_ends_on_ctrl_c(invoke, deployed, octx, world) -> None:
    _put(octx.client("logs"), "/aws-glue/crawlers", deployed.s3_crawler, (_now_ms(), "hi"))

    def interrupt() -> None:
        raise KeyboardInterrupt

    world.hooks.append(interrupt)
    code, out, _ = invoke("logs", "crawler", "--follow")
    assert code == 0
    assert out.strip().endswith("hi")


def test_cli_logs_job_never_ran(invoke, deployed) -> None:
    code, _, err = invoke("logs", "job")
    assert code == 0
    assert "never run" in err


def test_cli_logs_follow_shows_a_job_run_that_starts_while_following(
    invoke, deployed, octx, world
) -> None:
    """The follow began before any run existed; the run that starts during it is followed."""
    glue, logs = octx.client("glue"), octx.client("logs")
    started: list[str] = []

    def start_a_run_then_stop() -> None:
        if not started:
            started.append(glue.start_job_run(JobName=deployed.job)["JobRunId"])
            _put(logs, "/aws-glue/jobs/output", started[0], (_now_ms(), "loading 23 rows"))
        elif len(world.clock.sleeps) > 3:
            raise KeyboardInterrupt

    world.hooks.append(start_a_run_then_stop)
    code, out, err = invoke("logs", "job", "--follow")
    assert code == 0, err
    assert out.strip().endswith("output loading 23 rows"), out
    assert f"following job run {started[0]}" in err


def test_cli_logs_run_id_that_does_not_exist_is_an_error(invoke, deployed) -> None:
    code, out, err = invoke("logs", "job", "--run-id", "jr_nope")
    assert (code, out) == (2, "")
    assert err.splitlines() == [f"error: --run-id jr_nope: job {deployed.job} has no such run"]


def test_cli_logs_run_id_before_up_hints_wcpipe_up(invoke, moto) -> None:
    code, _, err = invoke("logs", "job", "--run-id", "jr_nope")
    assert code == 1
    assert "does not exist" in err and "hint: create the pipeline first: wcpipe up" in err
