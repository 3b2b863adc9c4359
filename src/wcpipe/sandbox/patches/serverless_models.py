"""Redshift Serverless's state for the sandbox (moto has no Redshift Serverless): namespaces,
workgroups and their tags, per account and region, as a moto backend (`BACKENDS`, a moto
`BackendDict`, so `Sandbox.backend("redshift-serverless")` and moto's reset treat it as one of
moto's own). `serverless.py` serves it over the JSON protocol, on the sandbox's server and, once
installed, on moto's in-process mock too (`urls`), where nothing is delayed.

Contract (shapes are botocore's `redshift-serverless` 2021-04-21 service model; errors and rules
are AWS's, each cited where it is enforced):
- Statuses move as AWS's do: a workgroup is CREATING after CreateWorkgroup and AVAILABLE once
  ready (under a latency profile: its "redshift-serverless.workgroup" readiness, the 2-5 minutes
  AWS takes, scaled; without one, at the next request); UpdateWorkgroup / UpdateNamespace answer
  MODIFYING, Delete* DELETING, and the change is done (or the item gone) after the profile's
  "redshift-serverless.change" (without one, at the next request).
  A namespace is AVAILABLE at once.
- Errors by code, as AWS answers them: a name taken (ConflictException); a workgroup for a
  namespace that is missing (ResourceNotFoundException), being deleted or already serving one
  (ConflictException); a change while one is in progress (ConflictException); a base capacity
  AWS does not offer, a max below the base, several settings in one UpdateWorkgroup, or subnets
  in fewer than three availability zones (ValidationException); deleting a namespace that still
  has a workgroup (ConflictException).
"""

from __future__ import annotations

import re
import time
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from moto.core.base_backend import BackendDict, BaseBackend
from moto.core.exceptions import JsonRESTError
from moto.ec2.exceptions import InvalidSubnetIdError

from wcpipe.sandbox.context import running
from wcpipe.sandbox.patches.latency import readiness

DEFAULT_BASE_RPU = 128  # "The default base capacity for Amazon Redshift Serverless is 128 RPUs"
DEFAULT_PORT = 5439  # CreateWorkgroup `port`: "The default is 5439" (API reference)
# "Valid port ranges are 5431-5455 and 8191-8215" (CreateWorkgroup, API reference).
PORTS = (range(5431, 5456), range(8191, 8216))
MAX_TAGS = 200  # botocore service model: TagList "max": 200
URL = re.compile(r"https?://redshift-serverless\.(.+)\.amazonaws\.com")
MIN_AZS = 3  # "at least three subnets, and they must span across three Availability Zones"
# ... "except US West (N. California)": three subnets over two zones there (Amazon Redshift
# Management Guide, "Considerations when using Amazon Redshift Serverless").
TWO_AZ_REGIONS = {"us-west-1"}
# UpdateWorkgroup settings: AWS changes one per call ("Can't update multiple configurations at
# the same time for workgroup <name>.", hashicorp/terraform-provider-aws#28108).
WORKGROUP_SETTINGS = (
    "baseCapacity",
    "maxCapacity",
    "configParameters",
    "enhancedVpcRouting",
    "port",
    "publiclyAccessible",
    "securityGroupIds",
    "subnetIds",
    "ipAddressType",
    "trackName",
)


def valid_base_capacity(rpu: int) -> bool:
    """AWS's base capacities: 4, or 8 to 512 in steps of 8, or 512 to 1024 in steps of 32
    (Amazon Redshift Management Guide, "Compute capacity for Amazon Redshift Serverless")."""
    return rpu == 4 or (8 <= rpu <= 512 and rpu % 8 == 0) or (512 <= rpu <= 1024 and rpu % 32 == 0)


def _error(code: str, message: str) -> JsonRESTError:
    return JsonRESTError(code, message)


def conflict(message: str) -> JsonRESTError:
    return _error("ConflictException", message)


def validation(message: str) -> JsonRESTError:
    return _error("ValidationException", message)


def not_found(message: str) -> JsonRESTError:
    return _error("ResourceNotFoundException", message)


def _ready_after(what: str) -> float:
    """The serving sandbox's readiness delay; none on moto's in-process mock (no sandbox)."""
    return readiness(what) if running() else 0.0


def _change_time() -> float:
    return _ready_after("redshift-serverless.change")


def _now() -> str:
    return datetime.now(UTC).isoformat()


