"""`wcpipe push FILE...`: thin command over `wcpipe.provision.push` (and, with --wait,
`wcpipe.operate.flow`)."""

from __future__ import annotations

from pathlib import Path

import click

from wcpipe.cli.app import App


@click.command("push")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--wait",
    "wait_",
    is_flag=True,
    help="Follow the run the push starts (trigger on-arrival: the arrival's; otherwise the "
    "same flow as `wcpipe run`) to its verify.",
)
@click.option(
    "--appear-timeout",
    type=float,
    default=600,
    show_default=True,
    help="With --wait: seconds for the arrival to start a job run.",
)
@click.pass_obj
def push(app: App, files: tuple[Path, ...], wait_: bool, appear_timeout: float) -> None:
    """Upload new data files under the pipeline's prefix (each to <prefix><file name>; a file
    whose content is there already is not sent again). With trigger on-arrival the upload starts
    the pipeline by itself; with --wait, follow it to its verify (exit 1 on a failed run or a
    mismatch)."""
    from datetime import UTC, datetime

    from wcpipe import ui
    from wcpipe.operate import flow, jobrun
    from wcpipe.provision.push import check_files, push_files

    check_files(app.spec.data.prefix, list(files))  # bad input: before any request
    ctx = app.context
    known = {str(r["Id"]) for r in jobrun.recent_runs(ctx)} if wait_ else set()
    since = datetime.now(UTC).replace(microsecond=0)
    with ui.spinner(f"pushing to {ctx.names.data_uri}"):
        pushed = push_files(ctx, list(files))
    result: flow.FlowResult | flow.ArrivalResult | None = None
    if wait_ and ctx.spec.on_arrival:
        if any(p.uploaded for p in pushed):
            result = flow.follow_arrival(
                ctx, known=known, since=since, appear_timeout=appear_timeout, on_step=ui.step
            )
        else:
            ui.info("nothing new was uploaded, so nothing arrives: no run to follow")
    elif wait_:
        result = flow.run_flow(ctx, on_step=ui.step)
    if app.json:
        out = {"trigger": ctx.spec.trigger, "pushed": [p.as_dict() for p in pushed]}
        ui.emit_json({**out, **(result.as_dict() if result else {})})
    else:
        rows = [(str(p.path), p.key, str(p.size), p.as_dict()["result"]) for p in pushed]
        ui.table(["file", "key", "bytes", "result"], rows, title=f"push to {ctx.names.bucket}")
        if result is not None:
            from wcpipe.cli.operate import render_report, render_run

            render_run(result.run)
            render_report(result.report)
        elif not ctx.spec.on_arrival:
            ui.info(f"trigger is {ctx.spec.trigger}: `wcpipe run` loads what was pushed")
    if result is not None:
        result.report.raise_if_mismatch()
