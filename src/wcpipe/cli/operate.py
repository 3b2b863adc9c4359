"""`wcpipe run-crawler`, `start-job`, `run`: thin commands over `wcpipe.operate`.

Waiting uses the context's `Timing`, which is the App's (`App.timing`: tests inject their own
through `wcpipe.cli.main(timing=...)`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from wcpipe.cli.app import App

if TYPE_CHECKING:
    from wcpipe.operate.crawl import CrawlProgress, CrawlResult
    from wcpipe.operate.jobrun import JobRun
    from wcpipe.operate.verify import Report


def crawl_progress(p: CrawlProgress) -> None:
    from wcpipe import ui

    eta = ""
    if p.estimating:
        eta = ", estimating time left"
    elif p.eta_seconds is not None:
        eta = f", about {p.eta_seconds:.0f}s left"
    ui.step(f"{p.crawler}: {p.state.lower()} for {p.elapsed:.0f}s{eta}")


def render_crawl(result: CrawlResult) -> None:
    from wcpipe import ui

    t = result.target
    how = " (attached to the crawl already running)" if result.attached else ""
    ui.info(f"{t.crawler}: {result.status.lower()} in {result.elapsed:.0f}s{how}")
    if result.columns is None:
        ui.warn(f"the crawl left no catalog table {t.database}.{t.table}")
        return
    ch = result.changes
    marks = {**{n: "added" for n in ch.added}, **{n: "retyped" for n in ch.retyped}}
    rows: list[tuple[str, str, str]] = [
        (n, ty, marks.get(n, "")) for n, ty in result.columns.items()
    ]
    rows += [(n, ty, "removed") for n, ty in ch.removed.items()]
    ui.table(
        ["column", "type", "since the previous crawl"],
        rows,
        title=f"{t.database}.{t.table}",
        styles={"added": "green", "removed": "red", "retyped": "yellow"},
    )
    if not ch:
        ui.info("no column changes since the previous crawl")
    for change in ch.describe():
        ui.info(change)


@click.command("run-crawler")
@click.argument("which", type=click.Choice(["s3", "redshift", "all"]), default="s3")
@click.option(
    "--timeout", type=float, default=3600, show_default=True, help="Seconds to wait for each crawl."
)
@click.pass_obj
def run_crawler(app: App, which: str, timeout: float) -> None:
    """Run a crawler (s3, redshift or all), wait for it, and show the catalog table's columns and
    what changed since the previous crawl. A crawler already running is attached to.
    Exit 1 if a crawl fails, with its error and where its log is."""
    from wcpipe import ui
    from wcpipe.operate import crawl

    ctx = app.context
    results = []
    for target in crawl.targets(ctx, which):  # type: ignore[arg-type]
        with ui.spinner(f"crawling with {target.crawler}"):
            result = crawl.run_crawler(ctx, target, timeout=timeout, on_progress=crawl_progress)
        results.append(result)
        if not app.json:
            render_crawl(result)
    if app.json:
        ui.emit_shape("run-crawler", {"crawls": [r.as_dict() for r in results]})


def render_run(run: JobRun) -> None:
    from wcpipe import ui

    duration = run.duration_seconds
    pairs: list[tuple[str, Any]] = [
        ("run id", run.id),
        ("state", run.state),
        ("started", run.started.isoformat() if run.started else "-"),
        ("duration", "-" if duration is None else f"{duration:.0f}s"),
        ("DPU-seconds", "-" if run.dpu_seconds is None else f"{run.dpu_seconds:.0f}"),
    ]
    if run.error:
        pairs.append(("error", run.error))
    ui.kv(pairs, title="job run")


@click.command("start-job")
@click.option("--wait", "wait_", is_flag=True, help="Wait for the run to end and show it.")
@click.option("--follow", is_flag=True, help="Wait, printing the run's log lines as they come.")
@click.option(
    "--timeout",
    type=float,
    default=None,
    help="Seconds to wait (default: the job's timeout plus ten minutes).",
)
@click.pass_obj
def start_job(app: App, wait_: bool, follow: bool, timeout: float | None) -> None:
    """Start a run of the Glue job; refuse if a run is already in progress. With --wait or
    --follow, wait to the end and show state, duration, DPU-seconds and any error (exit 1 if the
    run did not succeed)."""
    from wcpipe import ui
    from wcpipe.operate import jobrun
    from wcpipe.operate.logs import follow_job_run, format_event

    ctx = app.context
    run_id = jobrun.start_job_run(ctx)
    ui.step(f"started job run {run_id} of {ctx.names.job}")
    if not (wait_ or follow):
        if app.json:  # the one shape of start-job: the run as it stands
            ui.emit_shape("start-job", jobrun.get_run(ctx, run_id).as_dict())
        else:
            ui.line(run_id)
        return
    if follow:

        def emit(event: Any) -> None:
            if app.json:
                ui.step(format_event(event))  # stdout holds the one JSON document
            else:
                ui.line(format_event(event))

        run = follow_job_run(ctx, run_id, emit, timeout=timeout)
    else:
        with ui.spinner(f"waiting for job run {run_id}"):
            run = jobrun.wait_for_job_run(ctx, run_id, timeout=timeout)
    if app.json:
        ui.emit_shape("start-job", run.as_dict())
    else:
        render_run(run)
    run.raise_if_failed(ctx.names.job, ctx)


def render_report(report: Report) -> None:
    from wcpipe import ui

    ui.table(
        ["check", "source", "warehouse", "result"],
        [
            (c.name, _fmt(c.source), _fmt(c.warehouse), "ok" if c.ok else "MISMATCH")
            for c in report.checks
        ],
        title=f"verify {report.table}",
        styles={"ok": "green", "MISMATCH": "bold red"},
    )
    for c in report.checks:
        if c.detail and not c.ok:
            ui.info(f"{c.name}: {c.detail}")


def _fmt(value: Any) -> str:
    from wcpipe.operate.verify import plain

    return str(plain(value))


@click.command("run")
@click.option(
    "--appear-timeout",
    type=float,
    default=300,
    show_default=True,
    help="Seconds to wait for the rule and Lambda to start the job after the crawl.",
)
@click.pass_obj
def run(app: App, appear_timeout: float) -> None:
    """The event-driven flow, watched: run the S3 crawler, wait for the job run that the rule and
    the Lambda start, wait for it, then verify. If no run starts, say which hop failed."""
    from wcpipe import ui
    from wcpipe.operate import flow

    ctx = app.context
    try:
        result = flow.run_flow(
            ctx, appear_timeout=appear_timeout, on_step=ui.step, on_crawl=crawl_progress
        )
    except flow.NoJobRun as exc:
        for text in exc.log_lines:
            ui.info(f"  {text}")
        raise
    if app.json:
        ui.emit_shape("run", result.as_dict())
    else:
        render_crawl(result.crawl)
        render_run(result.run)
        render_report(result.report)
    result.report.raise_if_mismatch()
