"""Redshift Serverless served by the sandbox, through a real boto3 client: shapes against
botocore's service model, errors by code, status transitions with and without a latency profile,
and the Data API naming a workgroup."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from botocore.validate import ParamValidator
from support.dataapi import wait_statement as _wait

from wcpipe.sandbox.patches.latency import Profile

Client = Callable[[str], Any]
SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:wcpipe-test/redshift-admin-AbCdEf"
ROLE = "arn:aws:iam::123456789012:role/wcpipe-test-redshift"


def _code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def _matches_model(client: Any, operation: str, response: dict[str, Any]) -> None:
    """The parsed response has only members of the operation's output shape, of their types."""
    shape = client.meta.service_model.operation_model(operation).output_shape
    body = {k: v for k, v in response.items() if k != "ResponseMetadata"}
    report = ParamValidator().validate(body, shape)
    assert not report.has_errors(), report.generate_report()


@pytest.fixture(scope="module")
def rs(client: Client) -> Any:
    return client("redshift-serverless")


@pytest.fixture(scope="module")
def subnets(client: Client) -> list[str]:
    """Three subnets of the default VPC, each in its own availability zone."""
    found = client("ec2").describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])
    by_zone = {s["AvailabilityZone"]: s["SubnetId"] for s in found["Subnets"]}
    return sorted(by_zone.values())[:3]


@pytest.fixture
def namespace(rs: Any) -> Iterator[str]:
    name = f"ns-{time.monotonic_ns()}"
    rs.create_namespace(
        namespaceName=name,
        adminUsername="awsadmin",
        adminUserPassword="Secret-Passw0rd",
        dbName="dev",
        iamRoles=[ROLE],
        defaultIamRoleArn=ROLE,
        tags=[{"key": "owner", "value": "test"}],
    )
    yield name
    for wg in rs.list_workgroups()["workgroups"]:
        if wg["namespaceName"] == name and wg["status"] != "DELETING":
            rs.delete_workgroup(workgroupName=wg["workgroupName"])
    _until_gone(rs, "workgroup", f"wg-{name}")
    try:
        rs.delete_namespace(namespaceName=name)
    except ClientError as exc:
        assert exc.response["Error"]["Code"] in {"ResourceNotFoundException", "ConflictException"}


