"""What AWS refuses or keeps that moto 5.2.5 lets through: the sandbox behaves as AWS does when two
runs create the same thing at once, or when a create carries its tags.

- Lambda AddPermission with a statement id the function's policy already holds: AWS answers
  ResourceConflictException ("The statement id (X) provided already exists..."); moto appends a
  second statement with the same id.
- EC2 CreateVpcEndpoint (Gateway) on a route table that already routes the service's prefix list
  through another endpoint: AWS answers RouteAlreadyExists; moto makes a second endpoint and a
  second route.
- EC2 CreateVpcEndpoint (Interface) with private DNS for a service that an endpoint of the VPC
  already serves with private DNS: AWS answers InvalidParameter ("private-dns-enabled cannot be
  set because there is already a conflicting DNS domain for <service host> in the VPC <vpc>", the
  text AWS users report, e.g. hashicorp/terraform-provider-aws#17535); moto makes a second one.
- S3 CreateBucket with `CreateBucketConfiguration.Tags`: AWS creates the bucket with those tags
  in one step; moto drops them.
- EC2 DeleteSecurityGroup of a group an interface endpoint still holds (its network interfaces
  carry the endpoint's groups: CreateVpcEndpoint, SecurityGroupIds): AWS answers
  DependencyViolation, "resource <group> has a dependent object"; moto deletes the group (its
  endpoint interfaces carry no groups).

Each check-then-act runs under one lock, as AWS's own is atomic. Patches moto only, never wcpipe:
`install()` applies the patches once per process (`context.once`), each as `context.or_moto`
(moto as it is without a sandbox). PINS names the moto internals used here.
"""

from __future__ import annotations

import functools
import json
import threading
from typing import Any

from wcpipe.sandbox.context import once, or_moto

_lock = threading.RLock()


def _add_statement(original: Any) -> Any:
    @functools.wraps(original)
    def add_statement(self: Any, raw: str, qualifier: str | None = None) -> Any:
        from moto.awslambda.exceptions import LambdaClientError

        sid = json.loads(raw).get("StatementId")  # the request, before moto makes it a Sid
        with _lock:
            if sid and any(s.get("Sid") == sid for s in self.statements):
                error = LambdaClientError(
                    "ResourceConflictException",
                    f"The statement id ({sid}) provided already exists. Please provide a new "
                    "statement id, or remove the existing statement.",
                )
                error.code = 409
                raise error
            return original(self, raw, qualifier)

    return add_statement


def _create_vpc_endpoint(original: Any) -> Any:
    @functools.wraps(original)
    def create_vpc_endpoint(
        self: Any, vpc_id: str, service_name: str, *args: Any, **kw: Any
    ) -> Any:
        from moto.ec2.exceptions import EC2ClientError

        endpoint_type = kw.get("endpoint_type", args[0] if args else None)
        route_table_ids = kw.get("route_table_ids", args[2] if len(args) > 2 else None) or []
        with _lock:
            if (endpoint_type or "gateway").lower() == "gateway":
                prefix_lists = [
                    p.id
                    for p in self.managed_prefix_lists.values()
                    if p.prefix_list_name == service_name
                ]
                for table_id in route_table_ids:
                    table = self.get_route_table(table_id)
                    for route in table.routes:
                        if route.destination_prefix_list_id in prefix_lists:
                            raise EC2ClientError(
                                "RouteAlreadyExists",
                                f"route table {table_id} already has a route with "
                                f"destination-prefix-list-id {route.destination_prefix_list_id}",
                            )
            private_dns = kw.get("private_dns_enabled")
            if (endpoint_type or "").lower() == "interface" and private_dns:
                for other in self.vpc_end_points.values():
                    same = other.vpc_id == vpc_id and other.service_name == service_name
                    if same and other.private_dns_enabled and other.state != "deleted":
                        parts = service_name.split(".")  # com.amazonaws.<region>.<service>
                        host = f"{parts[-1]}.{parts[-2]}"
                        raise EC2ClientError(
                            "InvalidParameter",
                            "private-dns-enabled cannot be set because there is already a "
                            f"conflicting DNS domain for {host}.amazonaws.com in the VPC {vpc_id}",
                        )
            return original(self, vpc_id, service_name, *args, **kw)

    return create_vpc_endpoint


def _delete_security_group(original: Any) -> Any:
    @functools.wraps(original)
    def delete_security_group(
        self: Any, name: str | None = None, group_id: str | None = None
    ) -> Any:
        from moto.ec2.exceptions import DependencyViolationError

        with _lock:
            for endpoint in self.vpc_end_points.values():
                held = group_id in (endpoint.security_group_ids or [])
                if held and str(endpoint.state).lower() not in ("deleted", "deleting"):
                    raise DependencyViolationError(f"resource {group_id} has a dependent object")
            return original(self, name, group_id)

    return delete_security_group


def _bucket_response_put(original: Any) -> Any:
    @functools.wraps(original)
    def bucket_response_put(self: Any, request: Any, bucket_name: str, querystring: Any) -> Any:
        tags = _create_bucket_tags(self.body) if not querystring else {}
        if not tags:
            return original(self, request, bucket_name, querystring)
        with _lock:
            existed = bucket_name in self.backend.buckets
            response = original(self, request, bucket_name, querystring)
            if not existed and bucket_name in self.backend.buckets:
                self.backend.put_bucket_tagging(bucket_name, tags)
            return response

    return bucket_response_put


def _create_bucket_tags(body: bytes | None) -> dict[str, str]:
    """The tags of a CreateBucket request body (`<Tags><Tag><Key/><Value/></Tag>...`), if any."""
    if not body or b"<Tags" not in body:
        return {}
    from xml.etree import ElementTree

    def local(tag: str) -> str:
        return tag.rpartition("}")[2]  # without the S3 namespace

    tags: dict[str, str] = {}
    for element in ElementTree.fromstring(body).iter():
        if local(element.tag) == "Tag":
            fields = {local(child.tag): child.text or "" for child in element}
            tags[fields.get("Key", "")] = fields.get("Value", "")
    return tags


# The moto internals used here (tests/sandbox/test_moto_pins.py checks them).
PINS: tuple[tuple[str, str], ...] = (
    ("moto.awslambda.policy", "Policy"),
    ("moto.awslambda.exceptions", "LambdaClientError"),
    ("moto.ec2.models.vpcs", "VPCBackend"),
    ("moto.ec2.exceptions", "EC2ClientError"),
    ("moto.ec2.exceptions", "DependencyViolationError"),
    ("moto.ec2.models.security_groups", "SecurityGroupBackend"),
    ("moto.s3.responses", "S3Response"),
)


@once
def install() -> None:
    """Patch moto (each patch as `context.or_moto`: moto's own behaviour without a sandbox)."""
    from moto.awslambda.policy import Policy
    from moto.ec2.models.security_groups import SecurityGroupBackend
    from moto.ec2.models.vpcs import VPCBackend
    from moto.s3.responses import S3Response

    for owner, name, wrap in (
        (Policy, "add_statement", _add_statement),
        (VPCBackend, "create_vpc_endpoint", _create_vpc_endpoint),
        (SecurityGroupBackend, "delete_security_group", _delete_security_group),
        (S3Response, "_bucket_response_put", _bucket_response_put),
    ):
        original = getattr(owner, name)
        setattr(owner, name, or_moto(wrap(original), original))
