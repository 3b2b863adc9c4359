"""Redshift Serverless resources on the sandbox's own Serverless backend (moto has none;
`sandbox/patches/serverless.py` plugs it into moto, here into moto's in-process mock), through
real boto3 clients; EC2 and Secrets Manager on moto. Every ensure runs twice (the second finds
nothing to change) and every delete twice (the second finds nothing).

botocore's Stubber stays for two things the backend cannot show, each saying why: an error whose
text carries the password, and a workgroup that never leaves CREATING."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.stub import Stubber
from support.plan import texts

from wcpipe.core.errors import NotOwnedError, WaitTimeout, WcpipeError, translate
from wcpipe.provision.resources import ec2, redshift_serverless
from wcpipe.provision.resources.base import Context
from wcpipe.sandbox.patches import serverless
from wcpipe.spec.model import Spec
from wcpipe.spec.names import OWNER_TAG

PASSWORD = "Sup3rSecretPassw0rd"
ROLE = "arn:aws:iam::123456789012:role/wcpipe-fifa-redshift"
OURS = [
    {"key": "project", "value": "world-cup-attendance"},
    {"key": OWNER_TAG, "value": "fifa"},
]


@pytest.fixture
def sctx(ctx: Context) -> Context:
    serverless.install()  # the sandbox's Redshift Serverless, on moto's mock (once per process)
    ctx.client("secretsmanager").create_secret(
        Name=ctx.names.secret,
        SecretString=json.dumps({"username": "awsadmin", "password": PASSWORD}),
    )
    ec2.SecurityGroup(ctx).ensure()
    return ctx


@pytest.fixture
def rs(sctx: Context) -> Any:
    return sctx.client("redshift-serverless")


def _namespace(rs: Any, **extra: Any) -> dict[str, Any]:
    """A namespace made behind wcpipe's back (tags only if given)."""
    made: dict[str, Any] = rs.create_namespace(
        namespaceName="wcpipe-fifa",
        adminUsername="awsadmin",
        adminUserPassword=PASSWORD,
        iamRoles=[ROLE],
        defaultIamRoleArn=ROLE,
        **{"dbName": "dev", **extra},
    )
    return made["namespace"]


def _workgroup_of(sctx: Context) -> dict[str, Any]:
    got: dict[str, Any] = sctx.client("redshift-serverless").get_workgroup(
        workgroupName="wcpipe-fifa"
    )
    return got["workgroup"]


# Namespace ------------------------------------------------------------------------------------
def test_namespace_ensure_twice(sctx: Context, rs: Any) -> None:
    ns = redshift_serverless.Namespace(sctx)
    assert ns.ensure() == "created"
    assert ns.ensure() == "unchanged"
    found = rs.get_namespace(namespaceName="wcpipe-fifa")["namespace"]
    assert (found["dbName"], found["adminUsername"], found["defaultIamRoleArn"]) == (
        "dev",
        "awsadmin",
        ROLE,
    )
    arn = sctx.output("redshift-serverless.namespace", "namespace_arn")
    assert arn == found["namespaceArn"]
    assert rs.list_tags_for_resource(resourceArn=arn)["tags"] == OURS


def test_namespace_role_drift(sctx: Context, rs: Any) -> None:
    ns = redshift_serverless.Namespace(sctx)
    ns.ensure()
    other = "arn:aws:iam::123456789012:role/other"
    rs.update_namespace(namespaceName="wcpipe-fifa", iamRoles=[other], defaultIamRoleArn=other)
    observed = ns.describe()
    assert observed is not None
    assert texts(ns.differences(observed)) == [
        f"iam_roles: +{ROLE}",
        f"default_iam_role: {other} -> {ROLE}",
    ]
    assert ns.ensure() == "updated"
    assert ns.ensure() == "unchanged"
    found = rs.get_namespace(namespaceName="wcpipe-fifa")["namespace"]
    listed = [f"IamRole(applyStatus=in-sync, iamRoleArn={arn})" for arn in (other, ROLE)]
    assert (found["iamRoles"], found["defaultIamRoleArn"]) == (listed, ROLE)  # AWS's text form


def test_namespace_renamed_database_is_refused(sctx: Context, rs: Any) -> None:
    _namespace(rs, dbName="other", tags=OURS)
    with pytest.raises(WcpipeError, match="cannot be renamed"):
        redshift_serverless.Namespace(sctx).ensure()


def test_namespace_not_owned(sctx: Context, rs: Any) -> None:
    _namespace(rs)
    ns = redshift_serverless.Namespace(sctx)
    with pytest.raises(NotOwnedError):
        ns.ensure()
    assert ns.destroy() == "kept"
    assert rs.get_namespace(namespaceName="wcpipe-fifa")["namespace"]["status"] == "AVAILABLE"


