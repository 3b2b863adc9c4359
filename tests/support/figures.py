"""Measured figures a test reports: `report(line)` keeps them, and the reliability conftest lists
them at the end of the pytest run (its `pytest_terminal_summary`)."""

from __future__ import annotations

FIGURES: list[str] = []


def report(line: str) -> None:
    """A measured figure, listed at the end of the pytest run."""
    FIGURES.append(line)
