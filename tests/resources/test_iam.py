"""IAM roles on moto, and the policy documents as pure data."""

from __future__ import annotations

import json

import parliament
import pytest
from support.plan import names as fields_of
from support.requests import Requests

from wcpipe.core.errors import NotOwnedError
from wcpipe.provision.resources.iam import GlueRole, LambdaRole, RedshiftRole
from wcpipe.provision.resources.iam_policies import glue_policy, lambda_policy, redshift_policy
from wcpipe.spec.names import Names

ROLES = [GlueRole, LambdaRole, RedshiftRole]


@pytest.fixture
def iam(ctx):  # type: ignore[no-untyped-def]
    return ctx.client("iam")


def _managed_policy(iam):  # type: ignore[no-untyped-def]
    """A customer managed policy (moto does not load AWS's own unless asked)."""
    doc = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}],
    }
    return iam.create_policy(PolicyName="by-hand", PolicyDocument=json.dumps(doc))["Policy"]["Arn"]


@pytest.fixture
def names(spec):  # type: ignore[no-untyped-def]
    return Names.of(spec, "123456789012", "us-east-1")


@pytest.mark.parametrize("cls", ROLES)
def test_role_ensure_twice_then_delete_twice(ctx, iam, cls):
    role = cls(ctx)
    assert role.ensure() == "created"
    calls = Requests.on(iam)
    assert role.ensure() == "unchanged"
    assert calls.mutating == []

    got = iam.get_role(RoleName=role.name)["Role"]
    assert got["Arn"] == f"arn:aws:iam::123456789012:role/{role.name}"
    assert ctx.outputs[role.key] == {"arn": got["Arn"], "name": role.name}
    assert iam.list_role_policies(RoleName=role.name)["PolicyNames"] == ["wcpipe"]
    assert iam.list_attached_role_policies(RoleName=role.name)["AttachedPolicies"] == []
    tags = {t["Key"]: t["Value"] for t in iam.list_role_tags(RoleName=role.name)["Tags"]}
    assert tags["wcpipe:pipeline"] == "fifa"

    assert role.destroy() == "deleted"
    assert role.destroy() == "absent"


def test_role_names_and_trusted_services(ctx):
    assert GlueRole(ctx).name == "wcpipe-fifa-glue"
    assert LambdaRole(ctx).name == "wcpipe-fifa-lambda"
    assert RedshiftRole(ctx).name == "wcpipe-fifa-redshift"
    lambda_trust = LambdaRole(ctx).trust()["Statement"][0]
    assert lambda_trust["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert lambda_trust["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    assert GlueRole(ctx).trust()["Statement"][0]["Principal"] == {"Service": "glue.amazonaws.com"}


def test_unowned_role_is_neither_changed_nor_deleted(ctx, iam):
    iam.create_role(RoleName="wcpipe-fifa-glue", AssumeRolePolicyDocument="{}")
    role = GlueRole(ctx)
    with pytest.raises(NotOwnedError):
        role.converge(role.describe())
    assert role.destroy() == "kept"
    assert iam.get_role(RoleName="wcpipe-fifa-glue")["Role"]
    assert iam.list_role_policies(RoleName="wcpipe-fifa-glue")["PolicyNames"] == []


def test_changed_inline_policy_is_drift_and_fixed(ctx, iam):
    role = GlueRole(ctx)
    role.ensure()
    loose = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
    }
    iam.put_role_policy(RoleName=role.name, PolicyName="wcpipe", PolicyDocument=json.dumps(loose))
    assert fields_of(role.differences(role.describe())) == ["policy"]
    calls = Requests.on(iam)
    assert role.ensure() == "updated"
    assert calls.mutating == ["PutRolePolicy"]
    got = iam.get_role_policy(RoleName=role.name, PolicyName="wcpipe")["PolicyDocument"]
    assert got == role.policy()
    assert role.ensure() == "unchanged"


def test_trust_tags_session_and_extra_policies_are_drift_and_fixed(ctx, iam):
    role = LambdaRole(ctx)
    role.ensure()
    other = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ec2.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    iam.update_assume_role_policy(RoleName=role.name, PolicyDocument=json.dumps(other))
    iam.tag_role(
        RoleName=role.name,
        Tags=[{"Key": "extra", "Value": "1"}, {"Key": "project", "Value": "other"}],
    )
    iam.update_role(RoleName=role.name, Description=role.description, MaxSessionDuration=7200)
    iam.put_role_policy(
        RoleName=role.name,
        PolicyName="hand-made",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
            }
        ),
    )
    iam.attach_role_policy(RoleName=role.name, PolicyArn=_managed_policy(iam))
    assert fields_of(role.differences(role.describe())) == [
        "trust_policy",
        "other_inline_policies",
        "managed_policies",
        "tags",
        "max_session",
    ]
    assert role.ensure() == "updated"
    assert role.ensure() == "unchanged"
    tags = {t["Key"]: t["Value"] for t in iam.list_role_tags(RoleName=role.name)["Tags"]}
    assert tags == {**ctx.tags, "extra": "1"}  # ours put back; the tag someone added stays
    assert iam.list_attached_role_policies(RoleName=role.name)["AttachedPolicies"] == []
    assert iam.list_role_policies(RoleName=role.name)["PolicyNames"] == ["wcpipe"]


