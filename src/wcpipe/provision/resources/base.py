"""What every resource is, and the context it runs in.

Contract of a `Resource`:
- `describe()` makes only read calls (describe/get/list) and returns the observed state or None.
  The engine calls it once per run and shares the result between `plan` and `up`.
- `differences(observed)` is pure: the names of the fields where AWS differs from the spec.
- `create()`, `update(observed, fields)` and `delete(observed)` are the only methods that mutate.
  "Already exists" on create and "not found" on delete are outcomes, not failures.
- "Not found" is handled in one helper, `core.errors.ignoring(call, *codes)`: the AWS error codes
  that mean "not there" give None (a describe that finds nothing returns None; a delete of what
  is gone is "absent"). Codes, never message text.
- `owned(observed)` says whether the existing resource carries this pipeline's ownership tag; the
  engine never updates or deletes one that does not.
- `outputs(observed)` publishes facts dependents need (an endpoint, a group id) into the context.
  The engine publishes them as soon as a describe returns, and describes a resource only after
  its dependencies, so a dependent's `describe` may read them instead of asking AWS again.

Tags, the one policy (`Resource.tag_changes`, reported by `Resource.tag_differences`): every
taggable resource carries `ctx.tags`, which include the ownership tag. A tag of ours that is
missing or has another value is drift: `differences` names it as the field `tags` (TAGS) and
`update` puts those tags back. Tags others added (an organization's cost-allocation or
compliance tags, say) are theirs and are left alone, and so are AWS's own `aws:` tags: wcpipe
adopts nothing it does not own, and takes nothing off what it does.

`ensure()` and `destroy()` string these together for one resource (the engine does the same across
the graph, concurrently); tests call them twice to prove idempotence.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from wcpipe.core.errors import NotOwnedError
from wcpipe.spec.names import OWNER_TAG
from wcpipe.spec.session import Session

Outcome = Literal["created", "updated", "unchanged", "deleted", "absent", "kept"]


@dataclass
class Observed:
    """What a describe found: the raw facts and the resource's tags."""

    data: dict[str, Any]
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class Context(Session):
    """A Session plus the engine's board for one run: what each resource published (its
    outputs), which were found absent, and where progress notes go. Shared by all resources of
    one run; safe to use from several threads."""

    note: Callable[[str, str], None] = lambda _key, _msg: None
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    final_snapshot: bool | None = None  # `down --final-snapshot/--no-final-snapshot`; None: spec's
    _absent: set[str] = field(default_factory=set)

    def known(self, key: str, name: str, compute: Callable[[], Any]) -> Any:
        """What `key` published as `name` in this run, else computed (and published) once."""
        with self._lock:
            value = self.outputs.get(key, {}).get(name)
        if value is None:
            value = super().known(key, name, compute)
            self.publish(key, {name: value})
        return value

    def publish(self, key: str, values: dict[str, Any]) -> None:
        with self._lock:
            self._absent.discard(key)
            self.outputs.setdefault(key, {}).update(values)

    def output(self, key: str, name: str) -> Any:
        """A value a dependency published; KeyError if it has not (a bug in dependencies)."""
        with self._lock:
            return self.outputs[key][name]

    def output_or(self, key: str, name: str, default: Any = None) -> Any:
        with self._lock:
            return self.outputs.get(key, {}).get(name, default)

    def forget(self, key: str) -> None:
        """Drop what `key` published (before describing it again: what it publishes next
        replaces what an earlier run found)."""
        with self._lock:
            self.outputs.pop(key, None)
            self._absent.discard(key)

    def mark_absent(self, key: str) -> None:
        """Record that `key` was described in this run and does not exist (until it publishes)."""
        with self._lock:
            self.outputs.pop(key, None)
            self._absent.add(key)

    def known_absent(self, key: str) -> bool:
        """Whether `key` was described in this run, found absent, and not created since: what
        lives inside it (a table in its warehouse, objects in their bucket) is absent too."""
        with self._lock:
            return key in self._absent


def warehouse_key(ctx: Context) -> str:
    """The resource whose outputs carry the warehouse endpoint (and its status)."""
    if ctx.spec.warehouse.type == "serverless":
        return "redshift-serverless.workgroup"
    return "redshift.cluster"


