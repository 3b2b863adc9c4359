"""EC2: the Secrets Manager interface endpoint (`ec2.secrets-endpoint`), so that the Glue job and
the warehouse's crawler, in the connection's subnet, can read the connection's SECRET_ID.

Contract (see `resources/base.py`): `describe` makes only read calls; `differences` is pure; only
`create`/`update`/`delete` write. Whether the subnet already reaches Secrets Manager is
`provision/reachability.py`'s decision: its route table sends 0.0.0.0/0 to a NAT gateway, or
the VPC has an interface endpoint com.amazonaws.<region>.secretsmanager with private DNS in
that subnet (and enableDnsSupport and enableDnsHostnames on). Then that path is reused as it is
(`shared`: never changed or deleted, `status` names it). Otherwise `up` creates one: type
Interface, private DNS, the connection's subnet, the pipeline's security group (whose one rule,
all TCP from itself, admits the ENIs of Glue in the same group on 443: `ec2.SecurityGroup`;
never 0.0.0.0/0), tagged ours and deleted by `down`. It bills per hour per Availability Zone
(spec/pricing.py). A VPC without both DNS attributes cannot use private DNS: where the endpoint
must be made, `plan` shows its create as blocked (`blocked_create`, from what `describe` read)
with the command that turns them on, and `up` refuses before it creates anything; it changes
nothing of the VPC itself. Where the subnet reaches Secrets Manager another way (a NAT: no DNS
involved), the attributes are not this resource's concern.
"""

from __future__ import annotations

from typing import Any

from wcpipe.core.errors import WcpipeError, error_code
from wcpipe.provision import reachability
from wcpipe.provision.resources.base import (
    Difference,
    Differences,
    DownAction,
    Observed,
    Resource,
    tags_from_list,
)
from wcpipe.provision.resources.ec2 import network, retag
from wcpipe.provision.resources.ec2_endpoint import GONE_STATES, NOT_FOUND
from wcpipe.spec.names import OWNER_TAG

GROUP = "ec2.security-group"


class SecretsEndpoint(Resource):
    key = "ec2.secrets-endpoint"
    kind = "Secrets Manager interface endpoint"
    depends_on = (GROUP,)
    billable = True
    shared = True
    _seen: reachability.Subnet | None = None
    """The subnet as the last `describe` read it (`blocked_create` decides from it)."""

    @property
    def name(self) -> str:
        return f"com.amazonaws.{self.ctx.aws.region}.secretsmanager"

    def _subnet(self) -> reachability.Subnet:
        net = network(self.ctx)
        ec2 = self.ctx.client("ec2")
        return reachability.read_subnet(ec2, net.vpc_id, net.subnet_id, net.subnet_route_table_id)

    def describe(self) -> Observed | None:
        subnet = self._seen = self._subnet()
        found = self.ctx.client("ec2").describe_vpc_endpoints(
            Filters=[
                {"Name": "vpc-id", "Values": [subnet.vpc_id]},
                {"Name": "service-name", "Values": [self.name]},
                {"Name": "vpc-endpoint-type", "Values": ["Interface"]},
            ]
        )["VpcEndpoints"]
        live = [e for e in found if e.get("State", "").lower() not in GONE_STATES]
        ours = [
            e for e in live if tags_from_list(e.get("Tags")).get(OWNER_TAG) == self.ctx.spec.name
        ]
        dns = {"dns_support": subnet.dns_support, "dns_hostnames": subnet.dns_hostnames}
        if ours:
            endpoint = min(ours, key=lambda e: e["VpcEndpointId"])
            return Observed(
                {**_data(endpoint), **dns, "via": ""}, tags_from_list(endpoint.get("Tags"))
            )
        via = reachability.path(subnet, "secretsmanager")
        if via is None:
            return None
        # Reached another way (a NAT, an endpoint not ours): reused, never changed.
        used = next((e for e in live if via.endswith(e["VpcEndpointId"])), None)
        data = _data(used) if used else {"endpoint_id": "", "subnet_ids": [], "group_ids": []}
        return Observed({**data, **dns, "private_dns": True, "via": via}, {})

    def differences(self, observed: Observed) -> list[Difference]:
        if not self.owned(observed):
            return []
        out = []
        subnet = network(self.ctx).subnet_id
        if subnet not in observed.data["subnet_ids"]:
            out.append(Difference("subnets", observed.data["subnet_ids"], [subnet]))
        group = self.ctx.output_or(GROUP, "group_id")
        if group and group not in observed.data["group_ids"]:
            out.append(Difference("security_groups", observed.data["group_ids"], [group]))
        if not observed.data["private_dns"]:
            out.append(Difference("private_dns", False, True))
        missing = _dns_off(observed.data)
        if missing:
            vpc = observed.data.get("vpc_id") or network(self.ctx).vpc_id
            out.append(_dns_blocked(vpc, missing))
        return out + self.tag_differences(observed)

    def blocked_create(self) -> list[Difference]:
        """A VPC without both DNS attributes: AWS refuses the endpoint's private DNS."""
        subnet = self._seen or self._subnet()
        if reachability.path(subnet, "secretsmanager") is not None:
            return []  # reached another way (a NAT): nothing to create, DNS is not ours to ask
        found = {"dns_support": subnet.dns_support, "dns_hostnames": subnet.dns_hostnames}
        missing = _dns_off(found)
        return [_dns_blocked(subnet.vpc_id, missing)] if missing else []

    def create(self) -> Observed | None:
        net = network(self.ctx)
        try:
            self.ctx.client("ec2").create_vpc_endpoint(
                VpcEndpointType="Interface",
                VpcId=net.vpc_id,
                ServiceName=self.name,
                SubnetIds=[net.subnet_id],
                SecurityGroupIds=[self.ctx.output(GROUP, "group_id")],
                PrivateDnsEnabled=True,
                TagSpecifications=[{"ResourceType": "vpc-endpoint", "Tags": self.ctx.tag_list()}],
            )
        except Exception as exc:
            # A VPC resolves a service's private DNS name through one endpoint only: one
            # appeared since the describe (a concurrent run made it), and AWS refuses a second
            # ("private-dns-enabled cannot be set because there is already a conflicting DNS
            # domain ..."). It serves this subnet now, or the next describe says what is wrong.
            if error_code(exc) != "InvalidParameter" or "conflicting DNS domain" not in str(exc):
                raise
        return None  # the engine describes it again (with the VPC's DNS attributes)

    def update(self, observed: Observed, fields: Differences) -> None:
        eid = observed.data["endpoint_id"]
        change: dict[str, Any] = {}
        if "subnets" in fields:
            change["AddSubnetIds"] = [network(self.ctx).subnet_id]
        if "security_groups" in fields:
            change["AddSecurityGroupIds"] = [self.ctx.output(GROUP, "group_id")]
        if "private_dns" in fields:
            change["PrivateDnsEnabled"] = True
        if change:
            self.ctx.client("ec2").modify_vpc_endpoint(VpcEndpointId=eid, **change)
        retag(self, eid, observed)

    def delete(self, observed: Observed) -> None:
        eid = observed.data["endpoint_id"]
        response = self.ctx.client("ec2").delete_vpc_endpoints(VpcEndpointIds=[eid])
        for item in response.get("Unsuccessful", []):
            error = item.get("Error", {})
            if error.get("Code") not in NOT_FOUND:
                raise WcpipeError(
                    f"deleting {self.kind} {eid} failed: {error.get('Code')}: "
                    f"{error.get('Message', '')}"
                )

    def down_action(self, observed: Observed) -> tuple[DownAction, str | None]:
        """Ours goes; a path that reaches Secrets Manager another way (a NAT and its route,
        an endpoint not ours) was reused as it is and `down` leaves it so."""
        if self.owned(observed):
            return "delete", None
        return "keep", f"reused, not made by wcpipe: the subnet reaches it through {_via(observed)}"

    def outputs(self, observed: Observed) -> dict[str, Any]:
        return {
            "endpoint_id": observed.data["endpoint_id"],
            "reused": not self.owned(observed),
            "via": _via(observed),
        }

    def facts(self, observed: Observed) -> dict[str, str]:
        owner = "ours" if self.owned(observed) else "reused"
        return {"path": _via(observed), "owner": owner}