def test_namespace_delete_twice(sctx: Context, rs: Any) -> None:
    ns = redshift_serverless.Namespace(sctx)
    ns.ensure()
    assert ns.destroy() == "deleted"
    assert ns.destroy() == "absent"
    assert rs.list_namespaces()["namespaces"] == []


def test_namespace_password_never_in_error_text(sctx: Context) -> None:
    """Stubber: AWS's error texts are its own; this pins the redaction should one ever carry the
    password, which the backend's never do (it keeps no password: the sandbox's warehouse takes
    the secret's, sandbox/patches/serverless_models.py)."""
    with Stubber(sctx.client("redshift-serverless")) as stub:
        stub.add_client_error(
            "create_namespace", "ValidationException", f"adminUserPassword {PASSWORD} is too weak"
        )
        with pytest.raises(WcpipeError) as caught:
            redshift_serverless.Namespace(sctx).create()
    assert PASSWORD not in str(caught.value)
    assert PASSWORD not in str(translate(caught.value, "creating"))


# Workgroup ------------------------------------------------------------------------------------
@pytest.fixture
def wctx(sctx: Context) -> Context:
    redshift_serverless.Namespace(sctx).ensure()
    return sctx


def test_workgroup_ensure_twice(wctx: Context, rs: Any) -> None:
    wg = redshift_serverless.Workgroup(wctx)
    assert wg.ensure() == "created"
    assert wg.ensure() == "unchanged"
    found = _workgroup_of(wctx)
    assert (found["status"], found["baseCapacity"], found["publiclyAccessible"]) == (
        "AVAILABLE",
        8,
        False,
    )
    assert found["securityGroupIds"] == [wctx.output("ec2.security-group", "group_id")]
    assert sorted(found["subnetIds"]) == sorted(ec2.network(wctx).subnet_ids)
    out = wctx.outputs["redshift-serverless.workgroup"]
    assert out["host"] == "wcpipe-fifa.123456789012.us-east-1.redshift-serverless.amazonaws.com"
    assert (out["port"], out["status"]) == (5439, "AVAILABLE")
    assert rs.list_tags_for_resource(resourceArn=found["workgroupArn"])["tags"] == OURS
    observed = wg.describe()
    assert observed is not None
    where = f"{out['host']}:5439"
    assert wg.facts(observed) == {"state": "AVAILABLE", "endpoint": where, "base rpu": "8"}


def test_workgroup_drift_one_setting_per_update(wctx: Context, rs: Any) -> None:
    """AWS takes one setting per UpdateWorkgroup; the backend refuses two, as AWS does."""
    wg = redshift_serverless.Workgroup(wctx)
    wg.ensure()
    rs.update_workgroup(workgroupName="wcpipe-fifa", baseCapacity=32)
    rs.update_workgroup(workgroupName="wcpipe-fifa", publiclyAccessible=True)
    observed = wg.describe()
    assert observed is not None
    assert texts(wg.differences(observed)) == [
        "baseCapacity: 32 -> 8",
        "publiclyAccessible: True -> False",
    ]
    assert wg.ensure() == "updated"
    assert wg.ensure() == "unchanged"
    found = _workgroup_of(wctx)
    assert (found["baseCapacity"], found["publiclyAccessible"]) == (8, False)


def test_workgroup_not_owned(wctx: Context, rs: Any) -> None:
    rs.create_workgroup(
        workgroupName="wcpipe-fifa",
        namespaceName="wcpipe-fifa",
        baseCapacity=8,
        tags=[{"key": "team", "value": "else"}],
    )
    wg = redshift_serverless.Workgroup(wctx)
    with pytest.raises(NotOwnedError):
        wg.ensure()
    assert wg.destroy() == "kept"
    assert _workgroup_of(wctx)["status"] == "AVAILABLE"


def test_workgroup_delete_twice_then_namespace(wctx: Context, rs: Any) -> None:
    wg = redshift_serverless.Workgroup(wctx)
    wg.ensure()
    assert wg.destroy() == "deleted"
    assert wg.destroy() == "absent"
    assert rs.list_workgroups()["workgroups"] == []
    ns = redshift_serverless.Namespace(wctx)
    assert ns.destroy() == "deleted"  # AWS refuses it while the workgroup exists
    assert ns.destroy() == "absent"


def test_workgroup_create_wait_is_bounded(sctx: Context, clock: Any) -> None:
    """Stubber: the backend's workgroups become AVAILABLE after its readiness delay, which runs
    on real time (and is none on moto's in-process mock), so a workgroup that is still CREATING
    when the injected clock's 30-minute budget is spent is what only a stub can answer."""
    wg_answer = {
        "workgroup": {"workgroupName": "wcpipe-fifa", "status": "CREATING", "namespaceName": "x"}
    }
    with Stubber(sctx.client("redshift-serverless")) as stub:
        stub.add_response("create_workgroup", {})
        for _ in range(200):
            stub.add_response("get_workgroup", wg_answer, {"workgroupName": "wcpipe-fifa"})
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
