"""Sandbox fixtures: one embedded PostgreSQL per session (it takes seconds to start), one Sandbox
per test module (moto's state is reset between modules), and boto3 clients pointed at it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest


@pytest.fixture(scope="session")
def warehouse_dsn() -> Iterator[str]:
    from wcpipe.sandbox.warehouse_pg import EmbeddedPostgres

    # A temp dir of its own (not pytest's 0700 one): as root, PostgreSQL runs as another user.
    pg = EmbeddedPostgres()
    yield pg.dsn
    pg.stop()


@pytest.fixture(scope="module")
def sandbox(warehouse_dsn: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from wcpipe.sandbox.core import Sandbox

    cache = tmp_path_factory.mktemp("lambda-cache")
    with Sandbox(warehouse_dsn=warehouse_dsn, lambda_cache=cache) as sb:
        yield sb


@pytest.fixture(scope="module")
def client(sandbox: Any) -> Callable[[str], Any]:
    """`client("glue")`: a real boto3 client talking to the module's sandbox."""
    cache: dict[str, Any] = {}

    def make(service: str) -> Any:
        if service not in cache:
            cache[service] = sandbox.client(service)
        return cache[service]

    return make


@pytest.fixture(scope="module")
def cluster(client: Callable[[str], Any]) -> str:
    """A provisioned cluster for Data API statements to name."""
    client("redshift").create_cluster(
        ClusterIdentifier="wcpipe-test",
        NodeType="ra3.large",
        MasterUsername="awsadmin",
        MasterUserPassword="Secret-Passw0rd",
    )
    return "wcpipe-test"
