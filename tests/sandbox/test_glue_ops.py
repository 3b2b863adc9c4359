"""The Glue operations moto lacks, as the sandbox serves them, through a real boto3 client."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

ROLE = "arn:aws:iam::123456789012:role/wcpipe-test-glue"


@pytest.fixture(scope="module")
def glue(client: Any) -> Any:
    return client("glue")


def _code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def test_update_job_replaces_the_definition(glue: Any) -> None:
    glue.create_job(
        Name="job-a",
        Role=ROLE,
        Command={"Name": "glueetl", "ScriptLocation": "s3://b/a.py"},
        DefaultArguments={"--x": "1"},
        Description="old",
        Timeout=30,
        Tags={"k": "v"},
    )
    glue.update_job(
        JobName="job-a",
        JobUpdate={
            "Role": ROLE,
            "Command": {"Name": "glueetl", "ScriptLocation": "s3://b/b.py"},
            "GlueVersion": "4.0",
            "WorkerType": "G.1X",
            "NumberOfWorkers": 2,
        },
    )
    job = glue.get_job(JobName="job-a")["Job"]
    assert job["Command"]["ScriptLocation"] == "s3://b/b.py"
    assert (job["GlueVersion"], job["WorkerType"], job["NumberOfWorkers"]) == ("4.0", "G.1X", 2)
    assert "Description" not in job  # omitted in JobUpdate: removed, as on AWS
    assert job.get("DefaultArguments", {}) == {}
    assert job["Timeout"] == 2880
    arn = "arn:aws:glue:us-east-1:123456789012:job/job-a"
    assert glue.get_tags(ResourceArn=arn)["Tags"] == {"k": "v"}


def test_update_job_unknown_is_not_found(glue: Any) -> None:
    with pytest.raises(ClientError) as err:
        glue.update_job(JobName="nope", JobUpdate={"Role": ROLE})
    assert _code(err) == "EntityNotFoundException"


def test_update_crawler_changes_only_what_is_given(glue: Any) -> None:
    glue.create_crawler(
        Name="crawler-a",
        Role=ROLE,
        DatabaseName="db1",
        Description="keep",
        Targets={"S3Targets": [{"Path": "s3://b/raw/"}]},
    )
    glue.update_crawler(Name="crawler-a", DatabaseName="db2", Classifiers=["csv"])
    crawler = glue.get_crawler(Name="crawler-a")["Crawler"]
    assert (crawler["DatabaseName"], crawler["Description"]) == ("db2", "keep")
    assert crawler["Classifiers"] == ["csv"]
    assert crawler["Version"] == 2
    with pytest.raises(ClientError) as err:
        glue.update_crawler(Name="nope", DatabaseName="db2")
    assert _code(err) == "EntityNotFoundException"


def test_get_crawler_metrics_for_a_crawler_never_run(glue: Any) -> None:
    glue.create_crawler(
        Name="crawler-m",
        Role=ROLE,
        DatabaseName="db1",
        Targets={"S3Targets": [{"Path": "s3://b/raw/"}]},
    )
    metrics = glue.get_crawler_metrics(CrawlerNameList=["crawler-m"])["CrawlerMetricsList"]
    assert metrics == [
        {
            "CrawlerName": "crawler-m",
            "TimeLeftSeconds": 0.0,
            "StillEstimating": False,
            "LastRuntimeSeconds": 0.0,
            "MedianRuntimeSeconds": 0.0,
            "TablesCreated": 0,
            "TablesUpdated": 0,
            "TablesDeleted": 0,
        }
    ]


def test_job_bookmark_reset(glue: Any, sandbox: Any) -> None:
    from wcpipe.sandbox.patches import glue_ops

    glue.create_job(
        Name="job-b", Role=ROLE, Command={"Name": "glueetl", "ScriptLocation": "s3://b/a.py"}
    )
    with pytest.raises(ClientError) as err:
        glue.reset_job_bookmark(JobName="job-b")
    assert _code(err) == "EntityNotFoundException"  # no run has committed a bookmark yet

    glue_ops.put_bookmark(sandbox.backend("glue"), "job-b", "jr_1", {"files": ["a.csv"]})
    entry = glue.get_job_bookmark(JobName="job-b")["JobBookmarkEntry"]
    assert (entry["RunId"], entry["Version"]) == ("jr_1", 1)
    reset = glue.reset_job_bookmark(JobName="job-b")["JobBookmarkEntry"]
    assert reset["JobBookmark"] == "{}"
    assert reset["Version"] == 2
    with pytest.raises(ClientError) as err:
        glue.reset_job_bookmark(JobName="nope")
    assert _code(err) == "EntityNotFoundException"


def test_connection_update_and_delete(glue: Any) -> None:
    props = {"JDBC_CONNECTION_URL": "jdbc:redshift://h:5439/dev", "USERNAME": "u"}
    glue.create_connection(
        ConnectionInput={"Name": "conn", "ConnectionType": "JDBC", "ConnectionProperties": props}
    )
    props2 = dict(props, JDBC_CONNECTION_URL="jdbc:redshift://h2:5439/dev")
    glue.update_connection(
        Name="conn",
        ConnectionInput={"Name": "conn", "ConnectionType": "JDBC", "ConnectionProperties": props2},
    )
    got = glue.get_connection(Name="conn")["Connection"]
    assert got["ConnectionProperties"]["JDBC_CONNECTION_URL"].endswith("h2:5439/dev")
    glue.delete_connection(ConnectionName="conn")
    with pytest.raises(ClientError) as err:
        glue.delete_connection(ConnectionName="conn")
    assert _code(err) == "EntityNotFoundException"


def test_classifier_lifecycle(glue: Any) -> None:
    csv = {"Name": "csv", "Delimiter": ",", "QuoteSymbol": '"', "ContainsHeader": "PRESENT"}
    glue.create_classifier(CsvClassifier=csv)
    with pytest.raises(ClientError) as err:
        glue.create_classifier(CsvClassifier=csv)
    assert _code(err) == "AlreadyExistsException"
    glue.update_classifier(CsvClassifier={"Name": "csv", "Delimiter": ";"})
    got = glue.get_classifier(Name="csv")["Classifier"]["CsvClassifier"]
    assert (got["Delimiter"], got["ContainsHeader"], got["Version"]) == (";", "PRESENT", 2)
    assert [c["CsvClassifier"]["Name"] for c in glue.get_classifiers()["Classifiers"]] == ["csv"]
    glue.delete_classifier(Name="csv")
    with pytest.raises(ClientError) as err:
        glue.get_classifier(Name="csv")
    assert _code(err) == "EntityNotFoundException"
