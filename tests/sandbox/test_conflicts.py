"""What AWS refuses (or keeps) that plain moto lets through, as the sandbox serves it, through real
boto3 clients: the races two concurrent `wcpipe up`s run into must end as they end on AWS."""

from __future__ import annotations

import io
import json
import zipfile
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from botocore.exceptions import ClientError

from wcpipe.provision.resources.iam_policies import trust_policy


def _code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


@pytest.fixture(scope="module")
def function(client: Any) -> str:
    role = client("iam").create_role(
        RoleName="conflicts-fn",
        AssumeRolePolicyDocument=json.dumps(trust_policy(["lambda.amazonaws.com"])),
    )["Role"]["Arn"]
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as z:
        z.writestr("handler.py", "def handler(event, context):\n    return None\n")
    client("lambda").create_function(
        FunctionName="conflicts-fn",
        Runtime="python3.12",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": package.getvalue()},
    )
    return "conflicts-fn"


def _add(client: Any, function: str, sid: str) -> dict[str, Any]:
    return dict(
        client("lambda").add_permission(
            FunctionName=function,
            StatementId=sid,
            Action="lambda:InvokeFunction",
            Principal="events.amazonaws.com",
            SourceArn="arn:aws:events:us-east-1:123456789012:rule/r",
        )
    )


def _sids(client: Any, function: str) -> list[str]:
    policy = json.loads(client("lambda").get_policy(FunctionName=function)["Policy"])
    return [s["Sid"] for s in policy["Statement"]]


def test_a_statement_id_is_added_once(client: Any, function: str) -> None:
    _add(client, function, "invoke-once")
    with pytest.raises(ClientError) as exc:
        _add(client, function, "invoke-once")
    assert _code(exc) == "ResourceConflictException"
    assert "invoke-once" in str(exc.value)
    assert _sids(client, function).count("invoke-once") == 1
    _add(client, function, "another")  # other ids still go in
    assert _sids(client, function).count("another") == 1


def test_concurrent_adds_of_one_statement_id_leave_one(client: Any, function: str) -> None:
    def add(_: int) -> str:
        try:
            _add(client, function, "raced")
        except ClientError as exc:
            return str(exc.response["Error"]["Code"])
        return "ok"

    with ThreadPoolExecutor(4) as pool:
        outcomes = sorted(pool.map(add, range(4)))
    assert outcomes == ["ResourceConflictException"] * 3 + ["ok"]
    assert _sids(client, function).count("raced") == 1


def _s3_gateway(ec2: Any, vpc: str, tables: list[str]) -> dict[str, Any]:
    return dict(
        ec2.create_vpc_endpoint(
            VpcEndpointType="Gateway",
            VpcId=vpc,
            ServiceName="com.amazonaws.us-east-1.s3",
            RouteTableIds=tables,
        )["VpcEndpoint"]
    )


def test_one_gateway_endpoint_per_service_and_route_table(client: Any) -> None:
    ec2 = client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    other = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    first = _s3_gateway(ec2, vpc, [table])
    with pytest.raises(ClientError) as exc:
        _s3_gateway(ec2, vpc, [other, table])
    assert _code(exc) == "RouteAlreadyExists"
    assert table in str(exc.value)
    endpoints = ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [vpc]}])
    assert [e["VpcEndpointId"] for e in endpoints["VpcEndpoints"]] == [first["VpcEndpointId"]]
    # Another route table, or another service on the same table, is fine.
    _s3_gateway(ec2, vpc, [other])
    ec2.create_vpc_endpoint(
        VpcEndpointType="Gateway",
        VpcId=vpc,
        ServiceName="com.amazonaws.us-east-1.dynamodb",
        RouteTableIds=[table],
    )


def test_one_private_dns_interface_endpoint_per_service_and_vpc(client: Any) -> None:
    ec2 = client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.8.1.0/24")["Subnet"]["SubnetId"]

    def interface(service: str, private_dns: bool) -> dict[str, Any]:
        return dict(
            ec2.create_vpc_endpoint(
                VpcEndpointType="Interface",
                VpcId=vpc,
                ServiceName=f"com.amazonaws.us-east-1.{service}",
                SubnetIds=[subnet],
                PrivateDnsEnabled=private_dns,
            )["VpcEndpoint"]
        )

    first = interface("secretsmanager", True)
    with pytest.raises(ClientError) as exc:
        interface("secretsmanager", True)
    assert _code(exc) == "InvalidParameter"
    assert str(exc.value).endswith(
        "private-dns-enabled cannot be set because there is already a conflicting DNS domain "
        f"for secretsmanager.us-east-1.amazonaws.com in the VPC {vpc}"
    )
    endpoints = ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [vpc]}])
    assert [e["VpcEndpointId"] for e in endpoints["VpcEndpoints"]] == [first["VpcEndpointId"]]
    # Without private DNS, or for another service, AWS makes it.
    interface("secretsmanager", False)
    interface("logs", True)


def test_create_bucket_keeps_its_tags(client: Any) -> None:
    s3 = client("s3")
    s3.create_bucket(
        Bucket="conflicts-tagged",
        CreateBucketConfiguration={"Tags": [{"Key": "wcpipe:pipeline", "Value": "fifa"}]},
    )
    assert s3.get_bucket_tagging(Bucket="conflicts-tagged")["TagSet"] == [
        {"Key": "wcpipe:pipeline", "Value": "fifa"}
    ]
    s3.create_bucket(Bucket="conflicts-untagged")
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_tagging(Bucket="conflicts-untagged")
    assert _code(exc) == "NoSuchTagSet"
