"""What AWS Glue does with its role's permissions while a crawler crawls or a job runs, asked of
the role in the sandbox (`actors.require` / `actors.may`) at the point the emulation does it.

Contract: each function below is one step the real service takes as the role, with the AWS
actions it needs; a fatal step raises `actors.RoleDenied` (the crawl or the run fails with its
`aws_error`), a quiet one (logs, metrics, ENI clean-up) returns False and the emulation skips it
as AWS does (the lines are missing, the ENI stays). The sessions are named as CloudTrail records
Glue's: "AWS-Crawler" for crawlers and "GlueJobRunnerSession" for job runs (Redshift's COPY:
"RedshiftIamRoleSession").

Sources, by step (AWSGlueServiceRole is moto/iam/aws_managed_policies.py's copy of the managed
policy AWS Glue's developer guide tells crawler and job roles to start from):
- reading the data: s3:ListBucket on the bucket (with s3:prefix, the path listed) and
  s3:GetObject on each object ("Crawler prerequisites": the inline policy for an S3 data store;
  the Service Authorization Reference, Amazon S3: ListObjects takes ListBucket);
- the catalog: glue:GetDatabase (catalog, database), glue:GetTable, CreateTable, UpdateTable
  (catalog, database, table) ("Specifying AWS Glue resource ARNs": a table action is authorised
  on the catalog, the database and the table);
- a connection: glue:GetConnection (catalog, connection), then secretsmanager:GetSecretValue on
  its SECRET_ID ("AWS Glue connection properties": SECRET_ID; the role reads the secret);
- a VPC connection's network interface (AWSGlueServiceRole's EC2 actions, the ones Glue needs
  to place an ENI: ec2:DescribeSubnets, DescribeSecurityGroups,
  DescribeVpcEndpoints, DescribeRouteTables, DescribeNetworkInterfaces on "*",
  DescribeVpcAttribute on the subnet's VPC, then CreateNetworkInterface on the subnet,
  security groups and network interface, its CreateTags with aws:TagKeys =
  aws-glue-service-resource, DeleteNetworkInterface at the end;
  "Setting up network access to data stores": the VPC's DNS attributes must be enabled, which
  Glue reads with DescribeVpcAttribute);
- a job's script and --extra-py-files: s3:GetObject ("Setting up IAM permissions for AWS
  Glue", step 2: the role reads the script);
- bookmarks: glue:GetJobBookmark on "*" (the Service Authorization Reference lists no resource
  type for it), for a job run with bookmarks enabled;
- the TempDir and COPY: the job role puts the staged rows and manifest under the TempDir
  (s3:PutObject), and Redshift, as the `aws_iam_role` it assumes, lists the TempDir and gets
  the manifest and the files (COPY usage notes, "IAM permissions for COPY": LIST the bucket and
  GET the objects and the manifest);
- the connector's checks of the TempDir's bucket before it writes (spark-redshift-community
  `RedshiftWriter.checkS3BucketUsage`): s3:GetBucketLocation (only for a JDBC URL that names
  the cluster's Region) and s3:GetLifecycleConfiguration on the bucket; a denial is quiet, a
  warning in the run's error log (`bucket_usage`);
- logs: logs:CreateLogGroup (a group that does not exist yet), CreateLogStream (a new stream) and
  PutLogEvents on /aws-glue/* (AWSGlueServiceRole's logs statement; `actors.may_log`);
- metrics: cloudwatch:PutMetricData with cloudwatch:namespace = Glue, for a job with
  --enable-metrics (AWSGlueServiceRole; "Monitoring AWS Glue using Amazon CloudWatch metrics");
  and with cloudwatch:namespace = wcpipe for the job's own counts (`may_publish`).
"""

from __future__ import annotations

import importlib.resources
import importlib.util
import uuid
import zlib
from functools import cache
from types import ModuleType
from typing import TYPE_CHECKING, Any

from wcpipe.sandbox import authz
from wcpipe.sandbox.patches.actors import arn, check, require, service_actor

if TYPE_CHECKING:
    from wcpipe.sandbox.context import SandboxView

CRAWLER_SESSION = "AWS-Crawler"
JOB_SESSION = "GlueJobRunnerSession"
REDSHIFT_SESSION = "RedshiftIamRoleSession"
GLUE_TAG_KEY = "aws-glue-service-resource"
DESCRIBE_FOR_ENI = (
    "DescribeSubnets DescribeSecurityGroups DescribeVpcEndpoints DescribeRouteTables "
    "DescribeNetworkInterfaces"
).split()


