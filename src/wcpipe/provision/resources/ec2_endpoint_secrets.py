"""EC2: the Secrets Manager interface endpoint (`ec2.secrets-endpoint`), so that the Glue job and
the warehouse's crawler, in the connection's subnet, can read the connection's SECRET_ID.

Contract (see `resources/base.py`): `describe` makes only read calls; `differences` is pure; only
`create`/`update`/`delete` write. How the subnet reaches Secrets Manager is
`provision/reachability.py`'s decision, for clients in the pipeline's security group: a route
of 0.0.0.0/0 to a NAT gateway, or the VPC's interface endpoint com.amazonaws.<region>.secretsmanager
with private DNS whose security groups let the pipeline's group in on HTTPS.

- A NAT, or an endpoint that already lets this pipeline's group in without its doing (a rule
  for the VPC's CIDR, say): reused as it is (`via`: never changed or deleted, `status` names it).
- Otherwise the VPC's private-DNS endpoint is joined, as the S3 gateway endpoint is
  (resources/ec2_endpoint.py): a VPC resolves the service's name through one such endpoint only
  (a second is refused, "conflicting DNS domain"), and it serves every subnet of the VPC. The
  pipeline adds its security group to the endpoint (whose one rule, all TCP from itself, lets
  its Glue ENIs in: `ec2.SecurityGroup`; never 0.0.0.0/0) and records itself on it,
  `wcpipe:uses:<pipeline>` = that group. `down` takes its group and record off (putting on any
  recorded user's group that is missing, so the endpoint keeps letting every remaining user
  in), and the last wcpipe user out deletes an endpoint a wcpipe pipeline made (the ownership
  tag); one nobody in wcpipe made is never deleted. Before, a second pipeline reused the
  first's endpoint untouched: its ENIs were not let in (only the first's group was on it), and
  the first's `down` deleted it under the second.
- No such endpoint: `up` creates one (type Interface, private DNS, the connection's subnet, the
  pipeline's group, its record and the ownership tag), billed per hour per Availability Zone
  (spec/pricing.py). Only its creator changes its subnets, private DNS and our other tags.
- A VPC without both DNS attributes cannot use private DNS: where the endpoint must be made,
  `plan` shows its create as blocked (`blocked_create`) with the command that turns them on, and
  `up` refuses before it creates anything; it changes nothing of the VPC itself.
- A last `down` and a first `up` at once: the `up` reads the endpoint again after joining and
  makes one anew if it is gone; the `down` reads again before it deletes. Window left: the up's
  read came before the delete. Its `status` then shows the endpoint missing and its next `up`
  makes one (no hand-over as the S3 endpoint's: a new private-DNS endpoint may be refused while
  the deleted one's DNS domain is still held, and how long that lasts is not documented).
"""

from __future__ import annotations

from typing import Any

from wcpipe.core.errors import error_code, ignoring
from wcpipe.provision import reachability
from wcpipe.provision.resources.base import (
    Difference,
    Differences,
    DownAction,
    Observed,
    tag_list,
    tags_from_list,
)
from wcpipe.provision.resources.ec2 import network
from wcpipe.provision.resources.ec2_endpoint import (
    GONE_STATES,
    NOT_FOUND,
    USES_TAG,
    SharedEndpoint,
    users,
)
from wcpipe.spec.names import OWNER_TAG

GROUP = "ec2.security-group"
NEW_GROUP = "(the pipeline's security group)"
"""Shown for this pipeline's group in `plan` before `up` has created it."""


