"""`wcpipe iam-policy`: the operator's policy, as printed (no AWS call with --account-id).
That it is sufficient and each statement necessary is proven on the sandbox
(tests/e2e/test_operator_policy.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import parliament
import pytest
import yaml
from support.cli import run_cli
from support.paths import SPEC_PATH

from wcpipe.provision.operator_policy import (
    MANAGED_POLICY_MAX_CHARS,
    Declared,
    operator_statements,
    policy_chars,
)

ACCOUNT = "123456789012"
# The actions AWS accepts only on "*" (no resource type in the Service Authorization Reference).
UNSCOPED = {
    "cloudwatch:GetMetricStatistics",
    "ec2:DescribeRouteTables",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSubnets",
    "ec2:DescribeVpcEndpoints",
    "ec2:DescribeVpcs",
    "glue:CreateClassifier",
    "glue:CreateCrawler",
    "glue:DeleteClassifier",
    "glue:GetClassifier",
    "glue:GetCrawlerMetrics",
    "glue:UpdateClassifier",
    "logs:DescribeLogGroups",
    "redshift-data:DescribeStatement",
    "redshift-data:GetStatementResult",
    "redshift:DescribeClusterSubnetGroups",
    "redshift:DescribeClusters",
}


def _spec(tmp_path: Path, warehouse: str, alerts: bool = True) -> Path:
    """The FIFA spec on `warehouse`, with alerts (so their statements are checked too)."""
    raw = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    raw["warehouse"]["type"] = warehouse
    if alerts:
        raw["alerts"] = {"email": ["ops@example.com"]}
    raw["data"]["files"] = []
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "pipeline.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


def _documents(tmp_path: Path, warehouse: str, alerts: bool = True) -> list[dict[str, Any]]:
    out = tmp_path / "policy"
    result = run_cli(
        "-c", str(_spec(tmp_path, warehouse, alerts)), "iam-policy", "--account-id", ACCOUNT,
        "--out-dir", str(out),
    )  # fmt: skip
    assert result.code == 0, result
    files = sorted(out.glob("wcpipe-fifa-operator-*.json"))
    assert [f"file://{f}" in result.err for f in files] == [True] * len(files)
    return [json.loads(f.read_text(encoding="utf-8")) for f in files]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _actions(documents: list[dict[str, Any]]) -> set[str]:
    return {a for d in documents for s in d["Statement"] for a in _as_list(s["Action"])}


@pytest.mark.parametrize("warehouse", ["provisioned", "serverless"])
def test_policy_fits_managed_policies_and_is_valid_iam(tmp_path: Path, warehouse: str) -> None:
    documents = _documents(tmp_path, warehouse)
    assert len(documents) >= 1
    for document in documents:
        assert document["Version"] == "2012-10-17"
        assert policy_chars(document) <= MANAGED_POLICY_MAX_CHARS
        # parliament knows every action and prefix (a misspelt action fails here).
        findings = parliament.analyze_policy_string(json.dumps(document)).findings
        assert [f.issue for f in findings if f.issue.startswith(("UNKNOWN", "MALFORMED"))] == []
    sids = [s["Sid"] for d in documents for s in d["Statement"]]
    assert len(sids) == len(set(sids))


@pytest.mark.parametrize("warehouse", ["provisioned", "serverless"])
def test_every_resource_is_this_pipelines_unless_aws_allows_only_star(
    tmp_path: Path, warehouse: str
) -> None:
    for document in _documents(tmp_path, warehouse):
        for statement in document["Statement"]:
            resources = _as_list(statement["Resource"])
            if "*" in resources:
                assert resources == ["*"]
                assert set(_as_list(statement["Action"])) <= UNSCOPED, statement["Sid"]
                continue
            for arn in resources:
                assert arn.startswith("arn:aws:"), arn
                scoped = any(n in arn for n in ("wcpipe-fifa", "wcpipe_fifa"))
                # Glue asks for the account's catalog beside each database, table or connection.
                scoped = scoped or arn.endswith(":catalog")
                if ":log-group:/aws-glue/" in arn:  # Glue's shared groups: only read
                    assert statement["Action"] == ["logs:FilterLogEvents"], arn
                    continue
                # A type-wide ARN needs a condition that narrows it (ownership tag, create action)
                # or is a type whose ARNs hold an id AWS picks (serverless) or the VPC's parts.
                assert scoped or "Condition" in statement or arn.endswith("/*"), arn


def test_warehouse_type_decides_the_redshift_part(tmp_path: Path) -> None:
    provisioned = _actions(_documents(tmp_path / "p", "provisioned"))
    serverless = _actions(_documents(tmp_path / "s", "serverless"))
    assert "redshift:CreateCluster" in provisioned
    assert "redshift-serverless:CreateWorkgroup" in serverless
    # Of the other type's warehouse, only what finds and removes one an earlier spec made
    # (`plan` describes it, `up` and `down` delete it): no create, no change.
    other = {a for a in provisioned if a.startswith("redshift-serverless:")}
    assert other == {
        f"redshift-serverless:{x}"
        for x in (
            "DeleteNamespace DeleteWorkgroup GetNamespace GetWorkgroup ListTagsForResource"
        ).split()
    }
    other = {a for a in serverless if a.startswith("redshift:")}
    assert other == {
        f"redshift:{x}"
        for x in "DeleteCluster DeleteClusterSubnetGroup DescribeClusterSubnetGroups "
        "DescribeClusters".split()
    }


def test_pass_role_only_our_roles_to_their_service(tmp_path: Path) -> None:
    statements = [
        s
        for d in _documents(tmp_path, "serverless")
        for s in d["Statement"]
        if "iam:PassRole" in _as_list(s["Action"])
    ]
    passed = {
        s["Resource"].rsplit("/", 1)[-1]: s["Condition"]["StringEquals"]["iam:PassedToService"]
        for s in statements
    }
    assert passed == {
        "wcpipe-fifa-glue": "glue.amazonaws.com",
        "wcpipe-fifa-lambda": "lambda.amazonaws.com",
        "wcpipe-fifa-redshift": ["redshift.amazonaws.com", "redshift-serverless.amazonaws.com"],
    }
    assert all(_as_list(s["Action"]) == ["iam:PassRole"] for s in statements)


def test_parts_are_printed_one_at_a_time(tmp_path: Path) -> None:
    spec = str(_spec(tmp_path, "provisioned"))
    documents = _documents(tmp_path, "provisioned")
    base = ("-c", spec, "iam-policy", "--account-id", ACCOUNT)
    for n, document in enumerate(documents, 1):
        result = run_cli(*base, "--part", str(n))
        assert result.code == 0, result
        assert json.loads(result.out) == document
    if len(documents) > 1:
        whole = run_cli(*base)
        assert whole.code == 2 and whole.out == ""
        assert f"{len(documents)} documents" in whole.err and "--out-dir" in whole.err
        assert "Traceback" not in whole.err
    beyond = run_cli(*base, "--part", str(len(documents) + 1))
    assert beyond.code == 2 and "--part" in beyond.err


def test_the_alert_statements_come_only_with_alerts(tmp_path: Path) -> None:
    def sids(alerts: bool) -> set[str]:
        documents = _documents(tmp_path / str(alerts), "provisioned", alerts)
        return {st["Sid"] for d in documents for st in d["Statement"]}

    alerting = {"AlertTopic", "AlertRules", "Alarms"}
    assert alerting <= sids(True)
    assert not alerting & sids(False)


def test_on_arrival_adds_its_resources_and_manual_only_finds_and_removes_them() -> None:
    from wcpipe.spec.model import load_spec
    from wcpipe.spec.names import Names

    names = Names.of(load_spec(SPEC_PATH), "123456789012", "us-east-1")
    arrival = {s["Sid"]: s for s in operator_statements(names, "aws", Declared(arrival=True))}
    assert arrival["BucketEvents"]["Action"] == [
        "s3:GetBucketNotification",
        "s3:PutBucketNotification",
    ]
    assert "events:PutRule" in arrival["ArrivalRules"]["Action"]
    manual = {s["Sid"]: s for s in operator_statements(names, "aws", Declared())}
    assert "BucketEvents" not in manual and "ArrivalRules" not in manual
    # Turning the bucket's EventBridge setting off is a Put of the configuration without it.
    assert manual["UndeclaredBucketEvents"]["Action"] == arrival["BucketEvents"]["Action"]
    assert "events:PutRule" not in manual["UndeclaredArrivalRules"]["Action"]
    assert "events:DeleteRule" in manual["UndeclaredArrivalRules"]["Action"]


def test_a_shared_endpoint_is_tagged_changed_and_deleted_only_as_its_users_need() -> None:
    """The statements for the VPC's shared endpoints another pipeline made (the S3 gateway
    endpoint, resources/ec2_endpoint.py; the Secrets Manager interface endpoint,
    ec2_endpoint_secrets.py), judged by the sandbox's evaluator: this pipeline's record and route
    marks only; changing only an endpoint carrying its record; deleting only an S3 or Secrets
    Manager endpoint a wcpipe pipeline made."""
    from wcpipe.sandbox.authz import evaluate
    from wcpipe.spec.model import load_spec
    from wcpipe.spec.names import OWNER_TAG, Names

    names = Names.of(load_spec(SPEC_PATH), ACCOUNT, "us-east-1")
    documents = [
        {"Version": "2012-10-17", "Statement": operator_statements(names, "aws", Declared())}
    ]
    endpoint = f"arn:aws:ec2:us-east-1:{ACCOUNT}:vpc-endpoint/vpce-1"
    made = {f"aws:ResourceTag/{OWNER_TAG}": "cup"}  # another wcpipe pipeline made it

    def allowed(action: str, context: dict[str, Any]) -> bool:
        return evaluate(documents, action, endpoint, context).allowed

    def keys(*tags: str) -> dict[str, Any]:
        return {**made, "aws:TagKeys": list(tags)}

    assert allowed("ec2:CreateTags", keys("wcpipe:uses:fifa", "wcpipe:route:rtb-1"))
    assert allowed("ec2:DeleteTags", keys("wcpipe:route:rtb-2"))
    assert not allowed("ec2:CreateTags", keys("wcpipe:uses:cup"))
    assert not allowed("ec2:DeleteTags", keys(OWNER_TAG))
    assert not allowed("ec2:DeleteTags", made)  # no Tags: every tag would go
    recorded = {**made, "aws:ResourceTag/wcpipe:uses:fifa": "rtb-1"}
    assert allowed("ec2:ModifyVpcEndpoint", recorded)
    assert not allowed("ec2:ModifyVpcEndpoint", made)  # not this pipeline's record
    s3 = {"ec2:VpceServiceName": "com.amazonaws.us-east-1.s3"}
    assert allowed("ec2:DeleteVpcEndpoints", {**made, **s3})
    assert not allowed("ec2:DeleteVpcEndpoints", s3)  # made outside wcpipe
    secrets = {"ec2:VpceServiceName": "com.amazonaws.us-east-1.secretsmanager"}
    assert allowed("ec2:DeleteVpcEndpoints", {**made, **secrets})  # the shared interface one
    assert not allowed("ec2:DeleteVpcEndpoints", secrets)
    kms = {"ec2:VpceServiceName": "com.amazonaws.us-east-1.kms"}
    assert not allowed("ec2:DeleteVpcEndpoints", {**made, **kms})


@pytest.mark.parametrize(
    ("warehouse", "alerts", "trigger"),
    [("provisioned", False, "manual"), ("serverless", True, "on-arrival")],
)
def test_the_policy_follows_what_the_catalog_declares(
    tmp_path: Path, warehouse: str, alerts: bool, trigger: str
) -> None:
    """`resources.classes` alone decides what a spec has; the policy reads it from there."""
    from wcpipe.provision.resources import classes, events, redshift_serverless, sns
    from wcpipe.spec.model import load_spec

    raw = yaml.safe_load(_spec(tmp_path, warehouse, alerts).read_text(encoding="utf-8"))
    raw["trigger"] = trigger
    path = tmp_path / "variant.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    spec = load_spec(path)
    declared = {kind for kind, on in classes(spec) if on}
    assert (redshift_serverless.Namespace in declared) == (warehouse == "serverless")
    assert (sns.Topic in declared) == alerts
    assert (events.ArrivalRule in declared) == (trigger == "on-arrival")
    assert Declared.of(spec) == Declared(warehouse, alerts, trigger == "on-arrival")  # type: ignore[arg-type]
