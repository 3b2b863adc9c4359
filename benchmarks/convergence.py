"""Convergence under the `aws` latency profile.

A fresh `up` of the FIFA pipeline on the sandbox with
`wcpipe.sandbox.patches.latency.profile("aws")` (published readiness figures, divided by a scale
factor) and a wcpipe `Timing` scaled by the same factor, so every poll schedule sees the AWS-time
waits it would see on AWS. All figures are reported in AWS time (sandbox seconds x scale).

- makespan (parallel): `engine.plan` + `engine.apply(workers=8)`, the way `wcpipe up` runs.
- makespan (one at a time): the same with `workers=1`.
- critical path, measured: the plan's describe phase + the longest dependency chain, each
  resource weighted by its converge time in the one-at-a-time run (the time it needs alone,
  sandbox overheads and poll granularity included). The goal: makespan within 15% of it.
- critical path, ideal: the profile alone: per resource its requests x the per-request delay plus
  its own readiness delay, plus IAM propagation on the edges from a new role to the resources
  whose create assumes it (Lambda function, crawlers). No poll granularity, no sandbox overhead.
- polling: requests sent while waiting (an identical request sent again by the same resource:
  a status poll or a retried create) per resource-minute of waiting (first to last such request).

Each `up` uses its own pipeline name and is torn down (without latency) before the next, so the
two runs start from the same empty account.
"""

from __future__ import annotations

import time
from typing import Any

import sandboxes
from common import Results
from meter import Meter, Request, attribute

GOAL = 1.15
ROLE_CONSUMERS = {
    "lambda.function": "iam.lambda-role",
    "glue.s3-crawler": "iam.glue-role",
    "glue.redshift-crawler": "iam.glue-role",
}
OWN_READINESS = {"redshift.cluster": "redshift.cluster", "lambda.function": "lambda.function"}


def _aws_timing(scale: float) -> Any:
    from wcpipe.core.wait import Timing

    # The default schedule (2 s, x1.5, at most 30 s), in AWS seconds, on a clock running
    # `scale` times faster than the wall clock.
    return Timing(sleep=lambda s: time.sleep(s / scale), clock=lambda: time.monotonic() * scale)


def _up(name: str, scale: float, workers: int) -> dict[str, Any]:
    from wcpipe.provision import engine
    from wcpipe.provision.resources import catalog

    spec = sandboxes.fifa_spec(name)
    ctx = sandboxes.context(spec, timing=_aws_timing(scale))
    resources = catalog(ctx)
    spans: dict[str, list[float]] = {}
    attribute(resources, spans)
    meter = Meter().install()
    try:
        start = time.monotonic()
        the_plan = engine.plan(ctx, resources)
        planned = time.monotonic()
        engine.apply(ctx, resources, the_plan, workers=workers)
        end = time.monotonic()
    finally:
        meter.uninstall()
    keys = {r.key for r in resources}
    return {
        "makespan": (end - start) * scale,
        "describe": (planned - start) * scale,
        "spans": {k: [(a - start) * scale, (b - start) * scale] for k, (a, b) in spans.items()},
        "durations": {k: (b - a) * scale for k, (a, b) in spans.items()},
        "requests": meter.take(),
        "deps": {r.key: [d for d in r.depends_on if d in keys] for r in resources},
        "planned_at": planned,
        "raw_spans": spans,
    }


def _down(name: str) -> None:
    from wcpipe.provision import engine
    from wcpipe.provision.resources import catalog

    ctx = sandboxes.context(sandboxes.fifa_spec(name))
    resources = catalog(ctx)
    engine.destroy(ctx, resources, engine.plan_down(ctx, resources))


def longest_path(deps: dict[str, list[str]], weight: dict[str, float], edge: Any = None) -> float:
    """Length of the heaviest dependency chain; `edge(a, b)` adds a delay on a -> b."""
    memo: dict[str, float] = {}

    def finish(k: str) -> float:
        if k not in memo:
            before = [finish(d) + (edge(d, k) if edge else 0.0) for d in deps[k]]
            memo[k] = max(before, default=0.0) + weight.get(k, 0.0)
        return memo[k]

    return max(finish(k) for k in deps)


def _polling(
    requests: list[Request], spans: dict[str, list[float]], scale: float
) -> tuple[int, float]:
    """(requests sent while waiting, resource-minutes of waiting), in AWS time: within each
    resource's converge, every identical request sent again (a poll, a retried create), and the
    time from the first sending of such a request to its last repeat."""
    by_resource: dict[str, list[Request]] = {}
    for r in requests:
        start, end = spans.get(r.resource, (0.0, 0.0))
        if start <= r.at <= end:
            by_resource.setdefault(r.resource, []).append(r)
    count, minutes = 0, 0.0
    for rs in by_resource.values():
        seen: dict[str, float] = {}
        repeats = []
        for r in rs:
            if r.fingerprint in seen:
                repeats.append(r)
            else:
                seen[r.fingerprint] = r.at
        if not repeats:
            continue
        first = min(seen[r.fingerprint] for r in repeats)
        last = max(r.at for r in repeats)
        count += len(repeats)
        minutes += (last - first) * scale / 60
    return count, minutes