def test_delete_removes_hand_attached_policies_first(ctx, iam):
    role = RedshiftRole(ctx)
    role.ensure()
    iam.attach_role_policy(RoleName=role.name, PolicyArn=_managed_policy(iam))
    assert role.destroy() == "deleted"
    assert role.destroy() == "absent"


def test_serverless_redshift_role_trusts_both_redshift_principals(ctx):
    spec = ctx.spec.model_copy(
        update={"warehouse": ctx.spec.warehouse.model_copy(update={"type": "serverless"})}
    )
    ctx.spec = spec
    principal = RedshiftRole(ctx).trust()["Statement"][0]["Principal"]["Service"]
    assert principal == ["redshift-serverless.amazonaws.com", "redshift.amazonaws.com"]


# The documents, as data --------------------------------------------------------------------


def _statements(doc):  # type: ignore[no-untyped-def]
    return doc["Statement"]


def _listify(v):  # type: ignore[no-untyped-def]
    return v if isinstance(v, list) else [v]


@pytest.mark.parametrize("build", [glue_policy, lambda_policy, redshift_policy])
def test_policies_are_least_privilege(names, build):
    doc = build(names, "aws")
    for s in _statements(doc):
        assert s["Effect"] == "Allow"
        actions = _listify(s["Action"])
        assert all(a != "*" and not a.endswith(":*") for a in actions), s
        assert "FullAccess" not in json.dumps(doc)
        for r in _listify(s["Resource"]):
            if r == "*":
                # Only actions AWS cannot scope, or scoped by a condition.
                unscopable = [a.startswith("ec2:Describe") or "JobBookmark" in a for a in actions]
                assert all(unscopable) or "Condition" in s, s
            else:
                assert r.startswith("arn:aws:"), r
                assert "123456789012" in r or names.bucket in r, r


def test_glue_policy_scopes_to_this_pipeline(names):
    doc = json.dumps(glue_policy(names, "aws"))
    assert (
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:wcpipe-fifa/redshift-admin-??????"
        in doc
    )
    assert "arn:aws:glue:us-east-1:123456789012:connection/wcpipe-fifa-redshift" in doc
    assert "arn:aws:glue:us-east-1:123456789012:table/wcpipe_fifa_s3/*" in doc
    assert f"arn:aws:s3:::{names.bucket}/wcpipe/tmp/*" in doc
    assert f"arn:aws:s3:::{names.bucket}/raw/attendance/*" in doc
    assert '"cloudwatch:namespace": ["Glue", "wcpipe"]' in doc


def test_lambda_policy_only_touches_the_job_and_its_log_group(names):
    doc = lambda_policy(names, "aws-cn")
    resources = sorted(r for s in doc["Statement"] for r in _listify(s["Resource"]))
    assert resources == [
        "arn:aws-cn:glue:us-east-1:123456789012:job/wcpipe-fifa-load",
        "arn:aws-cn:logs:us-east-1:123456789012:log-group:/aws/lambda/wcpipe-fifa-start-job:*",
    ]


def test_redshift_policy_allows_exactly_what_copy_from_the_temp_dir_needs(names):
    """COPY needs LIST on the bucket and GET on the objects it loads and their manifest (the
    Redshift guide's IAM permissions for COPY): the connector stages both in the TempDir."""
    doc = redshift_policy(names, "aws")
    grants = sorted(
        (s["Effect"], action, resource, json.dumps(s.get("Condition"), sort_keys=True))
        for s in doc["Statement"]
        for action in _listify(s["Action"])
        for resource in _listify(s["Resource"])
    )
    bucket = f"arn:aws:s3:::{names.bucket}"
    under_temp_dir = {"StringLike": {"s3:prefix": ["wcpipe/tmp", "wcpipe/tmp/*"]}}
    assert grants == [
        ("Allow", "s3:GetObject", f"{bucket}/wcpipe/tmp/*", "null"),
        ("Allow", "s3:ListBucket", bucket, json.dumps(under_temp_dir, sort_keys=True)),
    ]
    assert names.glue_temp_dir == f"s3://{names.bucket}/wcpipe/tmp/"  # what the job passes


@pytest.mark.parametrize("build", [glue_policy, lambda_policy, redshift_policy])
def test_policies_pass_parliament(names, build):
    policy = parliament.analyze_policy_string(json.dumps(build(names, "aws")))
    assert [(f.issue, f.detail) for f in policy.findings] == []
