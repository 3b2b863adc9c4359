from __future__ import annotations

from typing import Any

import fake_recorder
from pyspark.sql import DataFrame, SparkSession

from awsglue.dynamicframe import DynamicFrame


class _Reader:
    def __init__(self, ctx: GlueContext) -> None:
        self.ctx = ctx

    def from_catalog(self, **kwargs: Any) -> DynamicFrame:
        fake_recorder.record("from_catalog", **kwargs)
        df = DataFrame(fake_recorder.source["columns"], fake_recorder.source["rows"])
        return DynamicFrame(df, self.ctx, "source")


class _Writer:
    def from_jdbc_conf(self, **kwargs: Any) -> DynamicFrame:
        frame = kwargs["frame"]
        fake_recorder.record("from_jdbc_conf", rows=frame.toDF().collect(), **kwargs)
        return frame


class GlueContext:
    def __init__(self, sc: Any) -> None:
        self.sc = sc
        self.spark_session = SparkSession()
        self.create_dynamic_frame = _Reader(self)
        self.write_dynamic_frame = _Writer()
