"""EC2: the S3 gateway endpoint (`ec2.s3-endpoint`), in the VPC that `ec2.py` looks up.

Contract (see `resources/base.py`): `describe` makes only read calls; `differences` is pure; only
`create`/`update`/`delete` write. The endpoint is shared: Glue in a VPC reaches S3 through a
gateway endpoint. An existing S3 gateway endpoint in the VPC without our tag is reused as it is,
never changed or deleted; otherwise wcpipe creates one on all the VPC's route tables and deletes
only that one.
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

    def _missing_tables(self, observed: Observed) -> list[str]:
        have = set(observed.data["route_table_ids"])
        return [t for t in network(self.ctx).route_table_ids if t not in have]

    def differences(self, observed: Observed) -> list[Difference]:
        out = []
        if self._missing_tables(observed):
            have = sorted(observed.data["route_table_ids"])
            wanted = sorted({*have, *self._missing_tables(observed)})
            out.append(Difference("route_tables", have, wanted))
        return out + self.tag_differences(observed)

    def create(self) -> Observed | None:
        net = network(self.ctx)
        try:
            endpoint = self.ctx.client("ec2").create_vpc_endpoint(
                VpcEndpointType="Gateway",
                VpcId=net.vpc_id,
                ServiceName=self.name,
                RouteTableIds=list(net.route_table_ids),
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
                "route_table_ids": sorted(endpoint.get("RouteTableIds", net.route_table_ids)),
                "state": endpoint.get("State", ""),
            },
            tags_from_list(endpoint.get("Tags")) or dict(self.ctx.tags),
        )

    def update(self, observed: Observed, fields: Differences) -> None:
        eid = observed.data["endpoint_id"]
        missing = self._missing_tables(observed)
        if "route_tables" in fields and missing:
            self.ctx.client("ec2").modify_vpc_endpoint(VpcEndpointId=eid, AddRouteTableIds=missing)
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
