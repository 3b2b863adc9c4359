"""The shim `awsglue` keeps AWS's argument rules (awslabs/aws-glue-libs `awsglue/utils.py`):
what Glue's own parser refuses, it refuses, so the script cannot pass here and fail on Glue. Its
Redshift writer refuses the COPY roles Redshift refuses and makes the connector's checks of the
TempDir's bucket, with their log lines (`_redshift`, `_bucket_checks`)."""

from __future__ import annotations

import argparse
import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
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


# The connector's checks of the TempDir's bucket (RedshiftWriter.checkS3BucketUsage): the shim's
# with the job role's boto3 client through the sandbox, the fast engine's asked of the role
# (glue_access.bucket_usage); both print the same lines.
CLUSTER_URL = "jdbc:redshift://wcpipe-x.abc123xyz789.us-east-1.redshift.amazonaws.com:5439/dev"
TEMP_DIR = "s3://shim-checks/wcpipe/glue-temp/"
NO_LIFECYCLE = (
    "WARN Utils$: The S3 bucket shim-checks does not have an object lifecycle configuration "
    "to ensure cleanup of temporary files. Consider configuring `tempdir` to point to a bucket "
    "with an object lifecycle policy that automatically deletes files after an expiration "
    "period. For more information, see "
    "https://docs.aws.amazon.com/AmazonS3/latest/dev/object-lifecycle-mgmt.html"
)
READ_FAILED = "WARN Utils$: An error occurred while trying to read the S3 bucket lifecycle "
READ_FAILED += "configuration: "
REGION_FAILED = "WARN Utils$: An error occurred while trying to determine the S3 bucket's region: "


