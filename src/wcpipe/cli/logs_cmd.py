"""`wcpipe logs`: the pipeline's CloudWatch log lines, merged by time; `--follow` to tail."""

from __future__ import annotations

from typing import Any

import click

from wcpipe.cli.app import App


@click.command()
@click.argument("which", type=click.Choice(["job", "crawler", "lambda", "all"]), default="all")
@click.option("--run-id", help="The job run whose logs to show (default: the latest run).")
@click.option(
    "--since",
    default="10m",
    show_default=True,
    help="How far back: 30s, 10m, 2h, 1d, or an ISO 8601 time.",
)
@click.option("--follow", "-f", is_flag=True, help="Keep printing new lines until Ctrl-C.")
@click.option("--filter", "filter_text", help="Only lines containing this text.")
@click.pass_obj
def logs(
    app: App, which: str, run_id: str | None, since: str, follow: bool, filter_text: str | None
) -> None:
    """Log lines of the job run (/aws-glue/jobs/output and /error), the crawlers
    (/aws-glue/crawlers) and the Lambda (/aws/lambda/<fn>), interleaved by time, without
    duplicates. A log group that does not exist yet means no events yet. --follow without
    --run-id shows each new job run as it starts. With --output json: one JSON array, or with
    --follow one JSON object per line."""
    from wcpipe import ui
    from wcpipe.operate import logs as oplogs

    start_ms = oplogs.parse_since(since)
    ctx = app.context
    sources = oplogs.log_sources(ctx, which, run_id)  # type: ignore[arg-type]
    watch_runs = follow and run_id is None and which in ("job", "all")
    if not sources and not watch_runs:
        ui.info("no events yet: the job has never run")
        if app.json and not follow:
            ui.emit_json([])
        return
    tail = oplogs.LogTail(ctx.client("logs"), sources, start_ms=start_ms, filter_text=filter_text)

    def emit(event: Any) -> None:
        if app.json:
            import json

            ui.line(json.dumps(event.as_dict(), ensure_ascii=False))
        else:
            ui.line(oplogs.format_event(event))

    if follow:
        groups = dict.fromkeys(s.group for s in sources)
        ui.step(f"following {', '.join(groups) or 'the job'} (Ctrl-C to stop)")
        oplogs.follow(
            tail,
            emit,
            sleep=ctx.timing.sleep,
            discover=oplogs.new_job_runs(ctx, start_ms) if watch_runs else None,
            on_new=_announce_runs(ui.step),
        )
        return
    events = oplogs.read_events(tail)
    if app.json:
        ui.emit_json([e.as_dict() for e in events])
    else:
        for event in events:
            emit(event)
    if not events:
        quiet = sorted(tail.missing)
        ui.info(
            "no events yet"
            + (f" (no log group {', '.join(quiet)})" if quiet else "")
            + f" since {since}"
        )


def _announce_runs(say: Any) -> Any:
    """Say once per job run (its output and error groups join together) that it is followed."""
    told: set[str] = set()

    def on_new(source: Any) -> None:
        for run_id in source.streams or ():
            if run_id not in told:
                told.add(run_id)
                say(f"following job run {run_id}")

    return on_new
