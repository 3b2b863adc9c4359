"""Order resources by their dependencies and run them: plan (read only), up, down, status.

- `plan` describes every resource once (only read calls; concurrently, each after its
  dependencies, whose outputs it may read) and decides per resource: create, update (with each
  differing field, old -> new), blocked (a difference AWS cannot make in place, or a create
  AWS would refuse until something outside the spec changes: `Resource.blocked_create`; with
  the reason), no change, or not owned.
- `up` acts on exactly the differences `plan` showed (each Change carries them).
- `up` reuses those observations, then converges the graph in dependency order, running
  independent resources concurrently; ties break by key so output is deterministic.
- `down` deletes in reverse dependency order, only what carries this pipeline's ownership tag
  (each resource's `down_action`: a shared one may take only this pipeline's share off).
- What the spec no longer declares (`resources.undeclared`: the other warehouse type's cluster or
  workgroup after `warehouse.type` changed) is described too: if it exists and is ours, `plan`
  shows its removal (`delete`, with the reason), `up` deletes it once everything declared has
  converged (so the new warehouse is up before the old one goes), `status` shows it as
  `undeclared`, and `down` deletes it with the rest.
A dependency cycle is an error that names it.
"""

from __future__ import annotations

import graphlib
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from wcpipe.core.errors import (
    Abandoned,
    CycleError,
    Interrupted,
    NotOwnedError,
    WcpipeError,
    translate,
)
from wcpipe.core.wait import Timing
from wcpipe.provision.resources.base import (
    Context,
    Differences,
    Fact,
    Observed,
    Outcome,
    Resource,
    blocked_error,
)

Action = Literal["create", "update", "blocked", "none", "not-owned", "delete", "absent", "keep"]


@dataclass(frozen=True)
class Change:
    key: str
    kind: str
    name: str
    action: Action
    differences: Differences = field(default_factory=Differences)
    billable: bool = False
    reason: str | None = None
    """Why, where the action needs one: a removal of what the spec no longer declares."""

    @property
    def fields(self) -> tuple[str, ...]:
        return self.differences.fields

    def as_dict(self) -> dict[str, Any]:
        return {
            "resource": self.key,
            "kind": self.kind,
            "name": self.name,
            "action": self.action,
            "fields": list(self.fields),
            "differences": [d.as_dict() for d in self.differences],
            "billable": self.billable,
            "reason": self.reason,
        }


@dataclass
class Plan:
    changes: list[Change]
    observed: dict[str, Observed | None] = field(default_factory=dict)
    removals: list[Resource] = field(default_factory=list)
    """Resources the spec no longer declares that exist and are ours: `apply` deletes them."""
    kept: list[str] = field(default_factory=list)
    """What an earlier spec made that this one no longer declares and `up` keeps, with why
    (`Resource.left_behind`)."""

    @property
    def pending(self) -> list[Change]:
        return [c for c in self.changes if c.action not in ("none", "absent", "keep")]

    @property
    def blocked(self) -> list[Change]:
        return [c for c in self.changes if c.action in ("not-owned", "blocked")]

    def refuse_blocked(self, pipeline: str) -> None:
        """NotOwnedError naming the first resource this pipeline may not touch, or BlockedChange
        naming the first change AWS cannot make in place, if any: `up` says it before asking,
        and `apply` never acts on a plan that has one."""
        for c in self.blocked:
            if c.action == "not-owned":
                raise NotOwnedError(c.kind, c.name, pipeline)
        for c in self.blocked:
            creating = c.key in self.observed and self.observed[c.key] is None
            raise blocked_error(c.kind, c.name, c.differences, creating=creating)


class Reporter:
    """Progress callbacks; the UI renders them, tests may record them. Default: silent."""

    def begin(self, resources: list[Resource], verb: str) -> None: ...
    def started(self, key: str, doing: str) -> None: ...
    def note(self, key: str, message: str) -> None: ...
    def finished(self, key: str, outcome: str) -> None: ...
    def failed(self, key: str, error: str) -> None: ...
    def stopping(self, message: str) -> None: ...
    def end(self) -> None: ...


GRACE_SECONDS = 20.0
"""After Ctrl-C, how long `up`/`down` let the AWS calls in flight finish (a wait in progress is
abandoned at once) before they stop without them."""


def order(resources: Iterable[Resource]) -> list[list[Resource]]:
    """Resources in batches: each batch depends only on earlier ones; sorted by key within."""
    by_key = {r.key: r for r in resources}
    sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
    for r in by_key.values():
        sorter.add(r.key, *(d for d in r.depends_on if d in by_key))
    try:
        sorter.prepare()
    except graphlib.CycleError as exc:
        cycle = " -> ".join(exc.args[1])
        raise CycleError(f"resource dependencies form a cycle: {cycle}") from None
    batches = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready())
        batches.append([by_key[k] for k in ready])
        sorter.done(*ready)
    return batches


