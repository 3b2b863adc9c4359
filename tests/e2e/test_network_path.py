"""The network path, as the sandbox models it (sandbox/patches/glue_network.py): with what `up`
made, the job and the warehouse's crawler reach S3 and Secrets Manager from the connection's
subnet; take the Secrets Manager interface endpoint away, or the S3 gateway endpoint's route,
and the next run fails as on AWS (a connect timeout to that service's hostname, in the job's
error log) and `wcpipe run` names the service and why. `up` puts it back."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from support.cli import CliResult
from support.harness import Pipeline, new_pipeline, tagged
from support.requests import Requests

pytestmark = pytest.mark.e2e

SECRETS = "com.amazonaws.us-east-1.secretsmanager"
S3 = "com.amazonaws.us-east-1.s3"


@dataclass
class Network:
    pl: Pipeline

    def wcpipe(self, *args: str) -> CliResult:
        return self.pl.cli(*args)

    def run(self) -> CliResult:
        glue = self.pl.client("glue")
        with contextlib.suppress(glue.exceptions.EntityNotFoundException):  # no run yet
            glue.reset_job_bookmark(JobName=self.pl.names().job)
        return self.wcpipe("run", "--appear-timeout", "5")

    def endpoint(self, service: str) -> dict[str, Any]:
        found = self.pl.client("ec2").describe_vpc_endpoints(
            Filters=[
                {"Name": "service-name", "Values": [service]},
                {"Name": "vpc-id", "Values": [self.pl.vpc_id]},
            ]
        )["VpcEndpoints"]
        [live] = [e for e in found if e["State"].lower() != "deleted"]
        return live


@pytest.fixture(scope="module")
def pipeline(sandbox: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    """A pipeline in a VPC of its own (support.harness: DNS attributes on, no NAT)."""
    pl = new_pipeline(sandbox, tmp_path_factory.mktemp("network-path"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WCPIPE_POLL_INTERVAL", "0.1")
        up = pl.cli("up", "--yes")
        assert up.code == 0, up
        yield Network(pl)
        assert pl.cli("down", "--yes").code == 0


def _error_log(net: Network, run_id: str) -> str:
    events = net.pl.client("logs").get_log_events(
        logGroupName="/aws-glue/jobs/error", logStreamName=run_id
    )["events"]
    return "\n".join(e["message"] for e in events)


def _last_run(net: Network) -> dict[str, Any]:
    runs = net.pl.client("glue").get_job_runs(JobName=net.pl.names().job)["JobRuns"]
    return dict(max(runs, key=lambda r: r["StartedOn"]))


def test_without_the_secrets_endpoint_the_run_and_the_crawl_fail_naming_it(
    pipeline: Network,
) -> None:
    assert pipeline.run().code == 0  # with what `up` made, the path is complete
    ec2 = pipeline.pl.client("ec2")
    ec2.delete_vpc_endpoints(VpcEndpointIds=[pipeline.endpoint(SECRETS)["VpcEndpointId"]])

    result = pipeline.run()
    assert result.code == 1, result
    timeout = 'Connect timeout on endpoint URL: "https://secretsmanager.us-east-1.amazonaws.com/"'
    assert timeout in result.err, result
    assert "AWS Secrets Manager (secretsmanager.us-east-1.amazonaws.com) is unreachable" in (
        result.err
    ), result
    assert "no secretsmanager interface endpoint with private DNS" in result.err, result
    run = _last_run(pipeline)
    assert run["JobRunState"] == "FAILED" and timeout in run["ErrorMessage"]
    assert timeout in _error_log(pipeline, run["Id"])

    crawl = pipeline.wcpipe("run-crawler", "redshift")
    assert crawl.code == 1 and timeout in crawl.err, crawl

    assert pipeline.wcpipe("up", "--yes").code == 0  # `up` makes it again
    assert pipeline.run().code == 0


def test_an_endpoint_that_shuts_the_connections_group_out_fails_the_run_naming_it(
    pipeline: Network,
) -> None:
    """The endpoint's security groups decide who reaches it: with the pipeline's group taken
    off (another in its place), the job's ENIs time out as on AWS, `run` says whose groups
    are shut out, and `up` puts the pipeline's group back."""
    ec2 = pipeline.pl.client("ec2")
    endpoint = pipeline.endpoint(SECRETS)
    [ours] = [g["GroupId"] for g in endpoint["Groups"]]
    stranger = ec2.create_security_group(
        GroupName="stranger", Description="admits nobody", VpcId=pipeline.pl.vpc_id
    )["GroupId"]
    ec2.modify_vpc_endpoint(
        VpcEndpointId=endpoint["VpcEndpointId"],
        AddSecurityGroupIds=[stranger],
        RemoveSecurityGroupIds=[ours],
    )

    result = pipeline.run()
    assert result.code == 1, result
    assert 'Connect timeout on endpoint URL: "https://secretsmanager.' in result.err, result
    assert (
        f"the security groups of interface endpoint {endpoint['VpcEndpointId']} ({stranger}) "
        f"let none of the connection's groups ({ours}) in on TCP 443"
    ) in result.err, result

    assert pipeline.wcpipe("up", "--yes").code == 0
    assert ours in [g["GroupId"] for g in pipeline.endpoint(SECRETS)["Groups"]]
    assert pipeline.run().code == 0
    ec2.modify_vpc_endpoint(
        VpcEndpointId=endpoint["VpcEndpointId"], RemoveSecurityGroupIds=[stranger]
    )
    ec2.delete_security_group(GroupId=stranger)


