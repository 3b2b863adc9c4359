"""Shared fixtures. Fake credentials are set at import time, before any client can exist, and
nothing reads a developer's AWS profile or config: no test can reach real AWS."""

from __future__ import annotations

import os

for _var in list(os.environ):
    if _var.startswith("AWS_"):
        del os.environ[_var]
os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_SESSION_TOKEN="testing",
    AWS_DEFAULT_REGION="us-east-1",
    AWS_CONFIG_FILE=os.devnull,
    AWS_SHARED_CREDENTIALS_FILE=os.devnull,
    AWS_EC2_METADATA_DISABLED="true",
)

from collections.abc import Callable, Iterator  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402
from support.cli import CliResult, run_cli  # noqa: E402
from support.clock import FakeClock  # noqa: E402
from support.dataapi import DataApi  # noqa: E402
from support.paths import SPEC_PATH  # noqa: E402


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def spec():  # type: ignore[no-untyped-def]
    from wcpipe.spec.model import load_spec

    return load_spec(SPEC_PATH)


@pytest.fixture
def moto() -> Iterator[None]:
    """moto's in-process mock, started before any client exists."""
    from moto import mock_aws

    with mock_aws():
        yield


@pytest.fixture
def aws(moto):  # type: ignore[no-untyped-def]
    from wcpipe.core.aws import Aws

    return Aws(region="us-east-1")


@pytest.fixture
def ctx(spec, aws, clock):  # type: ignore[no-untyped-def]
    from wcpipe.core.wait import Timing
    from wcpipe.provision.resources.base import Context

    return Context(spec=spec, aws=aws, timing=Timing(sleep=clock.sleep, clock=clock))


@pytest.fixture(scope="session")
def warehouse_dsn() -> Iterator[str]:
    """One embedded PostgreSQL for the whole session (it takes seconds to start): the warehouse
    of every sandbox (`support.sandbox`, which empties it between them)."""
    from wcpipe.sandbox.warehouse_pg import EmbeddedPostgres

    # A temp dir of its own (not pytest's 0700 one): as root, PostgreSQL runs as another user.
    pg = EmbeddedPostgres()
    yield pg.dsn
    pg.stop()


@pytest.fixture(scope="module")
def sandbox(warehouse_dsn: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One sandbox per test module (moto's state is reset between modules), on the session's
    PostgreSQL; it records the events put on its bus (`support.sandbox.RecordingSandbox`)."""
    from support.sandbox import started_sandbox

    cache = tmp_path_factory.mktemp("lambda-cache")
    with started_sandbox(warehouse_dsn, lambda_cache=cache) as sb:
        yield sb


@pytest.fixture
def data_api(moto, monkeypatch: pytest.MonkeyPatch) -> DataApi:
    """moto's Data API made to finish every statement, record its SQL and, once told,
    answer rows (`support.dataapi.DataApi`)."""
    return DataApi().install(monkeypatch)


@pytest.fixture
def wcpipe() -> Callable[..., CliResult]:
    """Run the `wcpipe` console entry point (with its error boundary) and capture its output:
    `wcpipe(*args)` is `support.cli.run_cli`."""
    return run_cli