def _dependents(resources: list[Resource]) -> dict[str, set[str]]:
    keys = {r.key for r in resources}
    out: dict[str, set[str]] = {r.key: set() for r in resources}
    for r in resources:
        for d in r.depends_on:
            if d in keys:
                out[d].add(r.key)
    return out


def _interruptible(timing: Timing, stop: threading.Event) -> Timing:
    """`timing`, whose sleeps end with Abandoned once `stop` is set (Ctrl-C)."""
    import time

    def sleep(seconds: float) -> None:
        if timing.sleep is time.sleep:
            stopped = stop.wait(seconds)
        else:
            stopped = stop.is_set()
            if not stopped:
                timing.sleep(seconds)
        if stopped or stop.is_set():
            raise Abandoned

    return replace(timing, sleep=sleep)


def _run_graph(
    resources: list[Resource],
    step: Callable[[Resource], str],
    *,
    reverse: bool = False,
    reporter: Reporter,
    workers: int,
    ctx: Context | None = None,
    verb: str = "up",
    waits_on: dict[str, set[str]] | None = None,
) -> dict[str, str]:
    """Run `step` on each resource as soon as what it waits on is done. A failure stops new
    work, lets running steps finish, and raises the first error. Ctrl-C (KeyboardInterrupt in
    this thread) stops new work at once, abandons the waits in progress (through `ctx.timing`),
    lets the calls in flight finish for up to GRACE_SECONDS, and raises Interrupted saying what
    was done. Each resource waits on its dependencies (`reverse`: on its dependents), unless
    `waits_on` says otherwise."""
    order(resources)  # raises CycleError before any work
    keys = {r.key for r in resources}
    if waits_on is None:
        if reverse:
            waits_on = _dependents(resources)
        else:
            waits_on = {r.key: {d for d in r.depends_on if d in keys} for r in resources}
    by_key = {r.key: r for r in resources}
    done: dict[str, str] = {}
    running: dict[Future[str], str] = {}
    errors: list[BaseException] = []
    stop = threading.Event()
    timing_before = ctx.timing if ctx is not None else None
    if ctx is not None:
        ctx.timing = _interruptible(ctx.timing, stop)
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="wcpipe")
    try:
        while True:
            if not errors:
                ready = sorted(
                    k
                    for k in by_key
                    if k not in done and k not in running.values() and waits_on[k] <= done.keys()
                )
                for k in ready:
                    running[pool.submit(step, by_key[k])] = k
            if not running:
                break
            # In slices, so Ctrl-C is seen at once on every platform (a lock wait without a
            # timeout is not interrupted by it everywhere).
            finished, _ = wait(list(running), timeout=0.5, return_when=FIRST_COMPLETED)
            for fut in sorted(finished, key=lambda f: running[f]):
                k = running.pop(fut)
                exc = fut.exception()
                if exc is not None:
                    err = translate(exc, f"{by_key[k].kind} {by_key[k].name}")
                    if err is not exc:
                        err.__cause__ = exc  # --debug shows botocore's frames too
                    reporter.failed(k, str(err))
                    errors.append(err)
                else:
                    done[k] = fut.result()
                    reporter.finished(k, done[k])
    except KeyboardInterrupt:
        stop.set()
        if ctx is None:
            raise  # reading only (plan's describes): nothing to converge
        reporter.stopping(
            f"stopping: no new {verb} steps; {len(running)} in flight "
            f"({', '.join(sorted(running.values()))}) finish or are abandoned "
            f"within {GRACE_SECONDS:.0f}s"
        )
        wait(list(running), timeout=GRACE_SECONDS)
        raise _interrupted(verb, by_key, done, running) from None
    finally:
        pool.shutdown(wait=not stop.is_set(), cancel_futures=True)
        if ctx is not None and timing_before is not None:
            ctx.timing = timing_before
    if errors:
        raise errors[0]
    return done


def _interrupted(
    verb: str, by_key: dict[str, Resource], done: dict[str, str], running: dict[Future[str], str]
) -> Interrupted:
    """What Ctrl-C left: each outcome so far, what was in flight, and that a rerun converges."""
    for fut, k in running.items():
        if fut.done() and fut.exception() is None:
            done[k] = fut.result()
    counts: dict[str, int] = {}
    for outcome in done.values():
        counts[outcome] = counts.get(outcome, 0) + 1
    summary = ", ".join(f"{n} {o}" for o, n in sorted(counts.items())) or "nothing done"
    cut = sorted(k for fut, k in running.items() if not fut.done() or fut.exception())
    left = len(by_key) - len(done)
    where = f"; cut short: {', '.join(cut)}" if cut else ""
    again = "up" if verb == "up" else "down"
    return Interrupted(
        f"{verb} interrupted: {summary} of {len(by_key)}; {left} not done{where}",
        hint=f"run `wcpipe {again}` again: it converges from here (`wcpipe status` shows what "
        "exists now)",
    )


