"""The Secrets Manager interface endpoint on moto: created where the subnet cannot reach Secrets
Manager, reused where a NAT or an endpoint not ours already does, refused where the VPC's DNS
attributes cannot make private DNS answer."""

from __future__ import annotations

from typing import Any

import pytest
from support.requests import Requests

from wcpipe.core.errors import BlockedChange
from wcpipe.provision import reachability
from wcpipe.provision.resources import ec2, ec2_endpoint_secrets
from wcpipe.provision.resources.base import Context
from wcpipe.spec.names import OWNER_TAG

SERVICE = "com.amazonaws.us-east-1.secretsmanager"


def _endpoint(ctx: Context) -> ec2_endpoint_secrets.SecretsEndpoint:
    ec2.SecurityGroup(ctx).ensure()
    return ec2_endpoint_secrets.SecretsEndpoint(ctx)


def _live(client: Any) -> list[dict[str, Any]]:
    found = client.describe_vpc_endpoints(Filters=[{"Name": "service-name", "Values": [SERVICE]}])[
        "VpcEndpoints"
    ]
    return [e for e in found if e["State"].lower() != "deleted"]


def test_secrets_endpoint_ensure_twice_and_delete_twice(ctx: Context) -> None:
    ep = _endpoint(ctx)
    assert ep.ensure() == "created"
    client = ctx.client("ec2")
    sent = Requests.on(client)
    assert ep.ensure() == "unchanged"
    assert sent.mutating == []
    [made] = _live(client)
    net = ec2.network(ctx)
    assert made["VpcEndpointType"] == "Interface" and made["PrivateDnsEnabled"] is True
    assert made["SubnetIds"] == [net.subnet_id]
    assert [g["GroupId"] for g in made["Groups"]] == [ctx.output("ec2.security-group", "group_id")]
    assert {t["Key"]: t["Value"] for t in made["Tags"]}[OWNER_TAG] == "fifa"
    assert ctx.output("ec2.secrets-endpoint", "reused") is False
    group = ctx.output("ec2.security-group", "group_id")
    table = net.subnet_route_table_id
    subnet = reachability.read_subnet(client, net.vpc_id, net.subnet_id, table, [group])
    assert (
        reachability.path(subnet, "secretsmanager") == f"interface endpoint {made['VpcEndpointId']}"
    )
    assert {t["Key"]: t["Value"] for t in made["Tags"]}["wcpipe:uses:fifa"] == group
    other = reachability.read_subnet(client, net.vpc_id, net.subnet_id, table, ["sg-other"])
    assert reachability.path(other, "secretsmanager") is None  # its group lets only ours in
    assert ep.destroy() == "deleted"
    assert ep.destroy() == "absent"
    assert _live(client) == []


def test_secrets_endpoint_not_made_where_a_nat_reaches_it(ctx: Context) -> None:
    client = ctx.client("ec2")
    net = ec2.network(ctx)
    nat = client.create_nat_gateway(SubnetId=net.subnet_ids[-1])["NatGateway"]["NatGatewayId"]
    client.create_route(
        RouteTableId=net.subnet_route_table_id, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat
    )
    ep = _endpoint(ctx)
    sent = Requests.on(client)
    assert ep.ensure() == "unchanged"
    assert ep.destroy() == "kept"
    assert sent.mutating == []
    assert _live(client) == []
    observed = ep.describe()
    assert observed is not None and ep.facts(observed) == {
        "path": f"NAT gateway {nat}",
        "owner": "reused",
    }


def _theirs(client: Any, net: ec2.Network, **groups: Any) -> str:
    """An endpoint someone outside wcpipe made, with private DNS."""
    return str(
        client.create_vpc_endpoint(
            VpcEndpointType="Interface",
            VpcId=net.vpc_id,
            ServiceName=SERVICE,
            SubnetIds=[net.subnet_id],
            PrivateDnsEnabled=True,
            **groups,
        )["VpcEndpoint"]["VpcEndpointId"]
    )


def test_secrets_endpoint_reuses_one_not_ours_that_lets_it_in_untouched(ctx: Context) -> None:
    client = ctx.client("ec2")
    net = ec2.network(ctx)
    vpc_wide = client.create_security_group(
        GroupName="theirs", Description="HTTPS from the VPC", VpcId=net.vpc_id
    )["GroupId"]
    cidr = client.describe_vpcs(VpcIds=[net.vpc_id])["Vpcs"][0]["CidrBlock"]
    client.authorize_security_group_ingress(
        GroupId=vpc_wide, IpProtocol="tcp", FromPort=443, ToPort=443, CidrIp=cidr
    )
    theirs = _theirs(client, net, SecurityGroupIds=[vpc_wide])
    ep = _endpoint(ctx)
    sent = Requests.on(client)
    assert ep.ensure() == "unchanged"
    assert ep.destroy() == "kept"
    assert sent.mutating == []
    assert [e["VpcEndpointId"] for e in _live(client)] == [theirs]
    assert ctx.output("ec2.secrets-endpoint", "via") == f"interface endpoint {theirs}"


