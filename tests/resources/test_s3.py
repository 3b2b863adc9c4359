"""S3 resources on moto: the bucket, the code artifacts and the data files."""

from __future__ import annotations

import json

import pytest
from support.plan import names
from support.requests import Requests
from support.s3_policy import teach_moto_secure_transport

from wcpipe.core.errors import NotOwnedError, SpecError
from wcpipe.provision.resources.s3 import TEMP_DIR_RULE_ID, Bucket, tls_only_statement
from wcpipe.provision.resources.s3_objects import Artifacts, DataFiles


@pytest.fixture(autouse=True)
def _tls_aware_moto(monkeypatch):  # type: ignore[no-untyped-def]
    teach_moto_secure_transport(monkeypatch)


@pytest.fixture
def s3(ctx):  # type: ignore[no-untyped-def]
    return ctx.client("s3")


# The Glue job's TempDir expires a day after a write; unfinished uploads are aborted after a day.
TEMP_DIR_RULE = {
    "ID": "wcpipe-expire-glue-temp-dir",
    "Filter": {"Prefix": "wcpipe/tmp/"},
    "Status": "Enabled",
    "Expiration": {"Days": 1},
    "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
}


@pytest.fixture
def bucket(ctx):  # type: ignore[no-untyped-def]
    b = Bucket(ctx)
    b.ensure()
    return b


def test_bucket_ensure_twice_creates_then_changes_nothing(ctx, s3):
    b = Bucket(ctx)
    assert b.ensure() == "created"
    calls = Requests.on(s3)
    assert b.ensure() == "unchanged"
    assert calls.mutating == []

    name = ctx.names.bucket
    assert name == "wcpipe-fifa-123456789012-us-east-1"
    rule = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert rule["BucketKeyEnabled"] is True
    pab = s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
    assert all(pab.values()) and len(pab) == 4
    own = s3.get_bucket_ownership_controls(Bucket=name)["OwnershipControls"]["Rules"]
    assert own == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    policy = json.loads(s3.get_bucket_policy(Bucket=name)["Policy"])
    statement = policy["Statement"][0]
    assert statement["Effect"] == "Deny"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    tags = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=name)["TagSet"]}
    assert tags == {"wcpipe:pipeline": "fifa", "project": "world-cup-attendance"}
    rules = s3.get_bucket_lifecycle_configuration(Bucket=name)["Rules"]
    assert rules == [TEMP_DIR_RULE]
    assert ctx.names.glue_temp_dir == f"s3://{name}/{TEMP_DIR_RULE['Filter']['Prefix']}"
    assert ctx.outputs["s3.bucket"] == {
        "name": name,
        "arn": f"arn:aws:s3:::{name}",
        "tags": {"wcpipe:pipeline": "fifa", "project": "world-cup-attendance"},
    }


def test_bucket_outside_us_east_1_has_a_location_constraint(spec, clock):
    from wcpipe.core.aws import Aws
    from wcpipe.core.wait import Timing
    from wcpipe.provision.resources.base import Context

    other = Context(spec=spec, aws=Aws(region="eu-west-1"), timing=Timing(sleep=clock.sleep))
    from moto import mock_aws

    with mock_aws():
        b = Bucket(other)
        assert b.ensure() == "created"
        s3 = other.client("s3")
        assert s3.get_bucket_location(Bucket=b.name)["LocationConstraint"] == "eu-west-1"
        assert b.ensure() == "unchanged"


def test_bucket_delete_twice_empties_every_version(ctx, s3, bucket):
    name = bucket.name
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    for i in range(3):
        s3.put_object(Bucket=name, Key="a.csv", Body=f"v{i}".encode())
    s3.delete_object(Bucket=name, Key="a.csv")  # a delete marker
    assert bucket.destroy() == "deleted"
    assert bucket.destroy() == "absent"
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_bucket_delete_pages_through_more_than_1000_objects(ctx, s3, bucket):
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends

    backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
    for i in range(1005):  # straight into moto's store: 1005 requests would be slow
        backend.put_object(bucket.name, f"k/{i}", b"x")
    calls = Requests.on(s3)
    assert bucket.destroy() == "deleted"
    assert calls.count("DeleteObjects") == 2


def test_unowned_bucket_is_neither_changed_nor_deleted(ctx, s3):
    s3.create_bucket(Bucket=ctx.names.bucket)
    b = Bucket(ctx)
    with pytest.raises(NotOwnedError):
        b.converge(b.describe())
    assert b.destroy() == "kept"
    assert ctx.names.bucket in [x["Name"] for x in s3.list_buckets()["Buckets"]]
    with pytest.raises(s3.exceptions.ClientError):
        s3.get_bucket_policy(Bucket=ctx.names.bucket)


