"""The pipeline's outputs after `up`: what a script needs to use it (as `terraform output -json`).

Contract: `pipeline_outputs(ctx)` reads only the engine's board (what each resource published
when it was described or created in this run: `Resource.outputs`) and the names (`spec.names`);
it makes no AWS call. A value no resource published this run (a resource absent) is None, except
the names and ARNs that follow from the names alone (the bucket's, the crawlers', the job's:
Glue ARNs are `arn:aws:glue:region:account:crawler/name` and `job/name`, IAM user guide,
"Actions, resources, and condition keys for AWS Glue", resource types).
"""

from __future__ import annotations

from typing import Any

from wcpipe.provision.resources.base import Context, warehouse_key


def pipeline_outputs(ctx: Context) -> dict[str, Any]:
    names, aws, spec = ctx.names, ctx.aws, ctx.spec
    warehouse = warehouse_key(ctx)
    port = ctx.output_or(warehouse, "port")

    def glue_arn(key: str, kind: str, name: str) -> str:
        return str(ctx.output_or(key, "arn") or aws.arn("glue", f"{kind}/{name}"))

    bucket_arn = f"arn:{aws.partition}:s3:::{names.bucket}"
    return {
        "bucket": names.bucket,
        "bucket_arn": str(ctx.output_or("s3.bucket", "arn") or bucket_arn),
        "data_uri": names.data_uri,
        "warehouse_type": spec.warehouse.type,
        "warehouse_host": ctx.output_or(warehouse, "host"),
        "warehouse_port": None if port is None else int(port),
        "database": spec.warehouse.database,
        "table": f"{spec.table.schema_}.{spec.table.name}",
        "glue_database": names.s3_database,
        "s3_crawler": names.s3_crawler,
        "s3_crawler_arn": glue_arn("glue.s3-crawler", "crawler", names.s3_crawler),
        "redshift_crawler": names.redshift_crawler,
        "redshift_crawler_arn": glue_arn(
            "glue.redshift-crawler", "crawler", names.redshift_crawler
        ),
        "job": names.job,
        "job_arn": glue_arn("glue.job", "job", names.job),
        "function_arn": ctx.output_or("lambda.function", "arn"),
        "rule_arn": ctx.output_or("events.rule", "arn"),
        "secret_arn": ctx.output_or("secretsmanager.admin-secret", "arn"),
        "glue_role_arn": ctx.output_or("iam.glue-role", "arn"),
        "lambda_role_arn": ctx.output_or("iam.lambda-role", "arn"),
        "redshift_role_arn": ctx.output_or("iam.redshift-role", "arn"),
    }
