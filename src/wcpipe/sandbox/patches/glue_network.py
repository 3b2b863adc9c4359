"""Whether the network lets a crawl or a job run reach what it needs, from the subnet of its
connection: the sandbox's reachability model.

Contract: `require_reachable(sandbox, connection, services)` raises `Unreachable` when the
connection's subnet cannot reach one of `services` ("s3", "secretsmanager"), decided by
`provision/reachability.py` (the same decision `up` makes) on what moto's EC2 backend holds: the
subnet's route table (its explicit association, else the VPC's main table, as
`resources/ec2.network` finds it), its 0.0.0.0/0 route to a NAT gateway, the VPC's endpoints (an
interface endpoint's security groups and their inbound rules too, against the connection's
security groups) and its DNS attributes. Only a connection with a subnet is modelled (a crawl or
run without one goes through Glue's own network). `Unreachable.aws_error` is what the job's SDK
raises on AWS, botocore's ConnectTimeoutError to the service's regional hostname;
`Unreachable.why` is the sentence `wcpipe run` gives.

Which service each needs (connection-VPC-disable-proxy: Glue's local proxy carries the script,
the logs and metrics and the Data Catalog, nothing else): the job reads the data and stages
the rows under the TempDir in S3, and reads the connection's SECRET_ID from Secrets Manager;
the warehouse's crawler reads only the secret (its target is the warehouse, over the VPC).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from wcpipe.provision import reachability
from wcpipe.provision.resources.ec2 import _table_of

if TYPE_CHECKING:
    from wcpipe.sandbox.context import SandboxView

JOB_NEEDS = ("s3", "secretsmanager")
CRAWLER_NEEDS = ("secretsmanager",)
_GONE = ("deleting", "deleted", "failed", "rejected", "expired")


class Unreachable(Exception):
    """A service the crawl or run needs cannot be reached from its connection's subnet."""

    def __init__(self, service: str, region: str, why: str) -> None:
        super().__init__(why)
        self.service, self.region, self.why = service, region, why

    @property
    def aws_error(self) -> str:
        return reachability.connect_timeout(self.service, self.region)


def _on(value: Any) -> bool:
    """moto keeps a modified attribute as the request's text ("true"/"false")."""
    return str(value).lower() == "true"


def subnet_view(
    sandbox: SandboxView, subnet_id: str, client_groups: Iterable[str] = ()
) -> reachability.Subnet | None:
    """The subnet as `reachability` sees it for clients in `client_groups` (the connection's
    security groups), from moto's EC2 backend (None: no such subnet)."""
    ec2 = sandbox.backend("ec2")
    try:
        subnet = ec2.get_subnet(subnet_id)
    except Exception:  # moto's InvalidSubnetIdError: Glue could not place its ENI either
        return None
    vpc_id = str(subnet.vpc_id)
    vpc = ec2.vpcs[vpc_id]
    tables = [t for t in ec2.route_tables.values() if t.vpc_id == vpc_id]
    shaped = [{"RouteTableId": t.id, "Associations": t.associations} for t in tables]
    table_id = _table_of(shaped, subnet_id)
    nat = ""
    for table in tables:
        if table.id != table_id:
            continue
        for route in table.routes:
            if route.destination_cidr_block == reachability.DEFAULT_ROUTE and route.nat_gateway:
                nat = str(route.nat_gateway.id)
    endpoints = tuple(
        reachability.endpoint(
            {
                "VpcEndpointId": e.id,
                "ServiceName": e.service_name,
                "VpcEndpointType": str(e.vpc_endpoint_type or ""),
                "RouteTableIds": e.route_table_ids,
                "SubnetIds": e.subnet_ids,
                "PrivateDnsEnabled": _on(e.private_dns_enabled),
                "Groups": [{"GroupId": g} for g in e.security_group_ids or ()],
            },
            [p for g in e.security_group_ids or () for p in _inbound(ec2, g)],
        )
        for e in ec2.vpc_end_points.values()
        if e.vpc_id == vpc_id and str(e.state).lower() not in _GONE
    )
    return reachability.Subnet(
        subnet_id,
        vpc_id,
        table_id,
        nat,
        _on(vpc.enable_dns_support),
        _on(vpc.enable_dns_hostnames),
        endpoints,
        tuple(client_groups),
        str(subnet.cidr_block),
    )


def _inbound(ec2: Any, group_id: str) -> list[dict[str, Any]]:
    """A group's inbound rules in DescribeSecurityGroups' IpPermissions shape, from moto's
    SecurityGroupRule objects (one source each: `ip_range` or `source_group`)."""
    group = ec2.get_security_group_from_id(group_id)
    return [
        {
            "IpProtocol": rule.ip_protocol,
            "FromPort": rule.from_port,
            "ToPort": rule.to_port,
            "IpRanges": [rule.ip_range] if rule.ip_range else [],
            "UserIdGroupPairs": [rule.source_group] if rule.source_group else [],
        }
        for rule in (group.ingress_rules if group is not None else [])
    ]


def _physical(sandbox: SandboxView, name: str) -> dict[str, Any]:
    connection = sandbox.backend("glue").connections.get(name)
    inputs = (connection.connection_input or {}) if connection else {}
    return dict(inputs.get("PhysicalConnectionRequirements") or {})


def connection_subnet(sandbox: SandboxView, name: str) -> str | None:
    subnet = _physical(sandbox, name).get("SubnetId")
    return str(subnet) if subnet else None


def require_reachable(sandbox: SandboxView, connection: str, services: tuple[str, ...]) -> None:
    """Raise `Unreachable` for the first of `services` the connection's subnet cannot reach."""
    subnet_id = connection_subnet(sandbox, connection)
    if not subnet_id:
        return
    groups = _physical(sandbox, connection).get("SecurityGroupIdList") or ()
    subnet = subnet_view(sandbox, subnet_id, groups)
    if subnet is None:
        return
    for service in services:
        if reachability.path(subnet, service) is None:
            why = reachability.unreachable(subnet, service, sandbox.region)
            raise Unreachable(service, sandbox.region, why)
