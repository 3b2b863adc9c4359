"""Redshift Serverless through botocore's Stubber (moto has no Serverless); EC2 and Secrets on moto.

A Stubber answers only the calls queued for it, in order, and checks each request's parameters, so
a queue of read calls alone proves a second `ensure` sends nothing that mutates."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.stub import Stubber
from support.plan import texts

from wcpipe.core.errors import NotOwnedError, WaitTimeout, WcpipeError, translate
from wcpipe.provision.resources import ec2, redshift_serverless
from wcpipe.provision.resources.base import Context, Differences
from wcpipe.spec.model import Spec
from wcpipe.spec.names import OWNER_TAG

PASSWORD = "Sup3rSecretPassw0rd"
ROLE = "arn:aws:iam::123456789012:role/wcpipe-fifa-redshift"
NS_ARN = "arn:aws:redshift-serverless:us-east-1:123456789012:namespace/abc"
WG_ARN = "arn:aws:redshift-serverless:us-east-1:123456789012:workgroup/def"
HOST = "wcpipe-fifa.123456789012.us-east-1.redshift-serverless.amazonaws.com"
OURS = [
    {"key": "project", "value": "world-cup-attendance"},
    {"key": OWNER_TAG, "value": "fifa"},
]


@pytest.fixture
def sctx(ctx: Context) -> Context:
    ctx.client("secretsmanager").create_secret(
        Name=ctx.names.secret,
        SecretString=json.dumps({"username": "awsadmin", "password": PASSWORD}),
    )
    ec2.SecurityGroup(ctx).ensure()
    return ctx


@pytest.fixture
def stub(sctx: Context) -> Any:
    with Stubber(sctx.client("redshift-serverless")) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def namespace(status: str = "AVAILABLE", **extra: Any) -> dict[str, Any]:
    ns = {
        "namespaceName": "wcpipe-fifa",
        "namespaceArn": NS_ARN,
        "namespaceId": "abc",
        "status": status,
        "dbName": "dev",
        "adminUsername": "awsadmin",
        "iamRoles": [f"IamRole(applyStatus=in-sync, iamRoleArn={ROLE})"],
        "defaultIamRoleArn": ROLE,
        **extra,
    }
    return {"namespace": ns}


def workgroup(sctx: Context, status: str = "AVAILABLE", **extra: Any) -> dict[str, Any]:
    wg = {
        "workgroupName": "wcpipe-fifa",
        "workgroupArn": WG_ARN,
        "namespaceName": "wcpipe-fifa",
        "status": status,
        "baseCapacity": 8,
        "securityGroupIds": [sctx.output("ec2.security-group", "group_id")],
        "subnetIds": list(ec2.network(sctx).subnet_ids),
        "publiclyAccessible": False,
        "endpoint": {"address": HOST, "port": 5439},
        **extra,
    }
    return {"workgroup": wg}


NS = {"namespaceName": "wcpipe-fifa"}
WG = {"workgroupName": "wcpipe-fifa"}


def read_namespace(stub: Stubber, tags: list[dict[str, str]] = OURS, **extra: Any) -> None:
    stub.add_response("get_namespace", namespace(**extra), NS)
    stub.add_response("list_tags_for_resource", {"tags": tags}, {"resourceArn": NS_ARN})


def read_workgroup(
    stub: Stubber, sctx: Context, tags: list[dict[str, str]] = OURS, **extra: Any
) -> None:
    stub.add_response("get_workgroup", workgroup(sctx, **extra), WG)
    stub.add_response("list_tags_for_resource", {"tags": tags}, {"resourceArn": WG_ARN})


def not_found(stub: Stubber, op: str, params: dict[str, str]) -> None:
    stub.add_client_error(op, "ResourceNotFoundException", expected_params=params)


# Namespace ------------------------------------------------------------------------------------
def test_namespace_ensure_twice(sctx: Context, stub: Stubber, clock: Any) -> None:
    not_found(stub, "get_namespace", NS)
    stub.add_response(
        "create_namespace",
        {},
        {
            "namespaceName": "wcpipe-fifa",
            "adminUsername": "awsadmin",
            "adminUserPassword": PASSWORD,
            "dbName": "dev",
            "iamRoles": [ROLE],
            "defaultIamRoleArn": ROLE,
            "tags": OURS,
        },
    )
    stub.add_response("get_namespace", namespace("MODIFYING"), NS)
    stub.add_response("get_namespace", namespace(), NS)
    read_namespace(stub)  # the engine's describe after create
    read_namespace(stub)  # second ensure: reads only
    ns = redshift_serverless.Namespace(sctx)
    assert ns.ensure() == "created"
    assert ns.ensure() == "unchanged"
    assert sctx.output("redshift-serverless.namespace", "namespace_arn") == NS_ARN
    assert len(clock.sleeps) == 1


def test_namespace_role_drift(sctx: Context, stub: Stubber) -> None:
    other = "arn:aws:iam::123456789012:role/other"
    read_namespace(
        stub,
        iamRoles=[f"IamRole(applyStatus=in-sync, iamRoleArn={other})"],
        defaultIamRoleArn=other,
    )
    stub.add_response(
        "update_namespace",
        namespace(),
        {"namespaceName": "wcpipe-fifa", "iamRoles": [other, ROLE], "defaultIamRoleArn": ROLE},
    )
    stub.add_response("get_namespace", namespace(), NS)
    read_namespace(stub)
    ns = redshift_serverless.Namespace(sctx)
    assert ns.ensure() == "updated"


def test_namespace_renamed_database_is_refused(sctx: Context, stub: Stubber) -> None:
    read_namespace(stub, dbName="other")
    with pytest.raises(WcpipeError, match="cannot be renamed"):
        redshift_serverless.Namespace(sctx).ensure()


def test_namespace_not_owned(sctx: Context, stub: Stubber) -> None:
    read_namespace(stub, tags=[])
    read_namespace(stub, tags=[])
    ns = redshift_serverless.Namespace(sctx)
    with pytest.raises(NotOwnedError):
        ns.ensure()
    assert ns.destroy() == "kept"


def test_namespace_delete_twice(sctx: Context, stub: Stubber) -> None:
    read_namespace(stub)
    stub.add_response("delete_namespace", namespace("DELETING"), NS)
    stub.add_response("get_namespace", namespace("DELETING"), NS)
    not_found(stub, "get_namespace", NS)
    not_found(stub, "get_namespace", NS)
    ns = redshift_serverless.Namespace(sctx)
    assert ns.destroy() == "deleted"
    assert ns.destroy() == "absent"


def test_namespace_password_never_in_error_text(sctx: Context, stub: Stubber) -> None:
    stub.add_client_error(
        "create_namespace", "ValidationException", f"adminUserPassword {PASSWORD} is too weak"
    )
    with pytest.raises(WcpipeError) as caught:
        redshift_serverless.Namespace(sctx).create()
    assert PASSWORD not in str(caught.value)
    assert PASSWORD not in str(translate(caught.value, "creating"))


# Workgroup ------------------------------------------------------------------------------------
def test_workgroup_ensure_twice(sctx: Context, stub: Stubber) -> None:
    not_found(stub, "get_workgroup", WG)
    stub.add_response(
        "create_workgroup",
        {},
        {
            "workgroupName": "wcpipe-fifa",
            "namespaceName": "wcpipe-fifa",
            "baseCapacity": 8,
            "securityGroupIds": [sctx.output("ec2.security-group", "group_id")],
            "subnetIds": list(ec2.network(sctx).subnet_ids),
            "publiclyAccessible": False,
            "tags": OURS,
        },
    )
    stub.add_response("get_workgroup", workgroup(sctx, "CREATING"), WG)
    stub.add_response("get_workgroup", workgroup(sctx), WG)
    stub.add_response("list_tags_for_resource", {"tags": OURS}, {"resourceArn": WG_ARN})
    read_workgroup(stub, sctx)
    wg = redshift_serverless.Workgroup(sctx)
    assert wg.ensure() == "created"
    assert wg.ensure() == "unchanged"
    out = sctx.outputs["redshift-serverless.workgroup"]
    assert out["host"].startswith("wcpipe-fifa.")
    assert out["port"] == 5439


def test_workgroup_drift_one_setting_per_update(sctx: Context, stub: Stubber) -> None:
    read_workgroup(stub, sctx, baseCapacity=32, publiclyAccessible=True)
    stub.add_response("update_workgroup", workgroup(sctx), {**WG, "baseCapacity": 8})
    stub.add_response("get_workgroup", workgroup(sctx, "MODIFYING"), WG)
    stub.add_response("get_workgroup", workgroup(sctx), WG)
    stub.add_response("update_workgroup", workgroup(sctx), {**WG, "publiclyAccessible": False})
    stub.add_response("get_workgroup", workgroup(sctx), WG)
    read_workgroup(stub, sctx)
    wg = redshift_serverless.Workgroup(sctx)
    observed = wg.describe()
    assert observed is not None
    assert texts(wg.differences(observed)) == [
        "baseCapacity: 32 -> 8",
        "publiclyAccessible: True -> False",
    ]
    wg.update(observed, Differences(wg.differences(observed)))
    assert wg.describe() is not None


def test_workgroup_not_owned(sctx: Context, stub: Stubber) -> None:
    read_workgroup(stub, sctx, tags=[{"key": "team", "value": "else"}])
    read_workgroup(stub, sctx, tags=[{"key": "team", "value": "else"}])
    wg = redshift_serverless.Workgroup(sctx)
    with pytest.raises(NotOwnedError):
        wg.ensure()
    assert wg.destroy() == "kept"


def test_workgroup_delete_twice(sctx: Context, stub: Stubber) -> None:
    read_workgroup(stub, sctx)
    stub.add_response("delete_workgroup", workgroup(sctx, "DELETING"), WG)
    stub.add_response("get_workgroup", workgroup(sctx, "DELETING"), WG)
    not_found(stub, "get_workgroup", WG)
    not_found(stub, "get_workgroup", WG)
    wg = redshift_serverless.Workgroup(sctx)
    assert wg.destroy() == "deleted"
    assert wg.destroy() == "absent"


def test_workgroup_create_wait_is_bounded(sctx: Context, clock: Any) -> None:
    with Stubber(sctx.client("redshift-serverless")) as stub:
        stub.add_response("create_workgroup", {})
        for _ in range(200):
            stub.add_response("get_workgroup", workgroup(sctx, "CREATING"), WG)
        with pytest.raises(WaitTimeout, match="workgroup wcpipe-fifa"):
            redshift_serverless.Workgroup(sctx).create()
    assert clock.now <= redshift_serverless.TIMEOUT


def test_workgroup_needs_three_zones(ctx: Context) -> None:
    client = ctx.client("ec2")
    vpc = client.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    for i, az in enumerate(["us-east-1a", "us-east-1b"]):
        client.create_subnet(VpcId=vpc, CidrBlock=f"10.9.{i}.0/24", AvailabilityZone=az)
    raw = ctx.spec.model_dump(by_alias=True)
    raw["network"] = {"vpc_id": vpc}
    narrow = Context(spec=Spec.model_validate(raw), aws=ctx.aws, timing=ctx.timing)
    narrow.publish("ec2.security-group", {"group_id": "sg-0123456789abcdef0"})
    with pytest.raises(WcpipeError, match="at least 3 availability zones") as caught:
        redshift_serverless.Workgroup(narrow).create()
    assert "us-east-1a, us-east-1b" in str(caught.value)
