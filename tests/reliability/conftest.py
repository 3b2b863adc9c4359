"""Fixtures for the reliability and security tests (issue 6); what they build is in tests/support.

- `sandbox`: one offline AWS (moto server, on the session's PostgreSQL) for the whole package; it
  is stopped when the package's last test ends, so moto's state never leaks into other packages.
- `pipeline`: a fresh pipeline per test (`support.harness.new_pipeline`: its own name, VPC and
  warehouse database on the shared sandbox).
- `no_retry_sleep`, `faults`: botocore's retry backoff recorded, not slept
  (`support.retry_sleeps`); deterministic transient faults it must absorb (`support.faults`).
- What exists is counted against the catalog by `support.census`; the figures tests report
  (`support.figures.report`) are listed at the end of the run.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.faults import Faults
from support.figures import FIGURES
from support.harness import Pipeline, new_pipeline
from support.retry_sleeps import skip_retry_sleeps
from support.sandbox import started_sandbox


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if FIGURES:
        terminalreporter.section("reliability figures")
        for line in FIGURES:
            terminalreporter.write_line(line)


POLL_INTERVAL = "0.1"
"""WCPIPE_POLL_INTERVAL for every run here: the sandbox answers in well under a second."""


@pytest.fixture(scope="package")
def sandbox(warehouse_dsn: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    cache = tmp_path_factory.mktemp("lambda-cache")
    with (
        pytest.MonkeyPatch.context() as mp,
        started_sandbox(warehouse_dsn, lambda_cache=cache) as sb,
    ):
        mp.setenv("WCPIPE_POLL_INTERVAL", POLL_INTERVAL)
        yield sb


@pytest.fixture
def pipeline(sandbox: Any, tmp_path: Path) -> Pipeline:
    return new_pipeline(sandbox, tmp_path)


@pytest.fixture
def no_retry_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    return skip_retry_sleeps(monkeypatch)


@pytest.fixture
def faults(no_retry_sleep: list[float]) -> Iterator[Faults]:
    f = Faults().install()
    try:
        yield f
    finally:
        f.uninstall()
