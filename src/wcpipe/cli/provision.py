"""`wcpipe plan`, `up`, `status`, `down`: thin commands over `wcpipe.provision.engine`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from wcpipe.cli.app import App

if TYPE_CHECKING:
    from collections.abc import Container

    from wcpipe.provision.engine import Change, Plan
    from wcpipe.spec.pricing import Cost


DETAILED_EXITCODE_HELP = (
    "Exit 0 when there is nothing to change, 2 when there is, 1 on error (as Terraform's "
    "`plan -detailed-exitcode`), so CI can gate on it."
)


def _changes_table(changes: list[Change]) -> None:
    from wcpipe import ui

    ui.table(
        ["resource", "name", "action", "changes"],
        [
            (
                c.kind,
                c.name,
                c.action,
                "\n".join([d.text() for d in c.differences] + [c.reason or ""]),
            )
            for c in changes
        ],
    )


def _exit_changes(detailed: bool, changed: bool) -> None:
    """Exit 2 under --detailed-exitcode when there are changes (or drift)."""
    if detailed and changed:
        raise click.exceptions.Exit(2)


@click.command()
@click.option("--detailed-exitcode", is_flag=True, help=DETAILED_EXITCODE_HELP)
@click.pass_obj
def plan(app: App, detailed_exitcode: bool) -> None:
    """Show what `up` would create or update, field by field (old -> new). Read-only."""
    from wcpipe import ui
    from wcpipe.provision import engine

    resources = app.resources()
    with ui.spinner("reading the current state"):
        the_plan = engine.plan(app.context, resources, app.undeclared())
    pending = the_plan.pending
    if app.json:
        changes = [c.as_dict() for c in the_plan.changes]
        ui.emit_shape(
            "plan",
            {
                "changes": changes,
                "pending": len(pending),
                "kept": the_plan.kept,
                "costs": _costs(app, the_plan),
            },
        )
        _exit_changes(detailed_exitcode, bool(pending))
        return
    _warn_kept(the_plan.kept)
    if not pending:
        ui.info("No changes. The pipeline's resources match the spec.")
        return
    _changes_table(pending)
    _costs_table(app, the_plan)
    _warn_removals(pending)
    for c in the_plan.blocked:
        ui.warn(f"{c.kind} {c.name}: `up` will refuse this change ({c.action})")
    unchanged = len(the_plan.changes) - len(pending)
    ui.info(f"{len(pending)} change(s) pending, {unchanged} resource(s) unchanged")
    _exit_changes(detailed_exitcode, True)


def _warn_kept(kept: list[str]) -> None:
    """What an earlier spec made that this one no longer declares and `up` keeps, with why."""
    from wcpipe import ui

    for note in kept:
        ui.warn(note)


def _warn_removals(pending: list[Change]) -> None:
    """A billable resource the spec no longer declares: `up` deletes it."""
    from wcpipe import ui

    for c in pending:
        if c.billable and c.action == "delete":
            ui.warn(
                f"{c.kind} {c.name} bills while it exists and the spec no longer declares it: "
                "`up` deletes it (with its data) once the rest has converged"
            )


def _costs(app: App, the_plan: Plan) -> list[dict[str, Any]]:
    """What the plan's billable resources cost (`spec.pricing`), each with the plan's action."""
    from wcpipe.spec.pricing import costs

    actions = {c.key: c.action for c in the_plan.changes}
    found = _billed(app, costs(app.spec, app.context.names), actions)
    return [{**c.as_dict(), "action": actions[c.resource]} for c in found]


def _billed(app: App, found: list[Cost], planned: Container[str]) -> list[Cost]:
    """The costs of the plan's resources that bill this pipeline: not one whose path the plan
    found reached another way (its `billed` output: the Secrets Manager endpoint where a NAT
    or someone's endpoint already serves the subnet)."""
    return [
        c
        for c in found
        if c.resource in planned and app.context.output_or(c.resource, "billed", True)
    ]


def _costs_table(app: App, the_plan: Plan) -> None:
    """The cost guard: each billable resource, its pricing unit and rate, before `up` asks."""
    from wcpipe import ui
    from wcpipe.spec.pricing import PRICED_REGION, READ_ON, costs

    keys = {c.key for c in the_plan.changes}
    rows = [
        (f"{c.kind} {c.name}", c.rate_text(), c.bills)
        for c in _billed(app, costs(app.spec, app.context.names), keys)
    ]
    title = f"What it costs (AWS on-demand list prices in {PRICED_REGION}, read {READ_ON})"
    ui.table(["billable", "rate", "billed"], rows, title=title)


@click.command()
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def up(app: App, yes: bool) -> None:
    """Create or update every resource of the pipeline, in dependency order. Idempotent."""
    from wcpipe import ui
    from wcpipe.provision import engine

    resources = app.resources()
    with ui.spinner("reading the current state"):
        the_plan = engine.plan(app.context, resources, app.undeclared())
    the_plan.refuse_blocked(app.spec.name)
    pending = the_plan.pending
    if not app.json:
        _warn_kept(the_plan.kept)
    if not pending:
        if app.json:
            ui.emit_shape(
                "up",
                {"changes": [], "costs": [], "result": {}, "outputs": _outputs(app)},
            )
        else:
            ui.info("No changes. The pipeline's resources match the spec.")
        return
    if not app.json:
        _changes_table(pending)
        _costs_table(app, the_plan)
        _warn_removals(pending)
    if not yes:
        _confirmed(f"apply {len(pending)} change(s)?", "up", "apply")
    result = engine.apply(app.context, resources, the_plan, reporter=ui.ProgressReporter())
    if app.json:
        changes = [c.as_dict() for c in pending]
        ui.emit_shape(
            "up",
            {
                "changes": changes,
                "costs": _costs(app, the_plan),
                "result": result,
                "outputs": _outputs(app),
            },
        )
    else:
        counts: dict[str, int] = {}
        for outcome in result.values():
            counts[outcome] = counts.get(outcome, 0) + 1
        ui.info("done: " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())))


