"""The S3 gateway endpoint two pipelines share, on the sandbox through real boto3 (its
ModifyVpcEndpoint routes the tables it adds, as AWS does: patches/endpoint_routes.py): each
pipeline's `up` records itself on it, either can go `down` first without the other losing S3,
and the last one out removes it; two downs at once neither both keep it nor both fail."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from support.clock import FakeClock
from support.paths import SPEC_PATH
from support.requests import Requests

from wcpipe.core.aws import Aws
from wcpipe.core.wait import Timing
from wcpipe.provision import engine, reachability
from wcpipe.provision.resources import ec2, ec2_endpoint, ec2_endpoint_secrets
from wcpipe.provision.resources.base import Context, Differences, tags_from_list
from wcpipe.spec.model import Spec, load_spec
from wcpipe.spec.names import OWNER_TAG


@pytest.fixture
def ctx(sandbox: Any) -> Context:
    clock = FakeClock()
    aws = Aws(region=sandbox.region, endpoint_url=sandbox.endpoint)
    return Context(
        spec=load_spec(SPEC_PATH), aws=aws, timing=Timing(sleep=clock.sleep, clock=clock)
    )


def _routes_s3(ctx: Context, table: str, endpoint: str) -> bool:
    """Whether `table` routes through `endpoint` (the route AWS adds for a gateway endpoint)."""
    [found] = ctx.client("ec2").describe_route_tables(RouteTableIds=[table])["RouteTables"]
    return any(r.get("GatewayId") == endpoint for r in found["Routes"])


def _other_pipeline(ctx: Context, name: str, subnet: int) -> Context:
    """Another pipeline in the same VPC whose subnet is on a route table of its own."""
    client = ctx.client("ec2")
    net = ec2.network(ctx)
    subnet_id = net.subnet_ids[subnet]
    tables = client.describe_route_tables(
        Filters=[{"Name": "association.subnet-id", "Values": [subnet_id]}]
    )["RouteTables"]
    if not tables:  # the module's sandbox keeps what an earlier test associated
        table = client.create_route_table(VpcId=net.vpc_id)["RouteTable"]["RouteTableId"]
        client.associate_route_table(RouteTableId=table, SubnetId=subnet_id)
    dump = ctx.spec.model_dump(by_alias=True)
    spec = Spec.model_validate({**dump, "name": name, "network": {"subnet_id": subnet_id}})
    return Context(spec=spec, aws=ctx.aws, timing=ctx.timing)


def _down(ctx: Context) -> dict[str, str]:
    resources = [ec2_endpoint.S3Endpoint(ctx)]
    return engine.destroy(ctx, resources, engine.plan_down(ctx, resources))


def _status(ctx: Context) -> engine.Status:
    [status] = engine.status(ctx, [ec2_endpoint.S3Endpoint(ctx)])
    return status


@pytest.mark.parametrize("first", ["creator", "reuser"])
def test_s3_endpoint_shared_by_two_pipelines_goes_down_in_either_order(
    ctx: Context, first: str
) -> None:
    a = Context(spec=ctx.spec, aws=ctx.aws, timing=ctx.timing)
    b = _other_pipeline(ctx, "cup", subnet=1)
    table_a, table_b = ec2.network(a).subnet_route_table_id, ec2.network(b).subnet_route_table_id
    assert table_a != table_b
    assert ec2_endpoint.S3Endpoint(a).ensure() == "created"
    assert ec2_endpoint.S3Endpoint(b).ensure() == "updated"  # joins it: its record, its table
    client = ctx.client("ec2")
    sent = Requests.on(client)
    assert ec2_endpoint.S3Endpoint(b).ensure() == "unchanged"
    assert ec2_endpoint.S3Endpoint(a).ensure() == "unchanged"
    assert sent.mutating == []
    both = ec2_endpoint.S3Endpoint(a).describe()
    assert both is not None
    assert both.data["route_table_ids"] == sorted([table_a, table_b])
    assert all(_routes_s3(ctx, t, both.data["endpoint_id"]) for t in (table_a, table_b))
    assert ec2_endpoint.users(both.tags) == {"cup": table_b, "fifa": table_a}
    assert both.tags[OWNER_TAG] == "fifa"
    assert _status(a).facts["shared_with"] == "cup"
    assert _status(b).facts == {
        "endpoint": both.data["endpoint_id"],
        "owner": "reused",
        "shared_with": "fifa",
    }

    leaver, stayer = (a, b) if first == "creator" else (b, a)
    gone, kept = (table_a, table_b) if first == "creator" else (table_b, table_a)
    [change] = engine.plan_down(leaver, [ec2_endpoint.S3Endpoint(leaver)]).changes
    other = stayer.spec.name
    assert (change.action, change.reason) == (
        "delete",
        f"shared with {other}: only {leaver.spec.name}'s record and route table {gone} go; "
        "the endpoint stays",
    )
    assert _down(leaver) == {"ec2.s3-endpoint": "deleted"}
    left = ec2_endpoint.S3Endpoint(stayer).describe()
    assert left is not None
    assert left.data["route_table_ids"] == [kept]  # the one who stays still reaches S3
    assert _routes_s3(ctx, kept, left.data["endpoint_id"])
    assert not _routes_s3(ctx, gone, left.data["endpoint_id"])
    assert ec2_endpoint.users(left.tags) == {other: kept}
    assert left.tags[OWNER_TAG] == "fifa"  # the creator's mark stays: a wcpipe pipeline made it
    assert not any(
        k.startswith(ec2_endpoint.ROUTE_TAG) and k != f"{ec2_endpoint.ROUTE_TAG}{kept}"
        for k in left.tags
    )
    stays = _status(stayer)
    assert stays.state == "present"
    assert "shared_with" not in stays.facts
    sent = Requests.on(client)
    assert _down(leaver) == {"ec2.s3-endpoint": "kept"}  # the second down changes nothing
    assert sent.mutating == []
    [again] = engine.plan_down(leaver, [ec2_endpoint.S3Endpoint(leaver)]).changes
    assert again.reason == f"used by {other}; {leaver.spec.name} has no record on it"

    sent = Requests.on(client)
    assert _down(stayer) == {"ec2.s3-endpoint": "deleted"}  # the last one out removes it
    assert sent.mutating == ["DeleteVpcEndpoints"]  # read again, then deleted: nothing else
    assert ec2_endpoint.S3Endpoint(stayer).describe() is None
    assert _down(stayer) == {"ec2.s3-endpoint": "absent"}
    assert _down(leaver) == {"ec2.s3-endpoint": "absent"}


def test_s3_endpoint_two_downs_at_once_remove_it(ctx: Context) -> None:
    """Both read the endpoint (each sees the other) before either acts: each takes its record
    off and reads it again, so the second sees nobody left and deletes it; and a down whose
    endpoint another just deleted finds nothing to do."""
    a = Context(spec=ctx.spec, aws=ctx.aws, timing=ctx.timing)
    b = _other_pipeline(ctx, "cup", subnet=1)
    ec2_endpoint.S3Endpoint(a).ensure()
    ec2_endpoint.S3Endpoint(b).ensure()
    ep_a, ep_b = ec2_endpoint.S3Endpoint(a), ec2_endpoint.S3Endpoint(b)
    seen_a, seen_b = ep_a.describe(), ep_b.describe()
    assert seen_a is not None and seen_b is not None
    ep_a.delete(seen_a)
    assert ep_a.describe() is not None  # b was still recorded when a read it again
    ep_b.delete(seen_b)
    assert ep_b.describe() is None
    ep_a.delete(seen_a)  # a stale third: the endpoint is gone, nothing fails
    assert ep_a.describe() is None


def _live_s3_endpoints(ctx: Context) -> list[dict[str, Any]]:
    found = ctx.client("ec2").describe_vpc_endpoints(
        Filters=[
            {"Name": "vpc-id", "Values": [ec2.network(ctx).vpc_id]},
            {"Name": "service-name", "Values": [ec2_endpoint.S3Endpoint(ctx).name]},
        ]
    )["VpcEndpoints"]
    return [e for e in found if e["State"].lower() not in ec2_endpoint.GONE_STATES]


@pytest.mark.parametrize(
    "joins",
    [
        "after A's delete",  # B's CreateTags/ModifyVpcEndpoint reach a deleted endpoint
        "before A's delete",  # ... land between A's last read and its DeleteVpcEndpoints
        "right after A's delete",  # ... land before A reads the deleted endpoint again
    ],
)
def test_s3_endpoint_last_down_and_first_up_at_once_leave_b_served(
    ctx: Context, joins: str
) -> None:
    """A (the creator, its only user) goes down while B, which read the endpoint a moment
    before, joins it. However the steps interleave, B ends with one endpoint routed on its
    table and carrying its record: B makes it anew when its read after joining finds it gone,
    A makes it again for B when its read after the delete finds B's record; where both do,
    RouteAlreadyExists makes the second join the first."""
    a = Context(spec=ctx.spec, aws=ctx.aws, timing=ctx.timing)
    b = _other_pipeline(ctx, "cup", subnet=1)
    table_a, table_b = ec2.network(a).subnet_route_table_id, ec2.network(b).subnet_route_table_id
    assert ec2_endpoint.S3Endpoint(a).ensure() == "created"
    ep_a, ep_b = ec2_endpoint.S3Endpoint(a), ec2_endpoint.S3Endpoint(b)
    seen_b = ep_b.describe()  # B's plan: join A's endpoint
    assert seen_b is not None
    planned = Differences(ep_b.differences(seen_b))
    assert planned.fields == (ec2_endpoint.USERS, "route_tables")
    seen_a = ep_a.describe()  # A's plan: the last one out deletes it
    assert seen_a is not None and ep_a.down_action(seen_a) == ("delete", None)
    old = seen_a.data["endpoint_id"]

    joined: list[str] = []

    def b_joins(**_: Any) -> None:
        if not joined:
            joined.append(ep_b.converge(seen_b, planned)[0])

    if joins == "after A's delete":
        ep_a.delete(seen_a)
        b_joins()
    else:
        event = "before-call" if joins == "before A's delete" else "after-call"
        hook = f"{event}.ec2.DeleteVpcEndpoints"
        a_client = a.client("ec2")
        a_client.meta.events.register(hook, b_joins)
        try:
            ep_a.delete(seen_a)
        finally:
            a_client.meta.events.unregister(hook, b_joins)
    assert joined == ["updated"]

    [served] = _live_s3_endpoints(ctx)  # one endpoint, not the deleted one, not two
    new = served["VpcEndpointId"]
    assert new != old
    assert served["RouteTableIds"] == [table_b]
    assert _routes_s3(ctx, table_b, new) and not _routes_s3(ctx, table_a, new)
    assert ec2_endpoint.users(tags_from_list(served["Tags"])) == {"cup": table_b}
    assert ec2_endpoint.S3Endpoint(b).ensure() == "unchanged"
    assert ec2_endpoint.S3Endpoint(b).ensure() == "unchanged"
    assert _status(b).state == "present"

    assert _down(a) == {"ec2.s3-endpoint": "kept"}  # A has no record on it
    assert _down(b) == {"ec2.s3-endpoint": "deleted"}  # B, the last one out, removes it
    assert _down(b) == {"ec2.s3-endpoint": "absent"}
    assert _live_s3_endpoints(ctx) == []
    assert not _routes_s3(ctx, table_b, new)


def _secrets_reachable(ctx: Context) -> str | None:
    """How this pipeline's Glue ENIs (in its security group) reach Secrets Manager, or None."""
    net = ec2.network(ctx)
    group = ctx.output("ec2.security-group", "group_id")
    subnet = reachability.read_subnet(
        ctx.client("ec2"), net.vpc_id, net.subnet_id, net.subnet_route_table_id, [group]
    )
    return reachability.path(subnet, "secretsmanager")


