"""Whether a subnet can reach S3 and Secrets Manager: the network path a Glue job (and the
warehouse's crawler) takes from the ENIs Glue places in its connection's subnet.

Contract: `Subnet` is what the network says about one subnet (its route table's default route,
the VPC's DNS attributes, the VPC's endpoints); `path(subnet, service)` is pure and returns how
the subnet reaches the service (a sentence) or None, and `why_not(subnet, service)` says why it
cannot. `read_subnet(ec2, vpc_id, subnet_id, table_id, client_groups)` builds a `Subnet` with read
calls only (DescribeRouteTables, DescribeVpcAttribute, DescribeVpcEndpoints, the endpoints'
DescribeSecurityGroups, DescribeSubnets); the sandbox builds one from
moto's backend (sandbox/patches/glue_network.py). `up` (resources/ec2_endpoint_secrets.py), the
sandbox's job and crawler, and `wcpipe run`'s diagnosis all decide with these same functions.

AWS facts (each where it is used):
- Glue's ENIs have private addresses only; Glue's local proxy carries the script download, the
  CloudWatch logs and metrics and the Data Catalog calls, nothing else: the data, the TempDir
  and the secret go through the VPC ("Configuring AWS calls to go through your VPC",
  connection-VPC-disable-proxy: "ensure that your VPC has configured a route to Amazon S3
  through a NAT or service VPC endpoint").
- S3: a gateway endpoint whose route is on the subnet's route table, or 0.0.0.0/0 to a NAT.
- Secrets Manager: 0.0.0.0/0 to a NAT, or an interface endpoint with private DNS in the VPC
  whose security groups let the connection's group in on HTTPS. Private DNS is the VPC's: its
  private hosted zone's record for the service's regional name "resolves to the private IP
  addresses of the endpoint network interfaces in the VPC" (EC2 API Reference,
  CreateVpcEndpoint, PrivateDnsEnabled), so one endpoint serves every subnet of the VPC, and a
  VPC takes one such endpoint per service (a second is refused: "conflicting DNS domain").
  Private DNS answers only when the VPC has both enableDnsSupport and enableDnsHostnames ("To
  use a private hosted zone, you must set the following VPC attributes to true:
  enableDnsHostnames and enableDnsSupport", same page). The endpoint's network interfaces
  carry its security groups (CreateVpcEndpoint, SecurityGroupIds: "The IDs of the security
  groups to associate with the endpoint network interfaces"), and a security group admits only
  what its inbound rules name (Amazon VPC User Guide, "Security group rules"): a rule for
  TCP 443 (or all traffic) from one of the connection's groups, or from a CIDR holding the
  connection's subnet.
- What an unreachable endpoint looks like to the SDK in the job: botocore's ConnectTimeoutError,
  'Connect timeout on endpoint URL: "<url>"' (botocore/exceptions.py).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

Service = Literal["s3", "secretsmanager"]
SERVICE_NAMES: dict[str, str] = {"s3": "Amazon S3", "secretsmanager": "AWS Secrets Manager"}
DEFAULT_ROUTE = "0.0.0.0/0"


@dataclass(frozen=True)
class Endpoint:
    endpoint_id: str
    service: str
    """The short name: "s3", "secretsmanager" (of com.amazonaws.<region>.<service>)."""
    type: str
    """"Gateway" or "Interface"."""
    route_table_ids: tuple[str, ...] = ()
    subnet_ids: tuple[str, ...] = ()
    private_dns: bool = False
    group_ids: tuple[str, ...] = ()
    """The security groups on an interface endpoint's network interfaces."""
    admits_groups: tuple[str, ...] = ()
    """The groups those security groups let in on HTTPS (`admitted`)."""
    admits_cidrs: tuple[str, ...] = ()
    """The CIDRs they let in on HTTPS."""


@dataclass(frozen=True)
class Subnet:
    subnet_id: str
    vpc_id: str
    route_table_id: str
    nat_gateway_id: str = ""
    """What the table routes 0.0.0.0/0 to, when that is a NAT gateway (nat-...)."""
    dns_support: bool = True
    dns_hostnames: bool = True
    endpoints: tuple[Endpoint, ...] = field(default_factory=tuple)
    client_groups: tuple[str, ...] = ()
    """The security groups of what connects from the subnet (the Glue connection's)."""
    cidr: str = ""
    """The subnet's IPv4 CIDR block."""


HTTPS = 443


