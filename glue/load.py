"""The Glue job script: load the crawled CSV table into Redshift, through a staging table.

Runs in AWS Glue (uploaded by wcpipe to `Names.glue_script_key`), with `wcpipe_lib.zip` (the
stdlib-only `wcpipe.datamap` package) on the driver and executors through `--extra-py-files`.
Glue passes `--JOB_ID`, `--JOB_RUN_ID` and `--JOB_NAME` on every run; wcpipe's job adds
`--TempDir` and `--wcpipe_config` (the JSON from `wcpipe.spec.job.job_config`).

Steps:
1. `getResolvedOptions` once, naming only what the script needs (`JOB_NAME`, `wcpipe_config`,
   `TempDir`): Glue's own parser already registers `JOB_RUN_ID`, so naming it again raises
   "conflicting option string" (awslabs/aws-glue-libs `awsglue/utils.py`, issue #22); the dict
   it returns holds `JOB_RUN_ID`, which names the staging table.
2. Read the S3 crawler's catalog table with `transformation_ctx="source"` (job bookmarks key on
   it, so a rerun reads only new files). Choices the crawler could not settle become strings.
3. Clean and convert on Spark itself: every column's cleaning rules, type and nullability, and
   drop_rows, compiled once on the driver to Spark SQL (`wcpipe.datamap.expr`), the same
   declaration the sandbox and verify run; no Python function runs per row. A value is
   rejected when its cleaned text is there and its cast is NULL (or NULL in a NOT NULL
   column). The crawler lower-cases column names and names an empty header `col0`; sources are
   matched case-insensitively (`Mapper.index`). A column the crawler typed is read back as its
   CSV text (`text_column`).
4. Counts (read, dropped, loaded, rejected), per-column reject counts and up to
   SAMPLES_PER_COLUMN samples come from ONE aggregate action: aggregates are computed from
   successful tasks only, so they are exact under task retries and recomputed partitions
   (where accumulators updated in a transformation are not: Spark RDD programming guide,
   "Accumulators"). The samples are chosen in SQL (the least rejected value in each of five
   hash buckets: bounded, whatever the number of rejects); only their reasons are worked out
   in Python, on the driver, by the reference (`convert.Column.one`). If any value was
   rejected, print the counts and samples and FAIL the job before writing: a value is never
   loaded as a silent NULL.
5. Select the target's columns with their Spark types from the same plan, and write them with
   `from_jdbc_conf` into a staging table that the preactions create `LIKE` the target; the
   postactions move it into the target (append, truncate or merge) and drop it. The connector
   runs CREATE, preactions, COPY and postactions in ONE transaction of its own and commits it
   at the end (spark-redshift-community `RedshiftWriter.saveToRedshift`), so the actions carry
   no BEGIN/END. COPY runs as the Redshift role (`aws_iam_role`), not on the job role's
   one-hour session credentials. With nothing to load (all rows dropped, or bookmarks found no
   new file) nothing is written, so a truncate never empties the table because of an empty run.
6. Print one `wcpipe-counts {...}` line (read, dropped, loaded, rejected) and commit the job
   (which advances the bookmark).
7. Publish the counts as CloudWatch metrics (`wcpipe.datamap.metrics`: namespace `wcpipe`,
   dimension JobName), also when values were rejected (then RowsLoaded 0, LoadsSucceeded 0),
   before the job fails. Best effort: a metric that cannot be put is printed, never fatal.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

SAMPLE_BUCKETS = 5  # = transform.SAMPLES_PER_COLUMN (the lib zip is imported inside main)


def spark_type(sql: Any) -> Any:
    """The Spark SQL type for a `wcpipe.datamap.values.SqlType`."""
    from pyspark.sql import types as T

    simple = {
        "smallint": T.ShortType,
        "integer": T.IntegerType,
        "bigint": T.LongType,
        "real": T.FloatType,
        "double": T.DoubleType,
        "boolean": T.BooleanType,
        "date": T.DateType,
        "timestamp": T.TimestampType,
        "varchar": T.StringType,
        "char": T.StringType,
    }
    if sql.family == "decimal":
        return T.DecimalType(sql.precision, sql.scale)
    return simple[sql.family]()


def text_column(df: Any, name: str) -> Any:
    """A catalog column as the CSV text it came from (the crawler may have typed it): a whole
    float as its integer ('173850', not '173850.0'), anything else as Spark writes it."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    column, kind = df[name], df.schema[name].dataType
    if isinstance(kind, T.StringType):
        return column
    if isinstance(kind, (T.FloatType, T.DoubleType)):
        whole = column.cast("decimal(38,0)").cast("string")
        return F.when(column == F.floor(column), whole).otherwise(column.cast("string"))
    return column.cast("string")


