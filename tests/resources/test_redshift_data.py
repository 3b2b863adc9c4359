"""The target table: warehouse and secret on moto, the Data API through botocore's Stubber, which
checks every SQL text sent and answers with realistic information_schema rows."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.stub import Stubber
from support.dataapi import DataApi
from support.plan import texts

from wcpipe.core.errors import WcpipeError
from wcpipe.provision.resources import redshift_data
from wcpipe.provision.resources.base import Context, Differences
from wcpipe.sandbox.patches import serverless
from wcpipe.spec.model import Spec
from wcpipe.warehouse import sql

PASSWORD = "Sup3rSecretPassw0rd"
STATEMENT = "d9b6c0c9-0000-4000-8000-000000000001"
COLUMNS_QUERY_PARAMS = [
    {"name": "schema", "value": "public"},
    {"name": "table", "value": "attendance"},
]

# information_schema.columns as Redshift reports the FIFA table.
FIFA_COLUMNS: list[tuple[str, str, int | None, int | None, int | None]] = [
    ("source_index", "smallint", None, 16, 0),
    ("year", "smallint", None, 16, 0),
    ("hosts", "character varying", 64, None, None),
    ("total_attendance", "integer", None, 32, 0),
    ("matches", "smallint", None, 16, 0),
    ("average_attendance", "integer", None, 32, 0),
    ("highest_attendance", "integer", None, 32, 0),
    ("venue", "character varying", 128, None, None),
    ("games", "character varying", 256, None, None),
]


@pytest.fixture
def dctx(ctx: Context) -> Context:
    """An available cluster of this pipeline (tagged as ours) and the admin secret, on moto."""
    secret = ctx.client("secretsmanager").create_secret(
        Name=ctx.names.secret,
        SecretString=json.dumps({"username": "awsadmin", "password": PASSWORD}),
    )
    ctx.publish("secretsmanager.admin-secret", {"arn": secret["ARN"]})
    _cluster(ctx, tags=ctx.tag_list("Key", "Value"))
    return ctx


def _cluster(ctx: Context, tags: list[dict[str, str]]) -> None:
    ctx.client("redshift").create_cluster(
        ClusterIdentifier=ctx.names.cluster,
        NodeType="ra3.large",
        ClusterType="single-node",
        MasterUsername="awsadmin",
        MasterUserPassword=PASSWORD,
        Tags=tags,
    )


@pytest.fixture
def stub(dctx: Context) -> Any:
    with Stubber(dctx.client("redshift-data")) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def target(ctx: Context) -> dict[str, str]:
    return {
        "ClusterIdentifier": "wcpipe-fifa",
        "Database": "dev",
        "SecretArn": ctx.output("secretsmanager.admin-secret", "arn"),
    }


def _cell(value: Any) -> dict[str, Any]:
    if value is None:
        return {"isNull": True}
    if isinstance(value, int):
        return {"longValue": value}
    return {"stringValue": value}


def expect_sql(
    stub: Stubber,
    ctx: Context,
    text: str,
    params: list[dict[str, str]] | None = None,
    rows: list[list[Any]] | None = None,
    names: list[str] | None = None,
) -> None:
    """One statement: ExecuteStatement with exactly `text`, FINISHED, then its rows if any."""
    expected: dict[str, Any] = {**target(ctx), "Sql": text}
    if params:
        expected["Parameters"] = params
    stub.add_response("execute_statement", {"Id": STATEMENT}, expected)
    stub.add_response(
        "describe_statement",
        {"Id": STATEMENT, "Status": "FINISHED", "HasResultSet": rows is not None},
        {"Id": STATEMENT},
    )
    if rows is not None:
        stub.add_response(
            "get_statement_result",
            {
                "ColumnMetadata": [{"name": n} for n in names or []],
                "Records": [[_cell(v) for v in row] for row in rows],
            },
            {"Id": STATEMENT},
        )


INFO_NAMES = [
    "column_name",
    "data_type",
    "character_maximum_length",
    "numeric_precision",
    "numeric_scale",
    "is_nullable",
]


def expect_columns(
    stub: Stubber, ctx: Context, columns: list[tuple[Any, ...]], *, marked: bool = True
) -> None:
    """The describe: the table's columns, then (when it exists) this pipeline's marked tables."""
    rows = [[*c, "NO" if c[0] != "games" else "YES"] for c in columns]
    expect_sql(stub, ctx, sql.table_columns_query(), COLUMNS_QUERY_PARAMS, rows, INFO_NAMES)
    if columns:
        marker = [{"name": "marker", "value": sql.owner_marker(ctx.spec)}]
        owned = [["public", ctx.spec.table.name]] if marked else []
        names = ["table_schema", "table_name"]
        expect_sql(stub, ctx, sql.owned_tables_query(), marker, owned, names)


def with_columns(ctx: Context, changes: dict[str, str], extra: list[dict[str, Any]]) -> Context:
    raw = ctx.spec.model_dump(by_alias=True)
    for column in raw["table"]["columns"]:
        column["type"] = changes.get(column["name"], column["type"])
    raw["table"]["columns"] = [*raw["table"]["columns"], *extra]
    new = Context(spec=Spec.model_validate(raw), aws=ctx.aws, timing=ctx.timing)
    new.outputs.update(ctx.outputs)
    return new


# Type mapping ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("spec_type", "canonical"),
    [
        ("int", "integer"),
        ("int4", "integer"),
        ("int2", "smallint"),
        ("int8", "bigint"),
        ("numeric(9)", "decimal(9,0)"),
        ("decimal(12, 2)", "decimal(12,2)"),
        ("character varying(64)", "varchar(64)"),
        ("varchar(max)", "varchar(65535)"),
        ("float", "double precision"),
        ("float8", "double precision"),
        ("bool", "boolean"),
        ("timestamp without time zone", "timestamp"),
        ("timestamptz", "timestamptz"),
        ("character(2)", "char(2)"),
    ],
)
def test_canonical_type(spec_type: str, canonical: str) -> None:
    assert redshift_data.canonical_type(spec_type) == canonical


@pytest.mark.parametrize(
    ("row", "canonical"),
    [
        ({"data_type": "character varying", "character_maximum_length": 64}, "varchar(64)"),
        ({"data_type": "numeric", "numeric_precision": 12, "numeric_scale": 2}, "decimal(12,2)"),
        ({"data_type": "integer", "numeric_precision": 32, "numeric_scale": 0}, "integer"),
        ({"data_type": "smallint"}, "smallint"),
        ({"data_type": "double precision"}, "double precision"),
        ({"data_type": "timestamp without time zone"}, "timestamp"),
        ({"data_type": "character", "character_maximum_length": 2}, "char(2)"),
    ],
)
def test_observed_type(row: dict[str, Any], canonical: str) -> None:
    assert redshift_data.observed_type(row) == canonical


# Lifecycle --------------------------------------------------------------------------------------
def test_ensure_twice(dctx: Context, stub: Stubber) -> None:
    expect_columns(stub, dctx, [])  # no such table yet
    expect_sql(stub, dctx, 'CREATE SCHEMA IF NOT EXISTS "public"')
    expect_sql(stub, dctx, sql.create_table(dctx.spec))
    expect_sql(stub, dctx, sql.mark_table(dctx.spec))  # the pipeline's marker, a comment
    expect_columns(stub, dctx, FIFA_COLUMNS)  # second ensure: reads only, no DDL
    table = redshift_data.TargetTable(dctx)
    assert table.ensure() == "created"
    assert table.ensure() == "unchanged"
    assert dctx.output("redshift-data.table", "table") == "public.attendance"


def test_create_sends_the_spec_ddl_on_moto(dctx: Context, data_api: DataApi) -> None:
    redshift_data.TargetTable(dctx).create()
    assert data_api.sent == [
        sql.create_schema(dctx.spec),
        sql.create_table(dctx.spec),
        sql.mark_table(dctx.spec),
    ]
    assert "CREATE TABLE IF NOT EXISTS" in data_api.sent[1]
    assert '"hosts" varchar(64) NOT NULL' in data_api.sent[1]


def test_absent_while_warehouse_missing_or_busy(ctx: Context) -> None:
    table = redshift_data.TargetTable(ctx)
    assert table.describe() is None  # no cluster: not even the secret is read
    assert table.destroy() == "absent"
    assert table.destroy() == "absent"


def test_absent_when_serverless_workgroup_missing(ctx: Context) -> None:
    """On the sandbox's Redshift Serverless (moto has none), which answers GetWorkgroup for a
    missing workgroup with AWS's ResourceNotFoundException."""
    serverless.install()
    raw = ctx.spec.model_dump(by_alias=True)
    raw["warehouse"]["type"] = "serverless"
    sctx = Context(spec=Spec.model_validate(raw), aws=ctx.aws, timing=ctx.timing)
    with Stubber(sctx.client("redshift-data")) as stub:  # no statement may be sent
        assert redshift_data.TargetTable(sctx).describe() is None
        stub.assert_no_pending_responses()