class SecretsEndpoint(SharedEndpoint):
    key = "ec2.secrets-endpoint"
    kind = "Secrets Manager interface endpoint"
    depends_on = (GROUP,)
    billable = True
    _seen: reachability.Subnet | None = None
    """The subnet as the last `describe` read it (`blocked_create` decides from it)."""

    @property
    def name(self) -> str:
        return f"com.amazonaws.{self.ctx.aws.region}.secretsmanager"

    def _group(self) -> str:
        return str(self.ctx.output_or(GROUP, "group_id") or "")

    def _subnet(self) -> reachability.Subnet:
        net = network(self.ctx)
        ec2 = self.ctx.client("ec2")
        groups = [self._group()] if self._group() else []
        return reachability.read_subnet(
            ec2, net.vpc_id, net.subnet_id, net.subnet_route_table_id, groups
        )

    def describe(self) -> Observed | None:
        subnet = self._seen = self._subnet()
        dns = {"dns_support": subnet.dns_support, "dns_hostnames": subnet.dns_hostnames}
        if subnet.nat_gateway_id:
            via = f"NAT gateway {subnet.nat_gateway_id}"
            data = {"endpoint_id": "", "subnet_ids": [], "group_ids": [], "private_dns": True}
            return Observed({**data, **dns, "via": via}, {})
        found = self.ctx.client("ec2").describe_vpc_endpoints(
            Filters=[
                {"Name": "vpc-id", "Values": [subnet.vpc_id]},
                {"Name": "service-name", "Values": [self.name]},
                {"Name": "vpc-endpoint-type", "Values": ["Interface"]},
            ]
        )["VpcEndpoints"]
        live = [e for e in found if e.get("State", "").lower() not in GONE_STATES]

        # One this pipeline made or relies on first; else the VPC's private-DNS endpoint.
        def rank(e: dict[str, Any]) -> tuple[int, str]:
            tags = tags_from_list(e.get("Tags"))
            mine = tags.get(OWNER_TAG) == self._me or f"{USES_TAG}{self._me}" in tags
            return (0 if mine else 1 if e.get("PrivateDnsEnabled") else 2, e["VpcEndpointId"])

        live.sort(key=rank)
        if not live or rank(live[0])[0] == 2:
            return None  # none, or only ones without private DNS: they do not answer the name
        endpoint = live[0]
        tags = tags_from_list(endpoint.get("Tags"))
        joined = tags.get(OWNER_TAG) is not None or USES_TAG + self._me in tags
        seen = next(
            (e for e in subnet.endpoints if e.endpoint_id == endpoint["VpcEndpointId"]), None
        )
        # Someone's endpoint that lets this pipeline in already: reused, never touched.
        untouched = not joined and seen is not None and reachability.usable_interface(subnet, seen)
        via = f"interface endpoint {endpoint['VpcEndpointId']}" if untouched else ""
        return Observed({**_data(endpoint), **dns, "via": via}, tags)

    def _observed(self, endpoint: dict[str, Any]) -> Observed:
        return Observed(_data(endpoint), tags_from_list(endpoint.get("Tags")))

    # Who relies on it ------------------------------------------------------------------------
    def _creator(self, observed: Observed) -> bool:
        return observed.tags.get(OWNER_TAG) == self._me

    def _record_tags(self, observed: Observed) -> dict[str, str]:
        """The tags `update` puts: the record, and the creator's own tags."""
        put = {f"{USES_TAG}{self._me}": self._group() or NEW_GROUP}
        if self._creator(observed):
            put |= self.tag_changes(observed).put
        return {k: v for k, v in put.items() if observed.tags.get(k) != v}

    def differences(self, observed: Observed) -> list[Difference]:
        if observed.data["via"]:
            return []  # reached another way: not this pipeline's to change
        group = self._group() or NEW_GROUP
        out = self._record_difference(observed, group)
        have = observed.data["group_ids"]
        if group not in have:
            out.append(Difference("security_groups", have, sorted([*have, group])))
        if self._creator(observed):
            subnet = network(self.ctx).subnet_id
            if subnet not in observed.data["subnet_ids"]:
                out.append(Difference("subnets", observed.data["subnet_ids"], [subnet]))
            if not observed.data["private_dns"]:
                out.append(Difference("private_dns", False, True))
            missing = _dns_off(observed.data)
            if missing:
                vpc = observed.data.get("vpc_id") or network(self.ctx).vpc_id
                out.append(_dns_blocked(vpc, missing))
            out += self.tag_differences(observed)
        return self._within_tag_limit(observed, out)

    def blocked_create(self) -> list[Difference]:
        """A VPC without both DNS attributes: AWS refuses the endpoint's private DNS."""
        subnet = self._seen or self._subnet()
        if subnet.nat_gateway_id:
            return []  # reached through a NAT: nothing to create, DNS is not ours to ask
        found = {"dns_support": subnet.dns_support, "dns_hostnames": subnet.dns_hostnames}
        missing = _dns_off(found)
        return [_dns_blocked(subnet.vpc_id, missing)] if missing else []

    def create(self) -> Observed | None:
        net = network(self.ctx)
        tags = {**self.ctx.tags, f"{USES_TAG}{self._me}": self._group()}
        try:
            self.ctx.client("ec2").create_vpc_endpoint(
                VpcEndpointType="Interface",
                VpcId=net.vpc_id,
                ServiceName=self.name,
                SubnetIds=[net.subnet_id],
                SecurityGroupIds=[self._group()],
                PrivateDnsEnabled=True,
                TagSpecifications=[{"ResourceType": "vpc-endpoint", "Tags": tag_list(tags)}],
            )
        except Exception as exc:
            # A VPC resolves a service's private DNS name through one endpoint only: one
            # appeared since the describe (a concurrent run made it), and AWS refuses a second
            # ("private-dns-enabled cannot be set because there is already a conflicting DNS
            # domain ..."). It is the VPC's endpoint now: join it.
            if error_code(exc) != "InvalidParameter" or "conflicting DNS domain" not in str(exc):
                raise
            observed = self.describe()
            if observed is None:
                raise
            fields = Differences(self.differences(observed))
            if fields:
                self.update(observed, fields)
        return None  # the engine describes it again (with the VPC's DNS attributes)

    def update(self, observed: Observed, fields: Differences) -> None:
        client = self.ctx.client("ec2")
        eid = observed.data["endpoint_id"]
        # The record goes on first: a `down` of the last other user that reads the endpoint
        # after this sees it still has a user.
        put = self._record_tags(observed)
        try:
            if put:
                client.create_tags(Resources=[eid], Tags=tag_list(put))
            change: dict[str, Any] = {}
            if self._group() not in observed.data["group_ids"]:
                change["AddSecurityGroupIds"] = [self._group()]
            if self._creator(observed) and "subnets" in fields:
                change["AddSubnetIds"] = [network(self.ctx).subnet_id]
            if self._creator(observed) and "private_dns" in fields:
                change["PrivateDnsEnabled"] = True
            if change:
                client.modify_vpc_endpoint(VpcEndpointId=eid, **change)
        except Exception as exc:
            # What AWS answers a change to an endpoint being deleted is not documented: the
            # read below decides. One still there refused it for another reason.
            if error_code(exc) is None or self._describe_id(eid) is not None:
                raise
        # Read it again: a last-out `down` that read it before the record went on deletes it
        # anyway (module docstring). Gone: make one anew.
        if self._describe_id(eid) is None:
            self.create()

    def down_action(self, observed: Observed) -> tuple[DownAction, str | None]:
        """A path that reaches Secrets Manager another way (a NAT, someone's endpoint that lets
        this pipeline in) was reused as it is and `down` leaves it so; else as any shared
        endpoint (`SharedEndpoint.down_action`)."""
        if observed.data["via"]:
            why = f"reused, not made by wcpipe: the subnet reaches it through {_via(observed)}"
            return "keep", why
        return super().down_action(observed)

    def _share(self, observed: Observed, others: dict[str, str]) -> str:
        return " and security group"

    def _take_share_off(self, eid: str, observed: Observed) -> None:
        """This pipeline's group, putting on any remaining user's group that is missing (an
        endpoint keeps at least one group, and lets every remaining user in)."""
        have = set(observed.data["group_ids"])
        needed = {g for g in self._others(observed).values() if g and g != NEW_GROUP}
        add = sorted(needed - have)
        mine = users(observed.tags)[self._me]
        remove = [mine] if mine in have and (have - {mine}) | set(add) else []
        if add or remove:
            client = self.ctx.client("ec2")
            ignoring(
                lambda: client.modify_vpc_endpoint(
                    VpcEndpointId=eid, AddSecurityGroupIds=add, RemoveSecurityGroupIds=remove
                ),
                *NOT_FOUND,
            )

    def outputs(self, observed: Observed) -> dict[str, Any]:
        return {
            "endpoint_id": observed.data["endpoint_id"],
            "reused": not self._creator(observed),
            "via": _via(observed),
            # Reached through a NAT or someone's endpoint that lets it in: no endpoint of this
            # pipeline's bills by the hour (the cost guard leaves it out).
            "billed": not observed.data["via"],
        }

    def facts(self, observed: Observed) -> dict[str, str]:
        owner = "ours" if self._creator(observed) else "reused"
        out = {"path": _via(observed), "owner": owner}
        others = self._others(observed)
        if others:
            out["shared_with"] = ", ".join(others)
        return out


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
