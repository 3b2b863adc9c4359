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
3. Map every row with the shared `Mapper` inside `mapPartitionsWithIndex` (the same cleaning code
   the sandbox and `verify` use). Each partition yields its rows and then ONE tally (its counts
   and rejects). The tallies are brought back by an action (`collect`), whose results come only
   from successful tasks, one per partition: exact under task retries and recomputed partitions,
   where accumulators updated in a transformation are not (Spark RDD programming guide,
   "Accumulators"). The crawler lower-cases column names and names an empty header `col0`; the
   Mapper matches sources case-insensitively.
4. If any value could not be converted (or was NULL in a NOT NULL column), print the per-column
   counts and samples and FAIL the job: a value is never loaded as a silent NULL.
5. Build a DataFrame with the target's column names and Spark types, and write it with
   `from_jdbc_conf` into a staging table that the preactions create `LIKE` the target; the
   postactions move it into the target (append, truncate or merge) and drop it. The connector
   runs CREATE, preactions, COPY and postactions in ONE transaction of its own and commits it
   at the end (spark-redshift-community `RedshiftWriter.saveToRedshift`), so the actions carry
   no BEGIN/END. COPY runs as the Redshift role (`aws_iam_role`), not on the job role's
   one-hour session credentials. With nothing to load (all rows dropped, or bookmarks found no
   new file) nothing is written, so a truncate never empties the table because of an empty run.
6. Print one `wcpipe-counts {...}` line (read, dropped, loaded, rejected) and commit the job
   (which advances the bookmark).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

ROW, TALLY = 0, 1


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


def as_text(value: object) -> str | None:
    """A catalog value as the CSV text it came from (the crawler may have typed the column)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def main(argv: Sequence[str]) -> None:
    from awsglue.context import GlueContext
    from awsglue.dynamicframe import DynamicFrame
    from awsglue.job import Job
    from awsglue.utils import getResolvedOptions
    from pyspark.context import SparkContext
    from pyspark.sql.types import StructField, StructType

    from wcpipe.datamap import loadsql
    from wcpipe.datamap.config import JobConfig
    from wcpipe.datamap.transform import Mapper, RejectedRows, Rejects, counts_line

    args = getResolvedOptions(list(argv), ["JOB_NAME", "wcpipe_config", "TempDir"])
    config_json: str = args["wcpipe_config"]
    config = JobConfig.from_json(config_json)
    sc = SparkContext.getOrCreate()
    glue = GlueContext(sc)
    job = Job(glue)
    job.init(args["JOB_NAME"], args)

    source = glue.create_dynamic_frame.from_catalog(
        database=config.source_database,
        table_name=config.source_table,
        transformation_ctx="source",
    )
    frame = source.resolveChoice(choice="cast:string", transformation_ctx="resolve")
    df = frame.toDF()
    header = list(df.columns)
    Mapper(config).index(header)  # a missing source column fails here, on the driver

    def map_partition(_: int, rows: Iterable[Any]) -> Iterator[tuple[int, Any]]:
        # Runs on the executors: wcpipe comes from the lib zip (--extra-py-files) there.
        from wcpipe.datamap.config import JobConfig
        from wcpipe.datamap.transform import Mapper

        mapper = Mapper(JobConfig.from_json(config_json))
        index = mapper.index(header)
        for row in rows:
            mapped = mapper.map_record(index, [as_text(v) for v in row])
            if mapped is not None:
                yield ROW, mapped
        yield TALLY, (mapper.counts(), mapper.rejects)

    # cache: the tally action evaluates every partition once, and the write reads the mapped
    # rows from the cache (a partition evicted meanwhile is recomputed: the same rows).
    tagged = df.rdd.mapPartitionsWithIndex(map_partition).cache()
    tallies = tagged.filter(lambda t: t[0] == TALLY).map(lambda t: t[1]).collect()
    partitions = tagged.getNumPartitions()
    if len(tallies) != partitions:  # one per partition, or the counts cannot be trusted
        raise RuntimeError(f"{len(tallies)} tallies for {partitions} partitions")
    counts = {"read": 0, "dropped": 0, "loaded": 0, "rejected": 0}
    rejects = Rejects()
    for part_counts, part_rejects in tallies:
        for name in counts:
            counts[name] += int(part_counts[name])
        rejects.merge(part_rejects)
    print(counts_line(counts))
    if rejects:
        message = (
            f"{counts['rejected']} row(s) have values that do not fit the target table; "
            f"nothing was loaded.\n{rejects.summary()}"
        )
        print(message)
        raise RejectedRows(message)

    if counts["loaded"]:
        rows = tagged.filter(lambda t: t[0] == ROW).map(lambda t: t[1])
        schema = StructType(
            [StructField(c.name, spark_type(c.sql), c.nullable) for c in config.columns]
        )
        target = DynamicFrame.fromDF(glue.spark_session.createDataFrame(rows, schema), glue, "rows")
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


if __name__ == "__main__":
    main(sys.argv)
