"""`awsglue.dynamicframe`, mirroring the parts of awslabs/aws-glue-libs `awsglue/dynamicframe.py`
(sync-glue-5.1) the script uses: `DynamicFrame(jdf, glue_ctx, name)`, `toDF()`,
`DynamicFrame.fromDF(dataframe, glue_ctx, name)`, `count()`, `resolveChoice(...)`, and the
reader and writer behind `GlueContext.create_dynamic_frame` / `.write_dynamic_frame`.

A DynamicFrame here holds a Spark DataFrame (on Glue, a JVM DynamicFrame of DynamicRecords).
`resolveChoice` keeps AWS's argument rules (specs or choice, not both, not neither); since this
shim's catalog read gives every field as a string (see `_catalog`), there are no choice types to
resolve, and `cast:<type>` casts every column, as it would a column of one type.
"""

from __future__ import annotations

from typing import Any

_CHOICES = ("cast:", "project:", "make_cols", "make_struct", "match_catalog")


class DynamicFrame:
    def __init__(self, jdf: Any, glue_ctx: Any, name: str = "") -> None:
        self._df = jdf
        self.glue_ctx = glue_ctx
        self.name = name

    def toDF(self, options: Any = None) -> Any:
        return self._df

    @classmethod
    def fromDF(cls, dataframe: Any, glue_ctx: Any, name: str = "") -> DynamicFrame:
        return DynamicFrame(dataframe, glue_ctx, name)

    def count(self) -> int:
        return int(self._df.count())

    def resolveChoice(
        self,
        specs: Any = None,
        choice: str = "",
        database: str | None = None,
        table_name: str | None = None,
        transformation_ctx: str = "",
        info: str = "",
        stageThreshold: int = 0,
        totalThreshold: int = 0,
        catalog_id: str | None = None,
    ) -> DynamicFrame:
        if specs is None and not choice:
            raise Exception("Parameter specs and option are both missing, add one.")
        if specs is not None and choice:
            raise Exception("Parameter specs and option are both specified, choose one.")
        if choice and not choice.startswith(_CHOICES):
            raise Exception(f"Invalid choice option {choice!r}")
        df = self._df
        if choice.startswith(("cast:", "project:")):
            target = choice.split(":", 1)[1]
            from pyspark.sql.functions import col

            df = df.select(*[col(f"`{c}`").cast(target).alias(c) for c in df.columns])
        for path, action in [specs] if isinstance(specs, tuple) else specs or []:
            if action.startswith(("cast:", "project:")):
                from pyspark.sql.functions import col

                df = df.withColumn(path, col(f"`{path}`").cast(action.split(":", 1)[1]))
        return DynamicFrame(df, self.glue_ctx, self.name)


class DynamicFrameReader:
    def __init__(self, glue_context: Any) -> None:
        self._glue_context = glue_context

    def from_catalog(
        self,
        database: str | None = None,
        table_name: str | None = None,
        redshift_tmp_dir: str = "",
        transformation_ctx: str = "",
        push_down_predicate: str = "",
        additional_options: dict[str, Any] | None = None,
        catalog_id: str | None = None,
        **kwargs: Any,
    ) -> DynamicFrame:
        return self._glue_context.create_dynamic_frame_from_catalog(
            database,
            table_name,
            redshift_tmp_dir,
            transformation_ctx,
            push_down_predicate,
            additional_options or {},
            catalog_id,
            **kwargs,
        )


class DynamicFrameWriter:
    def __init__(self, glue_context: Any) -> None:
        self._glue_context = glue_context

    def from_jdbc_conf(
        self,
        frame: DynamicFrame,
        catalog_connection: str,
        connection_options: dict[str, Any] | None = None,
        redshift_tmp_dir: str = "",
        transformation_ctx: str = "",
    ) -> None:
        # AWS's writer takes no catalog_id here (GlueContext.write_dynamic_frame_from_jdbc_conf
        # does): passing one is a TypeError on Glue, and so here.
        options = connection_options or {}
        return self._glue_context.write_dynamic_frame_from_jdbc_conf(
            frame, catalog_connection, options, redshift_tmp_dir, transformation_ctx
        )
