"""Redshift Serverless: the namespace (database, admin user, roles) and the workgroup (compute).

Contract:
- `Namespace` (`redshift-serverless.namespace`) holds the database `warehouse.database`, the admin
  user from the admin secret (`secretsmanager.admin_credentials`; the password goes to AWS in
  `CreateNamespace` only and is redacted from any error) and the Redshift role, also as the
  default role. Serverless always encrypts storage. Drift repaired in place: the role, tags. A
  different database name cannot be changed in place and is reported as such.
- `Workgroup` (`redshift-serverless.workgroup`, billable) runs in our security group and the
  VPC's subnets (Serverless needs subnets in at least three availability zones), not publicly
  accessible, with `base_rpu` (and `max_rpu` if set). Drift is repaired with `UpdateWorkgroup`,
  one setting per call (AWS refuses several at once), waiting until `AVAILABLE` after each.
- Ownership is read with `ListTagsForResource`. Every create, update and delete waits (bounded)
  for the resource to settle or to be gone, reporting progress through `ctx.note`.
"""

from __future__ import annotations

import re
from contextlib import suppress
from typing import Any

from wcpipe.core.errors import WcpipeError, ignoring
from wcpipe.core.wait import poll, retry_while_role_propagates
from wcpipe.provision.resources.base import (
    Context,
    Difference,
    Differences,
    Observed,
    Resource,
    refuse_blocked,
    tag_list,
    tags_from_list,
)
from wcpipe.provision.resources.ec2 import network
from wcpipe.provision.resources.redshift import elapsed_text, redacting
from wcpipe.provision.resources.secretsmanager import admin_credentials

TIMEOUT = 30 * 60.0
MIN_AZS = 3
NOT_FOUND = "ResourceNotFoundException"
_ROLE_ARN = re.compile(r"iamRoleArn=([^,)\s]+)")


def _role_arns(items: list[str]) -> set[str]:
    """GetNamespace lists roles as text like `IamRole(applyStatus=in-sync, iamRoleArn=arn:...)`."""
    out = set()
    for item in items:
        match = _ROLE_ARN.search(item)
        out.add(match.group(1) if match else item)
    return out


def _tags(ctx: Context, arn: str) -> dict[str, str]:
    found = ctx.client("redshift-serverless").list_tags_for_resource(resourceArn=arn)
    return tags_from_list(found.get("tags"), "key", "value")


def _role_arn(ctx: Context) -> str:
    return ctx.names.role_arn(ctx.names.redshift_role, ctx.aws.partition)


class _Serverless(Resource):
    """What both have in common: read by name, wait for a status, wait until gone."""

    noun: str  # "namespace" / "workgroup": the API's own words

    def find(self) -> dict[str, Any] | None:
        """The namespace or workgroup as Get* answers, or None (the one read, also for waits)."""
        get = getattr(self.ctx.client("redshift-serverless"), f"get_{self.noun}")
        found = ignoring(lambda: get(**{f"{self.noun}Name": self.name}), NOT_FOUND)
        return None if found is None else found[self.noun]

    def describe(self) -> Observed | None:
        item = self.find()
        if item is None:
            return None
        return Observed(item, _tags(self.ctx, item[f"{self.noun}Arn"]))

    def _wait(self, doing: str) -> dict[str, Any]:
        found = poll(
            self.find,
            what=f"Redshift Serverless {self.noun} {self.name} to become available",
            done=lambda item: item is not None and item.get("status") == "AVAILABLE",
            failed=lambda item: f"the {self.noun} disappeared" if item is None else None,
            timeout=TIMEOUT,
            timing=self.ctx.timing,
            on_poll=lambda _i, t: self.ctx.note(self.key, f"{doing}, {elapsed_text(t)}"),
        )
        assert found is not None  # done() accepts only a found item
        return found

    def _wait_gone(self) -> None:
        poll(
            self.find,
            what=f"Redshift Serverless {self.noun} {self.name} to be deleted",
            done=lambda item: item is None,
            timeout=TIMEOUT,
            timing=self.ctx.timing,
            on_poll=lambda _i, t: self.ctx.note(self.key, f"deleting, {elapsed_text(t)}"),
        )

    def _tag(self, observed: Observed) -> None:
        client = self.ctx.client("redshift-serverless")
        arn = observed.data[f"{self.noun}Arn"]
        self.sync_tags(
            observed,
            lambda tags: client.tag_resource(resourceArn=arn, tags=tag_list(tags, "key", "value")),
        )

    def delete(self, observed: Observed) -> None:
        client = self.ctx.client("redshift-serverless")
        if observed.data.get("status") != "DELETING":
            if observed.data.get("status") != "AVAILABLE":
                self._wait("waiting to delete")  # a change in progress blocks deletion
            delete = getattr(client, f"delete_{self.noun}")
            ignoring(lambda: delete(**{f"{self.noun}Name": self.name}), NOT_FOUND)
        self._wait_gone()

    def _status_drift(self, observed: Observed) -> list[Difference]:
        status = observed.data.get("status", "")
        return [] if status == "AVAILABLE" else [Difference("status", status, "AVAILABLE")]


