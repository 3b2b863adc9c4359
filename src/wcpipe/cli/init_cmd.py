"""`wcpipe init`: draft a commented spec from your own CSV."""

from __future__ import annotations

from pathlib import Path

import click

from wcpipe.cli.app import App


@click.command()
@click.argument("source")
@click.option("--name", help="Pipeline name (default: from the file name).")
@click.option(
    "-o",
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the spec (default: config/<name>.yaml).",
)
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@click.pass_obj
def init(app: App, source: str, name: str | None, out: Path | None, force: bool) -> None:
    """Draft a spec from SOURCE, a CSV file or s3://bucket/prefix, with types, nullability and
    suggested cleaning rules, each explained in a comment."""
    from wcpipe import ui
    from wcpipe.authoring import draft as drafting
    from wcpipe.spec.model import PIPELINE_NAME

    if name is not None:
        import re

        if not re.fullmatch(PIPELINE_NAME, name):
            raise click.BadParameter(
                "use 2-24 lowercase letters, digits and hyphens", param_hint="--name"
            )
    if source.startswith("s3://"):
        from wcpipe.core.aws import Aws

        aws = Aws(region=app.region, profile=app.profile, endpoint_url=app.endpoint_url)
        sample = drafting.sample_s3(aws.client("s3"), source)
    else:
        sample = drafting.sample_local(Path(source))
    if out is None:
        stem = Path(source.rstrip("/")).stem
        out = Path("config") / f"{name or drafting._pipeline_name(stem)}.yaml"
    drafted = drafting.draft(sample, name=name, spec_dir=out.parent)
    drafting.write_spec(drafted.text, out, force=force)
    for warning in drafted.warnings:
        ui.warn(warning)
    if app.json:
        ui.emit_json({"written": str(out)})
    else:
        ui.info(f"wrote {out}; check it with: wcpipe -c {out} validate")