def test_without_the_s3_route_the_run_fails_naming_s3(pipeline: Network) -> None:
    ec2 = pipeline.pl.client("ec2")
    gateway = pipeline.endpoint(S3)
    ec2.modify_vpc_endpoint(
        VpcEndpointId=gateway["VpcEndpointId"], RemoveRouteTableIds=gateway["RouteTableIds"]
    )
    result = pipeline.run()
    assert result.code == 1, result
    assert 'Connect timeout on endpoint URL: "https://s3.us-east-1.amazonaws.com/"' in result.err
    assert "Amazon S3 (s3.us-east-1.amazonaws.com) is unreachable from subnet" in result.err
    assert "no S3 gateway endpoint routes on it" in result.err, result
    assert pipeline.wcpipe("up", "--yes").code == 0  # the route goes back on
    assert pipeline.run().code == 0


def _mutating(pl: Pipeline, *args: str) -> tuple[CliResult, list[str]]:
    """`wcpipe <args>`, and the mutating requests it sent."""
    requests = Requests.everywhere()
    try:
        return pl.cli(*args), requests.mutating
    finally:
        requests.close()


def _secrets_change(plan: CliResult) -> dict[str, Any]:
    [change] = [
        c for c in json.loads(plan.out)["changes"] if c["resource"] == "ec2.secrets-endpoint"
    ]
    return dict(change)


