"""What resources read from one another's outputs is what those resources publish.

Resources pass facts through the engine's board by (key, name) strings
(`ctx.output("ec2.security-group", "group_id")`). A misspelt key or name would read None and,
with `output_or`, fall back silently. Every such literal in the provisioning code must name a
resource of the catalog and an output it publishes after a real `up` on the sandbox."""

from __future__ import annotations

import ast
from typing import Any

import pytest
from support.paths import ROOT, SPEC_PATH

pytestmark = pytest.mark.e2e


def _literal_lookups() -> set[tuple[str, str]]:
    found = set()
    for path in (ROOT / "src" / "wcpipe" / "provision").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in {"output", "output_or"}
                and len(node.args) >= 2
                and all(isinstance(a, ast.Constant) for a in node.args[:2])
            ):
                key, name = (a.value for a in node.args[:2])  # type: ignore[attr-defined]
                found.add((str(key), str(name)))
    return found


def test_every_output_read_is_published(sandbox: Any) -> None:
    from wcpipe.core.aws import Aws
    from wcpipe.core.wait import Timing
    from wcpipe.provision import engine
    from wcpipe.provision.resources import catalog
    from wcpipe.provision.resources.base import Context
    from wcpipe.spec.model import parse_spec

    lookups = _literal_lookups()
    assert len(lookups) >= 8, lookups  # the scan finds them (a refactor must not hide them)
    # With alerts, so the resources only they declare (the topic the alarms read) are up too.
    text = SPEC_PATH.read_text() + "\nalerts:\n  email: [ops@example.com]\n"
    spec = parse_spec(text, source=str(SPEC_PATH), base_dir=SPEC_PATH.parent)
    aws = Aws(region="us-east-1", endpoint_url=sandbox.endpoint)
    ctx = Context(spec=spec, aws=aws, timing=Timing(initial=0.05, maximum=0.2))
    resources = catalog(ctx)
    keys = {r.key for r in resources} | {"ec2.network"}
    engine.apply(ctx, resources, engine.plan(ctx, resources))
    unknown = sorted((k, n) for k, n in lookups if k not in keys)
    unpublished = sorted((k, n) for k, n in lookups if n not in ctx.outputs.get(k, {}))
    try:
        assert unknown == [] and unpublished == [], (unknown, unpublished)
    finally:
        engine.destroy(ctx, resources, engine.plan_down(ctx, resources))
