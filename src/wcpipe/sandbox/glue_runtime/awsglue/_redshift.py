"""Writing a frame to Redshift through a Glue connection, as `from_jdbc_conf` does on Glue:
AWS's Redshift connector (spark-redshift-community, `RedshiftWriter.saveToRedshift` and
`doRedshiftLoad`; `Parameters.scala` for the options) run against the sandbox's PostgreSQL.

Before anything is written, the connector's checks of the TempDir's bucket (`checkS3BucketUsage`,
`_bucket_checks`): GetBucketLocation and GetBucketLifecycleConfiguration with the job role's S3
client; what they find (or an error of theirs) is a WARN or ERROR line on stderr, as log4j writes
the connector's on Glue (the run's error log), and the write goes on.

Then, in the connector's order, on ONE connection with autocommit off, committed once at the end and
rolled back on any error (`setAutoCommit(conn, false)` … `commit(conn)`):
1. the frame is written to a fresh directory under `redshift_tmp_dir` as CSV files with the
   connector's `csvnullstring` (`@NULL@`), and a `manifest.json` listing them (`unloadData`);
2. `CREATE TABLE IF NOT EXISTS <dbtable> (<schema>)`, the types from the frame's Spark types
   (`RedshiftWrapper.schemaString`);
3. each `preactions` statement (the option split on `;`, `%s` replaced by the table);
4. `COPY <dbtable> FROM '<manifest>' … manifest CREDENTIALS 'aws_iam_role=<arn>'` (`copySql`);
5. each `postactions` statement, then commit.
So statements in pre/postactions run inside the connector's transaction: a `BEGIN`/`END` of
their own would commit it early.

Refused as AWS refuses:
- no `dbtable`, or `aws_iam_role` together with temporary credentials (Parameters.scala's
  `require`s);
- a `check_s3_bucket_usage` other than true or false (Parameters.scala reads it with `toBoolean`);
- an `aws_iam_role` that the cluster (or the Serverless workgroup's namespace) does not have
  among its IAM roles fails the COPY with
  Redshift's "not authorized to assume IAM Role" error. Without `aws_iam_role` Glue passes the
  job role's temporary session credentials (AWS Knowledge Center
  "sql-commands-redshift-glue-job"); this shim prints which credentials the COPY used.

Where it differs: the temporary files are written by local Spark and put into S3 through the S3
API (Glue writes them to S3 directly); COPY reads them back through the S3 API into PostgreSQL's
`COPY … FROM STDIN` (Redshift reads S3 itself). SQL runs on PostgreSQL as the sandbox's Data API
runs it (varchar(max) becomes varchar(65535)).
"""

from __future__ import annotations

import json
import re
import sys
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from awsglue import _bucket_checks, _runtime

NULL_STRING = "@NULL@"  # Parameters.scala DEFAULT_PARAMETERS "csvnullstring"


def schema_string(schema: Any) -> str:
    """RedshiftWrapper.schemaString: column definitions from the frame's Spark types."""
    from pyspark.sql import types as T

    def typ(dt: Any) -> str:
        simple = {
            T.IntegerType: "INTEGER",
            T.LongType: "BIGINT",
            T.DoubleType: "DOUBLE PRECISION",
            T.FloatType: "REAL",
            T.ShortType: "SMALLINT",
            T.ByteType: "SMALLINT",
            T.BooleanType: "BOOLEAN",
            T.StringType: "VARCHAR(65535)",  # the connector's VARCHAR(MAX), as PostgreSQL takes it
            T.TimestampType: "TIMESTAMPTZ",
            T.DateType: "DATE",
        }
        if isinstance(dt, T.DecimalType):
            return f"DECIMAL({dt.precision},{dt.scale})"
        for kind, name in simple.items():
            if isinstance(dt, kind):
                return name
        raise ValueError(f"Don't know how to save {dt} to JDBC")

    return ", ".join(
        f'"{f.name}" {typ(f.dataType)}{"" if f.nullable else " NOT NULL"}' for f in schema.fields
    )


def _actions(option: str, table: str) -> list[str]:
    # Parameters.scala: parameters("preactions").trim.split(";"); RedshiftWriter: "%s" -> table
    return [
        a.replace("%s", table) if "%s" in a else a
        for a in (s.strip() for s in option.strip().split(";"))
        if a
    ]


