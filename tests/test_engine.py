"""The engine: ordering, cycles, concurrency, failure handling, ownership, reverse teardown.

These use in-memory resources (not fakes of AWS: they stand for 'a resource' in the graph)."""

from __future__ import annotations

import threading
from typing import Any, ClassVar

import pytest

from wcpipe.core.errors import CycleError, NotOwnedError, WcpipeError
from wcpipe.provision import engine
from wcpipe.provision.resources.base import Context, Difference, Differences, Observed, Resource
from wcpipe.spec.model import parse_spec
from wcpipe.spec.names import OWNER_TAG

SPEC = parse_spec("name: tt\ntable: {name: x, columns: [{name: a, type: int}]}\n")


class World:
    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}
        self.log: list[str] = []
        self.lock = threading.Lock()


def make(key: str, deps: tuple[str, ...] = (), *, shared: bool = False) -> type[Resource]:
    class Thing(Resource):
        kind = "thing"
        depends_on: ClassVar[tuple[str, ...]] = deps

        def __init__(self, ctx: Context, world: World) -> None:
            super().__init__(ctx)
            self.world = world

        @property
        def name(self) -> str:
            return key

        def describe(self) -> Observed | None:
            item = self.world.items.get(key)
            return None if item is None else Observed(dict(item), dict(item["tags"]))

        def differences(self, observed: Observed) -> list[Difference]:
            size = observed.data.get("size")
            return [] if size == 1 else [Difference("size", size, 1)]

        def create(self) -> Observed | None:
            with self.world.lock:
                for d in deps:
                    assert d in self.world.items, f"{key} created before {d}"
                self.world.items[key] = {"size": 1, "tags": dict(self.ctx.tags)}
                self.world.log.append(f"create {key}")
            return None

        def update(self, observed: Observed, fields: Differences) -> None:
            self.world.items[key]["size"] = 1
            self.world.log.append(f"update {key}")

        def delete(self, observed: Observed) -> None:
            with self.world.lock:
                for other in self.world.items:
                    assert key not in DEPS.get(other, ()), f"{key} deleted before {other}"
                del self.world.items[key]
                self.world.log.append(f"delete {key}")

    Thing.key = key
    Thing.shared = shared
    DEPS[key] = deps
    return Thing


DEPS: dict[str, tuple[str, ...]] = {}


@pytest.fixture
def setup():  # type: ignore[no-untyped-def]
    ctx = Context(spec=SPEC, aws=None)  # type: ignore[arg-type]
    world = World()
    classes = [make("a"), make("b", ("a",)), make("c", ("a",)), make("d", ("b", "c"))]
    return ctx, world, [cls(ctx, world) for cls in classes]  # type: ignore[call-arg]


def test_order_batches_and_is_deterministic(setup) -> None:  # type: ignore[no-untyped-def]
    _ctx, _world, resources = setup
    batches = engine.order(reversed(resources))
    assert [[r.key for r in b] for b in batches] == [["a"], ["b", "c"], ["d"]]


def test_cycle_is_named() -> None:
    ctx = Context(spec=SPEC, aws=None)  # type: ignore[arg-type]
    world = World()
    resources = [make("x", ("y",))(ctx, world), make("y", ("x",))(ctx, world)]  # type: ignore[call-arg]
    with pytest.raises(CycleError, match=r"cycle: (x -> y -> x|y -> x -> y)"):
        engine.plan(ctx, resources)


def test_up_twice_then_down_twice(setup) -> None:  # type: ignore[no-untyped-def]
    ctx, world, resources = setup
    plan = engine.plan(ctx, resources)
    assert [c.action for c in plan.changes] == ["create"] * 4
    result = engine.apply(ctx, resources, plan)
    assert result == {"a": "created", "b": "created", "c": "created", "d": "created"}
    second = engine.plan(ctx, resources)
    assert second.pending == []
    assert set(engine.apply(ctx, resources, second).values()) == {"unchanged"}
    assert [x for x in world.log if not x.startswith("create")] == []

    down = engine.plan_down(ctx, resources)
    assert engine.destroy(ctx, resources, down) == dict.fromkeys("abcd", "deleted")
    assert world.items == {}
    again = engine.plan_down(ctx, resources)
    assert set(engine.destroy(ctx, resources, again).values()) == {"absent"}


