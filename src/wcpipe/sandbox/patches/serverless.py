"""Redshift Serverless served by the sandbox: moto has no such service, so this plugs one into
moto's dispatch as moto plugs in its own.

Contract:
- `install()` (once per process, at sandbox start) registers the backend the way moto finds its
  own: `moto.backends.get_backend("redshift-serverless")` imports `moto.redshiftserverless` and
  reads its `redshiftserverless_backends`, so that module name is registered (`sys.modules`) with
  `serverless_models.BACKENDS`; the server's `DomainDispatcherApplication` routes a request to a
  backend by matching `backend_index.backend_url_patterns` against the host it infers from the
  SigV4 scope (`redshift-serverless.<region>.amazonaws.com`), so our pattern joins that list;
  `create_backend_app` then mounts the backend's `flask_paths`, here `/` -> `Response.dispatch`.
- `Response` is a moto `BaseResponse` for the JSON 1.1 protocol (`X-Amz-Target:
  RedshiftServerless.<Operation>`): Create/Get/List/Update/Delete of namespaces and workgroups,
  TagResource / UntagResource / ListTagsForResource. Each request first settles the pending
  status changes (`settle`). The state and AWS's rules are `serverless_models`'s.
- Lists page by `maxResults` (AWS's default 100) and an opaque `nextToken`.
PINS names the moto internals used here and in `serverless_models`.
"""

from __future__ import annotations

import json
import sys
import types
from typing import Any

from moto.core.responses import BaseResponse

from wcpipe.sandbox.context import once
from wcpipe.sandbox.patches.serverless_models import BACKENDS, URL, RedshiftServerlessBackend

MODULE = "moto.redshiftserverless"  # what moto.backends.get_backend imports for the service
PAGE = 100  # ListNamespaces / ListWorkgroups maxResults default (API reference)

PINS: tuple[tuple[str, str], ...] = (
    ("moto.backends", "get_backend"),  # imports moto.<service> for <service>_backends
    ("moto.backend_index", "backend_url_patterns"),  # the dispatcher's host -> backend list
    ("moto.core.responses", "BaseResponse"),
    ("moto.core.base_backend", "BackendDict"),
    ("moto.core.base_backend", "BaseBackend"),
    ("moto.core.exceptions", "JsonRESTError"),
    ("moto.ec2.exceptions", "InvalidSubnetIdError"),
    ("moto.ec2.models", "EC2Backend"),  # get_subnet, describe_vpcs, describe_subnets
)

Body = tuple[int, dict[str, str], str]


def _ok(body: dict[str, Any]) -> Body:
    return 200, {"Content-Type": "application/x-amz-json-1.1"}, json.dumps(body, default=str)


def _page(items: list[dict[str, Any]], req: dict[str, Any], key: str) -> Body:
    start = int(req.get("nextToken") or 0)
    size = int(req.get("maxResults") or PAGE)
    body: dict[str, Any] = {key: items[start : start + size]}
    if start + size < len(items):
        body["nextToken"] = str(start + size)
    return _ok(body)


class Response(BaseResponse):
    def __init__(self) -> None:
        super().__init__(service_name="redshift-serverless")

    @property
    def backend(self) -> RedshiftServerlessBackend:
        backend: RedshiftServerlessBackend = BACKENDS[self.current_account][self.region]
        backend.settle()
        return backend

    @property
    def ec2(self) -> Any:
        from moto.ec2.models import ec2_backends

        return ec2_backends[self.current_account][self.region]

    def _req(self) -> dict[str, Any]:
        return dict(json.loads(self.body or "{}"))

    # Namespaces ------------------------------------------------------------------------------
    def create_namespace(self) -> Body:
        return _ok({"namespace": self.backend.create_namespace(self._req())})

    def get_namespace(self) -> Body:
        return _ok({"namespace": self.backend.namespace(self._req()["namespaceName"]).data})

    def list_namespaces(self) -> Body:
        items = [ns.data for ns in self.backend.namespaces.values()]
        return _page(items, self._req(), "namespaces")

    def update_namespace(self) -> Body:
        return _ok({"namespace": self.backend.update_namespace(self._req())})

    def delete_namespace(self) -> Body:
        return _ok({"namespace": self.backend.delete_namespace(self._req()["namespaceName"])})

    # Workgroups ------------------------------------------------------------------------------
    def create_workgroup(self) -> Body:
        return _ok({"workgroup": self.backend.create_workgroup(self._req(), self.ec2)})

    def get_workgroup(self) -> Body:
        return _ok({"workgroup": self.backend.workgroup(self._req()["workgroupName"]).data})

    def list_workgroups(self) -> Body:
        items = [wg.data for wg in self.backend.workgroups.values()]
        return _page(items, self._req(), "workgroups")

    def update_workgroup(self) -> Body:
        return _ok({"workgroup": self.backend.update_workgroup(self._req(), self.ec2)})

    def delete_workgroup(self) -> Body:
        return _ok({"workgroup": self.backend.delete_workgroup(self._req()["workgroupName"])})

    # Tags ------------------------------------------------------------------------------------
    def tag_resource(self) -> Body:
        req = self._req()
        self.backend.tag(req["resourceArn"], req["tags"])
        return _ok({})

    def untag_resource(self) -> Body:
        req = self._req()
        self.backend.untag(req["resourceArn"], req["tagKeys"])
        return _ok({})

    def list_tags_for_resource(self) -> Body:
        tags = self.backend.tags_of(self._req()["resourceArn"])
        return _ok({"tags": [{"key": k, "value": v} for k, v in tags.items()]})


RedshiftServerlessBackend.dispatch = Response.dispatch


@once
def install() -> None:
    """Register the backend with moto's dispatch (see the module docstring)."""
    from moto import backend_index

    module = types.ModuleType(MODULE)
    module.redshiftserverless_backends = BACKENDS  # type: ignore[attr-defined]
    sys.modules.setdefault(MODULE, module)
    if not any(name == "redshiftserverless" for name, _ in backend_index.backend_url_patterns):
        backend_index.backend_url_patterns.append(("redshiftserverless", URL))
