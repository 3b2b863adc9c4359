"""The network on moto: VPC lookup, the Glue security group, the shared S3 gateway endpoint."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.stub import Stubber
from support.plan import texts
from support.requests import Requests

from wcpipe.core.errors import BlockedChange, NotOwnedError, WaitTimeout, WcpipeError
from wcpipe.provision.resources import ec2, ec2_endpoint
from wcpipe.provision.resources.base import Context, Differences, Observed
from wcpipe.spec.model import Spec
from wcpipe.spec.names import OWNER_TAG


def with_network(ctx: Context, **network: str) -> Context:
    spec = Spec.model_validate({**ctx.spec.model_dump(by_alias=True), "network": network})
    return Context(spec=spec, aws=ctx.aws, timing=ctx.timing)


def default_vpc(ec2_client: Any) -> str:
    vpcs = ec2_client.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])
    return str(vpcs["Vpcs"][0]["VpcId"])


# network() ------------------------------------------------------------------------------------
def test_network_uses_default_vpc_sorted_subnets(ctx: Context) -> None:
    net = ec2.network(ctx)
    client = ctx.client("ec2")
    assert net.vpc_id == default_vpc(client)
    azs = [net.subnet_azs[s] for s in net.subnet_ids]
    assert azs == sorted(azs)
    assert net.subnet_id == net.subnet_ids[0]
    assert net.availability_zone == azs[0]
    assert net.route_table_ids
    assert ctx.output(ec2.NETWORK_KEY, "network") is net
    assert ec2.network(ctx) is net  # cached


def test_network_honours_subnet_id(ctx: Context) -> None:
    subnets = ec2.network(ctx).subnet_ids
    chosen = with_network(ctx, subnet_id=subnets[2])
    assert ec2.network(chosen).subnet_id == subnets[2]


def test_network_without_default_vpc_is_clear(ctx: Context) -> None:
    client = ctx.client("ec2")
    vpc = default_vpc(client)
    for s in client.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]:
        client.delete_subnet(SubnetId=s["SubnetId"])
    client.delete_vpc(VpcId=vpc)
    with pytest.raises(WcpipeError, match=r"no default VPC in us-east-1; set network\.vpc_id"):
        ec2.network(ctx)


def test_network_unknown_subnet_is_clear(ctx: Context) -> None:
    other = with_network(ctx, subnet_id="subnet-0123456789abcdef0")
    with pytest.raises(WcpipeError, match="is not a subnet of VPC"):
        ec2.network(other)


# SecurityGroup --------------------------------------------------------------------------------
def test_security_group_ensure_twice(ctx: Context) -> None:
    sg = ec2.SecurityGroup(ctx)
    assert sg.ensure() == "created"
    client = ctx.client("ec2")
    sent = Requests.on(client)
    assert sg.ensure() == "unchanged"
    assert sent.mutating == []

    out = ctx.outputs["ec2.security-group"]
    group = client.describe_security_groups(GroupIds=[out["group_id"]])["SecurityGroups"][0]
    assert group["GroupName"] == "wcpipe-fifa"
    assert {t["Key"]: t["Value"] for t in group["Tags"]}[OWNER_TAG] == "fifa"
    [rule] = group["IpPermissions"]
    assert (rule["IpProtocol"], rule["FromPort"], rule["ToPort"]) == ("tcp", 0, 65535)
    assert rule["UserIdGroupPairs"][0]["GroupId"] == out["group_id"]
    assert rule["IpRanges"] == []
    assert out["vpc_id"] == default_vpc(client)
    assert out["subnet_id"] in out["subnet_ids"]
    assert out["availability_zone"].startswith("us-east-1")


def test_security_group_open_ingress_is_drift_and_removed(ctx: Context) -> None:
    sg = ec2.SecurityGroup(ctx)
    sg.ensure()
    client = ctx.client("ec2")
    gid = ctx.output("ec2.security-group", "group_id")
    client.authorize_security_group_ingress(
        GroupId=gid,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 5439,
                "ToPort": 5439,
                "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
            }
        ],
    )
    observed = sg.describe()
    assert observed is not None
    assert texts(sg.differences(observed)) == ["ingress: -tcp 5439-5439 from 0.0.0.0/0"]
    assert sg.ensure() == "updated"
    perms = client.describe_security_groups(GroupIds=[gid])["SecurityGroups"][0]["IpPermissions"]
    assert all(p["IpRanges"] == [] for p in perms)
    assert len(perms) == 1
    assert sg.ensure() == "unchanged"


def test_security_group_missing_self_rule_and_tags_are_restored(ctx: Context) -> None:
    sg = ec2.SecurityGroup(ctx)
    sg.ensure()
    client = ctx.client("ec2")
    gid = ctx.output("ec2.security-group", "group_id")
    before = sg.describe()
    assert before is not None
    [self_rule] = before.data["ingress"]
    assert self_rule["ReferencedGroupInfo"]["GroupId"] == gid
    rules = client.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [gid]}])
    rule_ids = [r["SecurityGroupRuleId"] for r in rules["SecurityGroupRules"] if not r["IsEgress"]]
    client.revoke_security_group_ingress(GroupId=gid, SecurityGroupRuleIds=rule_ids)
    client.delete_tags(Resources=[gid], Tags=[{"Key": "project"}])
    observed = sg.describe()
    assert observed is not None
    assert texts(sg.differences(observed)) == [
        "ingress: +tcp 0-65535 from itself",
        "tags.project: (none) -> world-cup-attendance",
    ]
    assert sg.ensure() == "updated"
    assert sg.ensure() == "unchanged"


def test_security_group_delete_twice(ctx: Context) -> None:
    sg = ec2.SecurityGroup(ctx)
    sg.ensure()
    assert sg.destroy() == "deleted"
    assert sg.destroy() == "absent"
    assert sg.describe() is None


def test_security_group_not_owned(ctx: Context) -> None:
    client = ctx.client("ec2")
    client.create_security_group(
        GroupName="wcpipe-fifa", Description="someone else's", VpcId=default_vpc(client)
    )
    sg = ec2.SecurityGroup(ctx)
    with pytest.raises(NotOwnedError):
        sg.ensure()
    assert sg.destroy() == "kept"
    assert sg.describe() is not None


def _dependency_violation(stub: Stubber, gid: str) -> None:
    stub.add_client_error(
        "delete_security_group",
        service_error_code="DependencyViolation",
        service_message="resource has a dependent object",
        expected_params={"GroupId": gid},
    )


def test_security_group_delete_waits_for_lingering_interfaces(ctx: Context, clock: Any) -> None:
    sg = ec2.SecurityGroup(ctx)
    observed = Observed({"group_id": "sg-0123456789abcdef0", "vpc_id": "vpc-1", "ingress": []})
    with Stubber(ctx.client("ec2")) as stub:
        _dependency_violation(stub, "sg-0123456789abcdef0")
        _dependency_violation(stub, "sg-0123456789abcdef0")
        stub.add_response("delete_security_group", {}, {"GroupId": "sg-0123456789abcdef0"})
        sg.delete(observed)
        stub.assert_no_pending_responses()
    assert len(clock.sleeps) == 2


def test_security_group_delete_gives_up_within_budget(ctx: Context, clock: Any) -> None:
    sg = ec2.SecurityGroup(ctx)
    observed = Observed({"group_id": "sg-0123456789abcdef0", "vpc_id": "vpc-1", "ingress": []})
    with Stubber(ctx.client("ec2")) as stub:
        for _ in range(200):
            _dependency_violation(stub, "sg-0123456789abcdef0")
        with pytest.raises(WaitTimeout, match="still in use"):
            sg.delete(observed)
    assert clock.now <= ec2.DELETE_BUDGET


# S3Endpoint -----------------------------------------------------------------------------------
def _planned(ep: ec2_endpoint.S3Endpoint) -> list[str]:
    """What `plan` shows for the endpoint as it is now."""
    observed = ep.describe()
    assert observed is not None
    return texts(ep.differences(observed))


def _s3_gateway(client: Any, tables: list[str], tags: list[dict[str, str]]) -> str:
    """An S3 gateway endpoint nobody in wcpipe made, in the default VPC."""
    return str(
        client.create_vpc_endpoint(
            VpcEndpointType="Gateway",
            VpcId=default_vpc(client),
            ServiceName="com.amazonaws.us-east-1.s3",
            RouteTableIds=tables,
            TagSpecifications=[{"ResourceType": "vpc-endpoint", "Tags": tags}],
        )["VpcEndpoint"]["VpcEndpointId"]
    )


def test_s3_endpoint_ensure_twice_and_delete_twice(ctx: Context) -> None:
    ep = ec2_endpoint.S3Endpoint(ctx)
    assert ep.ensure() == "created"
    client = ctx.client("ec2")
    sent = Requests.on(client)
    assert ep.ensure() == "unchanged"
    assert sent.mutating == []
    observed = ep.describe()
    assert observed is not None
    # Only the chosen subnet's table routes S3 through it (the default VPC's main table here).
    net = ec2.network(ctx)
    main = client.describe_route_tables(
        Filters=[
            {"Name": "vpc-id", "Values": [net.vpc_id]},
            {"Name": "association.main", "Values": ["true"]},
        ]
    )["RouteTables"][0]["RouteTableId"]
    assert observed.data["route_table_ids"] == [main] == [net.subnet_route_table_id]
    assert observed.tags[OWNER_TAG] == "fifa"
    assert ctx.output("ec2.s3-endpoint", "reused") is False
    assert ep.destroy() == "deleted"
    assert ep.destroy() == "absent"


def test_s3_endpoint_follows_the_subnets_route_table_only(ctx: Context) -> None:
    client = ctx.client("ec2")
    vpc = default_vpc(client)
    ep = ec2_endpoint.S3Endpoint(ctx)
    ep.ensure()
    before = ec2.network(ctx).subnet_route_table_id
    other = client.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    fresh = Context(spec=ctx.spec, aws=ctx.aws, timing=ctx.timing)  # a new run: new lookup
    observed = ec2_endpoint.S3Endpoint(fresh).describe()
    assert observed is not None
    assert ec2_endpoint.S3Endpoint(fresh).differences(observed) == []  # another table: untouched
    # The chosen subnet moves to a table of its own: the route follows it and leaves the old one.
    subnet = ec2.network(ctx).subnet_id
    client.associate_route_table(RouteTableId=other, SubnetId=subnet)
    fresh = Context(spec=ctx.spec, aws=ctx.aws, timing=ctx.timing)
    ep = ec2_endpoint.S3Endpoint(fresh)
    assert _planned(ep) == [
        f"users.fifa: {before} -> {other}",
        f"route_tables: -{before}, +{other}",
    ]
    assert ep.ensure() == "updated"
    assert ep.ensure() == "unchanged"
    after = ep.describe()
    assert after is not None and after.data["route_table_ids"] == [other]


def test_s3_endpoint_joins_unowned_one_and_takes_only_its_share_off(ctx: Context) -> None:
    client = ctx.client("ec2")
    vpc = default_vpc(client)
    theirs = client.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    existing = _s3_gateway(client, [theirs], [{"Key": "team", "Value": "x"}])
    ours = ec2.network(ctx).subnet_route_table_id
    ep = ec2_endpoint.S3Endpoint(ctx)
    assert _planned(ep) == [
        f"users.fifa: (none) -> {ours}",
        f"route_tables: +{ours}",
    ]
    assert ep.ensure() == "updated"
    sent = Requests.on(client)
    assert ep.ensure() == "unchanged"
    assert sent.mutating == []
    assert ctx.output("ec2.s3-endpoint", "endpoint_id") == existing
    assert ctx.output("ec2.s3-endpoint", "reused") is True
    joined = ep.describe()
    assert joined is not None
    assert joined.data["route_table_ids"] == sorted([theirs, ours])
    assert OWNER_TAG not in joined.tags  # its owner is not wcpipe: it never becomes ours
    assert ep.down_action(joined) == (
        "delete",
        f"not created by wcpipe: only fifa's record and route table {ours} go; the endpoint stays",
    )
    assert ep.destroy() == "deleted"  # our share of it
    left = ep.describe()
    assert left is not None
    assert left.data["route_table_ids"] == [theirs]
    assert left.tags == {"team": "x"}
    sent = Requests.on(client)
    assert ep.destroy() == "kept"
    assert sent.mutating == []


def test_s3_endpoint_tag_limit_blocks_before_anything_changes(ctx: Context) -> None:
    client = ctx.client("ec2")
    vpc = default_vpc(client)
    crowded = [{"Key": f"k{i}", "Value": "v"} for i in range(ec2_endpoint.MAX_TAGS - 1)]
    _s3_gateway(
        client, [client.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]], crowded
    )
    ep = ec2_endpoint.S3Endpoint(ctx)
    observed = ep.describe()
    assert observed is not None
    found = Differences(ep.differences(observed))
    assert [d.field for d in found.blocked] == ["users", "route_tables"]
    assert "it would carry 51 tags and EC2 allows 50 per resource" in (
        found.blocked[0].reason or ""
    )
    sent = Requests.on(client)
    with pytest.raises(BlockedChange):
        ep.ensure()
    assert sent.mutating == []
