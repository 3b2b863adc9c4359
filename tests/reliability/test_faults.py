"""Promise 1, the mechanism: every fault the `Faults` hook injects is an error botocore's
standard retry mode recognizes (throttling codes and 5xx, in each service's own protocol), and
it retries each one. The whole-pipeline runs under faults are in test_lifecycle.py (on a
provisioned cluster) and here (`up`, `status` and `down` on Redshift Serverless)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from support.census import census
from support.faults import Faults
from support.figures import report
from support.harness import new_pipeline, tagged

# One cheap read per protocol family wcpipe uses (query, ec2, rest-xml, json, rest-json).
CALLS = [
    ("s3", "list_buckets", {}),
    ("iam", "list_roles", {}),
    ("sts", "get_caller_identity", {}),
    ("ec2", "describe_vpcs", {}),
    ("redshift", "describe_clusters", {}),
    ("redshift-serverless", "list_workgroups", {}),  # the sandbox's own backend
    ("glue", "get_databases", {}),
    ("lambda", "list_functions", {}),
    ("events", "list_rules", {}),
    ("logs", "describe_log_groups", {}),
    ("secretsmanager", "list_secrets", {}),
]

THROTTLING = {"SlowDown", "RequestLimitExceeded", "Throttling", "ThrottlingException",
              "TooManyRequestsException"}  # fmt: skip
SERVER = {"InternalError", "InternalServiceException"}
SERVERLESS = "redshift-serverless.amazonaws.com"


def _client(sandbox: Any, service: str, max_attempts: int = 8) -> Any:
    from wcpipe.core.aws import Aws

    return Aws(
        region=sandbox.region, endpoint_url=sandbox.endpoint, max_attempts=max_attempts
    ).client(service)


@pytest.mark.parametrize(("service", "operation", "params"), CALLS, ids=[c[0] for c in CALLS])
def test_botocore_retries_each_injected_fault(sandbox, no_retry_sleep, service, operation, params):
    faults = Faults(every=1).install()  # every first attempt fails: throttling, then a 5xx
    try:
        client = _client(sandbox, service)
        for _ in range(2):
            getattr(client, operation)(**params)
    finally:
        faults.uninstall()
    assert faults.total == 2
    assert faults.retries == 2, "each fault is retried exactly once"
    kinds = set(faults.injected)
    assert kinds & THROTTLING and kinds & SERVER, kinds
    assert len(no_retry_sleep) == 2, "botocore backed off before each retry"


@pytest.mark.parametrize(("service", "operation", "params"), CALLS, ids=[c[0] for c in CALLS])
def test_injected_faults_parse_as_the_services_errors(
    sandbox, no_retry_sleep, service, operation, params
):
    """Without retries the injected responses surface as the real error codes: the bodies are
    what the service would send, not something botocore fails to parse."""
    faults = Faults(every=1).install()
    codes = []
    try:
        client = _client(sandbox, service, max_attempts=0)  # botocore: retries, not attempts
        for _ in range(2):
            with pytest.raises(ClientError) as caught:
                getattr(client, operation)(**params)
            codes.append(caught.value.response["Error"]["Code"])
    finally:
        faults.uninstall()
    assert codes == list(faults.injected), (codes, faults.injected)


def test_serverless_up_status_and_down_under_faults(
    sandbox: Any, faults: Faults, tmp_path: Path
) -> None:
    """Promises 1 and 10 on Redshift Serverless (the path that differs from the provisioned one
    test_lifecycle.py runs): `up`, `status` and `down` absorb every 4th first attempt failing,
    the namespace's and workgroup's requests among them; `plan` then has nothing to do, `status`
    shows the workgroup's state, endpoint and capacity, and `down` leaves nothing in any
    service's listing (and `status` says so)."""
    pl = new_pipeline(sandbox, tmp_path, warehouse="serverless")
    pl.rewrite(lambda raw: raw["warehouse"].update(base_rpu=16, max_rpu=64))
    up = pl.cli("up", "--yes")
    assert up.code == 0, up
    assert census(pl).converged() == {}
    plan = pl.cli("--output", "json", "plan")
    assert plan.code == 0 and json.loads(plan.out)["pending"] == 0, plan

    status = pl.cli("--output", "json", "status", "--detailed-exitcode")
    assert status.code == 0, status
    rows = {r["resource"]: r for r in json.loads(status.out)["resources"]}
    workgroup = rows["redshift-serverless.workgroup"]
    endpoint = f"{pl.names().workgroup}.{sandbox.account_id}.{sandbox.region}.{SERVERLESS}:5439"
    assert (workgroup["state"], workgroup["facts"]) == (
        "present",
        {"state": "AVAILABLE", "endpoint": endpoint, "base_rpu": 16, "max_rpu": 64},
    )
    assert rows["redshift-serverless.namespace"]["facts"]["state"] == "AVAILABLE"
    text = pl.cli("status")
    # The row's facts, wherever the table folds them (whitespace and column rules dropped).
    cells = "".join(text.out.replace("│", " ").split())
    assert f"state:AVAILABLE;endpoint:{endpoint};baserpu:16;maxrpu:64" in cells, text.out

    down = pl.cli("down", "--yes")
    assert down.code == 0, down
    assert census(pl).leftovers() == {}
    assert tagged(sandbox, pl.name) == []
    after = pl.cli("--output", "json", "status", "--detailed-exitcode")
    assert after.code == 2, after  # missing
    states = {r["resource"]: r["state"] for r in json.loads(after.out)["resources"]}
    assert states["redshift-serverless.workgroup"] == "missing"
    assert states["redshift-serverless.namespace"] == "missing"
    on_serverless = {k: n for k, n in faults.by_operation.items() if k.startswith("redshift-se")}
    assert on_serverless, f"no fault reached Redshift Serverless: {faults.by_operation}"
    report(
        f"serverless up, status, down: {faults.total} faults absorbed, "
        f"{sum(on_serverless.values())} on Redshift Serverless ({', '.join(sorted(on_serverless))})"
    )


def test_on_arrival_up_push_and_down_under_faults(
    sandbox: Any, faults: Faults, tmp_path: Path
) -> None:
    """Promises 1 and 10 for the unattended pipeline's own resources (the bucket's EventBridge
    notifications, the arrival and job-succeeded rules and their invoke permissions): `up` and
    `down` absorb every 4th first attempt failing, those requests among them; `plan` then has
    nothing to do and `down` leaves nothing in any service's listing."""
    pl = new_pipeline(sandbox, tmp_path)
    pl.rewrite(lambda raw: raw.update(trigger="on-arrival"))
    up = pl.cli("up", "--yes")
    assert up.code == 0, up
    assert census(pl).converged() == {}
    plan = pl.cli("--output", "json", "plan")
    assert plan.code == 0 and json.loads(plan.out)["pending"] == 0, plan
    down = pl.cli("down", "--yes")
    assert down.code == 0, down
    assert census(pl).leftovers() == {}
    assert tagged(sandbox, pl.name) == []
    arrival = {
        k: n
        for k, n in faults.by_operation.items()
        if "BucketNotification" in k or k.endswith(("PutRule", "AddPermission"))
    }
    assert arrival, f"no fault reached the arrival resources: {faults.by_operation}"
    report(f"on-arrival up, down: {faults.total} faults absorbed ({', '.join(sorted(arrival))})")