def run(results: Results, *, quick: bool) -> None:
    from wcpipe.sandbox.patches import latency

    scale = 240.0 if quick else 30.0
    profile = latency.profile("aws", scale=scale)
    assert profile is not None
    sandboxes.sandbox()
    # Warm up: one-time costs (moto's per-service imports, the readiness patches, building the
    # Lambda and Glue packages) must not land in the first measured run.
    if not sandboxes.warmed:
        _up("bench-cv-warm", scale, 8)
        _down("bench-cv-warm")
        sandboxes.warmed = True
    latency.install()
    runs: dict[str, dict[str, Any]] = {}
    # --quick skips the one-at-a-time run: resource weights then come from the parallel run.
    modes = (("parallel", 8),) if quick else (("parallel", 8), ("serial", 1))
    for label, workers in modes:
        name = f"bench-cv-{label[:3]}"
        sandboxes.server_count.inner = profile
        try:
            runs[label] = _up(name, scale, workers)
        finally:
            sandboxes.server_count.inner = None
        _down(name)
    par = runs["parallel"]
    ser = runs.get("serial", par)
    deps = par["deps"]
    cp_measured = par["describe"] + longest_path(deps, ser["durations"])

    per_request = profile.request
    nonpoll: dict[str, int] = {}
    for key in deps:
        fps = {r.fingerprint for r in par["requests"] if r.resource == key}
        nonpoll[key] = len(fps)
    ideal_weight = {
        k: n * per_request + profile.readiness.get(OWN_READINESS.get(k, ""), 0.0)
        for k, n in nonpoll.items()
    }
    iam = profile.readiness["iam.role"]
    planned = par["planned_at"]
    describe_ideal = max(
        (
            len({r.fingerprint for r in par["requests"] if r.resource == k and r.at <= planned})
            for k in deps
        ),
        default=0,
    )
    cp_ideal = describe_ideal * per_request + longest_path(
        deps, ideal_weight, lambda a, b: iam if ROLE_CONSUMERS.get(b) == a else 0.0
    )
    polls, minutes = _polling(par["requests"], par["raw_spans"], scale)
    # The sandbox's own service time per request (moto and boto3 in this process), from the
    # one-at-a-time run's resources that wait for nothing: added to the profile's per-request
    # delay, it gives the limit this machine could reach with perfect scheduling and polling.
    quiet = [k for k in deps if k not in OWN_READINESS and k not in ROLE_CONSUMERS]
    quiet_requests = sum(
        len([r for r in ser["requests"] if r.resource == k and r.at >= ser["planned_at"]])
        for k in quiet
    )
    overhead = sum(ser["durations"][k] for k in quiet) / max(1, quiet_requests) - per_request
    overhead = max(0.0, overhead)
    calibrated_weight = {k: w + nonpoll[k] * overhead for k, w in ideal_weight.items()}
    cp_calibrated = par["describe"] + longest_path(
        deps, calibrated_weight, lambda a, b: iam if ROLE_CONSUMERS.get(b) == a else 0.0
    )
    ratio = par["makespan"] / cp_measured
    chain = _critical_chain(deps, ser["durations"])
    results.details["converge"] = {
        "scale": scale,
        "parallel_makespan_s": par["makespan"],
        "serial_makespan_s": ser["makespan"],
        "describe_s": par["describe"],
        "cp_measured_s": cp_measured,
        "cp_ideal_s": cp_ideal,
        "cp_calibrated_s": cp_calibrated,
        "sandbox_overhead_per_request_s": overhead,
        "serial_durations_s": ser["durations"],
        "parallel_spans_s": par["spans"],
        "critical_chain": chain,
        "wait_requests": polls,
        "wait_minutes": minutes,
    }
    results.add(
        "converge",
        f"up makespan (aws profile, scale 1/{scale:g}, AWS time)",
        f"{par['makespan']:.0f} s",
        f"<= {GOAL:.2f} x critical path",
        ratio <= GOAL,
        f"{ratio:.2f} x measured critical path {cp_measured:.0f} s "
        f"({' > '.join(chain)}); profile-only {cp_ideal:.0f} s; profile + sandbox service "
        f"time {overhead:.2f} s/request: {cp_calibrated:.0f} s "
        f"({par['makespan'] / cp_calibrated:.2f} x)",
    )
    results.add(
        "converge",
        "up one resource at a time",
        "skipped (--quick)" if ser is par else f"{ser['makespan']:.0f} s",
        notes=f"parallel is {ser['makespan'] / par['makespan']:.2f} x faster; describe phase "
        f"{par['describe']:.0f} s",
    )
    rate = polls / minutes if minutes else 0.0
    results.add(
        "converge",
        "requests per resource-minute of waiting",
        f"{rate:.1f}",
        "backs off",
        None,
        f"{polls} requests over {minutes:.1f} resource-min (SDK waiters: 1-2/min)",
    )


def _critical_chain(deps: dict[str, list[str]], weight: dict[str, float]) -> list[str]:
    memo: dict[str, tuple[float, list[str]]] = {}

    def best(k: str) -> tuple[float, list[str]]:
        if k not in memo:
            options = [best(d) for d in deps[k]]
            length, path = max(options, default=(0.0, []))
            memo[k] = (length + weight.get(k, 0.0), [*path, k])
        return memo[k]

    return max((best(k) for k in deps), key=lambda x: x[0])[1]
