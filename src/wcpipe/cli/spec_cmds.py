"""`wcpipe validate` and `wcpipe schema`: the spec alone, no AWS."""

from __future__ import annotations

import click

from wcpipe.cli.app import App


@click.command()
@click.pass_obj
def validate(app: App) -> None:
    """Check the spec and print a summary. Makes no AWS request."""
    from wcpipe import ui

    spec = app.spec
    summary = {
        "pipeline": spec.name,
        "region": spec.region or "(from the environment)",
        "data": f"read in place from {spec.data.source}"
        if spec.data.source
        else f"{len(spec.data_paths())} file(s) -> prefix {spec.data.prefix}",
        "table": f"{spec.table.schema_}.{spec.table.name} ({len(spec.table.columns)} columns)",
        "load": spec.load.mode + (f" on {', '.join(spec.load.keys)}" if spec.load.keys else ""),
        "warehouse": spec.warehouse.type
        + (
            f" {spec.warehouse.nodes} x {spec.warehouse.node_type}"
            if spec.warehouse.type == "provisioned"
            else f" {spec.warehouse.base_rpu} RPU"
        ),
        "glue": f"{spec.glue.version}, {spec.glue.workers} x {spec.glue.worker_type}",
    }
    if app.json:
        ui.emit_shape("validate", _typed_summary(app))
        return
    ui.kv(list(summary.items()), title=f"{app.config_path}: valid")
    ui.table(
        ["column", "type", "source", "nullable", "cleaning"],
        [
            (
                c.name,
                c.type,
                c.source_column or "''",
                "yes" if c.nullable else "no",
                ", ".join(c.clean),
            )
            for c in spec.table.columns
        ],
    )


def _typed_summary(app: App) -> dict[str, object]:
    spec = app.spec
    w = spec.warehouse
    provisioned = w.type == "provisioned"
    return {
        "valid": True,
        "pipeline": spec.name,
        "region": spec.region,
        "data": {"files": len(spec.data_paths()), "prefix": spec.data.prefix},
        "table": {
            "schema": spec.table.schema_,
            "name": spec.table.name,
            "columns": len(spec.table.columns),
        },
        "load": {"mode": spec.load.mode, "keys": list(spec.load.keys)},
        "warehouse": {
            "type": w.type,
            "database": w.database,
            "nodes": w.nodes if provisioned else None,
            "node_type": w.node_type if provisioned else None,
            "base_rpu": None if provisioned else w.base_rpu,
        },
        "glue": {
            "version": spec.glue.version,
            "workers": spec.glue.workers,
            "worker_type": spec.glue.worker_type,
        },
        "columns": [c.model_dump(mode="json", by_alias=True) for c in spec.table.columns],
    }


def _schema_names() -> list[str]:
    from wcpipe.ui.shapes import SHAPES

    return ["spec", *SHAPES]


@click.command()
@click.argument("command", required=False, default="spec", metavar="[COMMAND]")
def schema(command: str) -> None:
    """Print a JSON Schema: of the spec (no COMMAND, or `spec`: point your editor's YAML support
    at it), or of COMMAND's `--output json` (`wcpipe schema status`; `"sandbox serve"` quoted).
    Every command's JSON has one shape, checked against this schema before it is printed."""
    from wcpipe import ui
    from wcpipe.core.errors import UsageError
    from wcpipe.spec.model import json_schema
    from wcpipe.ui import shapes

    if command == "spec":
        ui.emit_json(json_schema())
        return
    if command not in shapes.SHAPES:
        raise UsageError(
            f"schema {command!r}: no such command with JSON output; choose one of "
            + ", ".join(_schema_names())
        )
    ui.emit_json(shapes.json_schema(command))
