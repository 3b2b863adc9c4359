"""The Spark dialect of the compiled expressions (`wcpipe.datamap.expr.SPARK`) on real Spark
(PySpark 3.5.6, Glue 5.1's), value for value against today's Python path on the conformance
corpus (tests/support/corpus.py), as tests/test_expr.py does for DuckDB and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from support import corpus

from wcpipe.datamap import expr
from wcpipe.datamap.config import ColumnConfig

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    from pyspark.sql import SparkSession

    from wcpipe.sandbox.glue_runtime import engine

    engine.check()  # a missing Java or pyspark fails here, saying what to install
    session = (
        SparkSession.builder.master("local[1]")
        .appName("wcpipe-expr")
        .config("spark.sql.session.timeZone", "UTC")  # as the Glue job sets it
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )
    yield session
    session.stop()


def test_corpus_on_spark(spark: Any) -> None:
    from pyspark.sql.types import IntegerType, StringType, StructField, StructType

    schema = StructType([StructField("i", IntegerType()), StructField("raw", StringType())])

    def evaluate(column: ColumnConfig, raws: Sequence[str | None]) -> Sequence[tuple[object, bool]]:
        exprs = expr.column_exprs(column, expr.col("raw"))
        frame = spark.createDataFrame(list(enumerate(raws)), schema)
        frame = frame.selectExpr("i", f"{expr.SPARK.sql(exprs.text)} AS `{column.name}`")
        frame = frame.selectExpr(
            "i", f"{expr.SPARK.sql(exprs.value)} AS v", f"{expr.SPARK.sql(exprs.rejected)} AS r"
        )
        rows = sorted(frame.collect(), key=lambda row: row["i"])
        return [(row["v"], bool(row["r"])) for row in rows]

    assert corpus.differences(evaluate) == []