def tally(checked: Any, config: Any, raws: Sequence[str]) -> tuple[dict[str, int], Any]:
    """Counts and rejects from ONE aggregate action over `checked` (see step 4)."""
    from pyspark.sql import functions as F

    from wcpipe.datamap.convert import reasons
    from wcpipe.datamap.transform import Rejects

    kept = ~F.col("_dropped")
    flags = [F.col(f"_r{k}") & kept for k in range(len(config.columns))]
    any_flag = F.lit(False)
    for flag in flags:
        any_flag = any_flag | flag
    aggregates = [
        F.count(F.lit(1)).alias("read"),
        F.count(F.when(F.col("_dropped"), 1)).alias("dropped"),
        F.count(F.when(any_flag, 1)).alias("rejected"),
    ]
    for k, (flag, raw) in enumerate(zip(flags, raws, strict=True)):
        aggregates.append(F.count(F.when(flag, 1)).alias(f"n{k}"))
        bucket = F.pmod(F.xxhash64(F.col(raw)), F.lit(SAMPLE_BUCKETS))
        for j in range(SAMPLE_BUCKETS):
            sample = F.when(flag & (bucket == j), F.col(raw))
            aggregates.append(F.min(sample).alias(f"s{k}_{j}"))
    (result,) = checked.agg(*aggregates).collect()
    counts = {name: int(result[name]) for name in ("read", "dropped", "rejected")}
    counts["loaded"] = counts["read"] - counts["dropped"] - counts["rejected"]
    rejects = Rejects()
    for k, column in enumerate(config.columns):
        if not result[f"n{k}"]:
            continue
        samples = sorted({result[f"s{k}_{j}"] for j in range(SAMPLE_BUCKETS)} - {None})
        rejects.add_counted(column.name, int(result[f"n{k}"]), reasons(column, samples))
    return counts, rejects


def publish_counts(job_name: str, counts: dict[str, int], *, succeeded: bool) -> None:
    """The run's counts to CloudWatch (step 7), with the job role's credentials Glue provides."""
    import boto3

    from wcpipe.datamap import metrics

    problem = metrics.publish(boto3.client("cloudwatch"), job_name, counts, succeeded=succeeded)
    if problem:
        print(problem)


def main(argv: Sequence[str]) -> None:
    from awsglue.context import GlueContext
    from awsglue.dynamicframe import DynamicFrame
    from awsglue.job import Job
    from awsglue.utils import getResolvedOptions
    from pyspark.context import SparkContext
    from pyspark.sql import functions as F

    from wcpipe.datamap import expr, loadsql
    from wcpipe.datamap.config import JobConfig
    from wcpipe.datamap.transform import Mapper, RejectedRows, counts_line

    args = getResolvedOptions(list(argv), ["JOB_NAME", "wcpipe_config", "TempDir"])
    config = JobConfig.from_json(args["wcpipe_config"])
    sc = SparkContext.getOrCreate()
    glue = GlueContext(sc)
    job = Job(glue)
    job.init(args["JOB_NAME"], args)
    # The compiled timestamps are UTC wall-clock time, as a plain timestamp column holds it.
    glue.spark_session.conf.set("spark.sql.session.timeZone", "UTC")

    source = glue.create_dynamic_frame.from_catalog(
        database=config.source_database,
        table_name=config.source_table,
        transformation_ctx="source",
    )
    frame = source.resolveChoice(choice="cast:string", transformation_ctx="resolve")
    df = frame.toDF()
    header = list(df.columns)
    index = Mapper(config).index(header)  # a missing source column fails here, on the driver
    positions = sorted(set(index.values()))
    texts = df.select([text_column(df, header[i]).alias(f"_s{i}") for i in positions])
    plan = expr.compile_job(config, expr.SPARK, {s: f"_s{i}" for s, i in index.items()})
    raws = [f"_s{index[c.source]}" for c in config.columns]
    cleaned = texts.select(
        *[F.expr(c.text).alias(c.name) for c in plan.columns],
        F.expr(plan.dropped).alias("_dropped"),
        *[F.coalesce(F.col(f"_s{i}"), F.lit("")).alias(f"_s{i}") for i in positions],
    )
    checked = cleaned.select(
        *[F.expr(c.value).alias(c.name) for c in plan.columns],
        *[F.expr(c.rejected).alias(f"_r{k}") for k, c in enumerate(plan.columns)],
        "_dropped",
        *[f"_s{i}" for i in positions],
    )
    counts, rejects = tally(checked, config, raws)
    print(counts_line(counts))
    if rejects:
        message = (
            f"{counts['rejected']} row(s) have values that do not fit the target table; "
            f"nothing was loaded.\n{rejects.summary()}"
        )
        print(message)
        publish_counts(args["JOB_NAME"], counts, succeeded=False)
        raise RejectedRows(message)

    if counts["loaded"]:
        rows = checked.where(~F.col("_dropped")).select(
            *[F.col(c.name).cast(spark_type(c.sql)).alias(c.name) for c in config.columns]
        )
        target = DynamicFrame.fromDF(rows, glue, "rows")
        staging = loadsql.staging_table(config, str(args.get("JOB_RUN_ID") or "manual"))
        preactions, postactions = loadsql.glue_pre_post_actions(config, staging)
        options = {
            "dbtable": f"{config.target_schema}.{staging}",
            "database": config.target_database,
            "preactions": preactions,
            "postactions": postactions,
        }
        if config.iam_role:
            options["aws_iam_role"] = config.iam_role
        glue.write_dynamic_frame.from_jdbc_conf(
            frame=target,
            catalog_connection=config.connection,
            connection_options=options,
            redshift_tmp_dir=args["TempDir"],
            transformation_ctx="target",
        )
    else:
        print("wcpipe: nothing to load (no new rows); the target table is unchanged")
    job.commit()
    publish_counts(args["JOB_NAME"], counts, succeeded=True)


if __name__ == "__main__":
    main(sys.argv)