def _jdbc_url(name: str) -> str:
    props = _runtime.client("glue").get_connection(Name=name, HidePassword=True)["Connection"][
        "ConnectionProperties"
    ]
    return str(props["JDBC_CONNECTION_URL"])


def _connection(jdbc_url: str) -> tuple[str, int, str]:
    url = urlparse(jdbc_url.removeprefix("jdbc:"))
    return url.hostname or "", url.port or 5439, url.path.lstrip("/")


def _asked(call: Any, **kwargs: Any) -> Any:
    """One S3 call of the connector's checks; S3's error raised with the SDK's message."""
    from botocore.exceptions import ClientError

    try:
        return call(**kwargs)
    except ClientError as exc:
        meta: dict[str, Any] = dict(exc.response.get("ResponseMetadata") or {})
        raise _bucket_checks.S3Error(
            _bucket_checks.sdk_message(
                str(exc.response.get("Error", {}).get("Message") or ""),
                int(meta.get("HTTPStatusCode") or 0),
                meta.get("RequestId"),
                meta.get("HostId") or None,
            )
        ) from None


def check_bucket_usage(options: dict[str, Any], jdbc_url: str, tmp_dir: str) -> None:
    """RedshiftWriter.checkS3BucketUsage with the job role's S3 client (`_bucket_checks`): its
    log lines on stderr; never fails the write."""
    s3 = _runtime.client("s3")

    def location(bucket: str) -> str | None:
        answer = _asked(s3.get_bucket_location, Bucket=bucket)
        return answer.get("LocationConstraint")

    def rules(bucket: str) -> list[dict[str, Any]]:
        answer = _asked(s3.get_bucket_lifecycle_configuration, Bucket=bucket)
        return list(answer.get("Rules") or [])

    for line in _bucket_checks.bucket_usage(options, jdbc_url, tmp_dir, location, rules):
        print(line, file=sys.stderr)


def _check_role(host: str, role: str) -> None:
    """Redshift assumes `role` for COPY only if the cluster has it among its IamRoles, or, on
    Serverless, the workgroup's namespace among its iamRoles."""
    # Redshift's own check, not a call of the job's role: the sandbox's credentials.
    clusters = _runtime.sandbox_client("redshift").describe_clusters()["Clusters"]
    cluster = next((c for c in clusters if (c.get("Endpoint") or {}).get("Address") == host), None)
    if cluster is None:
        _check_serverless_role(host, role)
        return
    attached = {r["IamRoleArn"] for r in cluster.get("IamRoles") or []}
    if role not in attached:
        raise PermissionError(
            f"User arn:aws:redshift:{_runtime.sandbox_client('redshift').meta.region_name}:"
            f"{role.split(':')[4]}:dbuser:{cluster['ClusterIdentifier']}/"
            f"{cluster.get('MasterUsername', 'admin')} is not authorized to assume IAM Role {role}"
        )


def _check_serverless_role(host: str, role: str) -> None:
    client = _runtime.sandbox_client("redshift-serverless")
    workgroups = client.list_workgroups()["workgroups"]
    wg = next((w for w in workgroups if (w.get("endpoint") or {}).get("address") == host), None)
    if wg is None:
        return  # neither a cluster nor a workgroup this sandbox serves
    ns = client.get_namespace(namespaceName=wg["namespaceName"])["namespace"]
    # Each role is text: "IamRole(applyStatus=in-sync, iamRoleArn=<arn>)".
    attached = {t.split("iamRoleArn=", 1)[-1].rstrip(")") for t in ns.get("iamRoles") or []}
    if role not in attached:
        raise PermissionError(
            f"User {ns.get('adminUsername', 'admin')} of namespace {ns['namespaceName']} "
            f"is not authorized to assume IAM Role {role}"
        )