def test_drift_is_planned_as_update_with_fields(setup) -> None:  # type: ignore[no-untyped-def]
    ctx, world, resources = setup
    engine.apply(ctx, resources, engine.plan(ctx, resources))
    world.items["c"]["size"] = 5
    plan = engine.plan(ctx, resources)
    assert [(c.key, c.fields) for c in plan.pending] == [("c", ("size",))]
    assert engine.apply(ctx, resources, plan)["c"] == "updated"
    assert world.items["c"]["size"] == 1


def test_independent_resources_run_concurrently() -> None:
    ctx = Context(spec=SPEC, aws=None)  # type: ignore[arg-type]
    world = World()
    barrier = threading.Barrier(3, timeout=5)

    def slow(key: str) -> type[Resource]:
        base = make(key)

        class Slow(base):  # type: ignore[valid-type,misc]
            def create(self) -> Observed | None:
                barrier.wait()  # only passes if all three run at once
                return super().create()

        return Slow

    resources = [slow(k)(ctx, world) for k in ("p", "q", "r")]  # type: ignore[call-arg]
    engine.apply(ctx, resources, engine.plan(ctx, resources))
    assert set(world.items) == {"p", "q", "r"}


def test_failure_stops_dependents_and_reports_first_error(setup) -> None:  # type: ignore[no-untyped-def]
    ctx, world, resources = setup

    def boom() -> Observed | None:
        raise RuntimeError("kaput")

    resources[1].create = boom  # "b" fails
    with pytest.raises(WcpipeError, match="thing b: RuntimeError: kaput"):
        engine.apply(ctx, resources, engine.plan(ctx, resources))
    assert "d" not in world.items  # never started: its dependency failed
    assert "a" in world.items


def test_not_owned_blocks_up_and_is_kept_on_down(setup) -> None:  # type: ignore[no-untyped-def]
    ctx, world, resources = setup
    world.items["b"] = {"size": 1, "tags": {"someone": "else"}}
    plan = engine.plan(ctx, resources)
    assert [c.key for c in plan.blocked] == ["b"]
    with pytest.raises(NotOwnedError, match="thing 'b' exists but is not owned"):
        engine.apply(ctx, resources, plan)
    assert world.items.keys() == {"b"}
    down = engine.plan_down(ctx, resources)
    assert {c.key: c.action for c in down.changes}["b"] == "keep"
    engine.destroy(ctx, resources, down)
    assert "b" in world.items


def test_shared_resource_is_reused_not_blocked() -> None:
    ctx = Context(spec=SPEC, aws=None)  # type: ignore[arg-type]
    world = World()
    world.items["s"] = {"size": 3, "tags": {}}
    resources = [make("s", shared=True)(ctx, world)]  # type: ignore[call-arg]
    plan = engine.plan(ctx, resources)
    assert plan.changes[0].action == "none"
    assert engine.apply(ctx, resources, plan) == {"s": "unchanged"}
    engine.destroy(ctx, resources, engine.plan_down(ctx, resources))
    assert world.items["s"]["size"] == 3


def test_owner_tag_wins_over_spec_tags() -> None:
    spec = parse_spec(
        "name: tt\ntags: {team: data}\ntable: {name: x, columns: [{name: a, type: int}]}\n"
    )
    ctx = Context(spec=spec, aws=None)  # type: ignore[arg-type]
    assert ctx.tags == {"team": "data", OWNER_TAG: "tt"}


