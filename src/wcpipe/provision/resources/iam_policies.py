"""IAM policy documents as pure data: the least-privilege inline policy of each service role
(`glue_policy`, `lambda_policy`, `redshift_policy`), scoped to this pipeline's ARNs, and the roles'
trust policy (`trust_policy`). The roles themselves are in `iam.py`.

Contract: every function here is a pure function of `Names` and the partition; no AWS call, so
tests and policy linters read the documents without AWS. `same_policy` compares documents as
normalized JSON (IAM may reorder nothing, but single-item lists and strings mean the same).
"""

from __future__ import annotations

import json
from typing import Any

from wcpipe.provision.artifacts import GLUE_LIBS_KEY
from wcpipe.spec.names import METRICS_NAMESPACE, Names

VERSION = "2012-10-17"
# What the crawlers and the job do to the catalog of their two databases (no deletes).
CATALOG_ACTIONS = [
    f"glue:{a}"
    for a in "BatchCreatePartition BatchGetPartition BatchUpdatePartition CreatePartition "
    "CreateTable GetDatabase GetDatabases GetPartition GetPartitions GetTable GetTables "
    "UpdatePartition UpdateTable".split()
]
# What Glue reads to place a network interface in the connection's subnet (AWSGlueServiceRole's
# EC2 Describe* actions, moto/iam/aws_managed_policies.py; the sandbox's Glue asks for each,
# sandbox/patches/glue_access). DescribeVpcAttribute, with which Glue checks the VPC's DNS
# attributes, takes a `vpc` resource (Service Authorization Reference, Amazon EC2): its own
# statement, scoped to the account's VPCs.
DESCRIBE_NETWORK_ACTIONS = [
    f"ec2:{a}"
    for a in "DescribeNetworkInterfaces DescribeRouteTables DescribeSecurityGroups "
    "DescribeSubnets DescribeVpcEndpoints DescribeVpcs".split()
]


def normalize(value: Any) -> Any:
    """A policy document in canonical form: a one-item list is its item, lists are sorted."""
    if isinstance(value, dict):
        return {k: normalize(v) for k, v in value.items()}
    if isinstance(value, list):
        items = [normalize(v) for v in value]
        if len(items) == 1:
            return items[0]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True))
    return value


def same_policy(a: Any, b: Any) -> bool:
    return json.dumps(normalize(a), sort_keys=True) == json.dumps(normalize(b), sort_keys=True)


def trust_policy(services: list[str], source_account: str | None = None) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Service": sorted(services) if len(services) > 1 else services[0]},
        "Action": "sts:AssumeRole",
    }
    if source_account:
        statement["Condition"] = {"StringEquals": {"aws:SourceAccount": source_account}}
    return {"Version": VERSION, "Statement": [statement]}


def _allow(
    sid: str, actions: list[str], resources: list[str] | str, **extra: Any
) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources, **extra}


class _Arns:
    def __init__(self, names: Names, partition: str) -> None:
        self.n = names
        self.p = partition

    def of(self, service: str, resource: str) -> str:
        return f"arn:{self.p}:{service}:{self.n.region}:{self.n.account_id}:{resource}"

    @property
    def bucket(self) -> str:
        return f"arn:{self.p}:s3:::{self.n.bucket}"

    def objects(self, key_or_prefix: str) -> str:
        return f"{self.bucket}/{key_or_prefix}"

    @property
    def data_bucket(self) -> str:
        """Where the data is: data.source's bucket (not ours), else the pipeline bucket."""
        return f"arn:{self.p}:s3:::{self.n.data_bucket}"

    def data_objects(self, prefix: str) -> str:
        return f"{self.data_bucket}/{prefix}"

    def list_prefixes(self, *prefixes: str) -> dict[str, Any]:
        """A ListBucket condition: only listings under these prefixes (with or without '/')."""
        values = sorted({v for p in prefixes for v in (p.rstrip("/"), f"{p}*")})
        return {"StringLike": {"s3:prefix": values}}


