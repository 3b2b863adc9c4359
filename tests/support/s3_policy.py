"""moto's S3, taught to evaluate bucket policies as AWS does for a TLS request."""

from __future__ import annotations

from typing import Any


def teach_moto_secure_transport(monkeypatch: Any) -> None:
    """Evaluate bucket policies as AWS does for a TLS request (wcpipe.sandbox.patches.s3_policy)."""
    from wcpipe.sandbox.patches import s3_policy

    for obj, attr, value in s3_policy.patches():
        monkeypatch.setattr(obj, attr, value)