def _unload(frame_df: Any, tmp_dir: str) -> tuple[str, str, list[str]]:
    """Write the frame as CSV under a fresh S3 directory; returns (bucket, manifest key, keys)."""
    parsed = urlparse(tmp_dir)
    if parsed.scheme not in {"s3", "s3a", "s3n"} or not parsed.netloc:
        raise ValueError(f"redshift_tmp_dir must be an S3 URI, not {tmp_dir!r}")
    bucket, base = parsed.netloc, parsed.path.strip("/")
    run_dir = f"{base}/{uuid.uuid4()}" if base else str(uuid.uuid4())
    local = Path(_runtime.config()["work_dir"]) / "unload" / run_dir.replace("/", "_")
    frame_df.write.csv(str(local), nullValue=NULL_STRING, emptyValue='""', quoteAll=False)
    s3 = _runtime.client("s3")
    keys = []
    for part in sorted(local.glob("part-*")):
        if part.stat().st_size == 0:
            continue  # unloadData lists only non-empty files
        key = f"{run_dir}/{part.name}"
        s3.upload_file(str(part), bucket, key)
        keys.append(key)
    manifest = {"entries": [{"url": f"s3://{bucket}/{k}", "mandatory": True} for k in keys]}
    manifest_key = f"{run_dir}/manifest.json"
    s3.put_object(Bucket=bucket, Key=manifest_key, Body=json.dumps(manifest).encode())
    return bucket, manifest_key, keys


def _copy(
    cur: Any, table: str, columns: list[str] | None, bucket: str, manifest_key: str, s3: Any
) -> None:
    """COPY … FROM the manifest: every entry's object into the table, as CSV, read with `s3`
    (the client of the role COPY runs as). Without a column list (the connector's default,
    `include_column_list` false) fields load by position."""
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=manifest_key)["Body"].read())
    cols = " (" + ", ".join(f'"{c}"' for c in columns) + ")" if columns else ""
    statement = f"COPY {table}{cols} FROM STDIN WITH (FORMAT csv, NULL '{NULL_STRING}')"
    with cur.copy(statement) as copy:
        for entry in manifest["entries"]:
            entry_bucket, _, key = entry["url"].removeprefix("s3://").partition("/")
            body = s3.get_object(Bucket=entry_bucket, Key=key)["Body"]
            while chunk := body.read(1 << 20):
                copy.write(chunk)


def _pg(sql: str) -> str:
    return re.sub(r"\bvarchar\s*\(\s*max\s*\)", "varchar(65535)", sql, flags=re.I)


def write(frame_df: Any, catalog_connection: str, options: dict[str, Any], tmp_dir: str) -> None:
    import psycopg
    from psycopg.conninfo import make_conninfo

    table = options.get("dbtable")
    if not table:
        raise ValueError("You must specify a Redshift table name with the 'dbtable' parameter")
    role = options.get("aws_iam_role")
    if role and any(k.startswith("temporary_aws_") for k in options):
        raise ValueError(
            "The aws_iam_role, forward_spark_s3_credentials, and temporary_aws_*. options are "
            "mutually-exclusive; please specify only one."
        )
    jdbc_url = _jdbc_url(catalog_connection)
    host, _port, url_db = _connection(jdbc_url)
    database = str(options.get("database") or url_db)
    check_bucket_usage(options, jdbc_url, tmp_dir)  # saveToRedshift: before anything is written
    if role:
        _check_role(host, str(role))
        credentials = f"aws_iam_role={role}"
    else:
        credentials = "aws_access_key_id=<job role session>;token=<expires in 1 hour>"
    bucket, manifest_key, _keys = _unload(frame_df, tmp_dir)
    dsn = make_conninfo(_runtime.config()["warehouse_dsn"], dbname=database)
    with psycopg.connect(dsn, autocommit=False) as conn:
        try:
            with conn.cursor() as cur:
                definition = schema_string(frame_df.schema)
                cur.execute(_pg(f"CREATE TABLE IF NOT EXISTS {table} ({definition})"))
                for action in _actions(str(options.get("preactions") or ";"), table):
                    cur.execute(_pg(action))
                print(
                    f"wcpipe-glue: COPY {table} FROM 's3://{bucket}/{manifest_key}' "
                    f"FORMAT AS CSV NULL AS '{NULL_STRING}' manifest CREDENTIALS '{credentials}'"
                )
                listed = str(options.get("include_column_list", "false")).lower() == "true"
                columns = list(frame_df.columns) if listed else None
                # COPY reads as the aws_iam_role Redshift assumes; without one, as the job.
                reader = _runtime.role_client("s3", str(role)) if role else _runtime.client("s3")
                _copy(cur, table, columns, bucket, manifest_key, reader)
                for action in _actions(str(options.get("postactions") or ";"), table):
                    cur.execute(_pg(action))
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
