"""Physical names and ARNs, derived from the spec: the one place a name is spelled.

Every physical name starts with `wcpipe-<name>` (Glue databases, which prefer underscores, with
`wcpipe_<name>`), and every resource carries the ownership tag `wcpipe:pipeline = <name>`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from wcpipe.datamap.metrics import NAMESPACE

if TYPE_CHECKING:  # model.py imports this module (to check the names a pipeline name makes)
    from wcpipe.spec.model import Spec

OWNER_TAG = "wcpipe:pipeline"
# The Glue job's TempDir, inside the pipeline bucket: Glue's Redshift connector stages rows there
# for COPY and never deletes them (the bucket's lifecycle rule does, `resources/s3.py`).
GLUE_TEMP_PREFIX = "wcpipe/tmp/"
# Where the Athena workgroup writes query results: outside the data prefix, since Athena reads
# every object under a table's location ("Specify a table location in Amazon S3", Athena guide).
ATHENA_RESULTS_PREFIX = "wcpipe/athena-results/"
# The CloudWatch namespace of the job's counts (rows read, dropped, loaded, rejected), one for
# every pipeline, told apart by the dimension JobName (datamap/metrics.py); the Glue role may
# publish only here and in Glue's own namespace (iam_policies.glue_policy).
METRICS_NAMESPACE = NAMESPACE


def base_name(pipeline: str) -> str:
    """The prefix of every physical name of a pipeline."""
    return f"wcpipe-{pipeline}"


def cluster_identifier(pipeline: str) -> str:
    """The Redshift cluster's identifier (`Names.cluster`)."""
    return base_name(pipeline)


def cluster_identifier_problem(identifier: str) -> str | None:
    """Why CreateCluster would refuse `identifier` as a ClusterIdentifier, or None. Its
    constraints (Amazon Redshift API Reference, CreateCluster, ClusterIdentifier; the same text
    in botocore's redshift service model): 1 to 63 alphanumeric characters or hyphens, letters
    lowercase, the first character a letter, not ending with a hyphen, no two consecutive
    hyphens."""
    if not 1 <= len(identifier) <= 63:
        return "it must be 1 to 63 characters long"
    if not re.fullmatch(r"[a-z0-9-]+", identifier):
        return "it may hold only lowercase letters, digits and hyphens"
    if not identifier[0].isalpha():
        return "its first character must be a letter"
    if identifier.endswith("-"):
        return "it cannot end with a hyphen"
    if "--" in identifier:
        return "it cannot contain two consecutive hyphens"
    return None


# Log groups AWS Glue writes to, whatever the pipeline (AWS Glue developer guide, "Monitoring
# with Amazon CloudWatch": a job's output and error streams are named after the run id; crawler
# streams after the crawler).
GLUE_JOB_OUTPUT_LOG_GROUP = "/aws-glue/jobs/output"
GLUE_JOB_ERROR_LOG_GROUP = "/aws-glue/jobs/error"
GLUE_JOB_LOG_GROUPS = (GLUE_JOB_OUTPUT_LOG_GROUP, GLUE_JOB_ERROR_LOG_GROUP)
GLUE_CRAWLER_LOG_GROUP = "/aws-glue/crawlers"


def catalog_table_name(prefix: str) -> str:
    """The table Glue's crawler creates for an S3 folder: its last path segment, sanitized."""
    last = prefix.rstrip("/").rsplit("/", 1)[-1]
    return re.sub(r"[^a-z0-9_]", "_", last.lower())


