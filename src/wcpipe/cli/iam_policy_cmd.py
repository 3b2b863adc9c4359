"""`wcpipe iam-policy`: the operator's least-privilege policy for this spec (thin command over
`wcpipe.provision.operator_policy`)."""

from __future__ import annotations

from pathlib import Path

import click

from wcpipe.cli.app import App


@click.command("iam-policy")
@click.option(
    "--account-id",
    help="The AWS account the pipeline lives in (default: the caller's, from STS, which "
    "needs no permission).",
)
@click.option(
    "--part",
    type=click.IntRange(min=1),
    help="Print only this document, when the policy is larger than one managed policy holds.",
)
@click.option(
    "--out-dir",
    type=click.Path(file_okay=False),
    help="Write every document to DIR/wcpipe-<name>-operator-<n>.json instead.",
)
@click.pass_obj
def iam_policy(app: App, account_id: str | None, part: int | None, out_dir: str | None) -> None:
    """Print the least-privilege IAM policy a person needs to run up, run, verify, status, logs
    and down for this spec, scoped to the pipeline's names, ready for `aws iam create-policy
    --policy-document file://policy.json`. A policy larger than one managed policy holds (6,144
    characters) comes as several documents: --part N prints one, --out-dir writes them all."""
    import json

    from wcpipe import ui
    from wcpipe.core.errors import UsageError
    from wcpipe.provision.operator_policy import Declared, operator_documents
    from wcpipe.spec.names import Names

    spec = app.spec
    aws = app.context.aws
    names = Names.of(spec, account_id or aws.account_id, aws.region)
    documents = operator_documents(names, aws.partition, Declared.of(spec), spec.network.vpc_id)
    if out_dir is not None:
        directory = Path(out_dir)
        directory.mkdir(parents=True, exist_ok=True)
        for n, document in enumerate(documents, 1):
            path = directory / f"{names.base}-operator-{n}.json"
            path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
            ui.info(
                f"aws iam create-policy --policy-name {path.stem} --policy-document file://{path}"
            )
        return
    if part is None and len(documents) > 1:
        raise UsageError(
            f"the policy is {len(documents)} documents (a managed policy holds 6,144 "
            "characters): pass --out-dir DIR to write them all, or --part N for one"
        )
    index = (part or 1) - 1
    if index >= len(documents):
        raise UsageError(f"--part {part}: the policy has {len(documents)} document(s)")
    ui.emit_json(documents[index])
