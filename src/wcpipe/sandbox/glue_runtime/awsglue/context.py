"""`awsglue.context.GlueContext`, mirroring awslabs/aws-glue-libs `awsglue/context.py`
(sync-glue-5.1) for what the script uses: the constructor (a SparkContext, a SparkSession or
nothing), `spark_session`, `create_dynamic_frame` / `write_dynamic_frame` (the reader and writer
objects), `create_dynamic_frame_from_catalog` and `write_dynamic_frame_from_jdbc_conf` with AWS's
signatures and argument checks. The JVM calls behind them (`getCatalogSource`, `getJDBCSink`)
are `_catalog.read` and `_redshift.write`.
"""

from __future__ import annotations

from typing import Any

from awsglue import _catalog, _faults, _redshift
from awsglue.dynamicframe import DynamicFrame, DynamicFrameReader, DynamicFrameWriter


class GlueContext:
    def __init__(self, sparkContext: Any = None, **options: Any) -> None:
        from pyspark.sql import SparkSession

        if not sparkContext:
            spark_session = SparkSession.builder.getOrCreate()
            sparkContext = spark_session.sparkContext
        elif isinstance(sparkContext, SparkSession):
            spark_session = sparkContext
            sparkContext = spark_session.sparkContext
        else:
            spark_session = SparkSession.builder.getOrCreate()
        self._sc = sparkContext
        self.sparkSession = spark_session
        self.spark_session = spark_session
        self.create_dynamic_frame = DynamicFrameReader(self)
        self.write_dynamic_frame = DynamicFrameWriter(self)
        _faults.install()

    def create_dynamic_frame_from_catalog(
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
        if database is not None and "name_space" in kwargs:
            raise Exception("Parameter name_space and database are both specified, choose one.")
        elif database is None and "name_space" not in kwargs:
            raise Exception("Parameter name_space or database is missing.")
        db = kwargs.pop("name_space") if "name_space" in kwargs else database
        if table_name is None:
            raise Exception("Parameter table_name is missing.")
        if push_down_predicate:
            raise NotImplementedError("push_down_predicate: not served by the wcpipe sandbox")
        df = _catalog.read(self.spark_session, str(db), table_name, transformation_ctx)
        return DynamicFrame(_faults.at_source(df), self, table_name)

    def write_dynamic_frame_from_jdbc_conf(
        self,
        frame: DynamicFrame,
        catalog_connection: str,
        connection_options: dict[str, Any] | None = None,
        redshift_tmp_dir: str = "",
        transformation_ctx: str = "",
        catalog_id: str | None = None,
    ) -> None:
        if not isinstance(frame, DynamicFrame):
            raise TypeError(
                "frame_or_dfc must be DynamicFrame orDynamicFrameCollection. Got "
                + str(type(frame))
            )
        options = connection_options or {}
        _redshift.write(frame.toDF(), catalog_connection, options, redshift_tmp_dir)