def test_vpc_dns_off_is_said_by_plan_and_up_creates_nothing(
    sandbox: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A VPC with enableDnsHostnames off cannot give the endpoint private DNS: `plan` shows its
    create as blocked with the fix, `up` refuses in one line before any mutating request, and
    once the attribute is on `up` makes everything."""
    pl = new_pipeline(sandbox, tmp_path_factory.mktemp("dns-off"))
    ec2 = pl.client("ec2")
    ec2.modify_vpc_attribute(VpcId=pl.vpc_id, EnableDnsHostnames={"Value": False})
    fix = f"aws ec2 modify-vpc-attribute --vpc-id {pl.vpc_id} --enable-dns-hostnames"

    plan = pl.cli("--output", "json", "plan")
    assert plan.code == 0, plan
    change = _secrets_change(plan)
    assert change["action"] == "blocked", change
    [why] = change["differences"]
    assert (why["field"], why["action"]) == ("vpc_dns", "blocked")
    assert f"VPC {pl.vpc_id} has enableDnsHostnames off" in why["reason"] and fix in why["reason"]
    shown = pl.cli("plan")
    assert "`up` will refuse this change (blocked)" in shown.err, shown
    status = json.loads(pl.cli("--output", "json", "status").out)["resources"]
    [row] = [r for r in status if r["resource"] == "ec2.secrets-endpoint"]
    assert (row["state"], [d["field"] for d in row["drift"]]) == ("missing", ["vpc_dns"])

    up, mutating = _mutating(pl, "up", "--yes")
    assert up.code == 1, up
    errors = [line for line in up.err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, up.err
    assert errors[0].startswith("error: cannot create: Secrets Manager interface endpoint"), errors
    assert "enableDnsHostnames off" in errors[0] and fix in errors[0], errors
    assert "Traceback" not in up.err
    assert mutating == []
    assert tagged(sandbox, pl.name) == []

    ec2.modify_vpc_attribute(VpcId=pl.vpc_id, EnableDnsHostnames={"Value": True})
    assert _secrets_change(pl.cli("--output", "json", "plan"))["action"] == "create"
    up = pl.cli("up", "--yes")
    assert up.code == 0, up
    assert Network(pl).endpoint(SECRETS)["PrivateDnsEnabled"] is True
    assert pl.cli("down", "--yes").code == 0
    assert pl.cli("down", "--yes").code == 0


def _main_table(pl: Pipeline) -> str:
    """The VPC's main route table: the pipeline's subnet routes by it (no table of its own)."""
    [main] = pl.client("ec2").describe_route_tables(
        Filters=[
            {"Name": "vpc-id", "Values": [pl.vpc_id]},
            {"Name": "association.main", "Values": ["true"]},
        ]
    )["RouteTables"]
    return str(main["RouteTableId"])


def _nat_path(pl: Pipeline, table: str) -> str:
    """A NAT gateway, and the route 0.0.0.0/0 to it on `table`."""
    ec2 = pl.client("ec2")
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [pl.vpc_id]}])["Subnets"]
    other = max(s["SubnetId"] for s in subnets if s["SubnetId"] != pl.spec().network.subnet_id)
    nat = str(ec2.create_nat_gateway(SubnetId=other)["NatGateway"]["NatGatewayId"])
    ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat)
    return nat


def _theirs(pl: Pipeline, open_to_vpc: bool = True) -> str:
    """Someone else's Secrets Manager interface endpoint, with private DNS, in the subnet; its
    group lets the whole VPC in on HTTPS (`open_to_vpc`), or only itself."""
    ec2 = pl.client("ec2")
    group = ec2.create_security_group(
        GroupName=f"bi-{open_to_vpc}", Description="the BI team's endpoint", VpcId=pl.vpc_id
    )["GroupId"]
    if open_to_vpc:
        cidr = ec2.describe_vpcs(VpcIds=[pl.vpc_id])["Vpcs"][0]["CidrBlock"]
        ec2.authorize_security_group_ingress(
            GroupId=group, IpProtocol="tcp", FromPort=443, ToPort=443, CidrIp=cidr
        )
    return str(
        ec2.create_vpc_endpoint(
            VpcEndpointType="Interface",
            VpcId=pl.vpc_id,
            ServiceName=SECRETS,
            SubnetIds=[pl.spec().network.subnet_id],
            SecurityGroupIds=[group],
            PrivateDnsEnabled=True,
            TagSpecifications=[
                {"ResourceType": "vpc-endpoint", "Tags": [{"Key": "team", "Value": "bi"}]}
            ],
        )["VpcEndpoint"]["VpcEndpointId"]
    )


def _path_state(pl: Pipeline, table: str) -> dict[str, Any]:
    """The NAT gateways, the table's routes, the Secrets Manager endpoints: what down leaves."""
    ec2 = pl.client("ec2")
    vpc = [{"Name": "vpc-id", "Values": [pl.vpc_id]}]
    nats = ec2.describe_nat_gateways(Filters=vpc)["NatGateways"]
    [routes] = ec2.describe_route_tables(RouteTableIds=[table])["RouteTables"]
    found = ec2.describe_vpc_endpoints(
        Filters=[*vpc, {"Name": "service-name", "Values": [SECRETS]}]
    )
    return {
        "nats": sorted((n["NatGatewayId"], n["State"]) for n in nats),
        "default": [r for r in routes["Routes"] if r.get("DestinationCidrBlock") == "0.0.0.0/0"],
        "endpoints": sorted(
            (e["VpcEndpointId"], e["State"], e.get("Tags") == [{"Key": "team", "Value": "bi"}])
            for e in found["VpcEndpoints"]
        ),
    }


@pytest.mark.parametrize("reached", ["nat", "their endpoint"])
def test_down_leaves_a_path_not_ours_alone(
    sandbox: Any, tmp_path_factory: pytest.TempPathFactory, reached: str
) -> None:
    """Where a NAT (or someone's endpoint whose group lets the VPC in) reaches Secrets Manager,
    `up` makes no endpoint and `status` names that path; `down` says it keeps it and touches
    neither it nor its route, and a second `down` sends no mutating request."""
    pl = new_pipeline(sandbox, tmp_path_factory.mktemp("nat-path"))
    table = _main_table(pl)
    if reached == "nat":
        path = f"NAT gateway {_nat_path(pl, table)}"
    else:
        path = f"interface endpoint {_theirs(pl)}"
    before = _path_state(pl, table)
    plan = pl.cli("--output", "json", "plan")
    assert plan.code == 0, plan
    costs = {c["resource"] for c in json.loads(plan.out)["costs"]}
    assert "ec2.secrets-endpoint" not in costs and "redshift.cluster" in costs  # none to bill

    assert pl.cli("up", "--yes").code == 0
    assert _path_state(pl, table)["endpoints"] == before["endpoints"]  # none of ours
    status = pl.cli("--output", "json", "status")
    [row] = [
        r for r in json.loads(status.out)["resources"] if r["resource"] == "ec2.secrets-endpoint"
    ]
    assert (row["state"], row["facts"]) == ("present", {"path": path, "owner": "reused"})

    down = pl.cli("--output", "json", "down", "--yes")
    assert down.code == 0, down
    [kept] = [c for c in json.loads(down.out)["kept"] if c["resource"] == "ec2.secrets-endpoint"]
    assert kept["action"] == "keep"
    assert kept["reason"] == f"reused, not made by wcpipe: the subnet reaches it through {path}"
    assert _path_state(pl, table) == before
    assert tagged(sandbox, pl.name) == []

    again, mutating = _mutating(pl, "down", "--yes")
    assert again.code == 0, again
    assert f"Secrets Manager interface endpoint {SECRETS}: leaving it alone (reused" in again.err
    assert mutating == []
    assert _path_state(pl, table) == before


def test_their_endpoint_that_shuts_the_pipeline_out_is_joined_and_left_as_it_was(
    sandbox: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Someone's private-DNS endpoint whose group lets only itself in: a second endpoint would
    be refused ("conflicting DNS domain"), so `up` joins it (the pipeline's group and its
    record on it), the run reaches Secrets Manager through it, and `down` takes exactly those
    off and leaves it as it was."""
    pl = new_pipeline(sandbox, tmp_path_factory.mktemp("their-endpoint"))
    table = _main_table(pl)
    theirs = _theirs(pl, open_to_vpc=False)
    before = _path_state(pl, table)
    groups = [g["GroupId"] for g in Network(pl).endpoint(SECRETS)["Groups"]]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WCPIPE_POLL_INTERVAL", "0.1")
        assert pl.cli("up", "--yes").code == 0
        net = Network(pl)
        joined = net.endpoint(SECRETS)
        assert joined["VpcEndpointId"] == theirs
        assert len(joined["Groups"]) == 2
        tags = {t["Key"]: t["Value"] for t in joined["Tags"]}
        assert tags == {"team": "bi", f"wcpipe:uses:{pl.name}": tags[f"wcpipe:uses:{pl.name}"]}
        assert net.run().code == 0
        down = pl.cli("down", "--yes")
        assert down.code == 0, down
    assert [g["GroupId"] for g in net.endpoint(SECRETS)["Groups"]] == groups
    assert _path_state(pl, table) == before
    assert tagged(sandbox, pl.name) == []