def test_removed_public_access_block_is_drift_and_fixed(ctx, s3, bucket):
    s3.delete_public_access_block(Bucket=bucket.name)
    assert names(bucket.differences(bucket.describe())) == ["public_access_block"]
    calls = Requests.on(s3)
    assert bucket.ensure() == "updated"
    assert calls.mutating == ["PutPublicAccessBlock"]
    assert bucket.ensure() == "unchanged"


def test_changed_policy_is_drift_and_fixed_keeping_other_statements(ctx, s3, bucket):
    theirs = {
        "Sid": "Theirs",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:DeleteBucket",
        "Resource": bucket.arn,
    }
    ours = tls_only_statement(bucket.arn) | {"Condition": {"Bool": {"aws:SecureTransport": "true"}}}
    policy = {"Version": "2012-10-17", "Statement": [theirs, ours]}
    s3.put_bucket_policy(Bucket=bucket.name, Policy=json.dumps(policy))
    assert names(bucket.differences(bucket.describe())) == ["policy"]
    assert bucket.ensure() == "updated"
    statements = json.loads(s3.get_bucket_policy(Bucket=bucket.name)["Policy"])["Statement"]
    assert [s["Sid"] for s in statements] == ["Theirs", "DenyInsecureTransport"]
    assert bucket.ensure() == "unchanged"


def test_encryption_ownership_and_tag_drift_are_fixed(ctx, s3, bucket):
    s3.put_bucket_encryption(
        Bucket=bucket.name,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    s3.delete_bucket_ownership_controls(Bucket=bucket.name)
    s3.put_bucket_tagging(
        Bucket=bucket.name,
        Tagging={
            "TagSet": [{"Key": "wcpipe:pipeline", "Value": "fifa"}, {"Key": "x", "Value": "y"}]
        },
    )
    assert names(bucket.differences(bucket.describe())) == ["encryption", "ownership", "tags"]
    assert bucket.ensure() == "updated"
    assert bucket.ensure() == "unchanged"


def test_removed_lifecycle_rule_is_planned_as_an_update_and_put_back(ctx, s3, bucket):
    s3.delete_bucket_lifecycle(Bucket=bucket.name)
    assert bucket.describe().data["lifecycle"] == []  # NoSuchLifecycleConfiguration: no rules
    assert names(bucket.differences(bucket.describe())) == ["lifecycle"]
    calls = Requests.on(s3)
    assert bucket.ensure() == "updated"
    assert calls.mutating == ["PutBucketLifecycleConfiguration"]
    assert s3.get_bucket_lifecycle_configuration(Bucket=bucket.name)["Rules"] == [TEMP_DIR_RULE]
    calls.clear()
    assert bucket.ensure() == "unchanged"
    assert calls.mutating == []


def test_changed_lifecycle_rule_is_fixed_keeping_other_rules(ctx, s3, bucket):
    theirs = {
        "ID": "theirs",
        "Filter": {"Prefix": "exports/"},
        "Status": "Enabled",
        "Expiration": {"Days": 30},
    }
    ours = TEMP_DIR_RULE | {"Expiration": {"Days": 365}}
    s3.put_bucket_lifecycle_configuration(
        Bucket=bucket.name, LifecycleConfiguration={"Rules": [theirs, ours]}
    )
    assert names(bucket.differences(bucket.describe())) == ["lifecycle"]
    assert bucket.ensure() == "updated"
    rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket.name)["Rules"]
    assert sorted(rules, key=lambda r: r["ID"]) == [theirs, TEMP_DIR_RULE]
    assert TEMP_DIR_RULE["ID"] == TEMP_DIR_RULE_ID
    assert bucket.ensure() == "unchanged"


def test_plan_shows_a_missing_lifecycle_rule(ctx, s3, bucket):
    from wcpipe.provision.engine import plan

    s3.delete_bucket_lifecycle(Bucket=bucket.name)
    (change,) = plan(ctx, [Bucket(ctx)]).changes
    assert (change.key, change.action, change.fields) == ("s3.bucket", "update", ("lifecycle",))


def test_kms_default_encryption_is_accepted(ctx, s3, bucket):
    rule = {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}
    s3.put_bucket_encryption(
        Bucket=bucket.name, ServerSideEncryptionConfiguration={"Rules": [rule]}
    )
    assert names(bucket.differences(bucket.describe())) == []


# Artifacts -----------------------------------------------------------------------------------