@dataclass(frozen=True)
class Names:
    pipeline: str
    account_id: str
    region: str
    bucket_override: str | None
    prefix: str
    database: str
    schema: str
    table: str
    # data.source's bucket: data already in S3, not the pipeline's (None: the data is uploaded
    # into the pipeline's bucket under `prefix`).
    source_bucket: str | None = None

    @classmethod
    def of(cls, spec: Spec, account_id: str, region: str) -> Names:
        return cls(
            pipeline=spec.name,
            account_id=account_id,
            region=region,
            bucket_override=spec.data.bucket,
            prefix=spec.data.source_prefix or spec.data.prefix,
            database=spec.warehouse.database,
            schema=spec.table.schema_,
            table=spec.table.name,
            source_bucket=spec.data.source_bucket,
        )

    @property
    def base(self) -> str:
        return base_name(self.pipeline)

    @property
    def snake(self) -> str:
        return f"wcpipe_{self.pipeline.replace('-', '_')}"

    # S3 ------------------------------------------------------------------------------------
    @property
    def bucket(self) -> str:
        return self.bucket_override or f"{self.base}-{self.account_id}-{self.region}"

    @property
    def glue_script_key(self) -> str:
        return "wcpipe/glue/load.py"

    @property
    def lambda_package_key(self) -> str:
        return "wcpipe/lambda/start_job.zip"

    @property
    def glue_temp_prefix(self) -> str:
        return GLUE_TEMP_PREFIX

    @property
    def glue_temp_dir(self) -> str:
        return f"s3://{self.bucket}/{self.glue_temp_prefix}"

    @property
    def data_bucket(self) -> str:
        """Where the data is: data.source's bucket, else the pipeline's."""
        return self.source_bucket or self.bucket

    @property
    def data_uri(self) -> str:
        """The folder the S3 crawler catalogs and the job loads: `data_bucket` and `prefix`."""
        return f"s3://{self.data_bucket}/{self.prefix}"

    @property
    def athena_results_uri(self) -> str:
        return f"s3://{self.bucket}/{ATHENA_RESULTS_PREFIX}"

    # IAM -----------------------------------------------------------------------------------
    @property
    def glue_role(self) -> str:
        return f"{self.base}-glue"

    @property
    def lambda_role(self) -> str:
        return f"{self.base}-lambda"

    @property
    def redshift_role(self) -> str:
        return f"{self.base}-redshift"

    def role_arn(self, role: str, partition: str = "aws") -> str:
        return f"arn:{partition}:iam::{self.account_id}:role/{role}"

    # Secrets, network, warehouse -------------------------------------------------------------
    @property
    def secret(self) -> str:
        return f"{self.base}/redshift-admin"

    @property
    def security_group(self) -> str:
        return self.base

    @property
    def cluster(self) -> str:
        return cluster_identifier(self.pipeline)

    @property
    def cluster_subnet_group(self) -> str:
        return self.base

    @property
    def namespace(self) -> str:
        return self.base

    @property
    def athena_workgroup(self) -> str:
        return self.base

    @property
    def workgroup(self) -> str:
        return self.base

    # Glue ----------------------------------------------------------------------------------
    @property
    def classifier(self) -> str:
        return f"{self.base}-csv"

    @property
    def s3_database(self) -> str:
        return f"{self.snake}_s3"

    @property
    def redshift_database(self) -> str:
        return f"{self.snake}_redshift"

    @property
    def connection(self) -> str:
        return f"{self.base}-redshift"

    @property
    def s3_crawler(self) -> str:
        return f"{self.base}-s3-crawler"

    @property
    def redshift_crawler(self) -> str:
        return f"{self.base}-redshift-crawler"

    @property
    def job(self) -> str:
        return f"{self.base}-load"

    @property
    def source_table(self) -> str:
        """The catalog table the S3 crawler creates."""
        return catalog_table_name(self.prefix)

    @property
    def redshift_catalog_table(self) -> str:
        """The catalog table the JDBC crawler creates: <db>_<schema>_<table>."""
        return f"{self.database}_{self.schema}_{self.table}"

    @property
    def jdbc_include_path(self) -> str:
        return f"{self.database}/{self.schema}/{self.table}"

    # Lambda, EventBridge, logs ---------------------------------------------------------------
    @property
    def function(self) -> str:
        return f"{self.base}-start-job"

    @property
    def function_log_group(self) -> str:
        return f"/aws/lambda/{self.function}"

    @property
    def rule(self) -> str:
        return f"{self.base}-crawler-succeeded"

    @property
    def permission_sid(self) -> str:
        return f"{self.base}-events-invoke"

    @property
    def arrival_rule(self) -> str:
        """trigger on-arrival: the rule on objects created under the prefix."""
        return f"{self.base}-object-created"

    @property
    def arrival_permission_sid(self) -> str:
        return f"{self.base}-arrival-invoke"

    @property
    def job_succeeded_rule(self) -> str:
        """trigger on-arrival: the rule on the job's runs that succeeded (objects that arrived
        while the run went get another crawl)."""
        return f"{self.base}-job-succeeded"

    @property
    def job_succeeded_permission_sid(self) -> str:
        return f"{self.base}-job-succeeded-invoke"

    # Alerts: SNS, the rules and alarms that publish to it, the job's metrics -----------------
    @property
    def alerts_topic(self) -> str:
        return f"{self.base}-alerts"

    @property
    def job_failed_rule(self) -> str:
        return f"{self.base}-job-failed"

    @property
    def crawl_failed_rule(self) -> str:
        return f"{self.base}-crawl-failed"

    @property
    def lambda_errors_alarm(self) -> str:
        return f"{self.base}-lambda-errors"

    @property
    def rejected_values_alarm(self) -> str:
        return f"{self.base}-rejected-values"

    @property
    def no_load_alarm(self) -> str:
        return f"{self.base}-no-load"

    @property
    def metrics_namespace(self) -> str:
        """Where the job publishes its counts (dimension JobName = `job`)."""
        return METRICS_NAMESPACE