def test_describe_runs_after_dependencies_and_sees_their_outputs(setup) -> None:  # type: ignore[no-untyped-def]
    ctx, _world, resources = setup
    engine.apply(ctx, resources, engine.plan(ctx, resources))
    seen: dict[str, Any] = {}
    d = resources[3]
    for r in resources:
        r.outputs = lambda observed, key=r.key: {"size": observed.data["size"], "key": key}  # type: ignore[method-assign]
    original = d.describe

    def describe() -> Observed | None:
        seen["b"] = ctx.output_or("b", "key")
        seen["c"] = ctx.output_or("c", "key")
        return original()

    d.describe = describe  # type: ignore[method-assign]
    ctx.outputs.clear()
    engine.plan(ctx, resources)
    assert seen == {"b": "b", "c": "c"}  # published by their describes before d's


def test_describe_marks_absent_and_forgets_an_earlier_run(setup) -> None:  # type: ignore[no-untyped-def]
    ctx, _world, resources = setup
    ctx.publish("a", {"stale": True})  # what an earlier run found
    engine.plan(ctx, resources)
    assert all(ctx.known_absent(k) for k in "abcd")
    assert "a" not in ctx.outputs
    engine.apply(ctx, resources, engine.plan(ctx, resources))
    assert not any(ctx.known_absent(k) for k in "abcd")  # created: published again


def test_every_dependency_names_a_resource_of_the_catalog(ctx: Context) -> None:
    """The engine orders only by keys it has (a warehouse type's resources are absent from the
    other's graph), so a misspelt `depends_on` key would be dropped silently: refuse it here.
    And every resource class is in the catalog, declared or not (`resources.undeclared`), so
    the one a spec stops declaring is still found, planned for removal and deleted by `down`."""
    import importlib
    import pkgutil

    import wcpipe.provision.resources as package
    from wcpipe.provision.resources import catalog, undeclared

    for info in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{info.name}")

    def concrete(cls: type[Resource]) -> list[type[Resource]]:
        found = [cls] if isinstance(cls.__dict__.get("key"), str) else []
        return found + [c for sub in cls.__subclasses__() for c in concrete(sub)]

    classes = [c for c in concrete(Resource) if c.__module__.startswith(package.__name__)]
    keys = {c.key for c in classes}
    assert keys == {r.key for r in catalog(ctx) + undeclared(ctx)}
    assert not {r.key for r in catalog(ctx)} & {r.key for r in undeclared(ctx)}
    unknown = {(c.key, d) for c in classes for d in c.depends_on if d not in keys}
    assert unknown == set()


class Recorder(engine.Reporter):
    def __init__(self) -> None:
        self.notes: list[tuple[str, str]] = []

    def note(self, key: str, message: str) -> None:
        self.notes.append((key, message))


def test_progress_notes_reach_the_reporter_during_up_and_down(setup) -> None:  # type: ignore[no-untyped-def]
    """A resource's `ctx.note` (a cluster's wait) is shown while `up`/`down` runs, and is
    silent again afterwards (issue 13: notes were never wired to the UI)."""
    ctx, _world, resources = setup
    original_create = type(resources[0]).create

    def noisy_create(self: Resource) -> Observed | None:
        self.ctx.note(self.key, "waiting for it to be available, 3s")
        return original_create(self)

    type(resources[0]).create = noisy_create  # type: ignore[method-assign]
    recorder = Recorder()
    engine.apply(ctx, resources, engine.plan(ctx, resources), reporter=recorder)
    assert recorder.notes == [("a", "waiting for it to be available, 3s")]
    ctx.note("a", "after the run")  # back to the silent default
    assert recorder.notes == [("a", "waiting for it to be available, 3s")]


