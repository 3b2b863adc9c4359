"""The spec bound to an account: what every command needs, provisioning or operating.

A `Session` holds the spec, the AWS gateway (`core.aws.Aws`), time (`core.wait.Timing`), the
physical names (`Names`, derived once from the spec, account and region) and the tags every
resource carries. `operate/` and `warehouse/` take a Session; provisioning's
`provision.resources.base.Context` is a Session plus the engine's board of what resources
published in one run.

`known(key, name, compute)` is the one cache of facts about a resource that more than one step
needs (the admin secret's ARN, say): computed at most once per session; a provisioning Context
answers it from what the resource already published.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from wcpipe.core.aws import Aws
from wcpipe.core.wait import Timing
from wcpipe.spec.model import Spec
from wcpipe.spec.names import OWNER_TAG, Names


@dataclass
class Session:
    """The spec, the AWS gateway and time, for one command. Safe to use from several threads."""

    spec: Spec
    aws: Aws
    timing: Timing = field(default_factory=Timing)
    _names: Names | None = None
    _facts: dict[tuple[str, str], Any] = field(default_factory=dict)
    _lock: threading.RLock = field(default_factory=threading.RLock)

    @property
    def names(self) -> Names:
        with self._lock:
            if self._names is None:
                self._names = Names.of(self.spec, self.aws.account_id, self.aws.region)
            return self._names

    def client(self, service: str) -> Any:
        return self.aws.client(service)

    @property
    def tags(self) -> dict[str, str]:
        """Tags every resource carries: the spec's, then the ownership tag (which wins)."""
        return {**self.spec.tags, OWNER_TAG: self.spec.name}

    def tag_list(self, key: str = "Key", value: str = "Value") -> list[dict[str, str]]:
        return [{key: k, value: v} for k, v in sorted(self.tags.items())]

    def known(self, key: str, name: str, compute: Callable[[], Any]) -> Any:
        """`key`'s fact `name` (e.g. "secretsmanager.admin-secret", "arn"), computed once."""
        with self._lock:
            if (key, name) in self._facts:
                return self._facts[(key, name)]
        value = compute()
        with self._lock:
            return self._facts.setdefault((key, name), value)