class Namespace(_Serverless):
    key = "redshift-serverless.namespace"
    kind = "Redshift Serverless namespace"
    declared_by = "warehouse.type: serverless"
    noun = "namespace"
    depends_on = ("iam.redshift-role", "secretsmanager.admin-secret")

    @property
    def name(self) -> str:
        return self.ctx.names.namespace

    def differences(self, observed: Observed) -> list[Difference]:
        ns = observed.data
        out = self._status_drift(observed)
        wanted_db = self.ctx.spec.warehouse.database
        if ns.get("dbName") and ns["dbName"] != wanted_db:
            # UpdateNamespace has no dbName: the database is named when the namespace is made.
            out.append(
                Difference(
                    "database",
                    ns["dbName"],
                    wanted_db,
                    "blocked",
                    "a namespace's database cannot be renamed",
                )
            )
        role = _role_arn(self.ctx)
        roles = sorted(_role_arns(ns.get("iamRoles", [])))
        if role not in roles:
            out.append(Difference("iam_roles", roles, sorted({*roles, role})))
        if ns.get("defaultIamRoleArn") != role:
            out.append(Difference("default_iam_role", ns.get("defaultIamRoleArn"), role))
        return out + self.tag_differences(observed)

    def create(self) -> Observed | None:
        username, password = admin_credentials(self.ctx)
        role = _role_arn(self.ctx)
        client = self.ctx.client("redshift-serverless")
        with redacting(password), suppress(client.exceptions.ConflictException):
            retry_while_role_propagates(
                lambda: client.create_namespace(
                    namespaceName=self.name,
                    adminUsername=username,
                    adminUserPassword=password,
                    dbName=self.ctx.spec.warehouse.database,
                    iamRoles=[role],
                    defaultIamRoleArn=role,
                    tags=self.ctx.tag_list("key", "value"),
                ),
                what=f"creating Redshift Serverless namespace {self.name}",
                timing=self.ctx.timing,
            )
        self._wait("creating")
        return None

    def update(self, observed: Observed, fields: Differences) -> None:
        refuse_blocked(self, fields)
        ns = observed.data
        if ns.get("status") != "AVAILABLE":
            ns = self._wait(str(ns.get("status", "waiting")).lower())
        role = _role_arn(self.ctx)
        have = _role_arns(ns.get("iamRoles", []))
        if role not in have or ns.get("defaultIamRoleArn") != role:
            self.ctx.client("redshift-serverless").update_namespace(
                namespaceName=self.name, iamRoles=sorted(have | {role}), defaultIamRoleArn=role
            )
            self._wait("attaching role")
        self._tag(observed)

    def outputs(self, observed: Observed) -> dict[str, Any]:
        return {
            "namespace_arn": observed.data.get("namespaceArn"),
            "namespace_id": observed.data.get("namespaceId"),
        }

    def facts(self, observed: Observed) -> dict[str, str]:
        return {
            "state": str(observed.data.get("status", "")),
            "database": str(observed.data.get("dbName", "")),
        }


