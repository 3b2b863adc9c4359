"""Injected time."""

from __future__ import annotations


class FakeClock:
    """Injected time: `sleep` advances `now` instantly and records each sleep."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
