"""EC2 ModifyVpcEndpoint on a gateway endpoint routes as AWS does; moto 5.2.5 only edits the list.

On AWS, associating a route table with a gateway endpoint (`AddRouteTableIds`, "(Gateway
endpoint) The IDs of the route tables to associate with the endpoint", Amazon EC2 API Reference,
ModifyVpcEndpoint) adds the route to the service's prefix list through the endpoint to that table,
and disassociating one (`RemoveRouteTableIds`) takes it off (AWS PrivateLink Guide, "Gateway
endpoints": "a route ... is added to the route tables that you associate"). moto's
`VPCEndPoint.modify` changes `route_table_ids` only, so a table added later never routes, and
DeleteVpcEndpoints then fails with InvalidRoute.NotFound on it (moto's `delete_vpc_endpoints`
deletes one route per listed table, read off `moto/ec2/models/vpcs.py`).

Mirrors moto's own `create_vpc_endpoint`, which routes each table it is given with
`create_route(table, None, gateway_id=endpoint, destination_prefix_list_id=...)`. Patches moto
only: `install()` once per process (`context.once`), as `context.or_moto`.
"""

from __future__ import annotations

import functools
from typing import Any

from wcpipe.sandbox.context import once, or_moto


def _modify_vpc_endpoint(original: Any) -> Any:
    @functools.wraps(original)
    def modify_vpc_endpoint(self: Any, vpc_id: str, *args: Any, **kw: Any) -> Any:
        endpoint = self.describe_vpc_endpoints(vpc_end_point_ids=[vpc_id])[0]
        prefix_list = endpoint.destination_prefix_list_id
        before = set(endpoint.route_table_ids or [])
        result = original(self, vpc_id, *args, **kw)
        # No route through an endpoint already deleted (moto keeps it, state "deleted", and
        # accepts the modify; AWS never routes through a deleted endpoint).
        gateway = endpoint.vpc_endpoint_type.lower() == "gateway" and endpoint.state != "deleted"
        if prefix_list and gateway:
            after = set(endpoint.route_table_ids or [])
            for table in sorted(after - before):
                self.create_route(
                    table, None, gateway_id=endpoint.id, destination_prefix_list_id=prefix_list
                )
            for table in sorted(before - after):
                self.delete_route(table, prefix_list)
        return result

    return modify_vpc_endpoint


# The moto internals used here (tests/sandbox/test_moto_pins.py checks them).
PINS: tuple[tuple[str, str], ...] = (("moto.ec2.models.vpcs", "VPCBackend"),)


@once
def install() -> None:
    """Patch moto (as `context.or_moto`: moto's own behaviour without a sandbox)."""
    from moto.ec2.models.vpcs import VPCBackend

    original = VPCBackend.modify_vpc_endpoint
    VPCBackend.modify_vpc_endpoint = or_moto(  # type: ignore[method-assign]
        _modify_vpc_endpoint(original), original
    )