def _until_gone(rs: Any, noun: str, name: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    get = getattr(rs, f"get_{noun}")
    while time.monotonic() < deadline:
        try:
            get(**{f"{noun}Name": name})
        except rs.exceptions.ResourceNotFoundException:
            return
        time.sleep(0.05)
    raise AssertionError(f"{noun} {name} still there")


def _workgroup(rs: Any, namespace: str, subnets: list[str], **extra: Any) -> dict[str, Any]:
    made: dict[str, Any] = rs.create_workgroup(
        workgroupName=f"wg-{namespace}",
        namespaceName=namespace,
        baseCapacity=8,
        subnetIds=subnets,
        publiclyAccessible=False,
        **extra,
    )
    return made


# Namespaces ----------------------------------------------------------------------------------
def test_create_namespace_get_list_and_tags(rs: Any, namespace: str) -> None:
    got = rs.get_namespace(namespaceName=namespace)
    _matches_model(rs, "GetNamespace", got)
    ns = got["namespace"]
    assert (ns["status"], ns["dbName"], ns["adminUsername"]) == ("AVAILABLE", "dev", "awsadmin")
    assert ns["defaultIamRoleArn"] == ROLE
    assert ns["namespaceArn"].startswith("arn:aws:redshift-serverless:us-east-1:123456789012:")
    listed = rs.list_namespaces()
    _matches_model(rs, "ListNamespaces", listed)
    assert namespace in [n["namespaceName"] for n in listed["namespaces"]]
    tags = rs.list_tags_for_resource(resourceArn=ns["namespaceArn"])
    assert tags["tags"] == [{"key": "owner", "value": "test"}]


def test_create_namespace_name_taken(rs: Any, namespace: str) -> None:
    with pytest.raises(ClientError) as exc:
        rs.create_namespace(namespaceName=namespace, adminUsername="a", adminUserPassword="b")
    assert _code(exc) == "ConflictException"


def test_update_namespace_modifying_then_available(rs: Any, namespace: str) -> None:
    other = "arn:aws:iam::123456789012:role/other"
    updated = rs.update_namespace(
        namespaceName=namespace, iamRoles=[ROLE, other], defaultIamRoleArn=other
    )
    _matches_model(rs, "UpdateNamespace", updated)
    assert updated["namespace"]["status"] == "MODIFYING"
    ns = rs.get_namespace(namespaceName=namespace)["namespace"]
    assert (ns["status"], ns["defaultIamRoleArn"]) == ("AVAILABLE", other)


def test_delete_namespace_twice(rs: Any, namespace: str) -> None:
    deleted = rs.delete_namespace(namespaceName=namespace)
    _matches_model(rs, "DeleteNamespace", deleted)
    assert deleted["namespace"]["status"] == "DELETING"
    with pytest.raises(rs.exceptions.ResourceNotFoundException):
        rs.delete_namespace(namespaceName=namespace)
    with pytest.raises(rs.exceptions.ResourceNotFoundException):
        rs.get_namespace(namespaceName=namespace)


def test_delete_namespace_with_a_workgroup_is_refused(
    rs: Any, namespace: str, subnets: list[str]
) -> None:
    _workgroup(rs, namespace, subnets)
    with pytest.raises(ClientError) as exc:
        rs.delete_namespace(namespaceName=namespace)
    assert _code(exc) == "ConflictException"


# Workgroups ----------------------------------------------------------------------------------
def test_create_workgroup_creating_then_available_with_endpoint(
    rs: Any, namespace: str, subnets: list[str]
) -> None:
    made = _workgroup(rs, namespace, subnets, maxCapacity=64)
    _matches_model(rs, "CreateWorkgroup", made)
    assert made["workgroup"]["status"] == "CREATING"
    got = rs.get_workgroup(workgroupName=f"wg-{namespace}")
    _matches_model(rs, "GetWorkgroup", got)
    wg = got["workgroup"]
    assert (wg["status"], wg["baseCapacity"], wg["maxCapacity"]) == ("AVAILABLE", 8, 64)
    assert wg["endpoint"]["address"] == (
        f"wg-{namespace}.123456789012.us-east-1.redshift-serverless.amazonaws.com"
    )
    assert wg["endpoint"]["port"] == 5439
    interfaces = wg["endpoint"]["vpcEndpoints"][0]["networkInterfaces"]
    assert sorted(i["subnetId"] for i in interfaces) == sorted(subnets)
    listed = rs.list_workgroups()
    _matches_model(rs, "ListWorkgroups", listed)
    assert f"wg-{namespace}" in [w["workgroupName"] for w in listed["workgroups"]]


def test_create_workgroup_name_taken(rs: Any, namespace: str, subnets: list[str]) -> None:
    _workgroup(rs, namespace, subnets)
    with pytest.raises(ClientError) as exc:
        _workgroup(rs, namespace, subnets)
    assert _code(exc) == "ConflictException"


def test_create_workgroup_on_missing_namespace(rs: Any, subnets: list[str]) -> None:
    with pytest.raises(rs.exceptions.ResourceNotFoundException):
        _workgroup(rs, "ns-missing", subnets)


@pytest.mark.parametrize("base", [12, 600, 2048])
def test_create_workgroup_base_capacity_aws_does_not_offer(
    rs: Any, namespace: str, subnets: list[str], base: int
) -> None:
    with pytest.raises(ClientError) as exc:
        rs.create_workgroup(
            workgroupName=f"wg-{namespace}",
            namespaceName=namespace,
            baseCapacity=base,
            subnetIds=subnets,
        )
    assert _code(exc) == "ValidationException"
    assert "Base capacity" in exc.value.response["Error"]["Message"]


def test_create_workgroup_subnets_in_fewer_than_three_zones(
    client: Client, rs: Any, namespace: str
) -> None:
    ec2 = client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    two_zones = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.9.{n}.0/24", AvailabilityZone=zone)["Subnet"][
            "SubnetId"
        ]
        for n, zone in enumerate(["us-east-1a", "us-east-1a", "us-east-1b"])
    ]
    with pytest.raises(ClientError) as exc:
        _workgroup(rs, namespace, two_zones)
    assert _code(exc) == "ValidationException"
    assert "Availability Zones" in exc.value.response["Error"]["Message"]


def test_update_workgroup_one_setting_at_a_time(
    rs: Any, namespace: str, subnets: list[str]
) -> None:
    name = _workgroup(rs, namespace, subnets)["workgroup"]["workgroupName"]
    with pytest.raises(ClientError) as exc:
        rs.update_workgroup(workgroupName=name, baseCapacity=16, maxCapacity=64)
    assert _code(exc) == "ValidationException"
    updated = rs.update_workgroup(workgroupName=name, baseCapacity=16)
    _matches_model(rs, "UpdateWorkgroup", updated)
    assert updated["workgroup"]["status"] == "MODIFYING"
    wg = rs.get_workgroup(workgroupName=name)["workgroup"]
    assert (wg["status"], wg["baseCapacity"]) == ("AVAILABLE", 16)