def test_delete_is_a_no_op_then_absent_with_the_warehouse(dctx: Context, stub: Stubber) -> None:
    expect_columns(stub, dctx, FIFA_COLUMNS)
    table = redshift_data.TargetTable(dctx)
    assert table.destroy() == "deleted"  # only the read above was sent: no DROP
    dctx.client("redshift").delete_cluster(
        ClusterIdentifier="wcpipe-fifa", SkipFinalClusterSnapshot=True
    )
    assert table.destroy() == "absent"


def test_missing_and_widened_columns(dctx: Context, stub: Stubber) -> None:
    grown = with_columns(
        dctx,
        {"hosts": "varchar(128)"},
        [
            {"name": "winner", "type": "varchar(64)"},
            {"name": "goals", "type": "integer", "nullable": False},
        ],
    )
    table = redshift_data.TargetTable(grown)
    expect_columns(stub, grown, FIFA_COLUMNS)
    observed = table.describe()
    assert observed is not None
    assert texts(table.differences(observed)) == [
        "column winner: (none) -> varchar(64)",
        "column goals: (none) -> integer",
        "column hosts: varchar(64) -> varchar(128)",
    ]
    q = sql.qualified(grown.spec.table)
    expect_sql(stub, grown, f'ALTER TABLE {q} ADD COLUMN "winner" varchar(64)')
    # goals is NOT NULL and the table has rows: it is added nullable.
    expect_sql(stub, grown, f"SELECT 1 AS one FROM {q} LIMIT 1", rows=[[1]], names=["one"])
    expect_sql(stub, grown, f'ALTER TABLE {q} ADD COLUMN "goals" integer')
    expect_sql(stub, grown, f'ALTER TABLE {q} ALTER COLUMN "hosts" TYPE varchar(128)')
    table.update(observed, Differences(table.differences(observed)))