def admitted(permissions: Iterable[dict[str, Any]]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The groups and the CIDRs that inbound rules (DescribeSecurityGroups' IpPermissions shape)
    let in on TCP 443: a rule for all traffic ("-1"), or for TCP (or "6") whose port range
    holds 443."""
    groups: list[str] = []
    cidrs: list[str] = []
    for perm in permissions:
        protocol = str(perm.get("IpProtocol", ""))
        low, high = perm.get("FromPort"), perm.get("ToPort")
        ports = low is not None and high is not None and int(low) <= HTTPS <= int(high)
        tcp = protocol in ("tcp", "6") and ports
        if protocol != "-1" and not tcp:
            continue
        groups += [str(p["GroupId"]) for p in perm.get("UserIdGroupPairs") or [] if "GroupId" in p]
        cidrs += [str(r["CidrIp"]) for r in perm.get("IpRanges") or [] if "CidrIp" in r]
    return tuple(sorted(set(groups))), tuple(sorted(set(cidrs)))


def lets_in(subnet: Subnet, e: Endpoint) -> bool:
    """Whether the endpoint's security groups let the subnet's clients in on HTTPS."""
    if any(g in e.admits_groups for g in subnet.client_groups):
        return True
    if not subnet.cidr:
        return False
    inside = ipaddress.ip_network(subnet.cidr, strict=False)
    for cidr in e.admits_cidrs:
        outer = ipaddress.ip_network(cidr, strict=False)
        if inside.version == outer.version and inside.subnet_of(outer):  # type: ignore[arg-type]
            return True
    return False


def hostname(service: str, region: str) -> str:
    return f"{service}.{region}.amazonaws.com"


def connect_timeout(service: str, region: str) -> str:
    """The job's error, as botocore raises it for an endpoint it cannot connect to."""
    url = f"https://{hostname(service, region)}/"
    return f'ConnectTimeoutError: Connect timeout on endpoint URL: "{url}"'


_TIMEOUT = re.compile(r'Connect timeout on endpoint URL: "https://([a-z0-9-]+)\.([a-z0-9-]+)\.')


def timed_out_service(error: str) -> tuple[str, str] | None:
    """(service, region) of the connect timeout in a run's error message, or None."""
    m = _TIMEOUT.search(error or "")
    return (m.group(1), m.group(2)) if m else None


def private_dns_interface(subnet: Subnet, e: Endpoint) -> bool:
    """The VPC's Secrets Manager interface endpoint whose private DNS answers."""
    return (
        e.type == "Interface"
        and e.service == "secretsmanager"
        and e.private_dns
        and subnet.dns_support
        and subnet.dns_hostnames
    )


def usable_interface(subnet: Subnet, e: Endpoint) -> bool:
    return private_dns_interface(subnet, e) and lets_in(subnet, e)


def path(subnet: Subnet, service: str) -> str | None:
    """How `subnet` reaches `service`, or None when it cannot."""
    if subnet.nat_gateway_id:
        return f"NAT gateway {subnet.nat_gateway_id}"
    for e in subnet.endpoints:
        gateway = service == "s3" and e.service == "s3" and e.type == "Gateway"
        if gateway and subnet.route_table_id in e.route_table_ids:
            return f"gateway endpoint {e.endpoint_id}"
        if service == "secretsmanager" and usable_interface(subnet, e):
            return f"interface endpoint {e.endpoint_id}"
    return None


def why_not(subnet: Subnet, service: str) -> str:
    """Why `subnet` cannot reach `service` (one sentence, naming what is missing)."""
    table = subnet.route_table_id or "(no route table)"
    nat = f"route table {table} sends {DEFAULT_ROUTE} to no NAT gateway"
    if service == "s3":
        return f"{nat} and no S3 gateway endpoint routes on it"
    dns = [
        a
        for a, on in (
            ("enableDnsSupport", subnet.dns_support),
            ("enableDnsHostnames", subnet.dns_hostnames),
        )
        if not on
    ]
    if dns and any(e.service == "secretsmanager" for e in subnet.endpoints):
        off = " and ".join(dns)
        return f"{nat}, and VPC {subnet.vpc_id} has {off} off: private DNS does not answer"
    closed = [e for e in subnet.endpoints if private_dns_interface(subnet, e)]
    if closed:
        groups = ", ".join(closed[0].group_ids) or "none"
        clients = ", ".join(subnet.client_groups) or "none"
        return (
            f"{nat}, and the security groups of interface endpoint {closed[0].endpoint_id} "
            f"({groups}) let none of the connection's groups ({clients}) in on TCP {HTTPS}"
        )
    return f"{nat} and VPC {subnet.vpc_id} has no {service} interface endpoint with private DNS"


def unreachable(subnet: Subnet, service: str, region: str) -> str:
    """`run`'s sentence: which service, its hostname, and why."""
    name = SERVICE_NAMES.get(service, service)
    return (
        f"{name} ({hostname(service, region)}) is unreachable from subnet {subnet.subnet_id}: "
        f"{why_not(subnet, service)}"
    )


def short_service(service_name: str) -> str:
    """ "s3" of "com.amazonaws.us-east-1.s3"."""
    return service_name.rsplit(".", 1)[-1]


def read_subnet(
    ec2: Any, vpc_id: str, subnet_id: str, table_id: str, client_groups: Iterable[str] = ()
) -> Subnet:
    """The `Subnet` the network describes (read calls only), for clients in `client_groups`."""
    nat = ""
    if table_id:
        tables = ec2.describe_route_tables(RouteTableIds=[table_id])["RouteTables"]
        for route in tables[0].get("Routes", []) if tables else []:
            target = route.get("NatGatewayId", "")
            default = route.get("DestinationCidrBlock") == DEFAULT_ROUTE
            if default and target.startswith("nat-") and route.get("State") == "active":
                nat = target
    dns = {
        attribute: bool(
            ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute=attribute)[
                attribute[0].upper() + attribute[1:]
            ]["Value"]
        )
        for attribute in ("enableDnsSupport", "enableDnsHostnames")
    }
    found = ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])
    live = [
        e
        for e in found["VpcEndpoints"]
        if e.get("State", "").lower()
        not in ("deleting", "deleted", "failed", "rejected", "expired")
    ]
    group_ids = sorted({g["GroupId"] for e in live for g in e.get("Groups") or []})
    rules: dict[str, list[dict[str, Any]]] = {}
    if group_ids:
        groups = ec2.describe_security_groups(GroupIds=group_ids)["SecurityGroups"]
        rules = {g["GroupId"]: g.get("IpPermissions") or [] for g in groups}
    endpoints = tuple(
        endpoint(e, [p for g in e.get("Groups") or [] for p in rules.get(g["GroupId"], [])])
        for e in live
    )
    subnets = ec2.describe_subnets(SubnetIds=[subnet_id])["Subnets"]
    return Subnet(
        subnet_id,
        vpc_id,
        table_id,
        nat,
        dns["enableDnsSupport"],
        dns["enableDnsHostnames"],
        endpoints,
        tuple(client_groups),
        str(subnets[0].get("CidrBlock", "")) if subnets else "",
    )


