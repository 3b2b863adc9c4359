"""EC2: the S3 gateway endpoint (`ec2.s3-endpoint`), in the VPC that `ec2.py` looks up.

Contract (see `resources/base.py`): `describe` makes only read calls; `differences` is pure; only
`create`/`update`/`delete` write. The endpoint is shared: Glue in a VPC reaches S3 through a
gateway endpoint. An existing S3 gateway endpoint in the VPC without our tag is reused as it is,
never changed or deleted; otherwise wcpipe creates one whose route goes only onto the route table
of the chosen subnet (the one Glue's network interfaces use: `network().subnet_route_table_id`),
and deletes only that one. A route on every table of the VPC would change how every other
workload there reaches S3 (a bucket policy on their source IPs stops matching). Ours on another
table is drift: `update` removes it and adds the subnet's.
"""

from __future__ import annotations

from typing import Any

from wcpipe.core.errors import WcpipeError, error_code
from wcpipe.provision.resources.base import (
    Difference,
    Differences,
    Observed,
    Resource,
    tags_from_list,
)
from wcpipe.provision.resources.ec2 import network, retag
from wcpipe.spec.names import OWNER_TAG

_GONE_STATES = {"deleting", "deleted", "failed", "rejected", "expired"}


class S3Endpoint(Resource):
    key = "ec2.s3-endpoint"
    kind = "S3 gateway endpoint"
    shared = True

    @property
    def name(self) -> str:
        return f"com.amazonaws.{self.ctx.aws.region}.s3"

    def describe(self) -> Observed | None:
        client = self.ctx.client("ec2")
        endpoints = client.describe_vpc_endpoints(
            Filters=[
                {"Name": "vpc-id", "Values": [network(self.ctx).vpc_id]},
                {"Name": "service-name", "Values": [self.name]},
                {"Name": "vpc-endpoint-type", "Values": ["Gateway"]},
            ]
        )["VpcEndpoints"]
        live = [e for e in endpoints if e.get("State", "").lower() not in _GONE_STATES]
        if not live:
            return None
        # Prefer ours; otherwise whichever endpoint the VPC already has is reused.
        live.sort(
            key=lambda e: (
                tags_from_list(e.get("Tags")).get(OWNER_TAG) != self.ctx.spec.name,
                e["VpcEndpointId"],
            )
        )
        endpoint = live[0]
        return Observed(
            {
                "endpoint_id": endpoint["VpcEndpointId"],
                "route_table_ids": sorted(endpoint.get("RouteTableIds", [])),
                "state": endpoint.get("State", ""),
            },
            tags_from_list(endpoint.get("Tags")),
        )

    def _wanted_tables(self) -> list[str]:
        table = network(self.ctx).subnet_route_table_id
        return [table] if table else []

    def _missing_tables(self, observed: Observed) -> list[str]:
        have = set(observed.data["route_table_ids"])
        return [t for t in self._wanted_tables() if t not in have]

    def _extra_tables(self, observed: Observed) -> list[str]:
        wanted = set(self._wanted_tables())
        return [t for t in observed.data["route_table_ids"] if t not in wanted]

    def differences(self, observed: Observed) -> list[Difference]:
        out = []
        if self._missing_tables(observed) or self._extra_tables(observed):
            have = sorted(observed.data["route_table_ids"])
            out.append(Difference("route_tables", have, sorted(self._wanted_tables())))
        return out + self.tag_differences(observed)

    def create(self) -> Observed | None:
        net = network(self.ctx)
        try:
            endpoint = self.ctx.client("ec2").create_vpc_endpoint(
                VpcEndpointType="Gateway",
                VpcId=net.vpc_id,
                ServiceName=self.name,
                RouteTableIds=self._wanted_tables(),
                TagSpecifications=[{"ResourceType": "vpc-endpoint", "Tags": self.ctx.tag_list()}],
            )["VpcEndpoint"]
        except Exception as exc:
            if error_code(exc) != "RouteAlreadyExists":
                raise
            # A route table routes S3 through one gateway endpoint only: one appeared since the
            # describe (a concurrent run made it). It is the VPC's S3 endpoint now: reuse it.
            observed = self.describe()
            if observed is None:
                raise
            return observed
        return Observed(
            {
                "endpoint_id": endpoint["VpcEndpointId"],
                "route_table_ids": sorted(endpoint.get("RouteTableIds", self._wanted_tables())),
                "state": endpoint.get("State", ""),
            },
            tags_from_list(endpoint.get("Tags")) or dict(self.ctx.tags),
        )

    def update(self, observed: Observed, fields: Differences) -> None:
        eid = observed.data["endpoint_id"]
        missing, extra = self._missing_tables(observed), self._extra_tables(observed)
        if "route_tables" in fields and (missing or extra):
            self.ctx.client("ec2").modify_vpc_endpoint(
                VpcEndpointId=eid, AddRouteTableIds=missing, RemoveRouteTableIds=extra
            )
        retag(self, eid, observed)

    def delete(self, observed: Observed) -> None:
        eid = observed.data["endpoint_id"]
        response = self.ctx.client("ec2").delete_vpc_endpoints(VpcEndpointIds=[eid])
        for item in response.get("Unsuccessful", []):
            code = item.get("Error", {}).get("Code")
            if code not in ("InvalidVpcEndpointId.NotFound", "InvalidVpcEndpoint.NotFound"):
                raise WcpipeError(
                    f"deleting S3 gateway endpoint {eid} failed: {code}: "
                    f"{item.get('Error', {}).get('Message', '')}"
                )

    def outputs(self, observed: Observed) -> dict[str, Any]:
        return {"endpoint_id": observed.data["endpoint_id"], "reused": not self.owned(observed)}

    def facts(self, observed: Observed) -> dict[str, str]:
        owner = "ours" if self.owned(observed) else "reused"
        return {"endpoint": observed.data["endpoint_id"], "owner": owner}