def test_artifacts_ensure_twice_then_delete_twice(ctx, s3, bucket):
    a = Artifacts(ctx)
    assert a.ensure() == "created"
    calls = Requests.on(s3)
    assert a.ensure() == "unchanged"
    assert calls.mutating == []

    out = ctx.outputs["s3.artifacts"]
    name = bucket.name
    assert out["glue_script_uri"] == f"s3://{name}/wcpipe/glue/load.py"
    assert out["glue_libs_uri"] == f"s3://{name}/wcpipe/glue/wcpipe_lib.zip"
    assert (out["lambda_bucket"], out["lambda_key"]) == (name, "wcpipe/lambda/start_job.zip")
    body = s3.get_object(Bucket=name, Key=out["lambda_key"])
    assert body["ServerSideEncryption"] == "AES256"
    from wcpipe.provision.artifacts import lambda_zip, sha256_b64

    assert out["lambda_sha256_b64"] == sha256_b64(body["Body"].read()) == sha256_b64(lambda_zip())

    assert a.destroy() == "deleted"
    assert a.destroy() == "absent"
    assert s3.list_objects_v2(Bucket=name).get("KeyCount") == 0


def test_artifact_changed_in_s3_is_uploaded_again_alone(ctx, s3, bucket):
    a = Artifacts(ctx)
    a.ensure()
    s3.put_object(Bucket=bucket.name, Key="wcpipe/glue/load.py", Body=b"print('edited')")
    assert names(a.differences(a.describe())) == ["glue_script"]
    calls = Requests.on(s3)
    assert a.ensure() == "updated"
    assert calls.mutating == ["PutObject"]
    assert a.ensure() == "unchanged"


# Data files ----------------------------------------------------------------------------------


def test_data_files_ensure_twice_then_delete_twice(ctx, s3, bucket):
    d = DataFiles(ctx)
    calls = Requests.on(s3)
    assert d.ensure() == "created"
    assert calls.count("PutObject") == 1
    calls.clear()
    assert d.ensure() == "unchanged"
    assert calls.mutating == []

    key = "raw/attendance/FIFA World Cup Attendance.csv"
    head = s3.head_object(Bucket=bucket.name, Key=key)
    assert head["ServerSideEncryption"] == "AES256"
    facts = d.facts(d.describe())
    assert facts == {"files": 1, "bytes": head["ContentLength"]}

    s3.put_object(Bucket=bucket.name, Key="raw/attendance/mine.csv", Body=b"a,b\n")
    assert d.destroy() == "deleted"
    assert d.destroy() == "absent"
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket.name)["Contents"]]
    assert keys == ["raw/attendance/mine.csv"]  # the user's own file stays


def _spec_with_files(spec, tmp_path, *names):  # type: ignore[no-untyped-def]
    from wcpipe.spec.model import parse_spec

    data = spec.model_dump(by_alias=True, exclude_none=True)
    data["data"]["files"] = list(names)
    import yaml

    return parse_spec(yaml.safe_dump(data), base_dir=tmp_path)


def test_data_files_upload_again_only_when_content_changes(ctx, s3, bucket, tmp_path):
    (tmp_path / "a.csv").write_text("x\n1\n")
    (tmp_path / "b.csv").write_text("x\n2\n")
    ctx.spec = _spec_with_files(ctx.spec, tmp_path, "a.csv", "b.csv")
    d = DataFiles(ctx)
    calls = Requests.on(s3)
    assert d.ensure() == "created"
    assert calls.count("PutObject") == 2
    calls.clear()
    assert d.ensure() == "unchanged"
    assert calls.count("PutObject") == 0

    (tmp_path / "b.csv").write_text("x\n3\n")
    assert names(d.differences(d.describe())) == ["raw/attendance/b.csv"]
    calls.clear()
    assert d.ensure() == "updated"
    assert calls.count("PutObject") == 1
    body = s3.get_object(Bucket=bucket.name, Key="raw/attendance/b.csv")["Body"].read()
    assert body == b"x\n3\n"


def test_missing_local_file_is_a_spec_error_naming_it(ctx, bucket, tmp_path):
    ctx.spec = _spec_with_files(ctx.spec, tmp_path, "gone.csv")
    d = DataFiles(ctx)
    with pytest.raises(SpecError, match=r"gone\.csv"):
        d.ensure()
    assert d.destroy() == "absent"  # down does not need the local files


def test_two_files_with_one_name_are_a_spec_error(ctx, bucket, tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "a.csv").write_text("1")
    (tmp_path / "x" / "a.csv").write_text("2")
    ctx.spec = _spec_with_files(ctx.spec, tmp_path, "a.csv", "x/a.csv")
    with pytest.raises(SpecError, match="both upload"):
        DataFiles(ctx).ensure()
