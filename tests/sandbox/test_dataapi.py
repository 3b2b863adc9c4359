"""The Redshift Data API served from PostgreSQL, through a real boto3 client."""

from __future__ import annotations

import time
from typing import Any

import pytest
from botocore.exceptions import ClientError
from support.dataapi import wait_statement as _wait

SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:wcpipe-test/redshift-admin-AbCdEf"


@pytest.fixture(scope="module")
def data(client: Any, cluster: str) -> Any:
    return client("redshift-data")


def _target(cluster: str, database: str = "dev") -> dict[str, str]:
    return {"ClusterIdentifier": cluster, "Database": database, "SecretArn": SECRET}


def _run(data: Any, cluster: str, sql: str, **kwargs: Any) -> dict[str, Any]:
    sid = data.execute_statement(Sql=sql, **_target(cluster), **kwargs)["Id"]
    return _wait(data, sid)


def test_execute_statement_with_parameters_inserts_and_selects(data: Any, cluster: str) -> None:
    created = _run(
        data,
        cluster,
        "CREATE TABLE people (id integer, name varchar(max), "
        "score numeric(6,2), ratio double precision, ok boolean, born date)",
    )
    assert created["Status"] == "FINISHED"
    assert created["HasResultSet"] is False

    inserted = _run(
        data,
        cluster,
        "INSERT INTO people VALUES (:id, :name, :score, :ratio, :ok, :born), (2, NULL, NULL, "
        "NULL, NULL, NULL)",
        Parameters=[
            {"name": "id", "value": "1"},
            {"name": "name", "value": "Ada: 100%"},
            {"name": "score", "value": "12.5"},
            {"name": "ratio", "value": "0.25"},
            {"name": "ok", "value": "true"},
            {"name": "born", "value": "1815-12-10"},
        ],
    )
    assert inserted["Status"] == "FINISHED", inserted.get("Error")
    assert inserted["ResultRows"] == 2

    selected = _run(
        data,
        cluster,
        "SELECT * FROM people WHERE id >= :min ORDER BY id",
        Parameters=[{"name": "min", "value": "1"}],
    )
    assert selected["HasResultSet"] is True
    assert selected["ResultRows"] == 2
    assert selected["QueryString"].startswith("SELECT * FROM people")
    assert selected["Duration"] > 0
    result = data.get_statement_result(Id=selected["Id"])
    assert result["TotalNumRows"] == 2
    assert result["Records"][0] == [
        {"longValue": 1},
        {"stringValue": "Ada: 100%"},
        {"stringValue": "12.50"},
        {"doubleValue": 0.25},
        {"booleanValue": True},
        {"stringValue": "1815-12-10"},
    ]
    assert result["Records"][1][1] == {"isNull": True}
    assert "NextToken" not in result


def test_column_metadata_names_types(data: Any, cluster: str) -> None:
    desc = _run(
        data,
        cluster,
        "SELECT 1::smallint AS a, 'x'::varchar(12) AS b, "
        "3.5::numeric(8,3) AS c, now()::timestamp AS d",
    )
    columns = data.get_statement_result(Id=desc["Id"])["ColumnMetadata"]
    assert [(c["name"], c["typeName"]) for c in columns] == [
        ("a", "int2"),
        ("b", "varchar"),
        ("c", "numeric"),
        ("d", "timestamp"),
    ]
    assert columns[1]["precision"] == 12
    assert (columns[2]["precision"], columns[2]["scale"]) == (8, 3)
    assert columns[0]["isSigned"] is True and columns[1]["isCaseSensitive"] is True


def test_failed_statement_carries_postgresql_error(data: Any, cluster: str) -> None:
    desc = _run(data, cluster, "SELECT * FROM no_such_table")
    assert desc["Status"] == "FAILED"
    assert desc["Error"] == 'ERROR: relation "no_such_table" does not exist'
    with pytest.raises(ClientError) as err:
        data.get_statement_result(Id=desc["Id"])
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_status_is_submitted_first(data: Any, cluster: str) -> None:
    sid = data.execute_statement(Sql="SELECT pg_sleep(0.3)", **_target(cluster))["Id"]
    assert data.describe_statement(Id=sid)["Status"] in {"SUBMITTED", "STARTED"}
    assert _wait(data, sid)["Status"] == "FINISHED"


def test_batch_is_one_transaction(data: Any, cluster: str) -> None:
    sid = data.batch_execute_statement(
        Sqls=[
            "CREATE TABLE batch_t (id int)",
            "INSERT INTO batch_t VALUES (1)",
            "INSERT INTO batch_t VALUES ('not a number')",
        ],
        **_target(cluster),
    )["Id"]
    desc = _wait(data, sid)
    assert desc["Status"] == "FAILED"
    assert "invalid input syntax for type integer" in desc["Error"]
    subs = desc["SubStatements"]
    assert [s["Id"] for s in subs] == [f"{sid}:1", f"{sid}:2", f"{sid}:3"]
    assert [s["Status"] for s in subs] == ["FINISHED", "FINISHED", "FAILED"]
    exists = _run(data, cluster, "SELECT to_regclass('public.batch_t') IS NULL AS gone")
    assert data.get_statement_result(Id=exists["Id"])["Records"] == [[{"booleanValue": True}]]


