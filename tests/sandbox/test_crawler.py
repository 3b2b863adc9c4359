"""Crawlers crawl in the sandbox: S3 CSV and JDBC targets, LastCrawl, logs and Glue events.

One sandbox for the module (real moto server + embedded PostgreSQL); boto3 clients point at it.
Crawls run on the sandbox's worker threads: `sandbox.idle()` waits until they have finished.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError
from support.catalog import s3_crawler as make_s3_crawler
from support.paths import EVENTS_DIR, FIFA_CSV, SPEC_PATH

CSV = FIFA_CSV.read_bytes()
ACCOUNT, REGION = "123456789012", "us-east-1"


@pytest.fixture(scope="module")
def names() -> Any:
    from wcpipe.spec.model import load_spec
    from wcpipe.spec.names import Names

    return Names.of(load_spec(SPEC_PATH), ACCOUNT, REGION)


@pytest.fixture
def events(sandbox: Any) -> Any:
    """The events put since the test began (the crawls' Glue events)."""
    sandbox.events.clear()
    return lambda: list(sandbox.events)


@pytest.fixture(scope="module")
def s3_crawler(sandbox: Any, names: Any) -> str:
    """The FIFA file in its bucket, the spec's classifier, database and S3 crawler."""
    s3, glue = sandbox.client("s3"), sandbox.client("glue")
    make_s3_crawler(s3, glue, names, CSV)
    return str(names.s3_crawler)


def crawl(sandbox: Any, name: str) -> dict[str, Any]:
    glue = sandbox.client("glue")
    glue.start_crawler(Name=name)
    assert sandbox.idle(timeout=10)
    crawler: dict[str, Any] = glue.get_crawler(Name=name)["Crawler"]
    return crawler


def test_start_crawler_catalogs_the_csv_with_glue_types(sandbox: Any, names: Any, s3_crawler: str):
    crawler = crawl(sandbox, s3_crawler)

    assert crawler["State"] == "READY"
    last = crawler["LastCrawl"]
    assert last["Status"] == "SUCCEEDED"
    assert (last["LogGroup"], last["LogStream"]) == ("/aws-glue/crawlers", s3_crawler)
    assert "ErrorMessage" not in last
    table = sandbox.client("glue").get_table(DatabaseName=names.s3_database, Name="attendance")[
        "Table"
    ]
    columns = {c["Name"]: c["Type"] for c in table["StorageDescriptor"]["Columns"]}
    assert columns == {
        "col0": "bigint",
        "year": "string",  # the "Overall" totals row
        "hosts": "string",
        "total_attendance": "bigint",
        "matches": "bigint",
        "average_attendance": "bigint",
        "number": "string",  # "173,850[86]"
        "venue": "string",
        "game(s)": "string",
    }
    storage = table["StorageDescriptor"]
    assert storage["Location"] == f"s3://{names.bucket}/raw/attendance/"
    assert storage["InputFormat"] == "org.apache.hadoop.mapred.TextInputFormat"
    assert (
        storage["SerdeInfo"]["SerializationLibrary"] == "org.apache.hadoop.hive.serde2.OpenCSVSerde"
    )
    assert storage["SerdeInfo"]["Parameters"] == {"separatorChar": ",", "quoteChar": '"'}
    params = table["Parameters"]
    assert params["classification"] == "csv"
    assert params["skip.header.line.count"] == "1"
    assert params["objectCount"] == "1"
    assert params["sizeKey"] == str(len(CSV))
    assert params["recordCount"] == "23"


def test_crawl_emits_started_and_succeeded_events_in_the_documented_shape(
    sandbox: Any, s3_crawler: str, events: Any
):
    crawl(sandbox, s3_crawler)

    got = events()
    started = json.loads((EVENTS_DIR / "crawler-started.json").read_text())
    succeeded = json.loads((EVENTS_DIR / "crawler-succeeded.json").read_text())
    assert [e["detail"]["state"] for e in got] == ["Started", "Succeeded"]
    for event, documented in zip(got, (started, succeeded), strict=True):
        assert set(event) == set(documented)
        assert set(event["detail"]) == set(documented["detail"])
        assert all(isinstance(v, str) for v in event["detail"].values())
        assert (event["source"], event["detail-type"]) == ("aws.glue", "Glue Crawler State Change")
        assert (event["account"], event["region"]) == (ACCOUNT, REGION)
        assert event["time"].endswith("Z")
    detail = got[1]["detail"]
    assert detail["crawlerName"] == s3_crawler
    assert detail["tablesCreated"] == "0"  # the table exists since the first crawl
    assert int(detail["runningTime (sec)"]) >= 1
    assert detail["cloudWatchLogLink"] == succeeded["detail"]["cloudWatchLogLink"]


def test_a_new_object_updates_the_table_and_the_metrics(sandbox: Any, names: Any, s3_crawler: str):
    sandbox.client("s3").put_object(Bucket=names.bucket, Key=f"{names.prefix}more.csv", Body=CSV)
    crawl(sandbox, s3_crawler)

    glue = sandbox.client("glue")
    table = glue.get_table(DatabaseName=names.s3_database, Name="attendance")["Table"]
    assert table["Parameters"]["objectCount"] == "2"
    metrics = glue.get_crawler_metrics(CrawlerNameList=[s3_crawler])["CrawlerMetricsList"][0]
    assert (metrics["TablesCreated"], metrics["TablesUpdated"]) == (0, 1)
    assert metrics["LastRuntimeSeconds"] >= 0
    sandbox.client("s3").delete_object(Bucket=names.bucket, Key=f"{names.prefix}more.csv")


def test_crawl_logs_to_the_crawler_stream(sandbox: Any, s3_crawler: str):
    logs = sandbox.client("logs")
    lines = [
        e["message"]
        for e in logs.get_log_events(logGroupName="/aws-glue/crawlers", logStreamName=s3_crawler)[
            "events"
        ]
    ]
    assert any("Running Start Crawl" in line for line in lines)
    assert any("finished running and is in state READY" in line for line in lines)


def test_list_crawls_shows_each_crawl(sandbox: Any, s3_crawler: str):
    crawls = sandbox.client("glue").list_crawls(CrawlerName=s3_crawler)["Crawls"]
    assert len(crawls) >= 3
    assert {c["State"] for c in crawls} == {"COMPLETED"}


def test_start_crawler_while_running_is_refused(sandbox: Any, s3_crawler: str):
    from wcpipe.sandbox.patches.crawler import SandboxCrawl

    crawler = sandbox.backend("glue").get_crawler(s3_crawler)
    running = SandboxCrawl(s3_crawler)  # a crawl still in progress
    crawler.crawls.append(running)
    try:
        with pytest.raises(ClientError) as err:
            sandbox.client("glue").start_crawler(Name=s3_crawler)
        assert err.value.response["Error"]["Code"] == "CrawlerRunningException"
        assert sandbox.client("glue").get_crawler(Name=s3_crawler)["Crawler"]["State"] == "RUNNING"
    finally:
        crawler.crawls.remove(running)


def test_a_crawl_with_no_objects_fails_with_a_message_and_a_failed_event(
    sandbox: Any, names: Any, events: Any
):
    glue = sandbox.client("glue")
    glue.create_crawler(
        Name="empty",
        Role=names.role_arn(names.glue_role),
        DatabaseName=names.s3_database,
        Targets={"S3Targets": [{"Path": f"s3://{names.bucket}/nothing/here/"}]},
    )
    crawler = crawl(sandbox, "empty")

    assert crawler["State"] == "READY"
    assert crawler["LastCrawl"]["Status"] == "FAILED"
    assert "No objects found" in crawler["LastCrawl"]["ErrorMessage"]
    failed = [e for e in events() if e["detail"]["state"] == "Failed"]
    documented = json.loads((EVENTS_DIR / "crawler-failed.json").read_text())
    assert len(failed) == 1
    assert set(failed[0]["detail"]) == set(documented["detail"])
    assert "No objects found" in failed[0]["detail"]["errorMessage"]


def test_an_unreadable_csv_fails_the_crawl(sandbox: Any, names: Any):
    s3, glue = sandbox.client("s3"), sandbox.client("glue")
    s3.put_object(Bucket=names.bucket, Key="binary/blob.csv", Body=b"\xff\xfe\x00bad\xc3")
    glue.create_crawler(
        Name="binary",
        Role=names.role_arn(names.glue_role),
        DatabaseName=names.s3_database,
        Targets={"S3Targets": [{"Path": f"s3://{names.bucket}/binary/"}]},
    )
    crawler = crawl(sandbox, "binary")

    assert crawler["LastCrawl"]["Status"] == "FAILED"
    assert "not a readable CSV" in crawler["LastCrawl"]["ErrorMessage"]


def test_without_a_classifier_the_builtin_rules_find_header_and_types(sandbox: Any, names: Any):
    s3, glue = sandbox.client("s3"), sandbox.client("glue")
    s3.put_object(
        Bucket=names.bucket, Key="plain/t.csv", Body=b"id|ok|ratio\n1|true|0.5\n2|false|1\n"
    )
    glue.create_crawler(
        Name="plain",
        Role=names.role_arn(names.glue_role),
        DatabaseName=names.s3_database,
        TablePrefix="p_",
        Targets={"S3Targets": [{"Path": f"s3://{names.bucket}/plain"}]},
    )
    assert crawl(sandbox, "plain")["LastCrawl"]["Status"] == "SUCCEEDED"

    table = glue.get_table(DatabaseName=names.s3_database, Name="p_plain")["Table"]
    storage = table["StorageDescriptor"]
    assert [(c["Name"], c["Type"]) for c in storage["Columns"]] == [
        ("id", "bigint"),
        ("ok", "boolean"),
        ("ratio", "double"),
    ]
    assert storage["SerdeInfo"] == {
        "SerializationLibrary": "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
        "Parameters": {"field.delim": "|"},
    }


def test_jdbc_crawler_catalogs_the_warehouse_table(sandbox: Any, names: Any):
    from wcpipe.sandbox import warehouse_pg
    from wcpipe.spec.model import load_spec
    from wcpipe.warehouse import sql

    with sandbox.pg_connect("dev") as conn:
        for statement in warehouse_pg.to_pg_statements(
            sql.create_table(load_spec(SPEC_PATH)), None
        ):
            conn.execute(statement)
    glue = sandbox.client("glue")
    glue.create_connection(
        ConnectionInput={
            "Name": names.connection,
            "ConnectionType": "JDBC",
            "ConnectionProperties": {
                "JDBC_CONNECTION_URL": "jdbc:redshift://example:5439/dev",
                "USERNAME": "awsadmin",
                "PASSWORD": "secret",
            },
        }
    )
    glue.create_database(DatabaseInput={"Name": names.redshift_database})
    glue.create_crawler(
        Name=names.redshift_crawler,
        Role=names.role_arn(names.glue_role),
        DatabaseName=names.redshift_database,
        Targets={
            "JdbcTargets": [{"ConnectionName": names.connection, "Path": names.jdbc_include_path}]
        },
    )
    assert crawl(sandbox, names.redshift_crawler)["LastCrawl"]["Status"] == "SUCCEEDED"

    table = glue.get_table(DatabaseName=names.redshift_database, Name="dev_public_attendance")
    table = table["Table"]
    assert [(c["Name"], c["Type"]) for c in table["StorageDescriptor"]["Columns"]] == [
        ("source_index", "smallint"),
        ("year", "smallint"),
        ("hosts", "varchar(64)"),
        ("total_attendance", "int"),
        ("matches", "smallint"),
        ("average_attendance", "int"),
        ("highest_attendance", "int"),
        ("venue", "varchar(128)"),
        ("games", "varchar(256)"),
    ]
    assert table["StorageDescriptor"]["Location"] == "dev.public.attendance"
    assert table["Parameters"]["classification"] == "redshift"
    assert table["Parameters"]["connectionName"] == names.connection


def test_jdbc_crawler_fails_on_a_missing_table(sandbox: Any, names: Any):
    glue = sandbox.client("glue")
    glue.create_crawler(
        Name="jdbc-missing",
        Role=names.role_arn(names.glue_role),
        DatabaseName=names.redshift_database,
        Targets={"JdbcTargets": [{"ConnectionName": names.connection, "Path": "dev/public/nope"}]},
    )
    last = crawl(sandbox, "jdbc-missing")["LastCrawl"]
    assert last["Status"] == "FAILED"
    assert "dev.public.nope not found" in last["ErrorMessage"]


def _role_with(sandbox: Any, name: str, policy: dict[str, Any]) -> str:
    from wcpipe.provision.resources.iam_policies import trust_policy

    iam = sandbox.client("iam")
    trust = json.dumps(trust_policy(["glue.amazonaws.com"]))
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    iam.put_role_policy(RoleName=name, PolicyName="glue", PolicyDocument=json.dumps(policy))
    return str(role)


@pytest.mark.parametrize(
    "removed,denied", [(None, None), ("ReadData", "s3:GetObject"), ("Catalog", "glue:GetDatabase")]
)
def test_crawler_acts_as_its_role(
    sandbox: Any, names: Any, s3_crawler: str, removed: str | None, denied: str | None
) -> None:
    """The crawl asks the crawler's role for each action (listing and reading the objects, the
    catalog): the deployed Glue policy suffices; without one of its statements the crawl
    FAILS with AWS's AccessDenied naming the action, and its log says so."""
    from wcpipe.provision.resources.iam_policies import glue_policy

    policy = glue_policy(names, "aws")
    policy["Statement"] = [s for s in policy["Statement"] if s["Sid"] != removed]
    role_name = f"crawler-as-role-{removed or 'all'}"
    role = _role_with(sandbox, role_name, policy)
    name = f"{s3_crawler}-{role_name}"
    sandbox.client("glue").create_crawler(
        Name=name,
        Role=role,
        DatabaseName=names.s3_database,
        Classifiers=[names.classifier],
        Targets={"S3Targets": [{"Path": names.data_uri}]},
    )

    last = crawl(sandbox, name)["LastCrawl"]

    if denied is None:
        assert last["Status"] == "SUCCEEDED", last
        return
    assert last["Status"] == "FAILED"
    principal = f"arn:aws:sts::{ACCOUNT}:assumed-role/{role_name}/AWS-Crawler"
    assert last["ErrorMessage"].startswith(
        f"{'AccessDenied' if denied.startswith('s3:') else 'AccessDeniedException'}: "
        f"User: {principal} is not authorized to perform: {denied} on resource: "
    )
    lines = sandbox.client("logs").get_log_events(
        logGroupName="/aws-glue/crawlers", logStreamName=name
    )["events"]
    assert any(denied in e["message"] and "ERROR" in e["message"] for e in lines)
