"""EC2: the network the warehouse and Glue run in (a VPC lookup) and the security group, plus
what the S3 gateway endpoint in `ec2_endpoint.py` shares with them (`network`, `retag`).

Contract:
- `network(ctx)` reads (never creates) the VPC: `spec.network.vpc_id` or the region's default VPC,
  its subnets (sorted by availability zone, then id), the chosen subnet (`spec.network.subnet_id`
  or the first), the VPC's route tables and the one the chosen subnet uses (`subnet_route_table_id`:
  its explicit association, else the VPC's main table). The result is cached in
  `ctx.outputs["ec2.network"]`.
- `SecurityGroup` (`ec2.security-group`) holds exactly one ingress rule: all TCP from the group
  itself, which Glue requires of a connection's group. Any other ingress rule (say a stray
  0.0.0.0/0) is drift and is revoked. Egress is left as AWS made it (all traffic).
  Deleting retries `DependencyViolation` for a bounded time: the network interfaces a Redshift
  cluster or a Glue job left in the group linger for minutes after they are gone.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from wcpipe.core.errors import WaitTimeout, WcpipeError, error_code, ignoring
from wcpipe.provision.resources.base import (
    Context,
    Difference,
    Differences,
    Observed,
    Resource,
    tag_list,
    tags_from_list,
)

NETWORK_KEY = "ec2.network"
DELETE_BUDGET = 20 * 60.0
"""How long deleting the group waits for lingering network interfaces to go (seconds)."""


@dataclass(frozen=True)
class Network:
    vpc_id: str
    subnet_ids: tuple[str, ...]
    subnet_azs: dict[str, str]
    subnet_id: str
    availability_zone: str
    route_table_ids: tuple[str, ...]
    subnet_route_table_id: str = ""  # the table the chosen subnet routes by

    @property
    def availability_zones(self) -> set[str]:
        return set(self.subnet_azs.values())


_NETWORK_LOCK = threading.Lock()


def network(ctx: Context) -> Network:
    """The VPC wcpipe uses, looked up once per run (read calls only). The engine describes
    resources concurrently: the lock makes the security group and the S3 endpoint share one
    lookup instead of racing to make two."""
    cached = ctx.output_or(NETWORK_KEY, "network")
    if cached is not None:
        return cached
    with _NETWORK_LOCK:
        cached = ctx.output_or(NETWORK_KEY, "network")
        if cached is not None:
            return cached
        found = _lookup(ctx)
        ctx.publish(NETWORK_KEY, {"network": found})
        return found


def _lookup(ctx: Context) -> Network:
    client = ctx.client("ec2")
    region = ctx.aws.region
    vpc_id = ctx.spec.network.vpc_id
    if vpc_id is None:
        vpcs = client.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"]
        if not vpcs:
            raise WcpipeError(f"no default VPC in {region}; set network.vpc_id")
        vpc_id = vpcs[0]["VpcId"]
    else:
        if ignoring(lambda: client.describe_vpcs(VpcIds=[vpc_id]), "InvalidVpcID.NotFound") is None:
            raise WcpipeError(f"network.vpc_id {vpc_id} does not exist in {region}")
    vpc_filter = [{"Name": "vpc-id", "Values": [vpc_id]}]
    subnets = []
    for page in client.get_paginator("describe_subnets").paginate(Filters=vpc_filter):
        subnets += page["Subnets"]
    subnets.sort(key=lambda s: (s["AvailabilityZone"], s["SubnetId"]))
    if not subnets:
        raise WcpipeError(
            f"VPC {vpc_id} has no subnets", hint="set network.vpc_id to a VPC with subnets"
        )
    azs = {s["SubnetId"]: s["AvailabilityZone"] for s in subnets}
    chosen = ctx.spec.network.subnet_id or subnets[0]["SubnetId"]
    if chosen not in azs:
        raise WcpipeError(f"network.subnet_id {chosen} is not a subnet of VPC {vpc_id}")
    found = []
    for page in client.get_paginator("describe_route_tables").paginate(Filters=vpc_filter):
        found += page["RouteTables"]
    tables = [t["RouteTableId"] for t in found]
    return Network(
        vpc_id=vpc_id,
        subnet_ids=tuple(azs),
        subnet_azs=azs,
        subnet_id=chosen,
        availability_zone=azs[chosen],
        route_table_ids=tuple(sorted(tables)),
        subnet_route_table_id=_table_of(found, chosen),
    )


def _table_of(tables: list[dict[str, Any]], subnet: str) -> str:
    """The route table `subnet` routes by: the one explicitly associated with it, else the VPC's
    main table ("A subnet that is not explicitly associated with a route table is implicitly
    associated with the main route table", Amazon VPC User Guide, "Route tables")."""
    for wanted in ({"SubnetId": subnet}, {"Main": True}):
        for table in sorted(tables, key=lambda t: t["RouteTableId"]):
            for association in table.get("Associations") or []:
                if all(association.get(k) == v for k, v in wanted.items()):
                    return str(table["RouteTableId"])
    return ""


def retag(res: Resource, resource_id: str, observed: Observed) -> None:
    """Put back our tags that are missing or differ (CreateTags overwrites only those keys)."""
    ec2 = res.ctx.client("ec2")
    res.sync_tags(
        observed, lambda tags: ec2.create_tags(Resources=[resource_id], Tags=tag_list(tags))
    )


_PORTS = ("IpProtocol", "FromPort", "ToPort")


def ingress_rules(permissions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A group's IpPermissions as one rule per source, keyed as DescribeSecurityGroupRules
    keys them (CidrIpv4, CidrIpv6, PrefixListId, ReferencedGroupInfo): DescribeSecurityGroups
    already returns them, so no second request is needed to read them."""
    rules = []
    for perm in permissions:
        ports = {k: perm[k] for k in _PORTS if k in perm}
        sources: list[dict[str, Any]] = [
            *({"CidrIpv4": r["CidrIp"]} for r in perm.get("IpRanges", [])),
            *({"CidrIpv6": r["CidrIpv6"]} for r in perm.get("Ipv6Ranges", [])),
            *({"PrefixListId": r["PrefixListId"]} for r in perm.get("PrefixListIds", [])),
            *(
                {"ReferencedGroupInfo": {k: v for k, v in r.items() if k in ("GroupId", "UserId")}}
                for r in perm.get("UserIdGroupPairs", [])
            ),
        ]
        rules += [{**ports, **source} for source in sources]
    return rules


def _permission(rule: dict[str, Any]) -> dict[str, Any]:
    """One rule of `ingress_rules` as the IpPermission that revokes exactly it."""
    perm: dict[str, Any] = {k: rule[k] for k in _PORTS if k in rule}
    if "CidrIpv4" in rule:
        perm["IpRanges"] = [{"CidrIp": rule["CidrIpv4"]}]
    elif "CidrIpv6" in rule:
        perm["Ipv6Ranges"] = [{"CidrIpv6": rule["CidrIpv6"]}]
    elif "PrefixListId" in rule:
        perm["PrefixListIds"] = [{"PrefixListId": rule["PrefixListId"]}]
    else:
        perm["UserIdGroupPairs"] = [dict(rule.get("ReferencedGroupInfo", {}))]
    return perm


def _is_self_rule(rule: dict[str, Any], group_id: str) -> bool:
    return (
        rule.get("IpProtocol") == "tcp"
        and rule.get("FromPort") == 0
        and rule.get("ToPort") == 65535
        and rule.get("ReferencedGroupInfo", {}).get("GroupId") == group_id
    )


SELF_RULE_TEXT = "tcp 0-65535 from itself"
"""The group's one rule, as `plan` shows it."""


def _rule_text(rule: dict[str, Any]) -> str:
    proto = "all" if rule.get("IpProtocol") == "-1" else rule.get("IpProtocol")
    ports = (
        f" {rule.get('FromPort')}-{rule.get('ToPort')}" if rule.get("FromPort", -1) != -1 else ""
    )
    source = (
        rule.get("CidrIpv4")
        or rule.get("CidrIpv6")
        or rule.get("PrefixListId")
        or rule.get("ReferencedGroupInfo", {}).get("GroupId")
    )
    return f"{proto}{ports} from {source}"


class SecurityGroup(Resource):
    key = "ec2.security-group"
    kind = "security group"

    @property
    def name(self) -> str:
        return self.ctx.names.security_group

    def describe(self) -> Observed | None:
        client = self.ctx.client("ec2")
        vpc_id = network(self.ctx).vpc_id
        groups = client.describe_security_groups(
            Filters=[
                {"Name": "group-name", "Values": [self.name]},
                {"Name": "vpc-id", "Values": [vpc_id]},
            ]
        )["SecurityGroups"]
        if not groups:
            return None
        group = groups[0]
        return Observed(
            {
                "group_id": group["GroupId"],
                "vpc_id": group["VpcId"],
                "ingress": ingress_rules(group.get("IpPermissions", [])),
            },
            tags_from_list(group.get("Tags")),
        )

    def _stray(self, observed: Observed) -> list[dict[str, Any]]:
        gid = observed.data["group_id"]
        return [r for r in observed.data["ingress"] if not _is_self_rule(r, gid)]

    def _has_self_rule(self, observed: Observed) -> bool:
        gid = observed.data["group_id"]
        return any(_is_self_rule(r, gid) for r in observed.data["ingress"])

    def differences(self, observed: Observed) -> list[Difference]:
        out = []
        if not self._has_self_rule(observed) or self._stray(observed):
            gid = observed.data["group_id"]
            have = sorted(
                SELF_RULE_TEXT if _is_self_rule(r, gid) else _rule_text(r)
                for r in observed.data["ingress"]
            )
            out.append(Difference("ingress", have, [SELF_RULE_TEXT]))
        return out + self.tag_differences(observed)

    def create(self) -> Observed | None:
        """Create the group with its one rule. A new group has no ingress rule but the one
        added here, so what a describe would find is known without asking."""
        client = self.ctx.client("ec2")
        vpc_id = network(self.ctx).vpc_id
        gid = ignoring(
            lambda: client.create_security_group(
                GroupName=self.name,
                Description=f"wcpipe pipeline {self.ctx.spec.name}: Glue and Redshift",
                VpcId=vpc_id,
                TagSpecifications=[{"ResourceType": "security-group", "Tags": self.ctx.tag_list()}],
            )["GroupId"],
            "InvalidGroup.Duplicate",
        )
        if gid is None:
            return self._adopt()
        self._authorize_self(gid)
        self_rule = {"IpProtocol": "tcp", "FromPort": 0, "ToPort": 65535}
        return Observed(
            {
                "group_id": gid,
                "vpc_id": vpc_id,
                "ingress": [{**self_rule, "ReferencedGroupInfo": {"GroupId": gid}}],
            },
            dict(self.ctx.tags),
        )

    def _adopt(self) -> Observed | None:
        """The group a concurrent run created a moment ago: ours only if it carries our tag."""
        observed = self.describe()
        assert observed is not None, "security group vanished right after creation"
        self.check_owned(observed)
        if not self._has_self_rule(observed):
            self._authorize_self(observed.data["group_id"])
            return self.describe()
        return observed

    def _authorize_self(self, group_id: str) -> None:
        rule = {
            "IpProtocol": "tcp",
            "FromPort": 0,
            "ToPort": 65535,
            "UserIdGroupPairs": [
                {"GroupId": group_id, "Description": "Glue: all TCP within the group"}
            ],
        }
        ignoring(
            lambda: self.ctx.client("ec2").authorize_security_group_ingress(
                GroupId=group_id, IpPermissions=[rule]
            ),
            "InvalidPermission.Duplicate",
        )

    def update(self, observed: Observed, fields: Differences) -> None:
        client = self.ctx.client("ec2")
        gid = observed.data["group_id"]
        if "ingress" not in fields:
            retag(self, gid, observed)
            return
        if not self._has_self_rule(observed):
            self._authorize_self(gid)
        stray = [_permission(r) for r in self._stray(observed)]
        if stray:
            client.revoke_security_group_ingress(GroupId=gid, IpPermissions=stray)
        retag(self, gid, observed)

    def delete(self, observed: Observed) -> None:
        client = self.ctx.client("ec2")
        gid = observed.data["group_id"]
        timing = self.ctx.timing
        start = timing.clock()
        for delay in timing.intervals():
            try:
                ignoring(lambda: client.delete_security_group(GroupId=gid), "InvalidGroup.NotFound")
                return
            except Exception as exc:
                if error_code(exc) != "DependencyViolation":
                    raise
            elapsed = timing.clock() - start
            if elapsed + delay > DELETE_BUDGET:
                raise WaitTimeout(
                    f"security group {gid} is still in use after {elapsed:.0f}s",
                    hint="network interfaces of a deleted cluster or Glue job can linger; "
                    "run `wcpipe down` again later",
                )
            self.ctx.note(self.key, f"in use by network interfaces, retrying ({elapsed:.0f}s)")
            timing.sleep(delay)

    def outputs(self, observed: Observed) -> dict[str, Any]:
        net = network(self.ctx)
        return {
            "group_id": observed.data["group_id"],
            "vpc_id": observed.data["vpc_id"],
            "subnet_id": net.subnet_id,
            "availability_zone": net.availability_zone,
            "subnet_ids": list(net.subnet_ids),
        }

    def facts(self, observed: Observed) -> dict[str, str]:
        return {"group": observed.data["group_id"], "vpc": observed.data["vpc_id"]}