@dataclass
class Checks:
    """`lines(options, url)`: what the shim's checks print, as the role `role` (set by
    `as_role`); `engine_lines(url)`: the fast engine's, as the same role."""

    sandbox: Any
    redshift: Any
    capsys: pytest.CaptureFixture[str]
    monkeypatch: pytest.MonkeyPatch
    actor: Any = None

    def as_role(self, name: str, actions: list[str]) -> None:
        from wcpipe.sandbox.authz import Actor
        from wcpipe.sandbox.patches import actors, glue_access

        iam = self.sandbox.client("iam")
        trust = {"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                "Principal": {"Service": "glue.amazonaws.com"}}]}  # fmt: skip
        arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
        allow = {"Effect": "Allow", "Action": actions, "Resource": "arn:aws:s3:::shim-checks"}
        policy = {"Version": "2012-10-17", "Statement": [allow]}
        iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
        role = arn["Role"]["Arn"]
        for key, value in actors.assume(self.sandbox, role, glue_access.JOB_SESSION).items():
            self.monkeypatch.setenv(key, value)
        # boto3's default session keeps the credentials it first found (a Glue run is a new
        # process each time): the next `boto3.client` reads these.
        self.monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
        self.actor = Actor(role, glue_access.JOB_SESSION)

    def lines(self, options: dict[str, Any] | None = None, url: str = CLUSTER_URL) -> list[str]:
        self.capsys.readouterr()
        self.redshift.check_bucket_usage(options or {}, url, TEMP_DIR)
        captured = self.capsys.readouterr()
        assert captured.out == ""
        return captured.err.splitlines()

    def engine_lines(self, url: str = CLUSTER_URL) -> list[str]:
        from wcpipe.sandbox.patches import glue_access

        glue = self.sandbox.client("glue")
        with contextlib.suppress(glue.exceptions.EntityNotFoundException):
            glue.delete_connection(ConnectionName="shim-checks")
        glue.create_connection(
            ConnectionInput={
                "Name": "shim-checks",
                "ConnectionType": "JDBC",
                "ConnectionProperties": {"JDBC_CONNECTION_URL": url},
            }
        )
        return list(glue_access.bucket_usage(self.sandbox, self.actor, "shim-checks", TEMP_DIR))


@pytest.fixture
def checks(
    utils: Any, sandbox: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[Checks]:
    import awsglue._redshift as redshift

    from wcpipe.sandbox.patches.actors import denials

    monkeypatch.setenv("AWS_ENDPOINT_URL", sandbox.endpoint)
    monkeypatch.setenv("AWS_DEFAULT_REGION", sandbox.region)
    s3 = sandbox.client("s3")
    s3.create_bucket(Bucket="shim-checks")
    denials(sandbox).clear()
    found = Checks(sandbox, redshift, capsys, monkeypatch)
    found.as_role("shim-checks", ["s3:GetBucketLocation", "s3:GetLifecycleConfiguration"])
    yield found
    s3.delete_bucket(Bucket="shim-checks")
    iam = sandbox.client("iam")
    for role in iam.list_roles()["Roles"]:
        if role["RoleName"].startswith("shim-checks"):
            iam.delete_role_policy(RoleName=role["RoleName"], PolicyName="p")
            iam.delete_role(RoleName=role["RoleName"])


def _rules(sandbox: Any, *rules: dict[str, Any]) -> None:
    sandbox.client("s3").put_bucket_lifecycle_configuration(
        Bucket="shim-checks", LifecycleConfiguration={"Rules": list(rules)}
    )


def _expire(prefix: str | None, status: str = "Enabled") -> dict[str, Any]:
    found: dict[str, Any] = {"ID": f"r-{prefix}", "Status": status, "Expiration": {"Days": 1}}
    found["Filter"] = {} if prefix is None else {"Prefix": prefix}
    return found


def _without_ids(lines: list[str]) -> list[str]:
    """The lines with the SDK's request details cut (each request has its own ids)."""
    return [line.split(" (Service: S3, Status Code: ")[0] for line in lines]


def test_bucket_checks_the_temp_dir_rule_wcpipe_puts_is_quiet(checks: Checks) -> None:
    """s3.py's rule on the TempDir's prefix is the one the connector looks for: no line."""
    from wcpipe.provision.resources.s3 import temp_dir_rule

    _rules(checks.sandbox, temp_dir_rule("wcpipe/glue-temp/"))
    assert checks.lines() == []
    assert checks.engine_lines() == []


AND_FILTER = {"And": {"Prefix": "elsewhere/", "Tags": [{"Key": "k", "Value": "v"}]}}


@pytest.mark.parametrize(
    "rule",
    [_expire(None), _expire(""), _expire("wcpipe/"), {**_expire(None), "Filter": AND_FILTER}],
    ids=["no-prefix", "empty-prefix", "parent-prefix", "and-filter"],
)
def test_bucket_checks_a_rule_covering_the_prefix_is_quiet(
    checks: Checks, rule: dict[str, Any]
) -> None:
    """Utils.scala: an enabled rule with no filter prefix (an And's is not read) or a prefix the
    TempDir's key starts with."""
    _rules(checks.sandbox, rule)
    assert checks.lines() == []
    assert checks.engine_lines() == []


@pytest.mark.parametrize(
    "rule",
    [_expire("raw/"), _expire("wcpipe/glue-temp/other/"), _expire(None, status="Disabled")],
    ids=["other-prefix", "deeper-prefix", "disabled"],
)
def test_bucket_checks_a_rule_not_covering_the_prefix_warns(
    checks: Checks, rule: dict[str, Any]
) -> None:
    _rules(checks.sandbox, rule)
    assert checks.lines() == [NO_LIFECYCLE]
    assert checks.engine_lines() == [NO_LIFECYCLE]


def test_bucket_checks_no_lifecycle_configuration_is_the_error_warning(checks: Checks) -> None:
    """S3 answers NoSuchLifecycleConfiguration: the connector's catch, not the missing rule."""
    [line] = checks.lines()
    assert line.startswith(READ_FAILED + "The lifecycle configuration does not exist "), line
    assert "(Service: S3, Status Code: 404, Request ID: " in line
    assert _without_ids(checks.engine_lines()) == _without_ids([line])


def test_bucket_checks_denied_are_warnings_and_the_role_is_named(checks: Checks) -> None:
    from wcpipe.sandbox.patches.actors import denials

    _rules(checks.sandbox, _expire(None))
    checks.as_role("shim-checks-denied", ["s3:GetObject"])
    lines = checks.lines()
    session = f"assumed-role/shim-checks-denied/{checks.actor.session}"
    assert [line.split(": ")[0] for line in lines] == ["WARN Utils$"] * 2
    for line, (warning, action) in zip(
        lines,
        [(REGION_FAILED, "s3:GetBucketLocation"), (READ_FAILED, "s3:GetLifecycleConfiguration")],
        strict=True,
    ):
        assert line.startswith(f"{warning}User: arn:aws:sts::{checks.sandbox.account_id}:"), line
        assert f"{session} is not authorized to perform: {action}" in line
        assert "(Service: S3, Status Code: 403, Request ID: " in line
    assert [d.action for d in denials(checks.sandbox)] == [
        "s3:GetBucketLocation",
        "s3:GetLifecycleConfiguration",
    ]
    assert _without_ids(checks.engine_lines()) == _without_ids(lines)


def test_bucket_checks_turned_off_make_no_call(checks: Checks) -> None:
    from wcpipe.sandbox.patches.actors import denials

    checks.as_role("shim-checks-denied", ["s3:GetObject"])
    assert checks.lines({"check_s3_bucket_usage": "FALSE"}) == []
    assert denials(checks.sandbox) == []
    with pytest.raises(ValueError, match='For input string: "no"'):  # Scala's toBoolean
        checks.lines({"check_s3_bucket_usage": "no"})


def test_bucket_checks_ask_the_region_only_of_a_url_naming_it(checks: Checks) -> None:
    """Serverless endpoints (and proxies) name no cluster Region: no GetBucketLocation."""
    from wcpipe.sandbox.patches.actors import denials

    checks.as_role("shim-checks-denied", ["s3:GetObject"])
    url = "jdbc:redshift://wg.123456789012.us-east-1.redshift-serverless.amazonaws.com:5439/dev"
    assert [line.startswith(READ_FAILED) for line in checks.lines(url=url)] == [True]
    assert [d.action for d in denials(checks.sandbox)] == ["s3:GetLifecycleConfiguration"]


def test_bucket_checks_another_region_is_an_error_unless_tempdir_region(checks: Checks) -> None:
    _rules(checks.sandbox, _expire(None))
    url = CLUSTER_URL.replace("us-east-1", "eu-west-1")
    error = (
        "ERROR Utils$: The Redshift cluster and S3 bucket are in different regions (eu-west-1 "
        "and us-east-1, respectively). In order to perform this cross-region operation, you "
        "should set the tempdir_region parameter to 'us-east-1'. For more details on "
        "cross-region usage, see the README."
    )
    assert checks.lines(url=url) == [error]
    assert checks.engine_lines(url=url) == [error]
    assert checks.lines({"tempdir_region": "us-east-1"}, url=url) == []
