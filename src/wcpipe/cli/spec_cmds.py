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
        ui.emit_json(
            {
                "valid": True,
                **summary,
                "columns": [c.model_dump(by_alias=True) for c in spec.table.columns],
            }
        )
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


@click.command()
def schema() -> None:
    """Print the spec's JSON Schema (point your editor's YAML support at it)."""
    from wcpipe import ui
    from wcpipe.spec.model import json_schema

    ui.emit_json(json_schema())