def test_notes_print_as_lines_at_most_every_few_seconds_without_a_tty(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from wcpipe import ui

    now = [100.0]
    reporter = ui.ProgressReporter(clock=lambda: now[0])
    ui.reset()
    reporter.begin([], "up")
    reporter.started("redshift.cluster", "creating")
    for elapsed in (3, 6, 9, 20):
        now[0] = 100.0 + elapsed
        reporter.note("redshift.cluster", f"creating, {elapsed}s")
    reporter.end()
    lines = [ln for ln in capsys.readouterr().err.splitlines() if "creating," in ln]
    assert lines == ["· redshift.cluster : creating, 3s", "· redshift.cluster : creating, 20s"]


def test_ctrl_c_during_up_abandons_the_wait_and_says_what_was_done(setup) -> None:  # type: ignore[no-untyped-def]
    """Ctrl-C while `d` waits (a cluster becoming available, say): the wait ends at once, no
    new step starts, and the error says what was done and that the next `up` converges; it
    does (issue 13)."""
    import os
    import signal
    import time

    from wcpipe.core.errors import Interrupted
    from wcpipe.core.wait import poll

    ctx, world, resources = setup
    waiting = threading.Event()
    d = resources[3]
    original_create = type(d).create

    def slow_create(self: Resource) -> Observed | None:
        waiting.set()
        poll(lambda: None, what="d", done=lambda _v: False, timeout=60, timing=self.ctx.timing)
        return original_create(self)

    type(d).create = slow_create  # type: ignore[method-assign]
    ctx.timing = engine.Timing(initial=0.05, maximum=0.05)

    class Said(engine.Reporter):
        def __init__(self) -> None:
            self.said: list[str] = []

        def stopping(self, message: str) -> None:
            self.said.append(message)

    def press_ctrl_c() -> None:
        waiting.wait(10)
        os.kill(os.getpid(), signal.SIGINT)  # what the terminal sends

    said = Said()
    # Python's own Ctrl-C (a SparkContext of an earlier test may have left its handler).
    handler = signal.signal(signal.SIGINT, signal.default_int_handler)
    threading.Thread(target=press_ctrl_c, daemon=True).start()
    started = time.monotonic()
    try:
        with pytest.raises(Interrupted) as caught:
            engine.apply(ctx, resources, engine.plan(ctx, resources), reporter=said)
    finally:
        signal.signal(signal.SIGINT, handler)
    assert time.monotonic() - started < 5
    assert caught.value.exit_code == 130
    assert str(caught.value) == "up interrupted: 3 created of 4; 1 not done; cut short: d"
    assert "run `wcpipe up` again" in str(caught.value.hint)
    assert said.said and said.said[0].startswith("stopping: no new up steps; 1 in flight (d)")
    assert set(world.items) == {"a", "b", "c"}
    assert ctx.timing.sleep is time.sleep  # the run's interruptible timing is put back

    type(d).create = original_create  # type: ignore[method-assign]
    again = engine.plan(ctx, resources)
    assert [c.key for c in again.pending] == ["d"]
    assert engine.apply(ctx, resources, again)["d"] == "created"


def test_a_create_blocked_outside_the_spec_is_planned_blocked_and_up_creates_nothing(
    setup,  # type: ignore[no-untyped-def]
) -> None:
    """`Resource.blocked_create`: plan shows the create as blocked with its reason, `up`
    refuses before any resource is created (not only the blocked one), and once the outside
    condition holds the same plan creates everything."""
    ctx, world, resources = setup
    world.refused = "turn the VPC attribute on"  # type: ignore[attr-defined]

    def blocked_create() -> list[Difference]:
        reason = getattr(world, "refused", None)
        return [Difference("vpc_dns", False, True, "blocked", reason)] if reason else []

    resources[3].blocked_create = blocked_create  # type: ignore[method-assign]
    plan = engine.plan(ctx, resources)
    assert [(c.key, c.action) for c in plan.changes if c.action != "create"] == [("d", "blocked")]
    with pytest.raises(WcpipeError, match=r"cannot create: thing d: .*turn the VPC attribute on"):
        engine.apply(ctx, resources, plan)
    assert world.items == {}
    assert world.log == []
    world.refused = None  # type: ignore[attr-defined]
    engine.apply(ctx, resources, engine.plan(ctx, resources))
    assert world.items.keys() == {"a", "b", "c", "d"}
