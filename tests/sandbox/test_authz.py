"""The sandbox's IAM evaluation (sandbox/authz.py) on the project's own policies: what they allow,
what they refuse, and AWS's rules (explicit deny wins, wildcards, conditions)."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from wcpipe.provision.resources.iam_policies import glue_policy, lambda_policy, redshift_policy
from wcpipe.sandbox.authz import Actor, authorize, evaluate
from wcpipe.spec.names import Names

ACCOUNT = "123456789012"
REGION = "us-east-1"
V = "2012-10-17"


@pytest.fixture
def names(spec: Any) -> Names:
    return Names.of(spec, ACCOUNT, REGION)


def _arn(service: str, resource: str) -> str:
    return f"arn:aws:{service}:{REGION}:{ACCOUNT}:{resource}"


def test_evaluate_lambda_policy_allows_its_job_only(names: Names) -> None:
    policy = [lambda_policy(names, "aws")]
    assert evaluate(policy, "glue:StartJobRun", _arn("glue", f"job/{names.job}")).allowed
    other = evaluate(policy, "glue:StartJobRun", _arn("glue", "job/someone-elses"))
    assert not other.allowed and not other.explicit_deny
    assert not evaluate(policy, "glue:DeleteJob", _arn("glue", f"job/{names.job}")).allowed


def test_evaluate_list_bucket_honours_s3_prefix(names: Names) -> None:
    policy = [redshift_policy(names, "aws")]
    bucket = f"arn:aws:s3:::{names.bucket}"
    temp = names.glue_temp_prefix
    assert evaluate(policy, "s3:ListBucket", bucket, {"s3:prefix": f"{temp}run-1/"}).allowed
    assert not evaluate(policy, "s3:ListBucket", bucket, {"s3:prefix": names.prefix}).allowed
    # No prefix in the request: StringLike on an absent key does not hold.
    assert not evaluate(policy, "s3:ListBucket", bucket).allowed


def test_evaluate_question_mark_matches_one_character(names: Names) -> None:
    policy = [glue_policy(names, "aws")]
    secret = _arn("secretsmanager", f"secret:{names.secret}")
    assert evaluate(policy, "secretsmanager:GetSecretValue", f"{secret}-AbC123").allowed
    assert not evaluate(policy, "secretsmanager:GetSecretValue", f"{secret}-AbC12").allowed
    assert not evaluate(policy, "secretsmanager:GetSecretValue", f"{secret}x-AbC123").allowed


def test_evaluate_explicit_deny_wins_over_allow() -> None:
    allow = {"Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}}
    deny = {
        "Statement": [
            {
                "Sid": "TlsOnly",
                "Effect": "Deny",
                "Action": "s3:*",
                "Resource": "*",
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
            {"Sid": "NoDelete", "Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"},
        ]
    }
    assert evaluate([allow, deny], "s3:GetObject", "arn:aws:s3:::b/k").allowed
    denied = evaluate([allow, deny], "s3:DeleteObject", "arn:aws:s3:::b/k")
    assert (denied.allowed, denied.explicit_deny, denied.statement) == (False, True, "NoDelete")
    assert "with an explicit deny in an identity-based policy" in denied.message
    plain_http = evaluate(
        [allow, deny], "s3:GetObject", "arn:aws:s3:::b/k", {"aws:SecureTransport": "false"}
    )
    assert plain_http.explicit_deny and plain_http.statement == "TlsOnly"


def test_evaluate_source_arn_and_account_conditions() -> None:
    rule = _arn("events", "rule/r")
    doc = {
        "Statement": {
            "Effect": "Allow",
            "Action": "lambda:InvokeFunction",
            "Resource": "*",
            "Condition": {
                "ArnLike": {"aws:SourceArn": _arn("events", "rule/*")},
                "StringEquals": {"AWS:SourceAccount": ACCOUNT},
            },
        }
    }
    ok = {"aws:SourceArn": rule, "aws:SourceAccount": ACCOUNT}
    assert evaluate([doc], "lambda:InvokeFunction", "*", ok).allowed
    assert not evaluate(
        [doc], "lambda:InvokeFunction", "*", {**ok, "aws:SourceAccount": "1"}
    ).allowed
    assert not evaluate([doc], "lambda:InvokeFunction", "*", {"aws:SourceAccount": ACCOUNT}).allowed


def test_evaluate_for_all_values_tag_keys(names: Names) -> None:
    policy = [glue_policy(names, "aws")]
    eni = _arn("ec2", "network-interface/eni-1")
    glue_tag = {"aws:TagKeys": ["aws-glue-service-resource"]}
    assert evaluate(policy, "ec2:CreateTags", eni, glue_tag).allowed
    other = {"aws:TagKeys": ["aws-glue-service-resource", "Owner"]}
    assert not evaluate(policy, "ec2:CreateTags", eni, other).allowed


def test_evaluate_null_guards_a_for_all_values_condition(names: Names) -> None:
    """ForAllValues holds for a request without the key: a DeleteTags without Tags (which
    deletes every tag) is refused only by the Null guard."""
    policy = [glue_policy(names, "aws")]
    eni = _arn("ec2", "network-interface/eni-1")
    assert not evaluate(policy, "ec2:DeleteTags", eni, {}).allowed
    assert evaluate(
        policy, "ec2:DeleteTags", eni, {"aws:TagKeys": ["aws-glue-service-resource"]}
    ).allowed
    present = {"Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
                             "Condition": {"Null": {"aws:TagKeys": "true"}}}}  # fmt: skip
    assert evaluate([present], "s3:GetObject", "arn:aws:s3:::b/k", {}).allowed
    assert not evaluate(
        [present], "s3:GetObject", "arn:aws:s3:::b/k", {"aws:TagKeys": ["k"]}
    ).allowed


def test_evaluate_unmodelled_operator_is_refused() -> None:
    doc = {
        "Statement": {
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": "*",
            "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
        }
    }
    with pytest.raises(ValueError, match="IpAddress"):
        evaluate([doc], "s3:GetObject", "arn:aws:s3:::b/k")


def test_authorize_reads_inline_and_managed_policies_of_the_role(moto: None) -> None:
    iam = boto3.client("iam", region_name=REGION)
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    inline = {
        "Version": V,
        "Statement": {"Effect": "Allow", "Action": "glue:GetJobRun", "Resource": "*"},
    }
    iam.put_role_policy(RoleName="r", PolicyName="inline", PolicyDocument=json.dumps(inline))
    managed = {
        "Version": V,
        "Statement": {"Effect": "Deny", "Action": "glue:GetJobRuns", "Resource": "*"},
    }
    arn = iam.create_policy(PolicyName="m", PolicyDocument=json.dumps(managed))["Policy"]["Arn"]
    iam.attach_role_policy(RoleName="r", PolicyArn=arn)

    from moto.backends import get_backend

    backend = get_backend("iam")[ACCOUNT]["global"]
    actor = Actor(role, session="glue")
    assert authorize(backend, actor, "glue:GetJobRun", "*").allowed
    denied = authorize(backend, actor, "glue:GetJobRuns", "*")
    assert denied.explicit_deny
    implicit = authorize(backend, actor, "glue:StartJobRun", _arn("glue", "job/j"))
    assert implicit.message == (
        f"User: arn:aws:sts::{ACCOUNT}:assumed-role/r/glue is not authorized to perform: "
        f"glue:StartJobRun on resource: {_arn('glue', 'job/j')} because no identity-based "
        "policy allows the glue:StartJobRun action"
    )
    gone = Actor(f"arn:aws:iam::{ACCOUNT}:role/deleted")
    assert not authorize(backend, gone, "glue:GetJobRun", "*").allowed
