"""Sandbox fixtures, on top of tests/conftest.py's `warehouse_dsn` (one embedded PostgreSQL per
session) and `sandbox` (one per test module): boto3 clients pointed at it, and a cluster."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


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
