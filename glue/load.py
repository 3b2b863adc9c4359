"""The Glue job script: load the crawled CSV table into Redshift, through a staging table.

Runs in AWS Glue (uploaded by wcpipe to `Names.glue_script_key`), with `wcpipe_lib.zip` (the
stdlib-only `wcpipe.datamap.transform` and `wcpipe.datamap.loadsql`) on the driver and executors
through `--extra-py-files`. Arguments: `--JOB_NAME`, `--TempDir`, `--wcpipe_config` (the JSON
from `wcpipe.datamap.transform.job_config`) and, when Glue passes it, `--JOB_RUN_ID` (names the
staging table).

Steps:
1. Read the S3 crawler's catalog table with `transformation_ctx="source"` (job bookmarks key on
   it, so a rerun reads only new files). Choices the crawler could not settle become strings.
2. Map every row with the shared `Mapper` inside `mapPartitions` (the same cleaning code the
   sandbox and `verify` use). Counts travel back through Spark accumulators. The crawler
   lower-cases column names and names an empty header `col0`; the Mapper matches sources
   case-insensitively.
3. If any value could not be converted (or was NULL in a NOT NULL column), print the per-column
   counts and samples and FAIL the job: a value is never loaded as a silent NULL.
4. Build a DataFrame with the target's column names and Spark types, and write it with
   `from_jdbc_conf` into a staging table that the preactions create `LIKE` the target; the
   postactions move it into the target in one transaction (append, truncate or merge) and drop
   it. With nothing to load (all rows dropped, or bookmarks found no new file) nothing is
   written, so a truncate never empties the table because of an empty run.
5. Print one `wcpipe-counts {...}` line (read, dropped, loaded, rejected) and commit the job
   (which advances the bookmark).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

COUNTERS = ("read", "dropped", "loaded", "rejected")


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


def run_id(argv: Sequence[str]) -> str:
    from awsglue.utils import getResolvedOptions

    if "--JOB_RUN_ID" in argv:
        return str(getResolvedOptions(list(argv), ["JOB_RUN_ID"])["JOB_RUN_ID"])
    return "manual"


def main(argv: Sequence[str]) -> None:
    from awsglue.context import GlueContext
    from awsglue.dynamicframe import DynamicFrame
    from awsglue.job import Job
    from awsglue.utils import getResolvedOptions
    from pyspark.context import SparkContext
    from pyspark.sql.types import StructField, StructType

    from wcpipe.datamap import loadsql
    from wcpipe.datamap.transform import (
        JobConfig,
        Mapper,
        RejectedRows,
        Rejects,
        RejectsParam,
        counts_line,
    )

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

    counters = {name: sc.accumulator(0) for name in COUNTERS}
    rejects = sc.accumulator(Rejects(), RejectsParam())

    def map_partition(rows: Iterable[Any]) -> Iterator[tuple[object, ...]]:
        # Runs on the executors: wcpipe comes from the lib zip (--extra-py-files) there.
        from wcpipe.datamap.transform import JobConfig, Mapper

        mapper = Mapper(JobConfig.from_json(config_json))
        index = mapper.index(header)
        for row in rows:
            mapped = mapper.map_record(index, [as_text(v) for v in row])
            if mapped is not None:
                yield mapped
        for name, n in mapper.counts().items():
            counters[name].add(n)
        if mapper.rejects:
            rejects.add(mapper.rejects)

    # cache + count: one action evaluates every partition, so the accumulators are complete
    # before we decide, and the write reuses the mapped rows instead of mapping them again.
    rows = df.rdd.mapPartitions(map_partition).cache()
    rows.count()
    counts = {name: int(counters[name].value) for name in COUNTERS}
    print(counts_line(counts))
    if rejects.value:
        message = (
            f"{counts['rejected']} row(s) have values that do not fit the target table; "
            f"nothing was loaded.\n{rejects.value.summary()}"
        )
        print(message)
        raise RejectedRows(message)

    if counts["loaded"]:
        schema = StructType(
            [StructField(c.name, spark_type(c.sql), c.nullable) for c in config.columns]
        )
        target = DynamicFrame.fromDF(glue.spark_session.createDataFrame(rows, schema), glue, "rows")
        staging = loadsql.staging_table(config, run_id(argv))
        preactions, postactions = loadsql.glue_pre_post_actions(config, staging)
        glue.write_dynamic_frame.from_jdbc_conf(
            frame=target,
            catalog_connection=config.connection,
            connection_options={
                "dbtable": f"{config.target_schema}.{staging}",
                "database": config.target_database,
                "preactions": preactions,
                "postactions": postactions,
            },
            redshift_tmp_dir=args["TempDir"],
            transformation_ctx="target",
        )
    else:
        print("wcpipe: nothing to load (no new rows); the target table is unchanged")
    job.commit()


if __name__ == "__main__":
    main(sys.argv)