class _Item:
    """A namespace or workgroup: its API fields (`data`) and a pending status change."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.settles_at = 0.0  # time.monotonic() when the pending status ends
        self.settles_to: str | None = None  # "AVAILABLE", or None for "gone"

    def change(self, status: str, then: str | None, after: float = 0.0) -> None:
        self.data["status"] = status
        self.settles_to, self.settles_at = then, time.monotonic() + after

    @property
    def status(self) -> str:
        return str(self.data["status"])

    @property
    def arn(self) -> str:
        return str(self.data.get("namespaceArn") or self.data["workgroupArn"])


class RedshiftServerlessBackend(BaseBackend):
    dispatch: ClassVar[Any] = None
    """The JSON-protocol handler (`serverless.Response.dispatch`), set by `serverless.py` when it
    is imported (this module does not import it: no cycle)."""

    def __init__(self, region_name: str, account_id: str) -> None:
        super().__init__(region_name, account_id)
        self.namespaces: dict[str, _Item] = {}
        self.workgroups: dict[str, _Item] = {}
        self.tags: dict[str, dict[str, str]] = {}  # resource ARN -> tags

    # What moto's server mounts for this backend: every request to `/` goes to
    # `serverless.Response` (its urls.py, for a service of moto's own).
    @property
    def url_bases(self) -> list[str]:
        return [URL.pattern]

    @property
    def url_paths(self) -> dict[str, Any]:
        assert self.dispatch is not None, "wcpipe.sandbox.patches.serverless is not imported"
        return {"/$": self.dispatch}

    @property
    def urls(self) -> dict[str, Any]:
        """The same for moto's in-process mock, which matches whole URLs."""
        return {f"{URL.pattern}{path}": handler for path, handler in self.url_paths.items()}

    # Status transitions ----------------------------------------------------------------------
    def settle(self) -> None:
        """End every pending change whose time has come (called before each request)."""
        now = time.monotonic()
        for items in (self.namespaces, self.workgroups):
            for name, item in list(items.items()):
                if item.status == "AVAILABLE" or now < item.settles_at:
                    continue
                if item.settles_to is None:
                    del items[name]
                    self.tags.pop(item.arn, None)
                else:
                    item.data["status"] = item.settles_to

    def _arn(self, kind: str, item_id: str) -> str:
        return f"arn:aws:redshift-serverless:{self.region_name}:{self.account_id}:{kind}/{item_id}"

    # Namespaces --------------------------------------------------------------------------------
    def namespace(self, name: str) -> _Item:
        item = self.namespaces.get(name)
        if item is None:
            raise not_found(f"Namespace {name} not found.")
        return item

    def create_namespace(self, req: dict[str, Any]) -> dict[str, Any]:
        name = req["namespaceName"]
        if name in self.namespaces:
            raise conflict(f"Namespace {name} already exists.")
        roles = list(req.get("iamRoles") or [])
        default_role = req.get("defaultIamRoleArn")
        _check_default_role(default_role, roles)
        ns_id = str(uuid.uuid4())
        item = _Item(
            {
                "namespaceName": name,
                "namespaceId": ns_id,
                "namespaceArn": self._arn("namespace", ns_id),
                "adminUsername": req.get("adminUsername") or "admin",
                "dbName": req.get("dbName") or "dev",
                "iamRoles": _role_texts(roles),
                "kmsKeyId": req.get("kmsKeyId") or "AWS_OWNED_KMS_KEY",
                "logExports": list(req.get("logExports") or []),
                "creationDate": _now(),
                "status": "AVAILABLE",
            }
        )
        if default_role:
            item.data["defaultIamRoleArn"] = default_role
        self.namespaces[name] = item
        self.tags[item.arn] = _tag_dict(req.get("tags"))
        return item.data

    def update_namespace(self, req: dict[str, Any]) -> dict[str, Any]:
        item = self.namespace(req["namespaceName"])
        if item.status != "AVAILABLE":
            raise conflict(f"Namespace {item.data['namespaceName']} is {item.status}.")
        roles = role_arns(item) if req.get("iamRoles") is None else list(req["iamRoles"])
        if req.get("defaultIamRoleArn"):
            _check_default_role(req["defaultIamRoleArn"], roles)
            item.data["defaultIamRoleArn"] = req["defaultIamRoleArn"]
        item.data["iamRoles"] = _role_texts(roles)
        for field in ("adminUsername", "kmsKeyId", "logExports"):
            if req.get(field) is not None:
                item.data[field] = req[field]
        item.change("MODIFYING", "AVAILABLE", _change_time())
        return item.data

    def delete_namespace(self, name: str) -> dict[str, Any]:
        item = self.namespace(name)
        users = [w for w, wg in self.workgroups.items() if wg.data["namespaceName"] == name]
        if users:
            raise conflict(f"Namespace {name} has workgroup {users[0]}: delete it first.")
        if item.status == "DELETING":
            raise conflict(f"Namespace {name} is already being deleted.")
        item.change("DELETING", None, _change_time())
        return item.data

    # Workgroups --------------------------------------------------------------------------------
    def workgroup(self, name: str) -> _Item:
        item = self.workgroups.get(name)
        if item is None:
            # AWS's words (pulumi/pulumi-aws-native#614: "Serverless workgroup jobilla not found.")
            raise not_found(f"Serverless workgroup {name} not found.")
        return item

    def create_workgroup(self, req: dict[str, Any], ec2: Any) -> dict[str, Any]:
        name, ns_name = req["workgroupName"], req["namespaceName"]
        if name in self.workgroups:
            raise conflict(f"Workgroup {name} already exists.")
        namespace = self.namespace(ns_name)
        if namespace.status == "DELETING":
            raise conflict(f"Namespace {ns_name} is being deleted.")
        if any(wg.data["namespaceName"] == ns_name for wg in self.workgroups.values()):
            raise conflict(f"Namespace {ns_name} already has a workgroup.")
        base = req.get("baseCapacity") or DEFAULT_BASE_RPU
        _check_capacity(base, req.get("maxCapacity"))
        port = req.get("port") or DEFAULT_PORT
        if not any(port in r for r in PORTS):
            raise validation(f"Port {port} is not in 5431-5455 or 8191-8215.")
        subnets = list(req.get("subnetIds") or _default_subnets(ec2))
        zones = _zones(ec2, subnets)
        self._check_zones(subnets, zones)
        wg_id = str(uuid.uuid4())
        data = {
            "workgroupName": name,
            "workgroupId": wg_id,
            "workgroupArn": self._arn("workgroup", wg_id),
            "namespaceName": ns_name,
            "baseCapacity": base,
            "enhancedVpcRouting": bool(req.get("enhancedVpcRouting", False)),
            "publiclyAccessible": bool(req.get("publiclyAccessible", False)),
            "securityGroupIds": list(req.get("securityGroupIds") or []),
            "subnetIds": subnets,
            "configParameters": list(req.get("configParameters") or []),
            "port": port,
            "creationDate": _now(),
            "endpoint": self._endpoint(name, port, subnets, zones, ec2),
        }
        if req.get("maxCapacity") is not None:
            data["maxCapacity"] = req["maxCapacity"]
        item = _Item(data)
        item.change("CREATING", "AVAILABLE", _ready_after("redshift-serverless.workgroup"))
        self.workgroups[name] = item
        self.tags[item.arn] = _tag_dict(req.get("tags"))
        return item.data

    def update_workgroup(self, req: dict[str, Any], ec2: Any) -> dict[str, Any]:
        item = self.workgroup(req["workgroupName"])
        name = item.data["workgroupName"]
        changes = {k: req[k] for k in WORKGROUP_SETTINGS if req.get(k) is not None}
        if len(changes) > 1:
            raise validation(
                f"Can't update multiple configurations at the same time for workgroup {name}."
            )
        if item.status != "AVAILABLE":
            raise conflict(f"Workgroup {name} is {item.status}; wait until it is AVAILABLE.")
        if "baseCapacity" in changes or "maxCapacity" in changes:
            _check_capacity(
                changes.get("baseCapacity", item.data["baseCapacity"]),
                changes.get("maxCapacity", item.data.get("maxCapacity")),
            )
        if "subnetIds" in changes:
            self._check_zones(changes["subnetIds"], _zones(ec2, changes["subnetIds"]))
        item.data.update(changes)
        item.change("MODIFYING", "AVAILABLE", _change_time())
        return item.data

    def delete_workgroup(self, name: str) -> dict[str, Any]:
        item = self.workgroup(name)
        if item.status != "AVAILABLE":
            raise conflict(f"Workgroup {name} is {item.status}; wait until it is AVAILABLE.")
        item.change("DELETING", None, _change_time())
        return item.data

    def _check_zones(self, subnets: list[str], zones: list[str]) -> None:
        wanted = 2 if self.region_name in TWO_AZ_REGIONS else MIN_AZS
        if len(subnets) < MIN_AZS or len(set(zones)) < wanted:
            raise validation(
                f"Insufficient subnets: a workgroup needs at least {MIN_AZS} subnets in "
                f"{wanted} different Availability Zones; got {len(subnets)} in {len(set(zones))}."
            )

    def _endpoint(
        self, name: str, port: int, subnets: list[str], zones: list[str], ec2: Any
    ) -> dict[str, Any]:
        vpc = ec2.get_subnet(subnets[0]).vpc_id if subnets else ""
        interfaces = [
            {
                "networkInterfaceId": f"eni-{uuid.uuid4().hex[:17]}",
                "subnetId": subnet,
                "availabilityZone": zone,
                "privateIpAddress": f"10.0.{n}.10",
            }
            for n, (subnet, zone) in enumerate(zip(subnets, zones, strict=True))
        ]
        host = f"{name}.{self.account_id}.{self.region_name}.redshift-serverless.amazonaws.com"
        return {
            "address": host,
            "port": port,
            "vpcEndpoints": [
                {
                    "vpcEndpointId": f"vpce-{uuid.uuid4().hex[:17]}",
                    "vpcId": vpc,
                    "networkInterfaces": interfaces,
                }
            ],
        }

    # Tags ----------------------------------------------------------------------------------------
    def tags_of(self, arn: str) -> dict[str, str]:
        if arn not in self.tags:
            raise not_found(f"Resource {arn} not found.")
        return self.tags[arn]

    def tag(self, arn: str, tags: list[dict[str, str]]) -> None:
        merged = {**self.tags_of(arn), **_tag_dict(tags)}
        if len(merged) > MAX_TAGS:
            raise _error("TooManyTagsException", f"Resource {arn} would have over {MAX_TAGS} tags.")
        self.tags[arn] = merged

    def untag(self, arn: str, keys: list[str]) -> None:
        tags = self.tags_of(arn)
        for key in keys:
            tags.pop(key, None)


