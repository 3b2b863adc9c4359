"""`wcpipe verify`: compare the source files with the warehouse table."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from wcpipe.cli.app import App
from wcpipe.cli.operate import render_report

if TYPE_CHECKING:
    from wcpipe.operate.athena import ScanEstimate


@click.command()
@click.option("--yes", "-y", is_flag=True, help="Scan without asking, however large the scan.")
@click.pass_obj
def verify(app: App, yes: bool) -> None:
    """Count the source rows on Athena (one query over the S3 crawler's table: every CSV under
    the prefix, minus the rows the spec drops) and compare with SELECT COUNT(*) in Redshift;
    also NULLs in NOT NULL columns, sums of numeric columns after cleaning, and duplicate keys
    in merge mode. A scan of 100 GiB or more is priced and asked for first (or --yes).
    Exit 0 when everything matches, 1 with the differing figures when not."""
    from wcpipe import ui
    from wcpipe.operate.verify import verify as run_verify

    ctx = app.context
    with ui.spinner("counting the source on Athena and querying the warehouse"):
        report = run_verify(ctx, approve=(lambda _estimate: True) if yes else _ask)
    if app.json:
        ui.emit_shape("verify", report.as_dict())
    else:
        render_report(report)
    report.raise_if_mismatch()


def _ask(estimate: ScanEstimate) -> bool:
    """Yes to a big scan, asked on the terminal; no terminal: not approved (verify then says
    to rerun with --yes); "no" cancels."""
    from wcpipe import ui
    from wcpipe.core.errors import Cancelled

    answer = ui.confirm(f"verify's source side scans {estimate.summary()}; run it?")
    if answer is False:
        raise Cancelled("verify cancelled: nothing was scanned")
    return bool(answer)