def _may(
    sandbox: SandboxView,
    actor: authz.Actor,
    action: str,
    target: str,
    context: dict[str, authz.ContextValue] | None = None,
) -> bool:
    return check(sandbox, actor, action, target, context) is None


def s3_uri(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def _object(bucket: str, key: str) -> str:
    return f"arn:aws:s3:::{bucket}/{key}"


def read_objects(
    sandbox: SandboxView, actor: authz.Actor, bucket: str, prefix: str, keys: list[str]
) -> None:
    """List `prefix` of `bucket`, then get each of `keys`."""
    context: dict[str, authz.ContextValue] = {"s3:prefix": prefix} if prefix else {}
    require(sandbox, actor, "s3:ListBucket", f"arn:aws:s3:::{bucket}", context)
    for key in keys:
        require(sandbox, actor, "s3:GetObject", _object(bucket, key))


def read_code(sandbox: SandboxView, actor: authz.Actor, uris: list[str]) -> None:
    for uri in uris:
        require(sandbox, actor, "s3:GetObject", _object(*s3_uri(uri)))


def _catalog(sandbox: SandboxView, database: str, table: str | None = None) -> list[str]:
    arns = [arn(sandbox, "glue", "catalog"), arn(sandbox, "glue", f"database/{database}")]
    if table is not None:
        arns.append(arn(sandbox, "glue", f"table/{database}/{table}"))
    return arns


def get_database(sandbox: SandboxView, actor: authz.Actor, database: str) -> None:
    require(sandbox, actor, "glue:GetDatabase", _catalog(sandbox, database))


def table_action(
    sandbox: SandboxView, actor: authz.Actor, action: str, database: str, table: str
) -> None:
    """glue:GetTable, CreateTable or UpdateTable on one table."""
    require(sandbox, actor, f"glue:{action}", _catalog(sandbox, database, table))


def use_connection(sandbox: SandboxView, actor: authz.Actor, name: str) -> str | None:
    """GetConnection, the secret behind it, and the network interface a VPC connection needs.
    Returns the ENI's id (for `release_interface`), or None without one."""
    require(
        sandbox,
        actor,
        "glue:GetConnection",
        [arn(sandbox, "glue", "catalog"), arn(sandbox, "glue", f"connection/{name}")],
    )
    connection = sandbox.backend("glue").connections.get(name)
    props = (connection.connection_properties or {}) if connection else {}
    secret = props.get("SECRET_ID")
    if secret:
        found = sandbox.backend("secretsmanager").secrets.get(secret)
        secret_arn = found.arn if found else arn(sandbox, "secretsmanager", f"secret:{secret}")
        require(sandbox, actor, "secretsmanager:GetSecretValue", secret_arn)
    inputs = (connection.connection_input or {}) if connection else {}
    physical = inputs.get("PhysicalConnectionRequirements") or {}
    subnet = physical.get("SubnetId")
    if not subnet:
        return None
    for action in DESCRIBE_FOR_ENI:
        require(sandbox, actor, f"ec2:{action}", "*")
    vpc = _vpc_of(sandbox, subnet)
    require(sandbox, actor, "ec2:DescribeVpcAttribute", arn(sandbox, "ec2", f"vpc/{vpc}"))
    eni = f"eni-{zlib.crc32(f'{name}/{subnet}'.encode()):08x}"
    targets = [
        arn(sandbox, "ec2", f"network-interface/{eni}"),
        arn(sandbox, "ec2", f"subnet/{subnet}"),
        *(
            arn(sandbox, "ec2", f"security-group/{g}")
            for g in physical.get("SecurityGroupIdList") or []
        ),
    ]
    require(sandbox, actor, "ec2:CreateNetworkInterface", targets)
    tags: dict[str, authz.ContextValue] = {"aws:TagKeys": [GLUE_TAG_KEY]}
    require(sandbox, actor, "ec2:CreateTags", targets[0], tags)
    return eni


def _vpc_of(sandbox: SandboxView, subnet: str) -> str:
    try:
        return str(sandbox.backend("ec2").get_subnet(subnet).vpc_id)
    except Exception:  # moto's InvalidSubnetIdError: Glue cannot place the ENI either
        return "*"


def release_interface(sandbox: SandboxView, actor: authz.Actor, eni: str | None) -> None:
    """DeleteNetworkInterface once the crawl or run ends (denied: the ENI stays, quietly)."""
    if eni:
        _may(
            sandbox,
            actor,
            "ec2:DeleteNetworkInterface",
            arn(sandbox, "ec2", f"network-interface/{eni}"),
        )


def get_bookmark(sandbox: SandboxView, actor: authz.Actor) -> None:
    require(sandbox, actor, "glue:GetJobBookmark", "*")


def stage_and_copy(
    sandbox: SandboxView,
    actor: authz.Actor,
    redshift_role: str,
    temp_dir: str,
    run_id: str,
) -> None:
    """The connector stages the rows and a manifest under the TempDir as the job role; COPY
    reads them as the Redshift role (no role: on the job role's session, as the connector
    does without `aws_iam_role`)."""
    bucket, base = s3_uri(temp_dir)
    run_dir = f"{base.rstrip('/')}/{run_id}/" if base else f"{run_id}/"
    manifest = _object(bucket, f"{run_dir}manifest.json")
    require(sandbox, actor, "s3:PutObject", manifest)
    copier = service_actor(sandbox, redshift_role, REDSHIFT_SESSION) if redshift_role else actor
    if copier is None:
        return
    require(sandbox, copier, "s3:ListBucket", f"arn:aws:s3:::{bucket}", {"s3:prefix": run_dir})
    require(sandbox, copier, "s3:GetObject", manifest)


@cache
def _bucket_checks() -> ModuleType:
    """The shim's `awsglue/_bucket_checks.py`, loaded from its file: it imports nothing, but
    the package `awsglue` is on the job's path only, never on the sandbox's."""
    path = importlib.resources.files("wcpipe.sandbox.glue_runtime") / "awsglue/_bucket_checks.py"
    spec = importlib.util.spec_from_file_location("wcpipe_awsglue_bucket_checks", str(path))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def bucket_usage(
    sandbox: SandboxView, actor: authz.Actor, connection: str, temp_dir: str
) -> list[str]:
    """The connector's checks of the TempDir's bucket (the shim's `_bucket_checks`), each S3
    call asked of the role first: the log lines they write. A denial is S3's AccessDenied
    quoted in a warning; the write goes on."""
    checks = _bucket_checks()
    s3 = sandbox.backend("s3")

    def asked(action: str, bucket: str) -> None:
        denied = check(sandbox, actor, action, f"arn:aws:s3:::{bucket}")
        if denied is not None:
            raise checks.S3Error(checks.sdk_message(denied.message, 403, _request_id()))

    def location(bucket: str) -> str | None:
        asked("s3:GetBucketLocation", bucket)
        return str(s3.get_bucket_location(bucket))

    def rules(bucket: str) -> list[dict[str, Any]]:
        asked("s3:GetLifecycleConfiguration", bucket)
        found = s3.get_bucket_lifecycle_configuration(bucket)
        if not found:  # S3's NoSuchLifecycleConfiguration
            message = "The lifecycle configuration does not exist"
            raise checks.S3Error(checks.sdk_message(message, 404, _request_id()))
        return [_rule(r) for r in found]

    glue = sandbox.backend("glue").connections.get(connection)
    url = str(((glue.connection_properties or {}) if glue else {}).get("JDBC_CONNECTION_URL", ""))
    lines: list[str] = checks.bucket_usage({}, url, temp_dir, location, rules)
    return lines


def _rule(rule: Any) -> dict[str, Any]:
    """A moto LifecycleRule as GetBucketLifecycleConfiguration's Rules item (Status, Filter)."""
    found: dict[str, Any] = {"Status": rule.status}
    if rule.filter is not None:
        prefix = rule.filter.prefix
        found["Filter"] = {"Prefix": prefix} if prefix is not None else {}
    return found


def _request_id() -> str:
    return uuid.uuid4().hex[:16].upper()  # S3's x-amz-request-id: 16 hex digits


def may_put_metrics(sandbox: SandboxView, actor: authz.Actor, arguments: dict[str, Any]) -> bool:
    if str(arguments.get("--enable-metrics", "")).lower() != "true":
        return True
    context: dict[str, authz.ContextValue] = {"cloudwatch:namespace": "Glue"}
    return _may(sandbox, actor, "cloudwatch:PutMetricData", "*", context)


def may_publish(sandbox: SandboxView, actor: authz.Actor, namespace: str) -> bool:
    """May the job's role put metrics in `namespace` (the job's own counts, datamap.metrics)?"""
    context: dict[str, authz.ContextValue] = {"cloudwatch:namespace": namespace}
    return _may(sandbox, actor, "cloudwatch:PutMetricData", "*", context)