class Workgroup(_Serverless):
    key = "redshift-serverless.workgroup"
    kind = "Redshift Serverless workgroup"
    declared_by = "warehouse.type: serverless"
    noun = "workgroup"
    billable = True
    depends_on = ("redshift-serverless.namespace", "ec2.security-group")

    @property
    def name(self) -> str:
        return self.ctx.names.workgroup

    def _subnets(self) -> list[str]:
        net = network(self.ctx)
        if len(net.availability_zones) < MIN_AZS:
            raise WcpipeError(
                f"Redshift Serverless needs subnets in at least {MIN_AZS} availability zones; "
                f"VPC {net.vpc_id} has subnets in {len(net.availability_zones)} "
                f"({', '.join(sorted(net.availability_zones)) or 'none'})",
                hint="add subnets in more zones, set network.vpc_id to another VPC, or use "
                "warehouse.type: provisioned",
            )
        return list(net.subnet_ids)

    def _wanted(self) -> dict[str, Any]:
        """Each UpdateWorkgroup setting as we want it; `maxCapacity` only when the spec sets it."""
        wh = self.ctx.spec.warehouse
        wanted: dict[str, Any] = {
            "baseCapacity": wh.base_rpu,
            "securityGroupIds": [self.ctx.output_or("ec2.security-group", "group_id")],
            "subnetIds": self._subnets(),
            "publiclyAccessible": False,
        }
        if wh.max_rpu is not None:
            wanted["maxCapacity"] = wh.max_rpu
        return wanted

    def _drift(self, observed: Observed) -> dict[str, Any]:
        wg = observed.data
        out = {}
        wanted = self._wanted()
        if wanted["securityGroupIds"] == [None]:
            del wanted["securityGroupIds"]  # planning before our group exists: nothing to compare
        for setting, value in wanted.items():
            have = wg.get(setting)
            if isinstance(value, list):
                if sorted(have or []) != sorted(value):
                    out[setting] = value
            elif have != value:
                out[setting] = value
        return out

    def differences(self, observed: Observed) -> list[Difference]:
        out = self._status_drift(observed)
        for setting, value in self._drift(observed).items():
            have = observed.data.get(setting)
            out.append(
                Difference(setting, sorted(have or []) if isinstance(value, list) else have, value)
            )
        return out + self.tag_differences(observed)

    def create(self) -> Observed | None:
        client = self.ctx.client("redshift-serverless")
        with suppress(client.exceptions.ConflictException):
            client.create_workgroup(
                workgroupName=self.name,
                namespaceName=self.ctx.names.namespace,
                tags=self.ctx.tag_list("key", "value"),
                **{
                    **self._wanted(),
                    "securityGroupIds": [self.ctx.output("ec2.security-group", "group_id")],
                },
            )
        workgroup = self._wait("creating")
        return Observed(workgroup, _tags(self.ctx, workgroup["workgroupArn"]))

    def update(self, observed: Observed, fields: Differences) -> None:
        if observed.data.get("status") == "DELETING":
            self._wait_gone()
            self.create()
            return
        if observed.data.get("status") != "AVAILABLE":
            self._wait(str(observed.data.get("status", "waiting")).lower())
        client = self.ctx.client("redshift-serverless")
        settings = self._wanted()
        for d in fields:
            if d.field in settings:
                client.update_workgroup(workgroupName=self.name, **{d.field: d.new})
                self._wait(f"updating {d.field}")
        self._tag(observed)

    def outputs(self, observed: Observed) -> dict[str, Any]:
        endpoint = observed.data.get("endpoint") or {}
        return {
            "host": endpoint.get("address"),
            "port": endpoint.get("port"),
            "status": observed.data.get("status"),
            "owned": self.owned(observed),
        }

    def facts(self, observed: Observed) -> dict[str, str]:
        wg = observed.data
        endpoint = wg.get("endpoint") or {}
        where = f"{endpoint['address']}:{endpoint.get('port')}" if endpoint.get("address") else ""
        out = {"state": str(wg.get("status", "")), "endpoint": where}
        out["base rpu"] = str(wg.get("baseCapacity", ""))
        if wg.get("maxCapacity"):
            out["max rpu"] = str(wg["maxCapacity"])
        return out
