"""Provisioned Redshift: the cluster subnet group and the cluster itself.

Contract:
- `SubnetGroup` (`redshift.subnet-group`) spans the VPC's subnets (see `ec2.network`).
- `Cluster` (`redshift.cluster`) is encrypted, not publicly accessible, in our security group and
  subnet group, with the Redshift role attached, its admin user taken from the admin secret
  (`secretsmanager.admin_credentials`). The password goes to AWS in `CreateCluster` and nowhere
  else: any error whose text would carry it is re-raised with the password redacted.
- Creating, resizing and other modifications wait (bounded, backing off) until the cluster is
  `available` again, reporting progress through `ctx.note`.
- Drift that is repaired in place: node type and count (a resize), IAM role, security group,
  tags, encryption and public accessibility. A cluster left `creating`/`modifying` by an
  interrupted run is waited for; one in `deleting` is waited out and created again.
- `delete` takes a final snapshot when `down --final-snapshot` asks (`ctx.final_snapshot`),
  or, without the flag, when `warehouse.final_snapshot` does; then waits until the cluster is
  gone. Destroying a
  cluster that is already `deleting` just waits.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from typing import Any

from wcpipe.core.errors import WcpipeError, error_message, ignoring
from wcpipe.core.wait import poll, retry_while_role_propagates
from wcpipe.provision.resources.base import (
    Difference,
    Differences,
    Observed,
    Resource,
    tag_list,
    tags_from_list,
)
from wcpipe.provision.resources.ec2 import network
from wcpipe.provision.resources.secretsmanager import admin_credentials

CLUSTER_TIMEOUT = 45 * 60.0
_NOT_FOUND = {"ClusterNotFound", "ClusterNotFoundFault"}
_SUBNET_GROUP_NOT_FOUND = {"ClusterSubnetGroupNotFoundFault", "ClusterSubnetGroupNotFound"}
_FAILED_STATES = {
    "hardware-failure",
    "incompatible-hsm",
    "incompatible-network",
    "incompatible-parameters",
    "incompatible-restore",
    "storage-full",
}
_BUSY_STATES = {"creating", "modifying", "resizing", "rebooting", "renaming", "resuming",
                "final-snapshot", "updating-hsm", "cancelling-resize"}  # fmt: skip


@contextmanager
def redacting(secret: str) -> Iterator[None]:
    """Re-raise any error whose text contains `secret` with the secret replaced by ***.

    botocore's parameter validation quotes the offending value, and an AWS message could too."""
    try:
        yield
    except Exception as exc:
        text = f"{exc} {error_message(exc)}"
        if secret and secret in text:
            clean = str(exc).replace(secret, "***")
            raise WcpipeError(clean) from None
        raise


def _retag(res: Resource, arn: str, observed: Observed) -> None:
    """Put back our tags that are missing or differ (CreateTags overwrites only those keys)."""
    client = res.ctx.client("redshift")
    res.sync_tags(observed, lambda tags: client.create_tags(ResourceName=arn, Tags=tag_list(tags)))