def describe_all(
    ctx: Context,
    resources: list[Resource],
    workers: int = 8,
    kept: dict[str, list[str]] | None = None,
) -> dict[str, Observed | None]:
    """One describe per resource (read calls only), concurrently along the dependency graph:
    each is described once its dependencies' describes are done and have published their
    outputs, so it reads what they found (the cluster's state, the secret's ARN, the bucket's
    tags) from the context instead of asking AWS a second time. With `kept`, each resource's
    `left_behind()` is collected there too."""
    found: dict[str, Observed | None] = {}

    def one(r: Resource) -> str:
        ctx.forget(r.key)  # what an earlier run published must not stand for this describe
        try:
            observed = r.describe()
        except WcpipeError:
            raise
        except Exception as exc:
            raise translate(exc, f"describing {r.kind} {r.name}") from exc
        found[r.key] = observed
        if observed is None:
            ctx.mark_absent(r.key)
        else:
            ctx.publish(r.key, r.outputs(observed))
        if kept is not None:
            try:
                kept[r.key] = r.left_behind()
            except Exception as exc:
                raise translate(exc, f"describing what {r.kind} {r.name} left") from exc
        return "described"

    _run_graph(resources, one, reverse=False, reporter=Reporter(), workers=workers)
    return {r.key: found[r.key] for r in resources}


def decide(
    ctx: Context, resources: list[Resource], observed: dict[str, Observed | None]
) -> list[Change]:
    """The plan, from observations. Pure apart from reading dependency outputs."""
    changes = []
    for batch in order(resources):
        for r in batch:
            obs = observed[r.key]
            if obs is None:
                refused = Differences(r.blocked_create())
                made: Action = "blocked" if refused.blocked else "create"
                changes.append(Change(r.key, r.kind, r.name, made, refused, r.billable))
                continue
            ctx.publish(r.key, r.outputs(obs))
            if not r.owned(obs) and r.shared:
                changes.append(Change(r.key, r.kind, r.name, "none", billable=r.billable))
                continue
            if not r.owned(obs):
                changes.append(Change(r.key, r.kind, r.name, "not-owned", billable=r.billable))
                continue
            found = Differences(r.differences(obs))
            action: Action = "blocked" if found.blocked else "update" if found else "none"
            changes.append(Change(r.key, r.kind, r.name, action, found, r.billable))
    return changes


UNDECLARED_REASON = "the spec no longer declares it (it exists only with {needs})"


def removals(resources: list[Resource], observed: dict[str, Observed | None]) -> list[Change]:
    """A `delete` for each resource the spec no longer declares that exists and is ours; one
    that is absent, or not ours, is none of this pipeline's business."""
    out = []
    for r in resources:
        obs = observed.get(r.key)
        if obs is not None and r.owned(obs):
            why = UNDECLARED_REASON.format(needs=r.declared_by or "nothing declares it")
            out.append(Change(r.key, r.kind, r.name, "delete", billable=r.billable, reason=why))
    return out


def plan(ctx: Context, resources: list[Resource], undeclared: Iterable[Resource] = ()) -> Plan:
    """What `up` would do: each declared resource's change, then the removal of what the spec
    no longer declares (`undeclared`) and exists as ours."""
    extra = list(undeclared)
    order(resources + extra)
    kept: dict[str, list[str]] = {}
    observed = describe_all(ctx, resources + extra, kept=kept)
    changes = decide(ctx, resources, observed)
    gone = removals(extra, observed)
    doomed = {c.key for c in gone}
    notes = [note for r in resources for note in kept.get(r.key, [])]
    return Plan(changes + gone, observed, [r for r in extra if r.key in doomed], notes)


@contextmanager
def _notes_to(ctx: Context, reporter: Reporter) -> Iterator[None]:
    """Resources' progress notes (`ctx.note`: a cluster's wait, a resize) go to `reporter`
    while it shows this run."""
    before = ctx.note
    ctx.note = reporter.note
    try:
        yield
    finally:
        ctx.note = before