def test_delete_workgroup_twice(rs: Any, namespace: str, subnets: list[str]) -> None:
    name = _workgroup(rs, namespace, subnets)["workgroup"]["workgroupName"]
    deleted = rs.delete_workgroup(workgroupName=name)
    _matches_model(rs, "DeleteWorkgroup", deleted)
    assert deleted["workgroup"]["status"] == "DELETING"
    with pytest.raises(rs.exceptions.ResourceNotFoundException):
        rs.delete_workgroup(workgroupName=name)


def test_tag_and_untag_workgroup(rs: Any, namespace: str, subnets: list[str]) -> None:
    arn = _workgroup(rs, namespace, subnets)["workgroup"]["workgroupArn"]
    rs.tag_resource(resourceArn=arn, tags=[{"key": "a", "value": "1"}, {"key": "b", "value": "2"}])
    rs.untag_resource(resourceArn=arn, tagKeys=["a"])
    tags = rs.list_tags_for_resource(resourceArn=arn)
    _matches_model(rs, "ListTagsForResource", tags)
    assert tags["tags"] == [{"key": "b", "value": "2"}]
    with pytest.raises(rs.exceptions.ResourceNotFoundException):
        rs.list_tags_for_resource(resourceArn=arn.replace("workgroup/", "workgroup/0"))


# Under a latency profile ---------------------------------------------------------------------
@pytest.fixture
def aws_latency(sandbox: Any) -> Iterator[Profile]:
    """The module's sandbox as slow as AWS, 1000 times faster (a 3-minute creation: 0.18 s)."""
    profile = Profile("aws", scale=1000.0)
    sandbox.latency = profile
    yield profile
    sandbox.latency = None


def _statuses(rs: Any, name: str, until: str | None, timeout: float = 5) -> list[str]:
    """Each status GetWorkgroup answers until `until` (None: until gone)."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            status = rs.get_workgroup(workgroupName=name)["workgroup"]["status"]
        except rs.exceptions.ResourceNotFoundException:
            if until is None:
                return seen
            raise
        if not seen or seen[-1] != status:
            seen.append(status)
        if status == until:
            return seen
        time.sleep(0.01)
    raise AssertionError(f"workgroup {name}: {seen}")


def test_latency_profile_workgroup_readiness(
    rs: Any, namespace: str, subnets: list[str], aws_latency: Profile
) -> None:
    started = time.monotonic()
    name = _workgroup(rs, namespace, subnets)["workgroup"]["workgroupName"]
    assert _statuses(rs, name, "AVAILABLE") == ["CREATING", "AVAILABLE"]
    assert time.monotonic() - started >= aws_latency.ready_after("redshift-serverless.workgroup")
    rs.update_workgroup(workgroupName=name, baseCapacity=16)
    with pytest.raises(ClientError) as exc:  # a change in progress blocks the next
        rs.update_workgroup(workgroupName=name, baseCapacity=24)
    assert _code(exc) == "ConflictException"
    assert _statuses(rs, name, "AVAILABLE") == ["MODIFYING", "AVAILABLE"]
    rs.delete_workgroup(workgroupName=name)
    with pytest.raises(ClientError) as exc:  # the namespace still has it, DELETING
        rs.delete_namespace(namespaceName=namespace)
    assert _code(exc) == "ConflictException"
    assert _statuses(rs, name, None) == ["DELETING"]


def test_create_workgroup_on_namespace_being_deleted(
    rs: Any, namespace: str, subnets: list[str], aws_latency: Profile
) -> None:
    rs.delete_namespace(namespaceName=namespace)
    with pytest.raises(ClientError) as exc:
        _workgroup(rs, namespace, subnets)
    assert _code(exc) == "ConflictException"


# The Data API on a workgroup -----------------------------------------------------------------
def test_data_api_runs_on_a_workgroup(
    client: Client, rs: Any, namespace: str, subnets: list[str]
) -> None:
    name = _workgroup(rs, namespace, subnets)["workgroup"]["workgroupName"]
    data = client("redshift-data")
    target = {"WorkgroupName": name, "Database": "dev", "SecretArn": SECRET}
    sid = data.execute_statement(Sql="SELECT 40 + 2 AS answer", **target)["Id"]
    assert _wait(data, sid)["Status"] == "FINISHED"
    rows = data.get_statement_result(Id=sid)["Records"]
    assert rows == [[{"longValue": 42}]]


def test_data_api_unknown_workgroup(client: Client) -> None:
    data = client("redshift-data")
    with pytest.raises(ClientError) as exc:
        data.execute_statement(Sql="SELECT 1", WorkgroupName="nope", Database="dev")
    assert _code(exc) == "ValidationException"