def glue_policy(names: Names, partition: str) -> dict[str, Any]:
    """What the Glue crawlers and the job may do: read the data and code, use the temp dir, keep
    the catalog of the two databases, read the connection and the admin secret, log, publish
    metrics, and attach network interfaces in the VPC."""
    a = _Arns(names, partition)
    dbs = (names.s3_database, names.redshift_database)
    catalog = [
        a.of("glue", "catalog"),
        *(a.of("glue", f"database/{db}") for db in dbs),
        *(a.of("glue", f"table/{db}/*") for db in dbs),
    ]
    eni = a.of("ec2", "network-interface/*")
    temp = names.glue_temp_prefix
    # data.source: the data is in a bucket that is not ours, and the role reads that prefix only
    # (list under it, get its objects; nothing else in that bucket, and never a write).
    source = names.source_bucket is not None
    listed = (temp,) if source else (names.prefix, temp)
    statements = [
        # Glue's Redshift connector checks the TempDir's bucket before it writes
        # (spark-redshift-community RedshiftWriter.scala `checkS3BucketUsage`; Utils.scala
        # `getRegionForS3Bucket`, for a JDBC URL that names the cluster's Region, and
        # `checkThatBucketHasObjectLifecycleConfiguration`); denied, it only warns in every
        # run's log. Only our bucket: the connector checks no other (not data.source's).
        _allow(
            "TempDirChecks",
            ["s3:GetBucketLocation", "s3:GetLifecycleConfiguration"],
            a.bucket,
        ),
        _allow(
            "ListDataAndTemp",
            ["s3:ListBucket"],
            a.bucket,
            Condition=a.list_prefixes(*listed),
        ),
        *(
            [
                _allow(
                    "ListSource",
                    ["s3:ListBucket"],
                    a.data_bucket,
                    Condition=a.list_prefixes(names.prefix),
                )
            ]
            if source
            else []
        ),
        _allow("ReadData", ["s3:GetObject"], a.data_objects(f"{names.prefix}*")),
        _allow(
            "ReadCode",
            ["s3:GetObject"],
            [a.objects(names.glue_script_key), a.objects(GLUE_LIBS_KEY)],
        ),
        _allow(
            "TempDir",
            ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"],
            a.objects(f"{temp}*"),
        ),
        _allow("Catalog", CATALOG_ACTIONS, catalog),
        # No glue:GetDatabase on `default`: a job reads it at start only with the Data Catalog as
        # its Spark SQL (Hive) metastore, which the `--enable-glue-datacatalog` argument turns on
        # (AWS Glue Developer Guide, "AWS Glue Data Catalog support for Spark SQL jobs"); this
        # job does not pass it (glue_jobs.py) and reads its table through a dynamic frame.
        _allow(
            "Connection",
            ["glue:GetConnection"],
            [a.of("glue", "catalog"), a.of("glue", f"connection/{names.connection}")],
        ),
        # The job-bookmark actions have no resource type in IAM: "*" is the only form. The job
        # only reads its bookmark; resetting one is an operator's act, not the job's.
        _allow("Bookmarks", ["glue:GetJobBookmark"], "*"),
        _allow(
            "Logs",
            ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            [a.of("logs", "log-group:/aws-glue/*"), a.of("logs", "log-group:/aws-glue/*:*")],
        ),
        _allow(
            "AdminSecret",
            ["secretsmanager:GetSecretValue"],
            # Secrets Manager appends six random characters to a secret's ARN.
            a.of("secretsmanager", f"secret:{names.secret}-??????"),
        ),
        _allow(
            "NetworkInterfaces",
            ["ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface"],
            [eni, a.of("ec2", "subnet/*"), a.of("ec2", "security-group/*")],
        ),
        _allow(
            "TagNetworkInterfaces",
            ["ec2:CreateTags", "ec2:DeleteTags"],
            eni,
            # AWSGlueServiceRole's own condition, plus the guard it lacks: ForAllValues holds
            # for a request without tag keys too (IAM User Guide, "Multivalued context key
            # examples"), and a DeleteTags without Tags deletes every tag of the resource
            # (Amazon EC2 API Reference, DeleteTags: "If you omit this parameter, we delete
            # all user-defined tags for the specified resources").
            Condition={
                "ForAllValues:StringEquals": {"aws:TagKeys": ["aws-glue-service-resource"]},
                "Null": {"aws:TagKeys": "false"},
            },
        ),
        # EC2's Describe* actions do not support resource-level permissions: AWS accepts only
        # "*" for them. They read network metadata and change nothing.
        _allow("DescribeNetwork", DESCRIBE_NETWORK_ACTIONS, "*"),
        _allow("VpcAttributes", ["ec2:DescribeVpcAttribute"], a.of("ec2", "vpc/*")),
        # PutMetricData has no resource type either; the namespace condition scopes it: Glue's
        # own job metrics and the job's counts (datamap/metrics.py). "Use the
        # cloudwatch:namespace condition key to limit PutMetricData to certain namespaces"
        # (Amazon CloudWatch User Guide, "Using condition keys to limit access to CloudWatch
        # namespaces").
        _allow(
            "Metrics",
            ["cloudwatch:PutMetricData"],
            "*",
            Condition={"StringEquals": {"cloudwatch:namespace": ["Glue", METRICS_NAMESPACE]}},
        ),
    ]
    return {"Version": VERSION, "Statement": statements}