# GetNamespace lists each role as text, not as its ARN: "IamRole(applyStatus=in-sync,
# iamRoleArn=arn:aws:iam::123456789012:role/service-role/test)" (hashicorp/terraform-provider-aws,
# internal/service/redshiftserverless/namespace.go, flattenNamespaceIAMRoles).
_ROLE_TEXT = "IamRole(applyStatus=in-sync, iamRoleArn={})"
_ROLE_ARN = re.compile(r"iamRoleArn=([^,)\s]+)")


def _role_texts(arns: list[str]) -> list[str]:
    return [_ROLE_TEXT.format(arn) for arn in arns]


def role_arns(namespace: _Item) -> list[str]:
    """The namespace's IAM role ARNs (what COPY may assume), read back from AWS's text."""
    return [m.group(1) for t in namespace.data["iamRoles"] if (m := _ROLE_ARN.search(t))]


def _check_default_role(default_role: str | None, roles: list[str]) -> None:
    if default_role and default_role not in roles:
        raise validation("The default IAM role must be one of the namespace's IAM roles.")


def _check_capacity(base: int, maximum: int | None) -> None:
    if not valid_base_capacity(base):
        raise validation(
            f"Base capacity {base} is not valid: use 4, a multiple of 8 from 8 to 512, or a "
            "multiple of 32 from 512 to 1024 RPUs."
        )
    if maximum is not None and maximum < base:
        raise validation(f"Max capacity {maximum} is less than base capacity {base}.")


def _default_subnets(ec2: Any) -> list[str]:
    """Without subnetIds, AWS uses the default VPC's subnets."""
    vpcs = [v for v in ec2.describe_vpcs() if v.is_default]
    if not vpcs:
        return []
    subnets = ec2.describe_subnets(filters={"vpc-id": [vpcs[0].id]})
    return [s.id for s in subnets]


def _zones(ec2: Any, subnets: list[str]) -> list[str]:
    out = []
    for subnet in subnets:
        try:
            out.append(ec2.get_subnet(subnet).availability_zone)
        except InvalidSubnetIdError as exc:
            raise validation(f"Subnet {subnet} does not exist.") from exc
    return out


def _tag_dict(tags: list[dict[str, str]] | None) -> dict[str, str]:
    return {t["key"]: t["value"] for t in tags or []}


BACKENDS = BackendDict(RedshiftServerlessBackend, "redshift-serverless")
