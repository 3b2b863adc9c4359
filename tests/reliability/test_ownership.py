"""Promise 6: wcpipe never adopts or deletes what it does not own.

Someone else's bucket (with objects at the very keys wcpipe would upload), IAM role, crawler and
job already carry the names this pipeline would use, without the `wcpipe:pipeline` tag. `plan`
marks each one not-owned; `up` stops with an error naming one and sends no mutating request;
`down` deletes nothing of theirs and changes nothing about them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from support.cli import CliResult
from support.harness import Pipeline, new_pipeline
from support.requests import Requests

from wcpipe.spec.names import OWNER_TAG

TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "glue.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def _foreign(pl: Pipeline) -> dict[str, Any]:
    """Create the four look-alikes, untagged; return what they hold, to compare afterwards."""
    n = pl.names()
    s3, iam, glue = pl.client("s3"), pl.client("iam"), pl.client("glue")
    s3.create_bucket(Bucket=n.bucket)
    for key in KEYS(n):
        s3.put_object(Bucket=n.bucket, Key=key, Body=b"not wcpipe's")
    role = iam.create_role(RoleName=n.glue_role, AssumeRolePolicyDocument=json.dumps(TRUST))
    iam.put_role_policy(
        RoleName=n.glue_role,
        PolicyName="theirs",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}],
            }
        ),
    )
    glue.create_database(DatabaseInput={"Name": "someone_elses"})
    glue.create_crawler(
        Name=n.s3_crawler,
        Role=role["Role"]["Arn"],
        DatabaseName="someone_elses",
        Targets={"S3Targets": [{"Path": f"s3://{n.bucket}/other/"}]},
    )
    glue.create_job(
        Name=n.job,
        Role=role["Role"]["Arn"],
        Command={"Name": "glueetl", "ScriptLocation": f"s3://{n.bucket}/theirs.py"},
    )
    return _snapshot(pl, KEYS(n))


def _snapshot(pl: Pipeline, keys: list[str]) -> dict[str, Any]:
    n = pl.names()
    s3, iam, glue = pl.client("s3"), pl.client("iam"), pl.client("glue")
    crawler = glue.get_crawler(Name=n.s3_crawler)["Crawler"]
    job = glue.get_job(JobName=n.job)["Job"]
    return {
        "objects": {k: _read(s3, n.bucket, k) for k in keys},
        "bucket policy": _bucket_policy(s3, n.bucket),
        "bucket tags": _bucket_tags(s3, n.bucket),
        "role policies": iam.list_role_policies(RoleName=n.glue_role)["PolicyNames"],
        "role tags": iam.list_role_tags(RoleName=n.glue_role)["Tags"],
        "crawler": (crawler["DatabaseName"], crawler["Targets"], crawler["Role"]),
        "crawler tags": glue.get_tags(ResourceArn=_arn(pl, f"crawler/{n.s3_crawler}"))["Tags"],
        "job": (job["Command"], job["Role"], job.get("DefaultArguments")),
        "job tags": glue.get_tags(ResourceArn=_arn(pl, f"job/{n.job}"))["Tags"],
    }


def _read(s3: Any, bucket: str, key: str) -> bytes | None:
    try:
        return bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    except s3.exceptions.NoSuchKey:
        return None


def _bucket_policy(s3: Any, bucket: str) -> Any:
    try:
        return s3.get_bucket_policy(Bucket=bucket)["Policy"]
    except s3.exceptions.ClientError:
        return None


def _bucket_tags(s3: Any, bucket: str) -> Any:
    try:
        return s3.get_bucket_tagging(Bucket=bucket)["TagSet"]
    except s3.exceptions.ClientError:
        return []


def _arn(pl: Pipeline, resource: str) -> str:
    return f"arn:aws:glue:{pl.sandbox.region}:{pl.sandbox.account_id}:{resource}"


@dataclass
class Scenario:
    pipeline: Pipeline
    theirs: set[tuple[str, str]]
    before: dict[str, Any]
    plan: CliResult
    up: CliResult
    mutations: list[str]
    down: CliResult
    after: dict[str, Any]


@pytest.fixture(scope="module")
def scenario(sandbox: Any, tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    """Look-alikes first; then `plan`, `up --yes` (recording its mutating calls), `down --yes`."""
    pl = new_pipeline(sandbox, tmp_path_factory.mktemp("ownership"))
    n = pl.names()
    before = _foreign(pl)
    theirs = {
        ("S3 bucket", n.bucket),
        ("IAM role", n.glue_role),
        ("Glue crawler", n.s3_crawler),
        ("Glue job", n.job),
    }
    plan = pl.cli("--output", "json", "plan")
    requests = Requests.everywhere()
    try:
        up = pl.cli("up", "--yes")
    finally:
        requests.close()
    down = pl.cli("down", "--yes")
    return Scenario(pl, theirs, before, plan, up, requests.mutating, down, _snapshot(pl, KEYS(n)))


def KEYS(n: Any) -> list[str]:
    """Their objects, two of them at keys wcpipe itself uploads to."""
    return [f"{n.prefix}FIFA World Cup Attendance.csv", n.glue_script_key, "theirs.txt"]


def test_plan_marks_each_not_owned(scenario: Scenario) -> None:
    assert scenario.plan.code == 0, scenario.plan
    changes = json.loads(scenario.plan.out)["changes"]
    not_owned = {(c["kind"], c["name"]) for c in changes if c["action"] == "not-owned"}
    # The objects wcpipe would keep in that bucket are not its own either.
    bucket = scenario.pipeline.names().bucket
    inside = {
        ("code artifacts", f"s3://{bucket}/wcpipe/"),
        ("data files", f"s3://{bucket}/raw/attendance/"),
    }
    assert not_owned == scenario.theirs | inside


def test_up_stops_naming_it_and_changes_nothing(scenario: Scenario) -> None:
    up = scenario.up
    assert up.code == 1, up
    errors = [line for line in up.err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, up.err
    assert any(f"{kind} {name!r}" in errors[0] for kind, name in scenario.theirs), errors
    assert "not owned" in errors[0]
    assert "Traceback" not in up.err
    assert scenario.mutations == []


def test_down_leaves_their_resources_alone(scenario: Scenario) -> None:
    assert scenario.down.code == 0, scenario.down
    for kind, name in scenario.theirs:
        assert f"{kind} {name} exists but is not owned by this pipeline" in scenario.down.err
    after = {k: v for k, v in scenario.after.items() if k != "objects"}
    assert after == {k: v for k, v in scenario.before.items() if k != "objects"}
    assert OWNER_TAG not in json.dumps(after)


def test_down_leaves_the_objects_in_their_bucket_alone(scenario: Scenario) -> None:
    """Objects at wcpipe's own keys, but in a bucket wcpipe does not own, are not wcpipe's."""
    assert scenario.after["objects"] == scenario.before["objects"]


def _serverless_snapshot(pl: Pipeline) -> dict[str, Any]:
    n, rs = pl.names(), pl.client("redshift-serverless")
    ns = rs.get_namespace(namespaceName=n.namespace)["namespace"]
    wg = rs.get_workgroup(workgroupName=n.workgroup)["workgroup"]
    return {
        "namespace": (ns["dbName"], ns.get("iamRoles"), ns.get("defaultIamRoleArn")),
        "namespace tags": rs.list_tags_for_resource(resourceArn=ns["namespaceArn"])["tags"],
        "workgroup": (wg["baseCapacity"], wg["subnetIds"], wg["securityGroupIds"]),
        "workgroup tags": rs.list_tags_for_resource(resourceArn=wg["workgroupArn"])["tags"],
    }


def test_serverless_lookalikes_are_neither_adopted_nor_deleted(
    sandbox: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Someone else's namespace and workgroup under this pipeline's Serverless names."""
    pl = new_pipeline(sandbox, tmp_path_factory.mktemp("ownership-sl"), warehouse="serverless")
    n, rs = pl.names(), pl.client("redshift-serverless")
    subnets = pl.client("ec2").describe_subnets(
        Filters=[{"Name": "vpc-id", "Values": [pl.vpc_id]}]
    )["Subnets"]
    rs.create_namespace(namespaceName=n.namespace, dbName="theirs", tags=[])
    rs.create_workgroup(
        workgroupName=n.workgroup,
        namespaceName=n.namespace,
        baseCapacity=32,
        subnetIds=[s["SubnetId"] for s in subnets],
    )
    before = _serverless_snapshot(pl)
    theirs = {("Redshift Serverless namespace", n.namespace)}
    theirs.add(("Redshift Serverless workgroup", n.workgroup))

    plan = pl.cli("--output", "json", "plan")
    assert plan.code == 0, plan
    changes = json.loads(plan.out)["changes"]
    assert theirs <= {(c["kind"], c["name"]) for c in changes if c["action"] == "not-owned"}
    requests = Requests.everywhere()
    try:
        up = pl.cli("up", "--yes")
    finally:
        requests.close()
    assert up.code == 1 and "not owned" in up.err and "Traceback" not in up.err, up
    assert requests.mutating == []
    down = pl.cli("down", "--yes")
    assert down.code == 0, down
    for kind, name in theirs:
        assert f"{kind} {name} exists but is not owned by this pipeline" in down.err
    assert _serverless_snapshot(pl) == before
