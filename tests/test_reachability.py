"""The reachability decision (provision/reachability.py), pure: which path a subnet has to S3
and Secrets Manager, and the sentence `wcpipe run` gives when it has none."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from wcpipe.provision.reachability import (
    Endpoint,
    Subnet,
    admitted,
    connect_timeout,
    path,
    timed_out_service,
    unreachable,
)

BARE = Subnet("subnet-1", "vpc-1", "rtb-1", client_groups=("sg-glue",), cidr="10.0.1.0/24")
GATEWAY = Endpoint("vpce-s3", "s3", "Gateway", route_table_ids=("rtb-1",))
INTERFACE = Endpoint(
    "vpce-sm",
    "secretsmanager",
    "Interface",
    subnet_ids=("subnet-9",),  # private DNS is the VPC's: any subnet of it
    private_dns=True,
    group_ids=("sg-glue",),
    admits_groups=("sg-glue",),
)


def test_a_bare_subnet_reaches_neither() -> None:
    assert path(BARE, "s3") is None and path(BARE, "secretsmanager") is None
    assert unreachable(BARE, "s3", "us-east-1") == (
        "Amazon S3 (s3.us-east-1.amazonaws.com) is unreachable from subnet subnet-1: "
        "route table rtb-1 sends 0.0.0.0/0 to no NAT gateway "
        "and no S3 gateway endpoint routes on it"
    )


def test_a_nat_reaches_both() -> None:
    nat = Subnet("subnet-1", "vpc-1", "rtb-1", nat_gateway_id="nat-1")
    assert path(nat, "s3") == path(nat, "secretsmanager") == "NAT gateway nat-1"


def test_a_gateway_counts_only_on_the_subnets_table_an_interface_on_the_whole_vpc() -> None:
    ours = replace(BARE, endpoints=(GATEWAY, INTERFACE))
    assert path(ours, "s3") == "gateway endpoint vpce-s3"
    assert path(ours, "secretsmanager") == "interface endpoint vpce-sm"
    elsewhere = replace(ours, subnet_id="subnet-2", route_table_id="rtb-2")
    assert path(elsewhere, "s3") is None
    assert path(elsewhere, "secretsmanager") == "interface endpoint vpce-sm"


def test_an_interface_endpoint_serves_only_whom_its_security_groups_let_in() -> None:
    other = replace(BARE, client_groups=("sg-other",), endpoints=(INTERFACE,))
    assert path(other, "secretsmanager") is None
    assert unreachable(other, "secretsmanager", "us-east-1").endswith(
        "and the security groups of interface endpoint vpce-sm (sg-glue) let none of the "
        "connection's groups (sg-other) in on TCP 443"
    )
    by_cidr = replace(INTERFACE, admits_groups=(), admits_cidrs=("10.0.0.0/16",))
    assert path(replace(other, endpoints=(by_cidr,)), "secretsmanager") is not None
    narrow = replace(by_cidr, admits_cidrs=("10.0.2.0/24",))
    assert path(replace(other, endpoints=(narrow,)), "secretsmanager") is None


def test_which_inbound_rules_let_https_in() -> None:
    def rule(protocol: str, low: int | None, high: int | None, **source: Any) -> dict[str, Any]:
        return {"IpProtocol": protocol, "FromPort": low, "ToPort": high, **source}

    group = {"UserIdGroupPairs": [{"GroupId": "sg-a"}]}
    cidr = {"IpRanges": [{"CidrIp": "10.0.0.0/16"}]}
    assert admitted([rule("-1", None, None, **group)]) == (("sg-a",), ())
    assert admitted([rule("tcp", 0, 65535, **group), rule("tcp", 443, 443, **cidr)]) == (
        ("sg-a",),
        ("10.0.0.0/16",),
    )
    assert admitted([rule("tcp", 5439, 5439, **group), rule("udp", 443, 443, **cidr)]) == ((), ())


def test_private_dns_needs_both_vpc_attributes() -> None:
    no_hostnames = replace(BARE, dns_hostnames=False, endpoints=(INTERFACE,))
    assert path(no_hostnames, "secretsmanager") is None
    assert "enableDnsHostnames off: private DNS does not answer" in unreachable(
        no_hostnames, "secretsmanager", "us-east-1"
    )


def test_the_connect_timeout_names_its_service() -> None:
    error = "Py4JJavaError: ... " + connect_timeout("secretsmanager", "eu-west-1")
    assert timed_out_service(error) == ("secretsmanager", "eu-west-1")
    assert timed_out_service("AccessDeniedException: ...") is None