def elapsed_text(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


class SubnetGroup(Resource):
    key = "redshift.subnet-group"
    kind = "Redshift subnet group"
    declared_by = "warehouse.type: provisioned"

    @property
    def name(self) -> str:
        return self.ctx.names.cluster_subnet_group

    @property
    def arn(self) -> str:
        return self.ctx.aws.arn("redshift", f"subnetgroup:{self.name}")

    def describe(self) -> Observed | None:
        client = self.ctx.client("redshift")
        groups = ignoring(
            lambda: client.describe_cluster_subnet_groups(ClusterSubnetGroupName=self.name),
            *_SUBNET_GROUP_NOT_FOUND,
        )
        if groups is None:
            return None
        group = groups["ClusterSubnetGroups"][0]
        subnets = sorted(s["SubnetIdentifier"] for s in group.get("Subnets", []))
        return Observed(
            {"subnet_ids": subnets, "vpc_id": group.get("VpcId")}, tags_from_list(group.get("Tags"))
        )

    def differences(self, observed: Observed) -> list[Difference]:
        want = sorted(network(self.ctx).subnet_ids)
        have = sorted(observed.data["subnet_ids"])
        out = [Difference("subnets", have, want)] if set(have) != set(want) else []
        return out + self.tag_differences(observed)

    def create(self) -> Observed | None:
        subnets = sorted(network(self.ctx).subnet_ids)
        created = ignoring(
            lambda: self.ctx.client("redshift").create_cluster_subnet_group(
                ClusterSubnetGroupName=self.name,
                Description=f"wcpipe pipeline {self.ctx.spec.name}",
                SubnetIds=subnets,
                Tags=self.ctx.tag_list(),
            ),
            "ClusterSubnetGroupAlreadyExists",
        )
        if created is None:
            return None  # a concurrent run made it: the engine describes it
        data = {"subnet_ids": subnets, "vpc_id": network(self.ctx).vpc_id}
        return Observed(data, dict(self.ctx.tags))

    def update(self, observed: Observed, fields: Differences) -> None:
        client = self.ctx.client("redshift")
        if "subnets" in fields:
            client.modify_cluster_subnet_group(
                ClusterSubnetGroupName=self.name, SubnetIds=list(network(self.ctx).subnet_ids)
            )
        _retag(self, self.arn, observed)

    def delete(self, observed: Observed) -> None:
        ignoring(
            lambda: self.ctx.client("redshift").delete_cluster_subnet_group(
                ClusterSubnetGroupName=self.name
            ),
            *_SUBNET_GROUP_NOT_FOUND,
        )

    def outputs(self, observed: Observed) -> dict[str, Any]:
        return {"name": self.name}


class Cluster(Resource):
    key = "redshift.cluster"
    kind = "Redshift cluster"
    declared_by = "warehouse.type: provisioned"
    billable = True
    depends_on = (
        "ec2.security-group",
        "iam.redshift-role",
        "secretsmanager.admin-secret",
        "redshift.subnet-group",
    )

    @property
    def name(self) -> str:
        return self.ctx.names.cluster

    @property
    def arn(self) -> str:
        return self.ctx.aws.arn("redshift", f"cluster:{self.name}")

    @property
    def role_arn(self) -> str:
        names = self.ctx.names
        return names.role_arn(names.redshift_role, self.ctx.aws.partition)

    # Reading ---------------------------------------------------------------------------------
    def find(self) -> dict[str, Any] | None:
        """The cluster as DescribeClusters answers, or None (the one read, also for waits)."""
        clusters = ignoring(
            lambda: self.ctx.client("redshift").describe_clusters(ClusterIdentifier=self.name),
            *_NOT_FOUND,
        )
        return None if clusters is None else clusters["Clusters"][0]

    def describe(self) -> Observed | None:
        cluster = self.find()
        if cluster is None:
            return None
        return Observed(cluster, tags_from_list(cluster.get("Tags")))

    def differences(self, observed: Observed) -> list[Difference]:
        c = observed.data
        wh = self.ctx.spec.warehouse
        out: list[Difference] = []
        state = c.get("ClusterStatus", "")
        if state != "available":
            out.append(Difference("state", state, "available"))
        if state == "deleting":
            return out
        if c.get("DBName") not in (None, wh.database):
            # ModifyCluster has no DBName: a cluster's first database is named at creation.
            out.append(
                Difference(
                    "database",
                    c.get("DBName"),
                    wh.database,
                    "blocked",
                    "a cluster's database cannot be renamed",
                )
            )
        if c.get("NodeType") != wh.node_type:
            out.append(Difference("node_type", c.get("NodeType"), wh.node_type))
        if c.get("NumberOfNodes") != wh.nodes:
            out.append(Difference("nodes", c.get("NumberOfNodes"), wh.nodes))
        roles = sorted(r["IamRoleArn"] for r in c.get("IamRoles", []))
        if self.role_arn not in roles:
            out.append(Difference("iam_roles", roles, sorted({*roles, self.role_arn})))
        groups = sorted(g["VpcSecurityGroupId"] for g in c.get("VpcSecurityGroups", []))
        wanted_group = self.ctx.output_or("ec2.security-group", "group_id")
        if wanted_group is not None and groups != [wanted_group]:
            out.append(Difference("security_groups", groups, [wanted_group]))
        if not c.get("Encrypted"):
            out.append(Difference("encrypted", bool(c.get("Encrypted")), True))
        if c.get("PubliclyAccessible"):
            out.append(Difference("publicly_accessible", True, False))
        return out + self.tag_differences(observed)

    # Waiting ---------------------------------------------------------------------------------
    def _settled(self, cluster: dict[str, Any] | None) -> bool:
        if cluster is None:
            return False
        return (
            cluster.get("ClusterStatus") == "available"
            and not cluster.get("PendingModifiedValues")
            and all(r.get("ApplyStatus") == "in-sync" for r in cluster.get("IamRoles", []))
        )

    def _failed(self, cluster: dict[str, Any] | None) -> str | None:
        if cluster is None:
            return "the cluster disappeared"
        state = cluster.get("ClusterStatus", "")
        return f"the cluster is {state}" if state in _FAILED_STATES else None

    def wait_available(self, doing: str) -> dict[str, Any]:
        """Wait until the cluster is available with nothing pending."""
        cluster = poll(
            self.find,
            what=f"Redshift cluster {self.name} to become available",
            done=self._settled,
            failed=self._failed,
            timeout=CLUSTER_TIMEOUT,
            timing=self.ctx.timing,
            on_poll=lambda _c, elapsed: self.ctx.note(
                self.key, f"{doing}, {elapsed_text(elapsed)}"
            ),
        )
        assert cluster is not None  # done() accepts only a cluster
        return cluster

    def wait_gone(self) -> None:
        poll(
            self.find,
            what=f"Redshift cluster {self.name} to be deleted",
            done=lambda c: c is None,
            timeout=CLUSTER_TIMEOUT,
            timing=self.ctx.timing,
            on_poll=lambda _c, elapsed: self.ctx.note(
                self.key, f"deleting, {elapsed_text(elapsed)}"
            ),
        )

    # Mutating --------------------------------------------------------------------------------
    def create(self) -> Observed | None:
        username, password = admin_credentials(self.ctx)
        wh = self.ctx.spec.warehouse
        kwargs: dict[str, Any] = {
            "ClusterIdentifier": self.name,
            "NodeType": wh.node_type,
            "ClusterType": "single-node" if wh.nodes == 1 else "multi-node",
            "MasterUsername": username,
            "MasterUserPassword": password,
            "DBName": wh.database,
            "ClusterSubnetGroupName": self.ctx.names.cluster_subnet_group,
            "VpcSecurityGroupIds": [self.ctx.output("ec2.security-group", "group_id")],
            "IamRoles": [self.role_arn],
            "Encrypted": True,
            "PubliclyAccessible": False,
            "Tags": self.ctx.tag_list(),
        }
        if wh.nodes > 1:
            kwargs["NumberOfNodes"] = wh.nodes
        client = self.ctx.client("redshift")
        # Already exists: another run created it; wait for it like our own.
        with redacting(password), suppress(client.exceptions.ClusterAlreadyExistsFault):
            retry_while_role_propagates(
                lambda: client.create_cluster(**kwargs),
                what=f"creating Redshift cluster {self.name}",
                timing=self.ctx.timing,
            )
        cluster = self.wait_available("creating")
        return Observed(cluster, tags_from_list(cluster.get("Tags")))

    def update(self, observed: Observed, fields: Differences) -> None:
        state = observed.data.get("ClusterStatus", "")
        if state == "deleting":
            # An earlier `down` is still deleting it: let it finish, then create it anew.
            self.wait_gone()
            self.create()
            return
        client = self.ctx.client("redshift")
        if state == "paused":
            client.resume_cluster(ClusterIdentifier=self.name)
        if state != "available":
            self.wait_available(state or "waiting")
        wh = self.ctx.spec.warehouse
        if "node_type" in fields or "nodes" in fields:
            resize: dict[str, Any] = {
                "ClusterIdentifier": self.name,
                "NodeType": wh.node_type,
                "ClusterType": "single-node" if wh.nodes == 1 else "multi-node",
            }
            if wh.nodes > 1:
                resize["NumberOfNodes"] = wh.nodes
            client.modify_cluster(**resize)
            self.wait_available("resizing")
        modify: dict[str, Any] = {}
        if "security_groups" in fields:
            modify["VpcSecurityGroupIds"] = [self.ctx.output("ec2.security-group", "group_id")]
        if "encrypted" in fields:
            modify["Encrypted"] = True
        if "publicly_accessible" in fields:
            modify["PubliclyAccessible"] = False
        if modify:
            client.modify_cluster(ClusterIdentifier=self.name, **modify)
            self.wait_available("modifying")
        if "iam_roles" in fields:
            client.modify_cluster_iam_roles(
                ClusterIdentifier=self.name, AddIamRoles=[self.role_arn]
            )
            self.wait_available("attaching role")
        _retag(self, self.arn, observed)

    def _final_snapshot(self) -> bool:
        wanted = self.ctx.final_snapshot  # the command's flag, when given, wins over the spec
        return self.ctx.spec.warehouse.final_snapshot if wanted is None else wanted

    def delete(self, observed: Observed) -> None:
        state = observed.data.get("ClusterStatus", "")
        if state != "deleting":
            if state in _BUSY_STATES:
                self.wait_available(state)  # Redshift refuses to delete a cluster mid-change
            kwargs: dict[str, Any] = {"ClusterIdentifier": self.name}
            if self._final_snapshot():
                stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
                kwargs["SkipFinalClusterSnapshot"] = False
                kwargs["FinalClusterSnapshotIdentifier"] = f"{self.name}-final-{stamp}"
            else:
                kwargs["SkipFinalClusterSnapshot"] = True
            deleting = ignoring(
                lambda: self.ctx.client("redshift").delete_cluster(**kwargs), *_NOT_FOUND
            )
            if deleting is None:
                return
        self.wait_gone()

    # Publishing ------------------------------------------------------------------------------
    def outputs(self, observed: Observed) -> dict[str, Any]:
        endpoint = observed.data.get("Endpoint") or {}
        return {
            "host": endpoint.get("Address"),
            "port": endpoint.get("Port"),
            "identifier": self.name,
            "status": observed.data.get("ClusterStatus"),
            "owned": self.owned(observed),
        }

    def facts(self, observed: Observed) -> dict[str, str]:
        c = observed.data
        endpoint = c.get("Endpoint") or {}
        where = f"{endpoint['Address']}:{endpoint.get('Port')}" if endpoint.get("Address") else ""
        return {
            "state": str(c.get("ClusterStatus", "")),
            "endpoint": where,
            "nodes": f"{c.get('NumberOfNodes')} x {c.get('NodeType')}",
        }