def apply(
    ctx: Context,
    resources: list[Resource],
    the_plan: Plan,
    *,
    reporter: Reporter | None = None,
    workers: int = 8,
) -> dict[str, str]:
    """Converge every resource, reusing the plan's observations."""
    reporter = reporter or Reporter()
    the_plan.refuse_blocked(ctx.spec.name)
    planned = {c.key: c.differences for c in the_plan.changes}
    reporter.begin(resources, "up")

    def step(r: Resource) -> Outcome:
        obs = the_plan.observed.get(r.key)
        reporter.started(r.key, "creating" if obs is None else "checking")
        outcome, obs = r.converge(obs, planned.get(r.key) if obs is not None else None)
        if obs is not None:
            ctx.publish(r.key, r.outputs(obs))
        return outcome

    def remove(r: Resource) -> Outcome:
        reporter.started(r.key, "deleting (no longer declared)")
        r.delete(the_plan.observed[r.key])  # type: ignore[arg-type]
        return "deleted"

    graph, waits_on = _with_removals(resources, the_plan.removals)
    steps = {r.key: remove for r in the_plan.removals}
    try:
        with _notes_to(ctx, reporter):
            return _run_graph(
                graph,
                lambda r: steps.get(r.key, step)(r),
                reporter=reporter,
                workers=workers,
                ctx=ctx,
                waits_on=waits_on,
            )
    finally:
        reporter.end()


def _with_removals(
    resources: list[Resource], doomed: list[Resource]
) -> tuple[list[Resource], dict[str, set[str]]]:
    """One graph for `up`: each declared resource waits on its dependencies; each removal waits
    on every declared resource (the new warehouse converges before the old one goes, and a
    failure anywhere removes nothing) and on the removals that depend on it (reverse order)."""
    keys = {r.key for r in resources}
    waits_on = {r.key: {d for d in r.depends_on if d in keys} for r in resources}
    removal_dependents = _dependents(doomed)
    for r in doomed:
        waits_on[r.key] = keys | removal_dependents[r.key]
    return resources + doomed, waits_on


def plan_down(ctx: Context, resources: list[Resource], undeclared: Iterable[Resource] = ()) -> Plan:
    """What `down` deletes: each declared resource that exists and is ours, and each one the
    spec no longer declares that does (pass both to `destroy`)."""
    extra = list(undeclared)
    observed = describe_all(ctx, resources + extra)
    gone = removals(extra, observed)
    changes = []
    for r in resources:
        obs = observed[r.key]
        action: Action = "absent"
        why = None
        if obs is not None:
            action, why = r.down_action(obs)
        changes.append(Change(r.key, r.kind, r.name, action, billable=r.billable, reason=why))
    doomed = {c.key for c in gone}
    return Plan(changes + gone, observed, [r for r in extra if r.key in doomed])


def destroy(
    ctx: Context,
    resources: list[Resource],
    the_plan: Plan,
    *,
    reporter: Reporter | None = None,
    workers: int = 8,
) -> dict[str, str]:
    """Delete owned resources in reverse dependency order."""
    reporter = reporter or Reporter()
    reporter.begin(resources, "down")
    planned = {c.key: c.action for c in the_plan.changes}

    def step(r: Resource) -> Outcome:
        obs = the_plan.observed.get(r.key)
        if obs is None:
            return "absent"
        if planned.get(r.key, r.down_action(obs)[0]) == "keep":
            return "kept"
        reporter.started(r.key, "deleting")
        r.delete(obs)
        return "deleted"

    try:
        with _notes_to(ctx, reporter):
            return _run_graph(
                resources,
                step,
                reverse=True,
                reporter=reporter,
                workers=workers,
                ctx=ctx,
                verb="down",
            )
    finally:
        reporter.end()


StatusState = Literal["present", "missing", "drifted", "not-owned", "undeclared"]


@dataclass(frozen=True)
class Status:
    key: str
    kind: str
    name: str
    state: StatusState
    facts: Mapping[str, Fact]
    drift: Differences = field(default_factory=Differences)

    def as_dict(self) -> dict[str, Any]:
        return {
            "resource": self.key,
            "kind": self.kind,
            "name": self.name,
            "state": self.state,
            "drift": [d.as_dict() for d in self.drift],
            "facts": self.facts,
        }


def status(
    ctx: Context, resources: list[Resource], undeclared: Iterable[Resource] = ()
) -> list[Status]:
    """Each declared resource's state, then each one the spec no longer declares that still
    exists as ours (`undeclared`: `up` or `down` removes it)."""
    extra = list(undeclared)
    the_plan = plan(ctx, resources, extra)
    by_key = {r.key: r for r in resources + extra}
    out = []
    for c in the_plan.changes:
        r = by_key[c.key]
        obs = the_plan.observed[c.key]
        facts = r.facts(obs) if obs is not None else {}
        if c.action == "delete":
            facts = {**facts, "why": c.reason or ""}
        state: StatusState = {
            "create": "missing",
            "update": "drifted",
            "blocked": "drifted",
            "none": "present",
            "not-owned": "not-owned",
            "delete": "undeclared",
        }[c.action]  # type: ignore[assignment]
        if obs is None and c.action == "blocked":
            state = "missing"  # a create `up` refuses (`Resource.blocked_create`)
        out.append(Status(c.key, c.kind, c.name, state, facts, c.differences))
    return out
