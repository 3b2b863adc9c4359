"""The Redshift connector's checks of the TempDir's bucket before a write (spark-redshift-community
`RedshiftWriter.checkS3BucketUsage`, the functions of `Utils.scala` it calls), as one function of
what S3 answers: `bucket_usage(...)` returns the log lines the connector writes.

Contract:
- S3 is asked through the two callables the caller passes (`location(bucket)`: GetBucketLocation's
  LocationConstraint; `lifecycle_rules(bucket)`: GetBucketLifecycleConfiguration's Rules, as
  boto3 returns them), only when and in the order the connector asks. A callable that fails
  raises; `str()` of what it raises is the SDK's `getMessage()` (`sdk_message` builds it from
  S3's error), which the connector's warning quotes. Nothing it raises fails the write.
- Each line is as log4j writes the connector's `log.warn`/`log.error` of `Utils` (Spark's
  default layout `%p %c{1}: %m`, without the date): `WARN Utils$: <text>`.
- Pure: it imports nothing of the shim or of wcpipe, so the sandbox's fast engine loads this
  file too (patches/glue_access) and both engines print the same lines.

Mirrored: only the CSV/Avro path's region check (`checkRedshiftAndS3OnSameRegion`); the
Parquet variant, which also refuses a cross-region write, is not: the shim writes CSV only.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

LOGGER = "Utils$"  # Utils.scala: LoggerFactory.getLogger(getClass) in `object Utils`
# Utils.getRegionForRedshiftCluster: a provisioned cluster's endpoint names its Region; a
# Serverless workgroup's (<wg>.<account>.<region>.redshift-serverless.amazonaws.com) does not
# match, and nor does a proxy's.
CLUSTER_REGION = re.compile(r".*\.([^.]+)\.redshift\.amazonaws\.com.*")
# The warnings of the two checks' `catch { case NonFatal(e) => log.warn("...: {}", e.getMessage) }`
LOCATION_FAILED = "An error occurred while trying to determine the S3 bucket's region: "
LIFECYCLE_FAILED = "An error occurred while trying to read the S3 bucket lifecycle configuration: "


class S3Error(Exception):
    """What the S3 client raised; `str()` is the SDK's message."""


def sdk_message(
    message: str, status: int, request_id: str | None, extended_id: str | None = None
) -> str:
    """AWS SDK for Java v2 `AwsServiceException.getMessage()`: S3's message, then the details."""
    details = [f"Service: S3, Status Code: {status}, Request ID: {request_id}"]
    if extended_id is not None:
        details.append(f"Extended Request ID: {extended_id}")
    return f"{message} ({', '.join(details)})"


def enabled(options: dict[str, Any]) -> bool:
    """Parameters.scala `checkS3BucketUsage`: `check_s3_bucket_usage` (default "true") read with
    Scala's `toBoolean`, which refuses anything but true or false (any case)."""
    value = str(options.get("check_s3_bucket_usage", "true"))
    if value.lower() not in ("true", "false"):
        raise ValueError(f'For input string: "{value}"')
    return value.lower() == "true"


def cluster_region(jdbc_url: str) -> str | None:
    """Utils.getRegionForRedshiftCluster: the Region the JDBC URL names, if it names one."""
    found = CLUSTER_REGION.fullmatch(jdbc_url)
    return found.group(1) if found else None


def s3_location(uri: str) -> tuple[str, str]:
    """Utils.fixS3Url then parseS3Location: (bucket, key) of an s3, s3a or s3n URI, path-style
    when the host is s3.amazonaws.com."""
    parsed = urlparse(re.sub(r"s3[an]://", "s3://", uri))
    if parsed.scheme != "s3":
        raise ValueError(f"Not an S3 URI: {uri}")
    path = parsed.path.removeprefix("/")
    if parsed.netloc == "s3.amazonaws.com":
        bucket, _, key = path.partition("/")
    else:
        bucket, key = parsed.netloc, path
    if not bucket:
        raise ValueError("Could not get bucket from S3 URI")
    return bucket, key


def _line(level: str, text: str) -> str:
    return f"{level} {LOGGER}: {text}"


def same_region(
    jdbc_url: str,
    options: dict[str, Any],
    temp_dir: str,
    location: Callable[[str], str | None],
) -> list[str]:
    """Utils.checkRedshiftAndS3OnSameRegion: the bucket's Region is asked only when the URL
    names the cluster's (a for-comprehension over the two Options); an error when they differ
    and no `tempdir_region` is set."""
    cluster = cluster_region(jdbc_url)
    if cluster is None:
        return []
    try:  # Utils.getRegionForS3Bucket: "US Standard" (null, "" or "US") is us-east-1
        constraint = location(s3_location(temp_dir)[0])
        bucket = "us-east-1" if constraint in (None, "", "US") else str(constraint)
    except Exception as exc:  # NonFatal(e): warned, and no comparison
        return [_line("WARN", f"{LOCATION_FAILED}{exc}")]
    if cluster == bucket or options.get("tempdir_region"):
        return []
    return [
        _line(
            "ERROR",
            "The Redshift cluster and S3 bucket are in different regions "
            f"({cluster} and {bucket}, respectively). In order to perform this cross-region "
            f"operation, you should set the tempdir_region parameter to '{bucket}'. "
            "For more details on cross-region usage, see the README.",
        )
    ]


def covers(rule: dict[str, Any], key: str) -> bool:
    """Does an enabled lifecycle rule apply to the TempDir's key: no filter, a filter without a
    prefix (a tag or an And), or a prefix the key starts with (Utils.scala's `rules.exists`)."""
    if rule.get("Status") != "Enabled":
        return False
    prefix = (rule.get("Filter") or {}).get("Prefix")
    return prefix is None or key.startswith(prefix)


def lifecycle(temp_dir: str, lifecycle_rules: Callable[[str], list[dict[str, Any]]]) -> list[str]:
    """Utils.checkThatBucketHasObjectLifecycleConfiguration. A bucket without a configuration
    makes S3 answer NoSuchLifecycleConfiguration: the error warning, not the missing one."""
    try:
        bucket, key = s3_location(temp_dir)
        if any(covers(rule, key) for rule in lifecycle_rules(bucket)):
            return []
    except Exception as exc:  # NonFatal(e)
        return [_line("WARN", f"{LIFECYCLE_FAILED}{exc}")]
    return [
        _line(
            "WARN",
            f"The S3 bucket {bucket} does not have an object lifecycle configuration to "
            "ensure cleanup of temporary files. Consider configuring `tempdir` to point to a "
            "bucket with an object lifecycle policy that automatically deletes files after an "
            "expiration period. For more information, see "
            "https://docs.aws.amazon.com/AmazonS3/latest/dev/object-lifecycle-mgmt.html",
        )
    ]


def bucket_usage(
    options: dict[str, Any],
    jdbc_url: str,
    temp_dir: str,
    location: Callable[[str], str | None],
    lifecycle_rules: Callable[[str], list[dict[str, Any]]],
) -> list[str]:
    """RedshiftWriter.checkS3BucketUsage: nothing unless `check_s3_bucket_usage`; else the region
    check, then the lifecycle check, with the job's S3 client (`s3ClientFactory(credsProvider)`)."""
    if not enabled(options):
        return []
    region = same_region(jdbc_url, options, temp_dir, location)
    return region + lifecycle(temp_dir, lifecycle_rules)
