"""The reachability decision (provision/reachability.py), pure: which path a subnet has to S3
and Secrets Manager, and the sentence `wcpipe run` gives when it has none."""

from __future__ import annotations

from wcpipe.provision.reachability import (
    Endpoint,
    Subnet,
    connect_timeout,
    path,
    timed_out_service,
    unreachable,
)

BARE = Subnet("subnet-1", "vpc-1", "rtb-1")
GATEWAY = Endpoint("vpce-s3", "s3", "Gateway", route_table_ids=("rtb-1",))
INTERFACE = Endpoint(
    "vpce-sm", "secretsmanager", "Interface", subnet_ids=("subnet-1",), private_dns=True
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


def test_endpoints_count_only_on_the_subnets_table_and_subnet() -> None:
    ours = Subnet("subnet-1", "vpc-1", "rtb-1", endpoints=(GATEWAY, INTERFACE))
    assert path(ours, "s3") == "gateway endpoint vpce-s3"
    assert path(ours, "secretsmanager") == "interface endpoint vpce-sm"
    elsewhere = Subnet("subnet-2", "vpc-1", "rtb-2", endpoints=(GATEWAY, INTERFACE))
    assert path(elsewhere, "s3") is None and path(elsewhere, "secretsmanager") is None


def test_private_dns_needs_both_vpc_attributes() -> None:
    no_hostnames = Subnet("subnet-1", "vpc-1", "rtb-1", dns_hostnames=False, endpoints=(INTERFACE,))
    assert path(no_hostnames, "secretsmanager") is None
    assert "enableDnsHostnames off: private DNS does not answer" in unreachable(
        no_hostnames, "secretsmanager", "us-east-1"
    )


def test_the_connect_timeout_names_its_service() -> None:
    error = "Py4JJavaError: ... " + connect_timeout("secretsmanager", "eu-west-1")
    assert timed_out_service(error) == ("secretsmanager", "eu-west-1")
    assert timed_out_service("AccessDeniedException: ...") is None
