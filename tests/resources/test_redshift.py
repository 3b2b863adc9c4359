"""Provisioned Redshift on moto (and Stubber where moto lacks an operation or a state)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.stub import ANY, Stubber
from support.plan import names, texts
from support.requests import Requests

from wcpipe.core.errors import NotOwnedError, WaitTimeout, WcpipeError, translate
from wcpipe.provision.resources import ec2, ec2_endpoint, redshift
from wcpipe.provision.resources.base import Context, Differences, Observed
from wcpipe.spec.model import Spec
from wcpipe.spec.names import OWNER_TAG

PASSWORD = "Sup3rSecretPassw0rd"


def with_warehouse(ctx: Context, **warehouse: Any) -> Context:
    raw = ctx.spec.model_dump(by_alias=True)
    raw["warehouse"] = {**raw["warehouse"], **warehouse}
    new = Context(spec=Spec.model_validate(raw), aws=ctx.aws, timing=ctx.timing, note=ctx.note)
    new.outputs.update(ctx.outputs)
    return new


@pytest.fixture
def notes() -> list[tuple[str, str]]:
    return []


@pytest.fixture
def rctx(ctx: Context, notes: list[tuple[str, str]]) -> Context:
    """A context whose dependencies exist: admin secret, security group, subnet group."""
    ctx.note = lambda key, msg: notes.append((key, msg))
    ctx.client("secretsmanager").create_secret(
        Name=ctx.names.secret,
        SecretString=json.dumps({"username": "awsadmin", "password": PASSWORD}),
    )
    ec2.SecurityGroup(ctx).ensure()
    redshift.SubnetGroup(ctx).ensure()
    return ctx


def cluster_of(ctx: Context) -> dict[str, Any]:
    found = ctx.client("redshift").describe_clusters(ClusterIdentifier="wcpipe-fifa")
    return found["Clusters"][0]  # type: ignore[no-any-return]


# SubnetGroup ------------------------------------------------------------------------------
def test_subnet_group_ensure_twice_delete_twice(ctx: Context) -> None:
    group = redshift.SubnetGroup(ctx)
    assert group.ensure() == "created"
    client = ctx.client("redshift")
    sent = Requests.on(client)
    assert group.ensure() == "unchanged"
    assert sent.mutating == []
    observed = group.describe()
    assert observed is not None
    assert observed.data["subnet_ids"] == sorted(ec2.network(ctx).subnet_ids)
    assert observed.tags[OWNER_TAG] == "fifa"
    assert group.destroy() == "deleted"
    assert group.destroy() == "absent"


def test_subnet_group_tag_drift_is_repaired(ctx: Context) -> None:
    group = redshift.SubnetGroup(ctx)
    group.ensure()
    ctx.client("redshift").delete_tags(ResourceName=group.arn, TagKeys=["project"])
    observed = group.describe()
    assert observed is not None
    assert names(group.differences(observed)) == ["tags"]
    assert group.ensure() == "updated"
    assert group.ensure() == "unchanged"


def test_subnet_group_not_owned(ctx: Context) -> None:
    ctx.client("redshift").create_cluster_subnet_group(
        ClusterSubnetGroupName="wcpipe-fifa",
        Description="not ours",
        SubnetIds=list(ec2.network(ctx).subnet_ids[:1]),
    )
    group = redshift.SubnetGroup(ctx)
    with pytest.raises(NotOwnedError):
        group.ensure()
    assert group.destroy() == "kept"


# Cluster on moto --------------------------------------------------------------------------
def test_cluster_ensure_twice(rctx: Context) -> None:
    cluster = redshift.Cluster(rctx)
    assert cluster.ensure() == "created"
    sent = Requests.on(rctx.client("redshift"))
    assert cluster.ensure() == "unchanged"
    assert sent.mutating == []

    c = cluster_of(rctx)
    assert c["Encrypted"] is True
    assert c["PubliclyAccessible"] is False
    assert c["NodeType"] == "ra3.large"
    assert c["NumberOfNodes"] == 1
    assert c["DBName"] == "dev"
    assert c["MasterUsername"] == "awsadmin"
    assert [r["IamRoleArn"] for r in c["IamRoles"]] == [
        "arn:aws:iam::123456789012:role/wcpipe-fifa-redshift"
    ]
    group_id = rctx.output("ec2.security-group", "group_id")
    assert [g["VpcSecurityGroupId"] for g in c["VpcSecurityGroups"]] == [group_id]
    assert {t["Key"]: t["Value"] for t in c["Tags"]}[OWNER_TAG] == "fifa"
    out = rctx.outputs["redshift.cluster"]
    assert out["host"] == c["Endpoint"]["Address"]
    assert out["port"] == 5439
    assert out["identifier"] == "wcpipe-fifa"
    observed = cluster.describe()
    assert observed is not None
    assert cluster.facts(observed)["state"] == "available"


def test_cluster_multi_node(rctx: Context) -> None:
    wide = with_warehouse(rctx, nodes=2)
    assert redshift.Cluster(wide).ensure() == "created"
    assert cluster_of(rctx)["NumberOfNodes"] == 2


def test_cluster_public_access_is_fixed(rctx: Context) -> None:
    cluster = redshift.Cluster(rctx)
    cluster.ensure()
    rctx.client("redshift").modify_cluster(ClusterIdentifier="wcpipe-fifa", PubliclyAccessible=True)
    observed = cluster.describe()
    assert observed is not None
    assert texts(cluster.differences(observed)) == ["publicly_accessible: True -> False"]
    assert cluster.ensure() == "updated"
    assert cluster_of(rctx)["PubliclyAccessible"] is False
    assert cluster.ensure() == "unchanged"


def test_cluster_resize(rctx: Context) -> None:
    redshift.Cluster(rctx).ensure()
    wide = redshift.Cluster(with_warehouse(rctx, nodes=3))
    observed = wide.describe()
    assert observed is not None
    assert texts(wide.differences(observed)) == ["nodes: 1 -> 3"]
    assert wide.ensure() == "updated"
    assert cluster_of(rctx)["NumberOfNodes"] == 3
    assert wide.ensure() == "unchanged"


def test_cluster_foreign_security_group_and_tags_are_fixed(rctx: Context) -> None:
    cluster = redshift.Cluster(rctx)
    cluster.ensure()
    client = rctx.client("redshift")
    other = rctx.client("ec2").create_security_group(
        GroupName="other", Description="x", VpcId=ec2.network(rctx).vpc_id
    )["GroupId"]
    client.modify_cluster(ClusterIdentifier="wcpipe-fifa", VpcSecurityGroupIds=[other])
    client.delete_tags(ResourceName=cluster.arn, TagKeys=["project"])
    observed = cluster.describe()
    assert observed is not None
    group_id = rctx.output("ec2.security-group", "group_id")
    assert texts(cluster.differences(observed)) == [
        f"security_groups: -{other}, +{group_id}",
        "tags.project: (none) -> world-cup-attendance",
    ]
    assert cluster.ensure() == "updated"
    assert cluster.ensure() == "unchanged"


def test_cluster_delete_twice(rctx: Context) -> None:
    cluster = redshift.Cluster(rctx)
    cluster.ensure()
    assert cluster.destroy() == "deleted"
    assert cluster.destroy() == "absent"
    snapshots = rctx.client("redshift").describe_cluster_snapshots()["Snapshots"]
    assert [s for s in snapshots if s["SnapshotType"] == "manual"] == []


@pytest.mark.parametrize("how", ["spec", "option"])
def test_cluster_final_snapshot(rctx: Context, how: str) -> None:
    if how == "spec":
        rctx = with_warehouse(rctx, final_snapshot=True)
    else:
        rctx.final_snapshot = True  # down --final-snapshot
    cluster = redshift.Cluster(rctx)
    cluster.ensure()
    assert cluster.destroy() == "deleted"
    snapshots = rctx.client("redshift").describe_cluster_snapshots()["Snapshots"]
    [final] = [s["SnapshotIdentifier"] for s in snapshots if s["SnapshotType"] == "manual"]
    assert final.startswith("wcpipe-fifa-final-")


def test_no_final_snapshot_flag_wins_over_the_spec(rctx: Context) -> None:
    rctx = with_warehouse(rctx, final_snapshot=True)
    rctx.final_snapshot = False  # down --no-final-snapshot
    cluster = redshift.Cluster(rctx)
    cluster.ensure()
    assert cluster.destroy() == "deleted"
    snapshots = rctx.client("redshift").describe_cluster_snapshots()["Snapshots"]
    assert [s for s in snapshots if s["SnapshotType"] == "manual"] == []


def test_cluster_not_owned(rctx: Context) -> None:
    rctx.client("redshift").create_cluster(
        ClusterIdentifier="wcpipe-fifa",
        NodeType="ra3.large",
        ClusterType="single-node",
        MasterUsername="someone",
        MasterUserPassword="Som3oneElse",
    )
    cluster = redshift.Cluster(rctx)
    with pytest.raises(NotOwnedError):
        cluster.ensure()
    assert cluster.destroy() == "kept"
    assert cluster_of(rctx)["MasterUsername"] == "someone"


# Cluster states and waits, through Stubber ------------------------------------------------
def described(state: str, **extra: Any) -> dict[str, Any]:
    cluster = {
        "ClusterIdentifier": "wcpipe-fifa",
        "ClusterStatus": state,
        "NodeType": "ra3.large",
        "NumberOfNodes": 1,
        "Encrypted": True,
        "PubliclyAccessible": False,
        "IamRoles": [
            {
                "IamRoleArn": "arn:aws:iam::123456789012:role/wcpipe-fifa-redshift",
                "ApplyStatus": "in-sync",
            }
        ],
        "Tags": [
            {"Key": OWNER_TAG, "Value": "fifa"},
            {"Key": "project", "Value": "world-cup-attendance"},
        ],
        **extra,
    }
    return {"Clusters": [cluster]}


ONE = {"ClusterIdentifier": "wcpipe-fifa"}


def test_cluster_create_waits_and_reports_progress(
    rctx: Context, clock: Any, notes: list[tuple[str, str]]
) -> None:
    cluster = redshift.Cluster(rctx)
    group_id = rctx.output("ec2.security-group", "group_id")
    with Stubber(rctx.client("redshift")) as stub:
        stub.add_response(
            "create_cluster",
            {"Cluster": {"ClusterIdentifier": "wcpipe-fifa"}},
            {
                "ClusterIdentifier": "wcpipe-fifa",
                "NodeType": "ra3.large",
                "ClusterType": "single-node",
                "MasterUsername": "awsadmin",
                "MasterUserPassword": PASSWORD,
                "DBName": "dev",
                "ClusterSubnetGroupName": "wcpipe-fifa",
                "VpcSecurityGroupIds": [group_id],
                "IamRoles": ["arn:aws:iam::123456789012:role/wcpipe-fifa-redshift"],
                "Encrypted": True,
                "PubliclyAccessible": False,
                "Tags": ANY,
            },
        )
        for _ in range(3):
            stub.add_response("describe_clusters", described("creating"), ONE)
        stub.add_response("describe_clusters", described("available"), ONE)
        observed = cluster.create()
        stub.assert_no_pending_responses()
    assert observed is not None
    assert observed.data["ClusterStatus"] == "available"
    assert len(clock.sleeps) == 3
    assert clock.sleeps == sorted(clock.sleeps)  # backing off
    assert [k for k, _ in notes] == ["redshift.cluster"] * 3
    assert notes[-1][1].startswith("creating, ")
    assert all(PASSWORD not in msg for _, msg in notes)


def test_cluster_wait_is_bounded(rctx: Context, clock: Any) -> None:
    cluster = redshift.Cluster(rctx)
    with Stubber(rctx.client("redshift")) as stub:
        for _ in range(200):
            stub.add_response("describe_clusters", described("creating"), ONE)
        with pytest.raises(WaitTimeout, match="wcpipe-fifa"):
            cluster.wait_available("creating")
    assert clock.now <= redshift.CLUSTER_TIMEOUT


def test_cluster_missing_role_is_attached(rctx: Context) -> None:
    """moto has no ModifyClusterIamRoles: Stubber checks the request."""
    cluster = redshift.Cluster(rctx)
    observed = Observed(
        described("available", IamRoles=[])["Clusters"][0]
        | {
            "VpcSecurityGroups": [
                {"VpcSecurityGroupId": rctx.output("ec2.security-group", "group_id")}
            ]
        },
        rctx.tags,
    )
    assert texts(cluster.differences(observed)) == [
        "iam_roles: +arn:aws:iam::123456789012:role/wcpipe-fifa-redshift"
    ]
    with Stubber(rctx.client("redshift")) as stub:
        stub.add_response(
            "modify_cluster_iam_roles",
            {},
            {
                "ClusterIdentifier": "wcpipe-fifa",
                "AddIamRoles": ["arn:aws:iam::123456789012:role/wcpipe-fifa-redshift"],
            },
        )
        stub.add_response("describe_clusters", described("available"), ONE)
        cluster.update(observed, Differences(cluster.differences(observed)))
        stub.assert_no_pending_responses()


def test_destroy_of_deleting_cluster_just_waits(rctx: Context) -> None:
    cluster = redshift.Cluster(rctx)
    with Stubber(rctx.client("redshift")) as stub:
        stub.add_response("describe_clusters", described("deleting"), ONE)
        stub.add_response("describe_clusters", described("deleting"), ONE)
        stub.add_client_error("describe_clusters", "ClusterNotFound", expected_params=ONE)
        assert cluster.destroy() == "deleted"  # no DeleteCluster was stubbed: none was sent
        stub.assert_no_pending_responses()


def test_password_never_in_error_text(rctx: Context) -> None:
    cluster = redshift.Cluster(rctx)
    with Stubber(rctx.client("redshift")) as stub:
        stub.add_client_error(
            "create_cluster",
            "InvalidParameterValue",
            f"The parameter MasterUserPassword ({PASSWORD}) is not valid",
        )
        with pytest.raises(WcpipeError) as caught:
            cluster.create()
    err = caught.value
    assert PASSWORD not in str(err)
    assert PASSWORD not in str(translate(err, "creating"))
    assert err.__cause__ is None
    assert err.__suppress_context__


def test_engine_up_then_down(ctx: Context) -> None:
    """The network and the cluster through the engine: ordered, outputs flow, second run idle."""
    from wcpipe.provision import engine

    ctx.client("secretsmanager").create_secret(
        Name=ctx.names.secret,
        SecretString=json.dumps({"username": "awsadmin", "password": PASSWORD}),
    )

    def resources() -> list[Any]:
        return [
            redshift.Cluster(ctx),
            redshift.SubnetGroup(ctx),
            ec2_endpoint.S3Endpoint(ctx),
            ec2.SecurityGroup(ctx),
        ]

    done = engine.apply(ctx, resources(), engine.plan(ctx, resources()))
    assert set(done.values()) == {"created"}
    again = engine.plan(ctx, resources())
    assert again.pending == []
    assert ctx.output("redshift.cluster", "port") == 5439
    gone = engine.destroy(ctx, resources(), engine.plan_down(ctx, resources()))
    assert set(gone.values()) == {"deleted"}
    assert {c.action for c in engine.plan_down(ctx, resources()).changes} == {"absent"}
