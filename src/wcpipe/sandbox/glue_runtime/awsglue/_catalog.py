"""Reading a Data Catalog table of CSV objects in S3, as `create_dynamic_frame.from_catalog`
does on Glue (awslabs/aws-glue-libs `context.py`, `create_dynamic_frame_from_catalog`: the
JVM's `getCatalogSource(db, table, redshift_tmp_dir, transformation_ctx, …)`).

What is AWS's here: the table comes from GetTable (a missing database or table fails the run
with Glue's EntityNotFoundException); its StorageDescriptor's Location is the S3 prefix, its
Columns name the fields in order, its SerDe parameters give the delimiter (`separatorChar` for
OpenCSVSerde, `field.delim` for LazySimpleSerDe) and quote (`quoteChar`), and
`skip.header.line.count` = 1 skips each object's first line. With job bookmarks enabled and a
`transformation_ctx`, only objects not read by a committed run are read (Glue's bookmark for S3
sources keys on the object and its modification; here key and ETag).

Where this differs from Glue, and why it does not matter to wcpipe's script:
- Glue reads S3 directly; this local Spark has no S3 filesystem, so the objects are fetched
  through the S3 API (real boto3, the sandbox's endpoint) into the run's work dir and read there.
- Glue's DynamicFrame types each record's values (choice types where they disagree); here every
  field is the CSV text, a string. The script resolves choices to strings and reads every
  column back as its text (`text_column`), so both give it the same text.
- An empty field is the empty string, as Glue's CSV reader and the sandbox's csvio give it
  (Spark alone would give NULL: `nullValue` is set to a string that cannot occur in text).
- Quoted fields follow RFC 4180 (a quote inside is doubled), Glue's CSV default (AWS Glue
  developer guide, "CSV format options": quoteChar `"`, escaper none); multiLine stays false,
  Glue's default.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from awsglue import _runtime

_NEVER = "\u0000wcpipe-no-null\u0000"


def read(spark: Any, database: str, table_name: str, transformation_ctx: str) -> Any:
    from pyspark.sql.types import StringType, StructField, StructType

    table = _runtime.client("glue").get_table(DatabaseName=database, Name=table_name)["Table"]
    storage = table.get("StorageDescriptor") or {}
    location = str(storage.get("Location") or "")
    if not location.startswith("s3://"):
        raise ValueError(f"table {database}.{table_name} has no S3 location ({location!r})")
    bucket, _, prefix = location.removeprefix("s3://").partition("/")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    serde = (storage.get("SerdeInfo") or {}).get("Parameters") or {}
    params = {**(storage.get("Parameters") or {}), **(table.get("Parameters") or {})}
    delimiter = serde.get("separatorChar") or serde.get("field.delim") or ","
    quote = serde.get("quoteChar") or '"'
    header = str(params.get("skip.header.line.count", "0")) == "1"
    columns = [str(c["Name"]) for c in storage.get("Columns") or []]

    s3 = _runtime.client("s3")
    objects: list[tuple[str, str]] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        objects += [(o["Key"], o["ETag"].strip('"')) for o in page.get("Contents", [])]
    objects = sorted((k, e) for k, e in objects if not k.endswith("/"))
    state = _runtime.STATE
    bookmarked = bool(transformation_ctx) and state.bookmark_option != "job-bookmark-disable"
    if bookmarked:
        done = state.committed()
        objects = [(k, e) for k, e in objects if done.get(k) != e]
    source_dir = Path(_runtime.config()["work_dir"]) / "source"
    source_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for n, (key, etag) in enumerate(objects):
        path = source_dir / f"{n:06d}.csv"
        s3.download_file(bucket, key, str(path))
        paths.append(str(path))
        if bookmarked:
            state.read[key] = etag
    schema = StructType([StructField(c, StringType(), True) for c in columns])
    if not paths:
        return spark.createDataFrame([], schema)
    return spark.read.csv(
        paths,
        schema=schema,
        sep=delimiter,
        quote=quote,
        escape=quote,
        header=header,
        nullValue=_NEVER,
        emptyValue="",
        mode="PERMISSIVE",
        encoding="UTF-8",
    )
