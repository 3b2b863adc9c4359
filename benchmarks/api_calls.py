"""API economy: requests for a fresh `up`, an `up` with nothing to do, `plan` and
`down` of the FIFA pipeline against the sandbox, split into reads and mutating calls, per
resource, with every read that was sent twice (identical method, URL and body) listed.

Each operation calls the same library functions as its CLI command (`engine.plan`, then
`engine.apply` / `engine.plan_down` + `engine.destroy`), with a fresh Context (a fresh client
cache, as a new CLI process has). Counted at the client (`before-send`, retries included) and
cross-checked against the server's count of requests it received.

Goals: `up` with nothing to do sends zero mutating requests and at most ~1.5 reads per resource;
a fresh `up` at most ~3 requests per resource; no read repeated without need.
"""

from __future__ import annotations

from typing import Any

import sandboxes
from common import Results
from meter import Meter, attribute, summary

NOOP_READS_PER_RESOURCE = 1.5
FRESH_PER_RESOURCE = 3.0


def _up(spec: Any) -> dict[str, str]:
    from wcpipe.provision import engine
    from wcpipe.provision.resources import catalog

    ctx = sandboxes.context(spec)
    resources = catalog(ctx)
    attribute(resources)
    the_plan = engine.plan(ctx, resources)
    if not the_plan.pending:  # what `wcpipe up` does: nothing to apply
        return {}
    return engine.apply(ctx, resources, the_plan)


def _plan(spec: Any) -> None:
    from wcpipe.provision import engine
    from wcpipe.provision.resources import catalog

    ctx = sandboxes.context(spec)
    resources = catalog(ctx)
    attribute(resources)
    engine.plan(ctx, resources)


def _down(spec: Any) -> dict[str, str]:
    from wcpipe.provision import engine
    from wcpipe.provision.resources import catalog

    ctx = sandboxes.context(spec)
    resources = catalog(ctx)
    attribute(resources)
    the_plan = engine.plan_down(ctx, resources)
    return engine.destroy(ctx, resources, the_plan)


def measure(spec: Any) -> tuple[dict[str, dict[str, Any]], int]:
    from wcpipe.provision.resources import catalog

    sandboxes.sandbox()
    n = len(catalog(sandboxes.context(spec)))
    meter = Meter().install()
    out: dict[str, dict[str, Any]] = {}
    try:
        for label, fn in (
            ("fresh up", _up),
            ("up, nothing to do", _up),
            ("plan", _plan),
            ("down", _down),
        ):
            meter.take()
            sandboxes.server_count.take()
            fn(spec)
            client = summary(meter.take())
            client["server_total"] = sandboxes.server_count.take()
            out[label] = client
            sandboxes.warmed = True
    finally:
        meter.uninstall()
    return out, n


def run(results: Results, *, quick: bool) -> None:
    spec = sandboxes.fifa_spec("bench-api")
    figures, n = measure(spec)
    results.details["api"] = figures
    for label, f in figures.items():
        per = f["total"] / n
        goal, ok = "", None
        if label == "fresh up":
            goal, ok = f"<= {FRESH_PER_RESOURCE:g}/resource", per <= FRESH_PER_RESOURCE
        elif label == "up, nothing to do":
            reads = f["reads"] / n
            goal = f"0 mutating, <= {NOOP_READS_PER_RESOURCE:g} reads/resource"
            ok = f["mutating"] == 0 and reads <= NOOP_READS_PER_RESOURCE
        notes = f"server saw {f['server_total']}; {f['status_polls']} statement polls"
        if f["repeated_reads"]:
            top = sorted(f["repeated_ops"].items(), key=lambda kv: -kv[1])[:3]
            notes += "; repeats: " + ", ".join(f"{k} +{v}" for k, v in top)
        results.add(
            "api",
            f"{label} ({n} resources)",
            f"{f['total']} req = {f['reads']} read + {f['mutating']} mut "
            f"({per:.2f}/res); {f['repeated_reads']} repeated reads",
            goal,
            ok,
            notes,
        )
    for label in ("fresh up", "up, nothing to do"):
        worst = sorted(
            figures[label]["by_resource"].items(),
            key=lambda kv: -(kv[1]["reads"] + kv[1]["mutating"]),
        )[:5]
        results.add(
            "api",
            f"{label}: heaviest resources",
            ", ".join(f"{k} {v['reads']}r+{v['mutating']}m" for k, v in worst),
        )