def test_secrets_endpoint_joins_one_not_ours_and_leaves_it_as_it_was(ctx: Context) -> None:
    """The VPC's private-DNS endpoint answers Secrets Manager's name for every subnet, and a
    second is refused: one whose groups do not let the pipeline in is joined (its group, its
    record), and `down` takes exactly those off again; one nobody in wcpipe made stays."""
    client = ctx.client("ec2")
    net = ec2.network(ctx)
    default = client.describe_security_groups(
        Filters=[
            {"Name": "vpc-id", "Values": [net.vpc_id]},
            {"Name": "group-name", "Values": ["default"]},
        ]
    )["SecurityGroups"][0]["GroupId"]
    theirs = _theirs(client, net, SecurityGroupIds=[default])
    ep = _endpoint(ctx)
    group = ctx.output("ec2.security-group", "group_id")
    assert ep.ensure() == "updated"
    [joined] = _live(client)
    assert sorted(g["GroupId"] for g in joined["Groups"]) == sorted([default, group])
    tags = {t["Key"]: t["Value"] for t in joined.get("Tags", [])}
    assert tags == {"wcpipe:uses:fifa": group}  # the record only: not claimed as ours
    sent = Requests.on(client)
    assert ep.ensure() == "unchanged"
    assert sent.mutating == []
    assert ctx.output("ec2.secrets-endpoint", "reused") is True
    assert ep.destroy() == "deleted"  # this pipeline's share
    [left] = _live(client)
    assert left["VpcEndpointId"] == theirs
    assert [g["GroupId"] for g in left["Groups"]] == [default]
    assert not left.get("Tags")
    assert ep.destroy() == "kept"


def test_secrets_endpoint_refused_without_the_vpcs_dns_attributes(ctx: Context) -> None:
    client = ctx.client("ec2")
    net = ec2.network(ctx)
    client.modify_vpc_attribute(VpcId=net.vpc_id, EnableDnsHostnames={"Value": False})
    ep = _endpoint(ctx)
    sent = Requests.on(client)
    assert ep.describe() is None
    [blocked] = ep.blocked_create()
    assert (blocked.field, blocked.action) == ("vpc_dns", "blocked")
    assert blocked.text(reason=False) == "vpc_dns.enableDnsHostnames: False -> True"
    fix = f"aws ec2 modify-vpc-attribute --vpc-id {net.vpc_id} --enable-dns-hostnames"
    assert blocked.reason is not None and fix in blocked.reason
    with pytest.raises(BlockedChange, match="enableDnsHostnames off") as raised:
        ep.ensure()
    shown = f"cannot create: {ep.kind} {ep.name}: vpc_dns.enableDnsHostnames: False -> True ("
    assert str(raised.value).startswith(shown)
    assert fix in str(raised.value) and "nothing was created" in str(raised.value.hint)
    assert sent.mutating == []
    assert _live(client) == []

    client.modify_vpc_attribute(VpcId=net.vpc_id, EnableDnsHostnames={"Value": True})
    assert ep.ensure() == "created"
    assert ep.ensure() == "unchanged"
    assert ep.destroy() == "deleted"
    assert ep.destroy() == "absent"


def test_secrets_endpoint_through_a_nat_needs_no_dns_attributes(ctx: Context) -> None:
    """A NAT reaches Secrets Manager's public name: the VPC's DNS attributes are not asked."""
    client = ctx.client("ec2")
    net = ec2.network(ctx)
    client.modify_vpc_attribute(VpcId=net.vpc_id, EnableDnsSupport={"Value": False})
    nat = client.create_nat_gateway(SubnetId=net.subnet_ids[-1])["NatGateway"]["NatGatewayId"]
    client.create_route(
        RouteTableId=net.subnet_route_table_id, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat
    )
    ep = _endpoint(ctx)
    sent = Requests.on(client)
    assert ep.blocked_create() == []
    assert ep.ensure() == "unchanged"
    assert ep.ensure() == "unchanged"
    assert ep.destroy() == "kept"
    assert ep.destroy() == "kept"
    assert sent.mutating == []
    assert _live(client) == []
