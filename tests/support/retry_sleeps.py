"""The one botocore monkeypatch: its retry backoff, recorded instead of slept.

botocore sleeps between the attempts of a request with `time.sleep` in `botocore.endpoint` and
offers no way to inject a clock, so `skip_retry_sleeps` replaces that module's `time` (and only
its `sleep`) for the duration of the monkeypatch; every delay botocore asks for is recorded.
"""

from __future__ import annotations

import time
from typing import Any

import pytest


def skip_retry_sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record the retry delays botocore asks for instead of waiting them out; returns the list."""
    import botocore.endpoint

    slept: list[float] = []

    class _Time:
        def __getattr__(self, name: str) -> Any:
            return getattr(time, name)

        @staticmethod
        def sleep(seconds: float) -> None:
            slept.append(seconds)

    monkeypatch.setattr(botocore.endpoint, "time", _Time())
    return slept