def _outputs(app: App) -> dict[str, Any]:
    from wcpipe.provision.outputs import pipeline_outputs

    return pipeline_outputs(app.context)


@click.command()
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 0 when every resource is present as the spec says, 2 when one is missing, "
    "drifted or not owned, 1 on error.",
)
@click.pass_obj
def status(app: App, detailed_exitcode: bool) -> None:
    """Each resource: present, missing or drifted, with its key facts."""
    from wcpipe import ui
    from wcpipe.provision import engine

    resources = app.resources()
    with ui.spinner("reading the current state"):
        rows = engine.status(app.context, resources, app.undeclared())
    off = any(s.state != "present" for s in rows)
    if app.json:
        from wcpipe.operate.status import operational_facts
        from wcpipe.ui.shapes import snake

        shown = [{**s.as_dict(), "facts": {snake(k): v for k, v in s.facts.items()}} for s in rows]
        ui.emit_shape("status", {"resources": shown, **operational_facts(app.context)})
        _exit_changes(detailed_exitcode, off)
        return
    extra = _operational_status(app)
    ui.table(
        ["resource", "name", "state", "facts"],
        [
            (
                s.kind,
                s.name,
                s.state,
                "; ".join(
                    [
                        *(f"{k}: {v}" for k, v in s.facts.items()),
                        *(f"differs: {d.text()}" for d in s.drift),
                    ]
                ),
            )
            for s in rows
        ],
    )
    for title, pairs in extra.items():
        if isinstance(pairs, dict) and pairs:
            ui.kv(list(pairs.items()), title=title)
    _exit_changes(detailed_exitcode, off)


def _operational_status(app: App) -> dict[str, Any]:
    """Last crawls, last job run, Lambda invocations: added by the operations module if present."""
    try:
        from wcpipe.operate.status import operational_status
    except ImportError:
        return {}
    return operational_status(app.context)


@click.command()
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.option(
    "--final-snapshot/--no-final-snapshot",
    default=None,
    help="Snapshot the Redshift cluster before deleting it (default: the spec's "
    "warehouse.final_snapshot).",
)
@click.pass_obj
def down(app: App, yes: bool, final_snapshot: bool | None) -> None:
    """Delete every resource this pipeline owns, in reverse order. Re-runnable."""
    from wcpipe import ui
    from wcpipe.provision import engine

    if final_snapshot is not None:
        app.context.final_snapshot = final_snapshot
    resources, undeclared = app.resources(), app.undeclared()
    with ui.spinner("reading the current state"):
        the_plan = engine.plan_down(app.context, resources, undeclared)
    doomed = [c for c in the_plan.changes if c.action == "delete"]
    kept = [c for c in the_plan.changes if c.action == "keep"]
    for c in kept:
        if c.reason:  # a shared path (S3 endpoint, a NAT) says why itself
            ui.warn(f"{c.kind} {c.name}: leaving it alone ({c.reason})")
            continue
        ui.warn(f"{c.kind} {c.name} exists but is not owned by this pipeline: leaving it alone")
    if not doomed:
        if app.json:
            ui.emit_shape("down", {"deleted": [], "kept": [c.as_dict() for c in kept]})
        else:
            ui.info("nothing to delete")
        return
    if not app.json:
        _changes_table(doomed)
        if any(c.key == "redshift.cluster" for c in doomed):
            keep = app.spec.warehouse.final_snapshot if final_snapshot is None else final_snapshot
            ui.warn(
                "the Redshift cluster's data goes with it: a final snapshot will be taken"
                if keep
                else "the Redshift cluster is deleted WITHOUT a final snapshot (its data is lost; "
                "pass --final-snapshot to keep one)"
            )
    if not yes:
        _confirmed(f"delete {len(doomed)} resource(s)?", "down", "delete")
    result = engine.destroy(
        app.context, resources + undeclared, the_plan, reporter=ui.ProgressReporter()
    )
    if app.json:
        ui.emit_shape(
            "down",
            {
                "deleted": [k for k, v in result.items() if v == "deleted"],
                "kept": [c.as_dict() for c in kept],
            },
        )
    else:
        ui.info(f"deleted {sum(1 for v in result.values() if v == 'deleted')} resource(s)")


def _confirmed(question: str, command: str, verb: str) -> None:
    """Ask; "no" is a cancel (exit 1, nothing done), no terminal to ask on is a usage error."""
    from wcpipe import ui
    from wcpipe.core.errors import Cancelled, UsageError

    answer = ui.confirm(question)
    if answer is None:
        raise UsageError(
            f"cannot ask for confirmation (stdin is not a terminal); "
            f"rerun with --yes to {verb} without asking"
        )
    if not answer:
        raise Cancelled(f"{command} cancelled: nothing was changed")