def _secrets_down(ctx: Context) -> dict[str, str]:
    resources = [ec2.SecurityGroup(ctx), ec2_endpoint_secrets.SecretsEndpoint(ctx)]
    return engine.destroy(ctx, resources, engine.plan_down(ctx, resources))


@pytest.mark.parametrize("first", ["creator", "joiner"])
def test_secrets_endpoint_shared_by_two_pipelines_goes_down_in_either_order(
    ctx: Context, first: str
) -> None:
    """The VPC takes one private-DNS Secrets Manager endpoint: the second pipeline joins it
    (its security group on the endpoint, so its Glue ENIs are let in, and its record), and
    either can go down first without the other losing Secrets Manager. The sandbox refuses to
    delete a group an endpoint still holds, as AWS does (patches/conflicts.py)."""
    a = Context(spec=ctx.spec, aws=ctx.aws, timing=ctx.timing)
    b = _other_pipeline(ctx, "cup", subnet=1)
    for p in (a, b):
        ec2.SecurityGroup(p).ensure()
    assert ec2_endpoint_secrets.SecretsEndpoint(a).ensure() == "created"
    assert _secrets_reachable(a) is not None
    assert _secrets_reachable(b) is None  # a's group only: b's ENIs are not let in
    assert ec2_endpoint_secrets.SecretsEndpoint(b).ensure() == "updated"
    client = ctx.client("ec2")
    sent = Requests.on(client)
    assert ec2_endpoint_secrets.SecretsEndpoint(b).ensure() == "unchanged"
    assert ec2_endpoint_secrets.SecretsEndpoint(a).ensure() == "unchanged"
    assert sent.mutating == []
    group = {p.spec.name: p.output("ec2.security-group", "group_id") for p in (a, b)}
    both = ec2_endpoint_secrets.SecretsEndpoint(a).describe()
    assert both is not None
    assert both.data["group_ids"] == sorted(group.values())
    assert ec2_endpoint.users(both.tags) == group
    assert both.tags[OWNER_TAG] == "fifa"
    eid = both.data["endpoint_id"]
    assert _secrets_reachable(a) == _secrets_reachable(b) == f"interface endpoint {eid}"

    leaver, stayer = (a, b) if first == "creator" else (b, a)
    [change] = [
        c
        for c in engine.plan_down(leaver, [ec2_endpoint_secrets.SecretsEndpoint(leaver)]).changes
        if c.key == "ec2.secrets-endpoint"
    ]
    assert (change.action, change.reason) == (
        "delete",
        f"shared with {stayer.spec.name}: only {leaver.spec.name}'s record and security group "
        "go; the endpoint stays",
    )
    assert _secrets_down(leaver) == {
        "ec2.secrets-endpoint": "deleted",
        "ec2.security-group": "deleted",
    }
    left = ec2_endpoint_secrets.SecretsEndpoint(stayer).describe()
    assert left is not None and left.data["endpoint_id"] == eid
    assert left.data["group_ids"] == [group[stayer.spec.name]]
    assert ec2_endpoint.users(left.tags) == {stayer.spec.name: group[stayer.spec.name]}
    assert _secrets_reachable(stayer) == f"interface endpoint {eid}"
    [stays] = engine.status(stayer, [ec2_endpoint_secrets.SecretsEndpoint(stayer)])
    assert stays.state == "present"
    assert _secrets_down(leaver) == {"ec2.secrets-endpoint": "kept", "ec2.security-group": "absent"}

    assert _secrets_down(stayer) == {
        "ec2.secrets-endpoint": "deleted",
        "ec2.security-group": "deleted",
    }
    assert ec2_endpoint_secrets.SecretsEndpoint(stayer).describe() is None
    assert _secrets_down(stayer) == {
        "ec2.secrets-endpoint": "absent",
        "ec2.security-group": "absent",
    }


def test_a_group_an_interface_endpoint_holds_cannot_be_deleted(ctx: Context) -> None:
    ec2.SecurityGroup(ctx).ensure()
    ec2_endpoint_secrets.SecretsEndpoint(ctx).ensure()
    group = ctx.output("ec2.security-group", "group_id")
    with pytest.raises(ClientError, match=r"DependencyViolation.*has a dependent object"):
        ctx.client("ec2").delete_security_group(GroupId=group)
    assert _secrets_down(ctx) == {
        "ec2.secrets-endpoint": "deleted",
        "ec2.security-group": "deleted",
    }
