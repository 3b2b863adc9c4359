"""Test helper (not a conftest): record the operations a boto3 client sends."""

from __future__ import annotations

from typing import Any

READ_PREFIXES = ("Get", "Head", "List", "Describe")


class Calls:
    """Register on a client's `before-call` event; `.ops` lists operation names in order."""

    def __init__(self, client: Any) -> None:
        self.ops: list[str] = []
        self.params: list[tuple[str, dict[str, Any]]] = []
        client.meta.events.register("before-call.*.*", self._record)

    def _record(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        self.ops.append(model.name)
        self.params.append((model.name, params))

    @property
    def mutating(self) -> list[str]:
        return [op for op in self.ops if not op.startswith(READ_PREFIXES)]

    def count(self, op: str) -> int:
        return self.ops.count(op)

    def clear(self) -> None:
        self.ops.clear()
        self.params.clear()


def teach_moto_secure_transport(monkeypatch: Any) -> None:
    """Evaluate bucket policies as AWS does for a TLS request (wcpipe.sandbox.patches.s3_policy)."""
    from wcpipe.sandbox.patches import s3_policy

    for obj, attr, value in s3_policy.patches():
        monkeypatch.setattr(obj, attr, value)
