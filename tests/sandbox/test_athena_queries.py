"""Athena queries in the sandbox run on DuckDB over the sandbox's S3 objects: the S3 crawler's
table resolved from the Glue catalog, results in Athena's shape and at the workgroup's output
location, QUEUED/RUNNING/SUCCEEDED/FAILED, and AWS's error shapes (botocore's model)."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from botocore.exceptions import ClientError
from support.paths import FIFA_CSV

BUCKET, DB, WORKGROUP = "athena-data", "fifa_s3", "wcpipe-athena-test"
OUTPUT = f"s3://{BUCKET}/wcpipe/athena-results/"


@pytest.fixture(scope="module")
def table(sandbox: Any) -> str:
    """The FIFA file split over two objects, crawled; a workgroup enforcing its output."""
    s3, glue = sandbox.client("s3"), sandbox.client("glue")
    s3.create_bucket(Bucket=BUCKET)
    lines = FIFA_CSV.read_text(encoding="utf-8").splitlines(keepends=True)
    s3.put_object(Bucket=BUCKET, Key="data/attendance/a.csv", Body="".join(lines[:11]).encode())
    s3.put_object(
        Bucket=BUCKET, Key="data/attendance/b.csv", Body="".join([lines[0], *lines[11:]]).encode()
    )
    glue.create_database(DatabaseInput={"Name": DB})
    glue.create_classifier(
        CsvClassifier={
            "Name": "athena-test-csv",
            "Delimiter": ",",
            "QuoteSymbol": '"',
            "ContainsHeader": "PRESENT",
        }
    )
    glue.create_crawler(
        Name="athena-test-crawler",
        Role="arn:aws:iam::123456789012:role/glue",
        DatabaseName=DB,
        Classifiers=["athena-test-csv"],
        Targets={"S3Targets": [{"Path": f"s3://{BUCKET}/data/attendance/"}]},
    )
    glue.start_crawler(Name="athena-test-crawler")
    assert sandbox.idle(timeout=20)
    # written after the crawl: Athena skips it (Hive's hidden file, a name starting with '_')
    s3.put_object(Bucket=BUCKET, Key="data/attendance/_SUCCESS", Body=b"ignored")
    sandbox.client("athena").create_work_group(
        Name=WORKGROUP,
        Configuration={
            "ResultConfiguration": {"OutputLocation": OUTPUT},
            "EnforceWorkGroupConfiguration": True,
        },
    )
    return "attendance"


def _run(sandbox: Any, sql: str) -> tuple[str, dict[str, Any]]:
    athena = sandbox.client("athena")
    query_id = athena.start_query_execution(
        QueryString=sql,
        QueryExecutionContext={"Database": DB},
        WorkGroup=WORKGROUP,
        ResultConfiguration={"OutputLocation": f"s3://{BUCKET}/elsewhere/"},  # overridden
    )["QueryExecutionId"]
    first = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
    assert first["Status"]["State"] in ("QUEUED", "RUNNING", "SUCCEEDED", "FAILED")
    assert sandbox.idle(timeout=30)
    return query_id, athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]


def test_select_over_the_crawled_table(sandbox: Any, table: str) -> None:
    sql = (
        f'SELECT COUNT(*) AS n, SUM(TRY_CAST("year" AS BIGINT)) AS years,'
        f' COUNT(DISTINCT "$path") AS files, MAX(hosts) AS last_host FROM {table}'
    )
    query_id, execution = _run(sandbox, sql)
    assert execution["Status"]["State"] == "SUCCEEDED", execution["Status"].get("StateChangeReason")
    output = execution["ResultConfiguration"]["OutputLocation"]
    assert output == f"{OUTPUT}{query_id}.csv"
    sizes = [
        o["Size"]
        for o in sandbox.client("s3").list_objects_v2(Bucket=BUCKET, Prefix="data/attendance/")[
            "Contents"
        ]
    ]
    assert execution["Statistics"]["DataScannedInBytes"] == sum(sizes) - len(b"ignored")
    results = sandbox.client("athena").get_query_results(QueryExecutionId=query_id)
    rows = [[c.get("VarCharValue") for c in r["Data"]] for r in results["ResultSet"]["Rows"]]
    records = list(csv.reader(io.StringIO(FIFA_CSV.read_text(encoding="utf-8"))))[1:]
    years, host = sum(int(r[1]) for r in records if r[1].isdigit()), max(r[2] for r in records)
    assert rows == [
        ["n", "years", "files", "last_host"],
        [str(len(records)), str(years), "2", host],
    ]
    info = results["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]
    assert [(c["Name"], c["Type"]) for c in info] == [
        ("n", "bigint"),
        ("years", "bigint"),
        ("files", "bigint"),
        ("last_host", "varchar"),
    ]
    body = (
        sandbox.client("s3")
        .get_object(Bucket=BUCKET, Key=output.removeprefix(f"s3://{BUCKET}/"))["Body"]
        .read()
    )
    assert body.decode() == f'"n","years","files","last_host"\n"23","{years}","2","{host}"\n'


def test_trino_functions_are_rewritten_for_duckdb(sandbox: Any, table: str) -> None:
    sql = (
        "SELECT REGEXP_REPLACE(venue, '[aeiou]', '') AS v, LENGTH(TO_UTF8(venue)) AS b"
        f" FROM {table} WHERE REGEXP_LIKE(venue, '^Maracan') ORDER BY v"
    )
    query_id, execution = _run(sandbox, sql)
    assert execution["Status"]["State"] == "SUCCEEDED", execution["Status"].get("StateChangeReason")
    rows = sandbox.client("athena").get_query_results(QueryExecutionId=query_id)["ResultSet"][
        "Rows"
    ]
    venue = "Maracanã Stadium, Rio de Janeiro"
    assert rows[1]["Data"] == [
        {"VarCharValue": "Mrcnã Stdm, R d Jnr"},
        {"VarCharValue": str(len(venue.encode()))},
    ]


def test_results_page_by_max_results(sandbox: Any, table: str) -> None:
    query_id, _ = _run(sandbox, f'SELECT "year" FROM {table} ORDER BY 1')
    pages = (
        sandbox.client("athena")
        .get_paginator("get_query_results")
        .paginate(QueryExecutionId=query_id, PaginationConfig={"PageSize": 5})
    )
    rows = [r["Data"][0].get("VarCharValue") for page in pages for r in page["ResultSet"]["Rows"]]
    assert rows[0] == "year" and len(rows) == 24 and rows[1] == "1930"


def test_a_bad_query_fails_with_athenas_error_shape(sandbox: Any, table: str) -> None:
    query_id, execution = _run(sandbox, f"SELECT no_such_column FROM {table}")
    status = execution["Status"]
    assert status["State"] == "FAILED"
    assert "no_such_column" in status["StateChangeReason"]
    error = status["AthenaError"]
    assert (error["ErrorCategory"], error["ErrorType"], error["Retryable"]) == (2, 1000, False)
    with pytest.raises(ClientError) as raised:
        sandbox.client("athena").get_query_results(QueryExecutionId=query_id)
    assert raised.value.response["Error"]["Code"] == "InvalidRequestException"


def test_a_missing_workgroup_or_output_is_refused(sandbox: Any, table: str) -> None:
    athena = sandbox.client("athena")
    with pytest.raises(ClientError) as raised:
        athena.start_query_execution(QueryString="SELECT 1", WorkGroup="no-such-group")
    assert raised.value.response["Error"]["Code"] == "InvalidRequestException"
    with pytest.raises(ClientError) as raised:
        athena.start_query_execution(QueryString="SELECT 1", WorkGroup="primary")
    assert raised.value.response["Error"]["Code"] == "InvalidRequestException"
    assert "No output location" in raised.value.response["Error"]["Message"]
