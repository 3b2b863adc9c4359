"""What every resource is, and the context it runs in.

Contract of a `Resource`:
- `describe()` makes only read calls (describe/get/list) and returns the observed state or None.
  The engine calls it once per run and shares the result between `plan` and `up`.
- `differences(observed)` is pure: a `Difference` (field, old -> new) for each field where AWS
  differs from the spec; `plan` shows them and `update` acts on exactly those. A difference AWS
  cannot make in place is `blocked` with the reason, so `plan` says so and `up` refuses before
  it changes anything.
- `blocked_create()` is read only (it uses what `describe` read): where `describe` found
  nothing, what keeps AWS from creating it until something outside the spec changes (a VPC
  attribute, say), as blocked Differences; `plan` shows that create as blocked and `up` refuses
  before it creates anything. Most resources have none.
- `create()`, `update(observed, differences)` and `delete(observed)` are the only methods that
  mutate.
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
missing or has another value is drift: `differences` reports it as the field `tags` (TAGS), with
those tags' values before and after, and `update` puts them back. Tags others added (an
organization's cost-allocation or compliance tags, say) are theirs and are left alone, and so are
AWS's own `aws:` tags: wcpipe adopts nothing it does not own, and takes nothing off what it does.

`ensure()` and `destroy()` string these together for one resource (the engine does the same across
the graph, concurrently); tests call them twice to prove idempotence.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from wcpipe.core.errors import NotOwnedError
from wcpipe.spec.names import OWNER_TAG
from wcpipe.spec.session import Session

Outcome = Literal["created", "updated", "unchanged", "deleted", "absent", "kept"]
DownAction = Literal["delete", "keep"]
"""What `down` does to a resource that exists (`Resource.down_action`)."""
Fact = str | int | float | None
"""A value of `Resource.facts`: a count is a number (`status --output json` prints it as one)."""


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


def refuse_blocked(resource: Resource, differences: Differences, *, creating: bool = False) -> None:
    """BlockedChange naming every difference of `resource` AWS cannot make in place (or, when
    `creating`, that keeps it from being created: `Resource.blocked_create`), if any."""
    if differences.blocked:
        raise blocked_error(resource.kind, resource.name, differences, creating=creating)


def blocked_error(
    kind: str, name: str, differences: Differences, *, creating: bool = False
) -> Exception:
    """The one line for differences AWS cannot make in place (or that keep a create from being
    made): each, then the (first) reason."""
    from wcpipe.core.errors import BlockedChange

    blocked = differences.blocked
    listed = "; ".join(d.text(reason=False) for d in blocked)
    return BlockedChange(f"{kind} {name}: {listed} ({blocked[0].reason})", creating=creating)


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

DifferenceAction = Literal["update", "blocked"]


@dataclass(frozen=True)
class Difference:
    """One field where AWS differs from the spec: what it is, what it will be, and whether
    `update` can make it so in place (`blocked`: it cannot, and `reason` says why and what to
    do). `old`/`new` are plain values (str, number, bool, list, dict, None); `text` shows only
    the parts that differ (`_leaves`)."""

    field: str
    old: Any = None
    new: Any = None
    action: DifferenceAction = "update"
    reason: str | None = None

    def text(self, *, reason: bool = True) -> str:
        """`field: old -> new`, one part per leaf that differs (module docstring of `_leaves`),
        with the reason."""
        parts = _leaves(self.field, self.old, self.new)
        if len(parts) > MAX_PARTS:
            parts = [*parts[:MAX_PARTS], f"… and {len(parts) - MAX_PARTS} more"]
        body = "; ".join(parts) or f"{self.field}: differs"
        return f"{body} ({self.reason})" if self.reason and reason else body

    def as_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "old": self.old,
            "new": self.new,
            "action": self.action,
            "reason": self.reason,
        }


SHOWN_LENGTH = 60
"""Longest value `Difference.text` shows whole; a longer one is cut with an ellipsis."""
MAX_PARTS = 6
"""Most leaves `Difference.text` lists; the rest are counted."""


def _leaves(path: str, old: Any, new: Any) -> list[str]:
    """Where `old` and `new` differ, as `path: old -> new` parts: a dict by its keys (recursively),
    two lists by the items one adds (+) and removes (-), a string holding a JSON document (a Glue
    job argument, a policy) by that document."""
    old, new = _parsed(old), _parsed(new)
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[str] = []
        for k in sorted({*old, *new}, key=str):
            if old.get(k) != new.get(k):
                out += _leaves(f"{path}.{k}", old.get(k), new.get(k))
        return out
    if isinstance(old, list) and isinstance(new, list):
        added = [f"+{_shown(v)}" for v in new if v not in old]
        removed = [f"-{_shown(v)}" for v in old if v not in new]
        return [f"{path}: {', '.join(removed + added) or 'reordered'}"]
    return [f"{path}: {_shown(old)} -> {_shown(new)}"]


def _parsed(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("{", "["):
        import json

        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _shown(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, (dict, list)):
        import json

        text = json.dumps(value, sort_keys=True, default=str)
    else:
        text = str(value)
    return text if len(text) <= SHOWN_LENGTH else text[: SHOWN_LENGTH - 1] + "…"


class Differences(tuple[Difference, ...]):
    """What `differences` returns and `update` receives: `"field" in differences` asks whether
    that field differs; `differences["field"]` is its Difference."""

    def __contains__(self, item: object) -> bool:
        if isinstance(item, str):
            return any(d.field == item for d in self)
        return super().__contains__(item)

    def __getitem__(self, item: Any) -> Any:
        if isinstance(item, str):
            for d in self:
                if d.field == item:
                    return d
            raise KeyError(item)
        return super().__getitem__(item)

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(d.field for d in self)

    @property
    def blocked(self) -> tuple[Difference, ...]:
        return tuple(d for d in self if d.action == "blocked")


def compare(checks: list[tuple[str, Any, Any]]) -> list[Difference]:
    """A Difference for each (field, actual, wanted) where actual != wanted."""
    return [Difference(name, actual, wanted) for name, actual, wanted in checks if actual != wanted]


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
    declared_by: ClassVar[str | None] = None
    """The spec setting under which the catalog declares it, for one that only some specs
    declare (`warehouse.type: provisioned`): the reason `plan` gives for removing it when the
    spec no longer does."""
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
    def differences(self, observed: Observed) -> list[Difference]: ...

    @abstractmethod
    def create(self) -> Observed | None:
        """Create it; return what a describe would (or None to have the engine describe again)."""

    def blocked_create(self) -> list[Difference]:
        """Read only, after `describe` found nothing: what keeps AWS from creating it until
        something outside the spec changes, each a blocked Difference whose reason says what to
        do (module docstring), else []."""
        return []

    def update(self, observed: Observed, fields: Differences) -> None:
        raise NotImplementedError(f"{self.kind} cannot be updated in place ({fields.fields})")

    @abstractmethod
    def delete(self, observed: Observed) -> None: ...

    def outputs(self, observed: Observed) -> dict[str, Any]:
        return {}

    def facts(self, observed: Observed) -> Mapping[str, Fact]:
        """Key facts for `status` (a state, an endpoint, a count as a number)."""
        return {}

    def left_behind(self) -> list[str]:
        """Read only: what an earlier spec had this resource make that the spec no longer
        declares and `up` keeps (a renamed table's old table, objects under an old data prefix),
        each said plainly with why; `plan`, `up` and `status` show them."""
        return []

    def tag_changes(self, observed: Observed) -> TagChanges:
        """The tag policy, the one place it is decided (module docstring)."""
        if not self.taggable:
            return TagChanges()
        wanted = self.ctx.tags
        return TagChanges({k: v for k, v in sorted(wanted.items()) if observed.tags.get(k) != v})

    def tag_differences(self, observed: Observed) -> list[Difference]:
        """The tags of ours that drifted, before and after, else []: what `differences` reports
        for them."""
        put = self.tag_changes(observed).put
        if not put:
            return []
        return [Difference(TAGS, {k: observed.tags.get(k) for k in put}, dict(put))]

    def sync_tags(self, observed: Observed, put: Callable[[dict[str, str]], object]) -> None:
        """Make `tag_changes` with the service's own call: `put(tags)`, ours that drifted."""
        changes = self.tag_changes(observed)
        if changes.put:
            put(changes.put)

    def owned(self, observed: Observed) -> bool:
        if not self.taggable:
            return True
        return observed.tags.get(OWNER_TAG) == self.ctx.spec.name

    def down_action(self, observed: Observed) -> tuple[DownAction, str | None]:
        """What `down` does to it, with why where it needs saying: delete what is ours, keep
        the rest. A shared resource says more (the S3 endpoint: only its share goes while
        others use it)."""
        return ("delete" if self.owned(observed) else "keep"), None

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

    def converge(
        self, observed: Observed | None, planned: Differences | None = None
    ) -> tuple[Outcome, Observed | None]:
        """Create, or update by `planned` (what `plan` showed for this observation; computed
        here when not given). A blocked difference is refused before anything changes."""
        if observed is None:
            refuse_blocked(self, Differences(self.blocked_create()), creating=True)
            created = self.create()
            return "created", created if created is not None else self.describe()
        if self.shared and not self.owned(observed):
            return "unchanged", observed
        self.check_owned(observed)
        fields = planned if planned is not None else Differences(self.differences(observed))
        if not fields:
            return "unchanged", observed
        refuse_blocked(self, fields)
        self.update(observed, fields)
        return "updated", self.describe()

    def destroy(self) -> Outcome:
        observed = self.describe()
        if observed is None:
            return "absent"
        if self.down_action(observed)[0] == "keep":
            return "kept"
        self.delete(observed)
        return "deleted"