def test_batch_results_by_sub_statement(data: Any, cluster: str) -> None:
    sid = data.batch_execute_statement(
        Sqls=["SELECT 1 AS one", "SELECT 2 AS two"], **_target(cluster)
    )["Id"]
    assert _wait(data, sid)["Status"] == "FINISHED"
    second = data.get_statement_result(Id=f"{sid}:2")
    assert second["Records"] == [[{"longValue": 2}]]
    with pytest.raises(ClientError) as err:
        data.get_statement_result(Id=sid)
    assert err.value.response["Error"]["Code"] == "ValidationException"


def test_paging_over_2500_rows(data: Any, cluster: str) -> None:
    from wcpipe.sandbox.patches.dataapi import PAGE_ROWS

    desc = _run(data, cluster, "SELECT g AS n FROM generate_series(1, 2500) AS g")
    pages = list(data.get_paginator("get_statement_result").paginate(Id=desc["Id"]))
    assert [len(p["Records"]) for p in pages] == [PAGE_ROWS, PAGE_ROWS, 2500 - 2 * PAGE_ROWS]
    values = [r[0]["longValue"] for p in pages for r in p["Records"]]
    assert values == list(range(1, 2501))
    assert pages[0]["TotalNumRows"] == 2500


def test_database_is_created_on_first_use(data: Any, cluster: str) -> None:
    sid = data.execute_statement(
        Sql="SELECT current_database() AS db", **_target(cluster, "analytics")
    )["Id"]
    _wait(data, sid)
    assert data.get_statement_result(Id=sid)["Records"] == [[{"stringValue": "analytics"}]]


def test_unknown_cluster_is_a_validation_error(data: Any) -> None:
    with pytest.raises(ClientError) as err:
        data.execute_statement(Sql="SELECT 1", **_target("nope"))
    assert err.value.response["Error"]["Code"] == "ValidationException"


def test_cancel_statement_aborts(data: Any, cluster: str) -> None:
    sid = data.execute_statement(Sql="SELECT pg_sleep(5)", **_target(cluster))["Id"]
    deadline = time.monotonic() + 5
    while data.describe_statement(Id=sid)["Status"] != "STARTED":
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert data.cancel_statement(Id=sid)["Status"] is True
    assert _wait(data, sid)["Status"] == "ABORTED"
    with pytest.raises(ClientError) as err:
        data.cancel_statement(Id=sid)
    assert err.value.response["Error"]["Code"] == "ValidationException"


def test_list_statements_newest_first(data: Any, cluster: str) -> None:
    sid = data.execute_statement(Sql="SELECT 42", StatementName="answer", **_target(cluster))["Id"]
    _wait(data, sid)
    listed = data.list_statements(StatementName="answer")["Statements"]
    assert [s["Id"] for s in listed] == [sid]
    assert listed[0]["QueryString"] == "SELECT 42"


def test_unknown_statement_is_not_found(data: Any) -> None:
    with pytest.raises(ClientError) as err:
        data.describe_statement(Id="00000000-0000-0000-0000-000000000000")
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_a_sort_key_becomes_an_index_and_a_rerun_changes_nothing(data: Any, cluster: str) -> None:
    ddl = (
        'CREATE TABLE IF NOT EXISTS "public"."sorted_sales" (\n  "id" bigint NOT NULL,\n'
        '  "day" date,\n  "amount" decimal(12,2)\n) SORTKEY ("id", "day")'
    )
    assert _run(data, cluster, ddl)["Status"] == "FINISHED"
    assert _run(data, cluster, ddl)["Status"] == "FINISHED"  # IF NOT EXISTS, index included

    got = _run(
        data,
        cluster,
        "SELECT indexdef FROM pg_indexes WHERE tablename = 'sorted_sales'",
    )
    [[indexdef]] = data.get_statement_result(Id=got["Id"])["Records"]
    assert indexdef["stringValue"] == (
        "CREATE INDEX sorted_sales_sortkey ON public.sorted_sales USING btree (id, day)"
    )


@pytest.mark.parametrize(
    "sql",
    [
        "CREATE TABLE t (a int) COMPOUND SORTKEY (a);",
        'create table if not exists "s"."t" (a varchar(8), b decimal(4,2)) sortkey(a)',
    ],
)
def test_sort_key_spellings_translate(sql: str) -> None:
    from wcpipe.sandbox import warehouse_pg

    create, index = warehouse_pg.to_pg_statements(sql, None)
    assert "SORTKEY" not in create.upper() and create.rstrip().endswith(")")
    assert index.startswith('CREATE INDEX IF NOT EXISTS "t_sortkey" ON ')
    assert index.endswith("(a)")