def lambda_policy(names: Names, partition: str, on_arrival: bool = False) -> dict[str, Any]:
    """Start and watch this pipeline's Glue job; write to the function's own log group (which
    wcpipe creates, so no CreateLogGroup). With trigger on-arrival also: start this S3 crawler
    and read its last crawl (GetCrawler), and list the data prefix, so that objects that arrived
    during a crawl get another (lambda/handler.py); nothing else."""
    a = _Arns(names, partition)
    arrival = [
        _allow(
            "StartCrawler",
            ["glue:GetCrawler", "glue:StartCrawler"],
            a.of("glue", f"crawler/{names.s3_crawler}"),
        ),
        _allow(
            "ListArrivals",
            ["s3:ListBucket"],
            a.bucket,
            Condition=a.list_prefixes(names.prefix),
        ),
    ]
    return {
        "Version": VERSION,
        "Statement": [
            *(arrival if on_arrival else []),
            _allow(
                "StartJob",
                ["glue:GetJobRun", "glue:GetJobRuns", "glue:StartJobRun"],
                a.of("glue", f"job/{names.job}"),
            ),
            _allow(
                "Logs",
                ["logs:CreateLogStream", "logs:PutLogEvents"],
                a.of("logs", f"log-group:{names.function_log_group}:*"),
            ),
        ],
    }


def redshift_policy(names: Names, partition: str) -> dict[str, Any]:
    """What COPY from the Glue job's TempDir needs, and nothing more. Glue's Redshift connector
    stages the rows (with a manifest) under the TempDir and runs COPY as this role (the
    connector's `aws_iam_role`, which the job passes). COPY from Amazon S3 needs "permission to
    LIST the Amazon S3 bucket and GET the Amazon S3 objects that are being loaded, and the
    manifest file, if one is used" (Amazon Redshift Database Developer Guide, COPY usage notes,
    "Permissions to access other AWS resources": IAM permissions for COPY, UNLOAD, and CREATE
    LIBRARY). So: GetObject on the TempDir's objects, ListBucket on the bucket only for listings
    under the TempDir. Nothing loads the data prefix with this role: the job reads the crawled
    table itself and COPY only ever reads what the connector staged."""
    a = _Arns(names, partition)
    temp = names.glue_temp_prefix
    return {
        "Version": VERSION,
        "Statement": [
            _allow("ReadTempDir", ["s3:GetObject"], a.objects(f"{temp}*")),
            _allow("ListTempDir", ["s3:ListBucket"], a.bucket, Condition=a.list_prefixes(temp)),
        ],
    }


def alerts_topic_policy(names: Names, partition: str) -> dict[str, Any]:
    """The alert topic's policy: only the pipeline's own publishers may publish. EventBridge
    only for this pipeline's alert rules (aws:SourceArn, the rules' exact ARNs), CloudWatch only
    for this pipeline's alarms in this account (aws:SourceArn by the alarms' name prefix and
    aws:SourceAccount). Both services present those keys when they publish for a rule or an
    alarm (Amazon SNS Developer Guide, "Example cases for Amazon SNS access control": "Allow
    ... publish ... from a CloudWatch alarm / an EventBridge rule", and the confused-deputy
    advice on aws:SourceArn and aws:SourceAccount). No statement names an account principal:
    the account's own users and roles reach the topic through their IAM policies."""
    a = _Arns(names, partition)
    topic = a.of("sns", names.alerts_topic)
    rules = sorted(
        a.of("events", f"rule/{r}") for r in (names.job_failed_rule, names.crawl_failed_rule)
    )
    alarms = a.of("cloudwatch", f"alarm:{names.base}-*")
    eventbridge = _allow(
        "EventBridgeRules",
        ["sns:Publish"],
        topic,
        Condition={"ArnEquals": {"aws:SourceArn": rules}},
    )
    cloudwatch = _allow(
        "CloudWatchAlarms",
        ["sns:Publish"],
        topic,
        Condition={
            "ArnLike": {"aws:SourceArn": alarms},
            "StringEquals": {"aws:SourceAccount": names.account_id},
        },
    )
    eventbridge["Principal"] = {"Service": "events.amazonaws.com"}
    cloudwatch["Principal"] = {"Service": "cloudwatch.amazonaws.com"}
    return {"Version": VERSION, "Id": names.alerts_topic, "Statement": [eventbridge, cloudwatch]}