def endpoint(e: dict[str, Any], permissions: Iterable[dict[str, Any]]) -> Endpoint:
    """An `Endpoint` from DescribeVpcEndpoints' shape and its groups' inbound rules."""
    groups, cidrs = admitted(permissions)
    return Endpoint(
        e["VpcEndpointId"],
        short_service(e["ServiceName"]),
        e.get("VpcEndpointType", ""),
        tuple(e.get("RouteTableIds") or ()),
        tuple(e.get("SubnetIds") or ()),
        bool(e.get("PrivateDnsEnabled")),
        tuple(sorted(g["GroupId"] for g in e.get("Groups") or [])),
        groups,
        cidrs,
    )


def explain(ec2: Any, glue: Any, connection: str, error: str | None) -> str | None:
    """For a run or crawl that failed on a connect timeout: which service, from which subnet,
    and why it is unreachable, read from the network now (read calls only); else None."""
    timed_out = timed_out_service(error or "")
    if timed_out is None:
        return None
    service, region = timed_out
    try:
        found = glue.get_connection(Name=connection, HidePassword=True)["Connection"]
    except glue.exceptions.EntityNotFoundException:
        return None
    physical = found.get("PhysicalConnectionRequirements") or {}
    subnet_id = physical.get("SubnetId")
    if not subnet_id:
        return None
    vpc_id = ec2.describe_subnets(SubnetIds=[subnet_id])["Subnets"][0]["VpcId"]
    tables = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])
    from wcpipe.provision.resources.ec2 import _table_of

    table = _table_of(tables["RouteTables"], subnet_id)
    groups = physical.get("SecurityGroupIdList") or []
    subnet = read_subnet(ec2, vpc_id, subnet_id, table, groups)
    if path(subnet, service) is not None:
        return None  # reachable again now (say, `up` put the endpoint back)
    return unreachable(subnet, service, region)
