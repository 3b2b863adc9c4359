"""The shim `awsglue` keeps AWS's argument rules (awslabs/aws-glue-libs `awsglue/utils.py`):
what Glue's own parser refuses, it refuses, so the script cannot pass here and fail on Glue."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from typing import Any

import pytest

GLUE_ARGV = [
    "script.py",
    "--JOB_ID",
    "j_0123",
    "--JOB_RUN_ID",
    "jr_abc",
    "--JOB_NAME",
    "wcpipe-fifa-load",
    "--job-bookmark-option",
    "job-bookmark-enable",
    "--TempDir",
    "s3://bucket/glue-temp/",
    "--enable-metrics",
    "true",
    "--wcpipe_config",
    "{}",
]


@pytest.fixture
def utils(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    import sys

    from wcpipe.sandbox.glue_runtime import engine

    monkeypatch.syspath_prepend(str(engine.SHIM_DIR))
    for name in [m for m in sys.modules if m == "awsglue" or m.startswith("awsglue.")]:
        monkeypatch.delitem(sys.modules, name)
    import awsglue.utils

    yield awsglue.utils


def test_the_first_call_returns_the_run_id_glue_passes(utils: Any) -> None:
    args = utils.getResolvedOptions(GLUE_ARGV, ["JOB_NAME", "wcpipe_config", "TempDir"])
    assert args["JOB_RUN_ID"] == "jr_abc"
    assert args["JOB_ID"] == "j_0123"
    assert args["JOB_NAME"] == "wcpipe-fifa-load"
    assert args["job_bookmark_option"] == "job-bookmark-enable"
    assert args["TempDir"] == args["RedshiftTempDir"] == "s3://bucket/glue-temp/"
    assert "enable_metrics" not in args  # unknown arguments are ignored (parse_known_args)


@pytest.mark.parametrize("name", ["JOB_RUN_ID", "JOB_ID", "SECURITY_CONFIGURATION"])
def test_naming_a_registered_id_again_is_a_conflict_as_on_glue(utils: Any, name: str) -> None:
    with pytest.raises(argparse.ArgumentError, match=f"--{name}: conflicting option string"):
        utils.getResolvedOptions(GLUE_ARGV, ["JOB_NAME", name])


@pytest.mark.parametrize(
    "name", ["job-bookmark-option", "continuation-option", "job-bookmark-from", "encryption-type"]
)
def test_reserved_options_are_refused(utils: Any, name: str) -> None:
    option = "--encryption-type" if name == "encryption-type" else name
    with pytest.raises(RuntimeError, match="Using reserved arguments"):
        utils.getResolvedOptions(GLUE_ARGV, [option])


def test_a_missing_required_argument_is_a_glue_argument_error(utils: Any) -> None:
    with pytest.raises(utils.GlueArgumentError, match="--not_passed"):
        utils.getResolvedOptions(GLUE_ARGV, ["JOB_NAME", "not_passed"])


def test_a_bookmark_option_glue_does_not_know_is_refused(utils: Any) -> None:
    argv = [*GLUE_ARGV[:8], "enable", *GLUE_ARGV[9:]]
    with pytest.raises(utils.GlueArgumentError, match="invalid choice"):
        utils.getResolvedOptions(argv, ["JOB_NAME"])


def test_without_a_bookmark_option_bookmarks_are_disabled(utils: Any) -> None:
    argv = [a for i, a in enumerate(GLUE_ARGV) if i not in (7, 8)]
    assert utils.getResolvedOptions(argv, ["JOB_NAME"])["job_bookmark_option"] == (
        "job-bookmark-disable"
    )


def test_the_writer_takes_aws_signature_and_refuses_a_catalog_id(utils: Any) -> None:
    """DynamicFrameWriter.from_jdbc_conf has no catalog_id on Glue (only GlueContext's has)."""
    import awsglue.dynamicframe

    writer = awsglue.dynamicframe.DynamicFrameWriter(None)
    with pytest.raises(TypeError, match="catalog_id"):
        writer.from_jdbc_conf(None, "conn", {}, "s3://b/t/", "target", catalog_id="1")


def test_the_spark_engine_without_java_is_one_line_before_anything_starts(
    wcpipe: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no java here
    monkeypatch.delenv("JAVA_HOME", raising=False)
    for command in (["demo"], ["sandbox", "serve"]):
        result = wcpipe(*command, "--glue-engine", "spark")
        assert result.code == 2, result
        lines = result.err.strip().splitlines()
        assert lines == [
            "error: --glue-engine spark: the Spark engine needs a Java runtime (java not found "
            "on PATH): install Java 17, e.g. apt-get install openjdk-17-jre-headless "
            "(or use --glue-engine python)"
        ], result.err
        assert "starting the sandbox" not in result.err


ATTACHED = "arn:aws:iam::123456789012:role/attached"


@pytest.fixture
def copy_roles(utils: Any, sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """`check(host)`: the shim's COPY accepts ATTACHED on `host` and refuses another role."""
    import json

    import awsglue._redshift as redshift

    from wcpipe.sandbox.context import FAKE_CREDENTIALS

    monkeypatch.setenv("AWS_ENDPOINT_URL", sandbox.endpoint)
    monkeypatch.setenv("AWS_DEFAULT_REGION", sandbox.region)
    # Redshift's check of its roles is the sandbox's own lookup (`_runtime.sandbox_client`).
    runtime = {"sandbox_credentials": FAKE_CREDENTIALS}
    monkeypatch.setenv("WCPIPE_GLUE_RUNTIME", json.dumps(runtime))

    def check(host: str) -> None:
        redshift._check_role(host, ATTACHED)  # the attached role is accepted
        other = "arn:aws:iam::123456789012:role/not-attached"
        with pytest.raises(PermissionError, match=f"is not authorized to assume IAM Role {other}"):
            redshift._check_role(host, other)

    return check


def test_copy_refuses_a_role_the_cluster_does_not_have(sandbox: Any, copy_roles: Any) -> None:
    """Redshift assumes the connector's aws_iam_role only if the cluster lists it (IamRoles)."""
    cluster = sandbox.client("redshift").create_cluster(
        ClusterIdentifier="shim-copy",
        NodeType="ra3.large",
        MasterUsername="admin",
        MasterUserPassword="Passw0rd-not-used",
        IamRoles=[ATTACHED],
    )["Cluster"]
    copy_roles(cluster["Endpoint"]["Address"])


def test_copy_on_serverless_refuses_a_role_the_namespace_does_not_have(
    sandbox: Any, copy_roles: Any
) -> None:
    """On Serverless the roles COPY may assume are the workgroup's namespace's (iamRoles)."""
    rs = sandbox.client("redshift-serverless")
    rs.create_namespace(namespaceName="shim-copy", iamRoles=[ATTACHED], defaultIamRoleArn=ATTACHED)
    wg = rs.create_workgroup(workgroupName="shim-copy", namespaceName="shim-copy", baseCapacity=8)
    copy_roles(wg["workgroup"]["endpoint"]["address"])