def test_not_null_column_on_empty_table_stays_not_null(dctx: Context, stub: Stubber) -> None:
    grown = with_columns(dctx, {}, [{"name": "goals", "type": "integer", "nullable": False}])
    table = redshift_data.TargetTable(grown)
    expect_columns(stub, grown, FIFA_COLUMNS)
    observed = table.describe()
    assert observed is not None
    q = sql.qualified(grown.spec.table)
    expect_sql(stub, grown, f"SELECT 1 AS one FROM {q} LIMIT 1", rows=[], names=["one"])
    expect_sql(stub, grown, f'ALTER TABLE {q} ADD COLUMN "goals" integer NOT NULL')
    table.update(observed, Differences(table.differences(observed)))


def test_other_type_changes_are_refused_before_any_change(dctx: Context, stub: Stubber) -> None:
    changed = with_columns(
        dctx,
        {"year": "integer", "venue": "varchar(64)"},
        [{"name": "winner", "type": "varchar(64)"}],
    )
    table = redshift_data.TargetTable(changed)
    expect_columns(stub, changed, FIFA_COLUMNS)
    observed = table.describe()
    assert observed is not None
    assert "column year: smallint -> integer" in [
        d.text(reason=False) for d in table.differences(observed)
    ]
    with pytest.raises(WcpipeError, match="migrate by hand") as caught:
        table.update(observed, Differences(table.differences(observed)))
    message = str(caught.value) + str(caught.value.hint)
    assert "year: smallint -> integer" in message
    assert "venue: varchar(128) -> varchar(64)" in message
    # No ALTER was queued, and the Stubber would have refused one.


def test_warehouse_state_published_in_this_run_is_not_read_again(ctx: Context) -> None:
    table = redshift_data.TargetTable(ctx)
    with Stubber(ctx.client("redshift")) as stub:  # no DescribeClusters may be sent
        ctx.mark_absent("redshift.cluster")  # the engine described it: absent
        assert table.describe() is None
        ctx.publish("redshift.cluster", {"status": "modifying"})
        assert table.describe() is None
        stub.assert_no_pending_responses()


def test_a_warehouse_not_ours_holds_no_table_of_ours(ctx: Context) -> None:
    """Someone else's same-named cluster: the table is absent, and no statement is sent with
    credentials that are not that cluster's (plan marks the cluster not-owned, up stops)."""
    _cluster(ctx, tags=[])
    table = redshift_data.TargetTable(ctx)
    with Stubber(ctx.client("redshift-data")) as stub:  # no statement may be sent
        assert table.describe() is None  # read by itself
        ctx.publish("redshift.cluster", {"status": "available", "owned": False})
        assert table.describe() is None  # as the engine published it
        stub.assert_no_pending_responses()