def _via(observed: Observed) -> str:
    """How the subnet reaches Secrets Manager: a NAT, someone's endpoint, or ours."""
    return str(observed.data["via"] or f"interface endpoint {observed.data['endpoint_id']}")


def _data(endpoint: dict[str, Any]) -> dict[str, Any]:
    return {
        "endpoint_id": endpoint["VpcEndpointId"],
        "vpc_id": endpoint.get("VpcId", ""),
        "subnet_ids": sorted(endpoint.get("SubnetIds") or []),
        "group_ids": sorted(g["GroupId"] for g in endpoint.get("Groups") or []),
        "private_dns": bool(endpoint.get("PrivateDnsEnabled")),
    }


def _dns_off(data: dict[str, Any]) -> list[str]:
    pairs = (("enableDnsSupport", "dns_support"), ("enableDnsHostnames", "dns_hostnames"))
    return [attribute for attribute, key in pairs if not data.get(key, True)]


def _dns_blocked(vpc_id: str, missing: list[str]) -> Difference:
    """The one reason, with the fix, for an endpoint whose VPC lacks DNS attributes (made or
    to be made). AWS: "To use a private hosted zone, you must set the following VPC attributes
    to true: enableDnsHostnames and enableDnsSupport" (EC2 API Reference, CreateVpcEndpoint,
    PrivateDnsEnabled)."""
    flags = " && ".join(
        f"aws ec2 modify-vpc-attribute --vpc-id {vpc_id} --{_flag(a)}" for a in missing
    )
    reason = (
        f"VPC {vpc_id} has {' and '.join(missing)} off: a Secrets Manager interface endpoint's "
        f"private DNS needs both (EC2 API Reference, CreateVpcEndpoint); turn them on (one "
        f"attribute per call): {flags}"
    )
    off, on = {a: False for a in missing}, {a: True for a in missing}
    return Difference("vpc_dns", off, on, "blocked", reason)


def _flag(attribute: str) -> str:
    """enableDnsHostnames -> enable-dns-hostnames (the CLI's option)."""
    return "".join(f"-{c.lower()}" if c.isupper() else c for c in attribute)