def tags_from_list(
    items: list[dict[str, str]] | None, key: str = "Key", value: str = "Value"
) -> dict[str, str]:
    return {t[key]: t[value] for t in items or []}


def tag_list(tags: dict[str, str], key: str = "Key", value: str = "Value") -> list[dict[str, str]]:
    """`tags` as the list of pairs most AWS APIs take, sorted by key."""
    return [{key: k, value: v} for k, v in sorted(tags.items())]


TAGS = "tags"
"""The field `differences` names when a resource's tags drifted."""


@dataclass(frozen=True)
class TagChanges:
    """What puts a resource's tags right, by the tag policy (the module docstring)."""

    put: dict[str, str] = field(default_factory=dict)
    """Tags of ours that are missing or differ, with the values they should have."""

    def __bool__(self) -> bool:
        return bool(self.put)


class Resource(ABC):
    key: ClassVar[str]
    """Unique id in the graph, `<service>.<what>`, e.g. `glue.s3-crawler`."""
    kind: ClassVar[str]
    """What a person calls it, e.g. `Glue crawler`."""
    depends_on: ClassVar[tuple[str, ...]] = ()
    billable: ClassVar[bool] = False
    taggable: ClassVar[bool] = True
    """False where AWS offers no tags (a classifier, a Lambda permission): owned by exact name."""
    """True where tags others added are drift too, and removed (see the tag policy above)."""
    shared: ClassVar[bool] = False
    """True where one that exists without our tag is reused as it is, never changed or deleted
    (the VPC's S3 gateway endpoint)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    @property
    @abstractmethod
    def name(self) -> str: ...

    @abstractmethod
    def describe(self) -> Observed | None: ...

    @abstractmethod
    def differences(self, observed: Observed) -> list[str]: ...

    @abstractmethod
    def create(self) -> Observed | None:
        """Create it; return what a describe would (or None to have the engine describe again)."""

    def update(self, observed: Observed, fields: list[str]) -> None:
        raise NotImplementedError(f"{self.kind} cannot be updated in place ({', '.join(fields)})")

    @abstractmethod
    def delete(self, observed: Observed) -> None: ...

    def outputs(self, observed: Observed) -> dict[str, Any]:
        return {}

    def facts(self, observed: Observed) -> dict[str, str]:
        """Key facts for `status` (a state, an endpoint)."""
        return {}

    def tag_changes(self, observed: Observed) -> TagChanges:
        """The tag policy, the one place it is decided (module docstring)."""
        if not self.taggable:
            return TagChanges()
        wanted = self.ctx.tags
        return TagChanges({k: v for k, v in sorted(wanted.items()) if observed.tags.get(k) != v})

    def tag_differences(self, observed: Observed) -> list[str]:
        """[TAGS] when the tags drifted, else []: what `differences` reports for them."""
        return [TAGS] if self.tag_changes(observed) else []

    def sync_tags(self, observed: Observed, put: Callable[[dict[str, str]], object]) -> None:
        """Make `tag_changes` with the service's own call: `put(tags)`, ours that drifted."""
        changes = self.tag_changes(observed)
        if changes.put:
            put(changes.put)

    def owned(self, observed: Observed) -> bool:
        if not self.taggable:
            return True
        return observed.tags.get(OWNER_TAG) == self.ctx.spec.name

    def check_owned(self, observed: Observed) -> None:
        if not self.owned(observed):
            raise NotOwnedError(self.kind, self.name, self.ctx.spec.name)

    # The single-resource lifecycle: the engine runs the same steps across the graph.
    def ensure(self) -> Outcome:
        observed = self.describe()
        outcome, observed = self.converge(observed)
        if observed is not None:
            self.ctx.publish(self.key, self.outputs(observed))
        return outcome

    def converge(self, observed: Observed | None) -> tuple[Outcome, Observed | None]:
        if observed is None:
            created = self.create()
            return "created", created if created is not None else self.describe()
        if self.shared and not self.owned(observed):
            return "unchanged", observed
        self.check_owned(observed)
        fields = self.differences(observed)
        if not fields:
            return "unchanged", observed
        self.update(observed, fields)
        return "updated", self.describe()

    def destroy(self) -> Outcome:
        observed = self.describe()
        if observed is None:
            return "absent"
        if not self.owned(observed):
            return "kept"
        self.delete(observed)
        return "deleted"
