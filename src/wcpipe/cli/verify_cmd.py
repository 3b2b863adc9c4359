"""`wcpipe verify`: compare the source files with the warehouse table."""

from __future__ import annotations

import click

from wcpipe.cli.app import App
from wcpipe.cli.operate import render_report


@click.command()
@click.pass_obj
def verify(app: App) -> None:
    """Count the source rows (every CSV under the prefix, parsed for real, minus the rows the
    spec drops) and compare with SELECT COUNT(*) in Redshift; also NULLs in NOT NULL columns,
    sums of numeric columns after cleaning, and duplicate keys in merge mode.
    Exit 0 when everything matches, 1 with the differing figures when not."""
    from wcpipe import ui
    from wcpipe.operate.verify import verify as run_verify

    ctx = app.context
    with ui.spinner("reading the source files and querying the warehouse"):
        report = run_verify(ctx)
    if app.json:
        ui.emit_shape("verify", report.as_dict())
    else:
        render_report(report)
    report.raise_if_mismatch()
