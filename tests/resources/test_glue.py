"""Glue resources on moto through real boto3 clients. Where moto 5.2.5 lacks an operation
(classifiers altogether, UpdateCrawler, UpdateJob, UpdateConnection, DeleteConnection) the test
wraps the same client in botocore's Stubber with expected_params. Time is the FakeClock."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.stub import Stubber
from support.plan import names, texts
from support.requests import Requests

from wcpipe.core.errors import NotOwnedError, WaitTimeout
from wcpipe.provision import engine
from wcpipe.provision.resources import glue, glue_jobs
from wcpipe.provision.resources.base import Context, Difference, Differences, Observed
from wcpipe.spec.names import OWNER_TAG

HOST = "wcpipe-fifa.abc123.us-east-1.redshift.amazonaws.com"
NETWORK = {
    "group_id": "sg-0123456789abcdef0",
    "subnet_id": "subnet-0123456789abcdef0",
    "availability_zone": "us-east-1a",
}
ASSUME_ROLE = "Service is unable to assume provided role. Please verify role's TrustPolicy"


@pytest.fixture
def sent(ctx: Context) -> Requests:
    """Every Glue operation sent (stubbed or not), in order."""
    return Requests.on(ctx.client("glue"))


@pytest.fixture
def published(ctx: Context) -> Context:
    """What the security group and the cluster publish once they exist."""
    ctx.publish("ec2.security-group", NETWORK)
    ctx.publish("redshift.cluster", {"host": HOST, "port": 5439})
    return ctx


def stubbed(ctx: Context) -> Stubber:
    return Stubber(ctx.client("glue"))


def not_found(stub: Stubber, operation: str) -> None:
    stub.add_client_error(operation, "EntityNotFoundException", "not found", 400)


# Classifier (moto has no classifier operations: every call is stubbed) ------------------------


def classifier_response(ctx: Context, **overrides: Any) -> dict[str, Any]:
    return {"Classifier": {"CsvClassifier": {**glue.Classifier(ctx).definition(), **overrides}}}


def test_classifier_states_the_header(ctx: Context) -> None:
    assert glue.Classifier(ctx).definition() == {
        "Name": "wcpipe-fifa-csv",
        "Delimiter": ",",
        "QuoteSymbol": '"',
        "ContainsHeader": "PRESENT",
        "DisableValueTrimming": False,
        "AllowSingleColumn": False,
    }
    csv = ctx.spec.data.csv.model_copy(update={"header": False, "delimiter": ";"})
    spec = ctx.spec.model_copy(update={"data": ctx.spec.data.model_copy(update={"csv": csv})})
    other = glue.Classifier(Context(spec=spec, aws=ctx.aws, timing=ctx.timing))
    assert other.definition()["ContainsHeader"] == "ABSENT"
    assert other.definition()["Delimiter"] == ";"
    assert "Header" not in other.definition()


def test_classifier_ensure_twice_delete_twice(ctx: Context, sent: Requests) -> None:
    classifier = glue.Classifier(ctx)
    name = {"Name": "wcpipe-fifa-csv"}
    with stubbed(ctx) as stub:
        not_found(stub, "get_classifier")
        stub.add_response("create_classifier", {}, {"CsvClassifier": classifier.definition()})
        # create returns what it sent: no describe after it
        stub.add_response("get_classifier", classifier_response(ctx), name)
        stub.add_response("get_classifier", classifier_response(ctx), name)
        stub.add_response("delete_classifier", {}, name)
        not_found(stub, "get_classifier")
        assert classifier.ensure() == "created"
        assert classifier.ensure() == "unchanged"
        assert classifier.destroy() == "deleted"
        assert classifier.destroy() == "absent"
        stub.assert_no_pending_responses()
    assert sent.mutating == ["CreateClassifier", "DeleteClassifier"]


def test_classifier_defaults_left_out_are_no_difference(ctx: Context) -> None:
    classifier = glue.Classifier(ctx)
    data = classifier.definition()
    del data["DisableValueTrimming"], data["AllowSingleColumn"]
    assert names(classifier.differences(Observed(data))) == []


def test_classifier_drift_is_updated(ctx: Context) -> None:
    classifier = glue.Classifier(ctx)
    observed = Observed(
        classifier_response(ctx, ContainsHeader="UNKNOWN")["Classifier"]["CsvClassifier"]
    )
    assert names(classifier.differences(observed)) == ["ContainsHeader"]
    with stubbed(ctx) as stub:
        stub.add_response("update_classifier", {}, {"CsvClassifier": classifier.definition()})
        classifier.update(observed, Differences([Difference("ContainsHeader")]))
        stub.assert_no_pending_responses()


# Databases ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cls", "name"),
    [(glue.S3Database, "wcpipe_fifa_s3"), (glue.RedshiftDatabase, "wcpipe_fifa_redshift")],
)
def test_database_ensure_twice_delete_twice(
    ctx: Context, sent: Requests, cls: type[glue._Database], name: str
) -> None:
    database = cls(ctx)
    assert database.name == name
    assert database.ensure() == "created"
    assert database.ensure() == "unchanged"
    client = ctx.client("glue")
    assert client.get_database(Name=name)["Database"]["Description"] == database.description
    arn = f"arn:aws:glue:us-east-1:123456789012:database/{name}"
    assert client.get_tags(ResourceArn=arn)["Tags"] == {
        "project": "world-cup-attendance",
        OWNER_TAG: "fifa",
    }
    client.create_table(DatabaseName=name, TableInput={"Name": "attendance"})
    assert database.destroy() == "deleted"
    assert database.destroy() == "absent"
    with pytest.raises(client.exceptions.EntityNotFoundException):
        client.get_table(DatabaseName=name, Name="attendance")
    assert sent.mutating == ["CreateDatabase", "CreateTable", "DeleteDatabase"]


def test_database_not_owned_is_neither_adopted_nor_deleted(ctx: Context, sent: Requests) -> None:
    ctx.client("glue").create_database(DatabaseInput={"Name": "wcpipe_fifa_s3"})
    database = glue.S3Database(ctx)
    with pytest.raises(NotOwnedError, match="wcpipe_fifa_s3"):
        database.ensure()
    assert database.destroy() == "kept"
    assert sent.mutating == ["CreateDatabase"]


def test_database_description_and_tag_drift_are_corrected(ctx: Context, sent: Requests) -> None:
    client = ctx.client("glue")
    client.create_database(
        DatabaseInput={"Name": "wcpipe_fifa_s3", "Description": "hand made"},
        Tags={OWNER_TAG: "fifa", "stale": "yes"},
    )
    database = glue.S3Database(ctx)
    observed = database.describe()
    assert observed is not None
    assert names(database.differences(observed)) == ["Description", "tags"]
    assert database.ensure() == "updated"
    assert database.ensure() == "unchanged"
    assert sent.mutating == ["CreateDatabase", "UpdateDatabase", "TagResource"]
    arn = f"arn:aws:glue:us-east-1:123456789012:database/{database.name}"
    # ours are back; the tag someone else added stays (base.py's tag policy)
    assert client.get_tags(ResourceArn=arn)["Tags"] == {**ctx.tags, "stale": "yes"}


# Connection -----------------------------------------------------------------------------------


def test_connection_input_uses_the_secret_not_a_password(published: Context) -> None:
    wanted = glue.Connection(published).connection_input()
    assert wanted["ConnectionType"] == "JDBC"
    assert wanted["ConnectionProperties"] == {
        "JDBC_CONNECTION_URL": f"jdbc:redshift://{HOST}:5439/dev",
        "SECRET_ID": "wcpipe-fifa/redshift-admin",
        "JDBC_ENFORCE_SSL": "true",
    }
    assert wanted["PhysicalConnectionRequirements"] == {
        "SubnetId": NETWORK["subnet_id"],
        "AvailabilityZone": NETWORK["availability_zone"],
        "SecurityGroupIdList": [NETWORK["group_id"]],
    }


def test_connection_serverless_endpoint(ctx: Context) -> None:
    warehouse = ctx.spec.warehouse.model_copy(update={"type": "serverless"})
    serverless = Context(spec=ctx.spec.model_copy(update={"warehouse": warehouse}), aws=ctx.aws)
    serverless.publish("ec2.security-group", NETWORK)
    serverless.publish("redshift-serverless.workgroup", {"host": "wg.example", "port": 5439})
    url = glue.Connection(serverless).connection_input()["ConnectionProperties"]
    assert url["JDBC_CONNECTION_URL"] == "jdbc:redshift://wg.example:5439/dev"


def test_connection_ensure_twice_delete_twice(published: Context, sent: Requests) -> None:
    connection = glue.Connection(published)
    assert connection.ensure() == "created"
    assert connection.ensure() == "unchanged"
    observed = connection.describe()
    assert observed is not None
    assert connection.facts(observed) == {"url": f"jdbc:redshift://{HOST}:5439/dev"}
    # moto 5.2.5 has no DeleteConnection: the describes go to moto, the delete to a Stubber.
    name = {"ConnectionName": "wcpipe-fifa-redshift"}
    with stubbed(published) as stub:
        stub.add_response("delete_connection", {}, name)
        not_found(stub, "delete_connection")  # already gone: an outcome, not a failure
        connection.delete(observed)
        connection.delete(observed)
        stub.add_response("get_connection", {"Connection": {"Name": "wcpipe-fifa-redshift"}}, None)
        stub.add_response("get_tags", {"Tags": published.tags}, None)
        stub.add_response("delete_connection", {}, name)
        not_found(stub, "get_connection")
        assert connection.destroy() == "deleted"
        assert connection.destroy() == "absent"
        stub.assert_no_pending_responses()
    assert sent.mutating == ["CreateConnection"] + ["DeleteConnection"] * 3


def test_connection_plan_with_unknown_endpoint_compares_what_is_known(ctx: Context) -> None:
    connection = glue.Connection(ctx)  # nothing published: the cluster is about to be created
    wanted = connection.connection_input(known=False)
    assert wanted["ConnectionProperties"]["JDBC_CONNECTION_URL"] == glue.UNKNOWN
    observed = Observed(
        {
            "Description": wanted["Description"],
            "ConnectionType": "JDBC",
            "ConnectionProperties": {
                "JDBC_CONNECTION_URL": "jdbc:redshift://old.example:5439/dev",
                "SECRET_ID": "someone-else",
                "JDBC_ENFORCE_SSL": "true",
                "PASSWORD": "hunter2",
            },
            "PhysicalConnectionRequirements": {"SubnetId": "subnet-0000000000000000a"},
        },
        ctx.tags,
    )
    assert names(connection.differences(observed)) == [
        "ConnectionProperties.SECRET_ID",
        "ConnectionProperties.PASSWORD",
    ]


def test_connection_plan_with_its_warehouse_absent_says_known_after_up(ctx: Context) -> None:
    """The warehouse was described and is absent (this `up` creates it, e.g. after
    `warehouse.type` changed): the endpoint differs, known after up, so `up` updates it."""
    from wcpipe.provision.resources.base import warehouse_key

    connection = glue.Connection(ctx)
    ctx.mark_absent(warehouse_key(ctx))
    wanted = connection.connection_input(known=False)
    observed = Observed(
        {
            **wanted,
            "ConnectionProperties": {
                **wanted["ConnectionProperties"],
                "JDBC_CONNECTION_URL": "jdbc:redshift://old.example:5439/dev",
            },
        },
        ctx.tags,
    )
    [url] = [d for d in connection.differences(observed) if d.field.endswith("URL")]
    assert (url.old, url.new) == ("jdbc:redshift://old.example:5439/dev", glue.AFTER_UP)
    assert url.text() == (
        "ConnectionProperties.JDBC_CONNECTION_URL: jdbc:redshift://old.example:5439/dev -> "
        "(known after up)"
    )


def test_connection_plan_before_the_cluster_exists_does_not_crash(published: Context) -> None:
    assert glue.Connection(published).ensure() == "created"
    fresh = Context(spec=published.spec, aws=published.aws)  # a new run: nothing published yet
    [change] = engine.plan(fresh, [glue.Connection(fresh)]).changes
    assert (change.action, change.fields) == ("none", ())


def test_connection_drift_is_updated(published: Context, sent: Requests) -> None:
    connection = glue.Connection(published)
    wanted = connection.connection_input()
    moved = {**wanted["PhysicalConnectionRequirements"], "SubnetId": "subnet-0000000000000000a"}
    published.client("glue").create_connection(
        ConnectionInput={**wanted, "PhysicalConnectionRequirements": moved}, Tags=published.tags
    )
    observed = connection.describe()
    assert observed is not None
    fields = Differences(connection.differences(observed))
    assert fields.fields == ("PhysicalConnectionRequirements.SubnetId",)
    with stubbed(published) as stub:
        stub.add_response(
            "update_connection", {}, {"Name": "wcpipe-fifa-redshift", "ConnectionInput": wanted}
        )
        connection.update(observed, fields)
        stub.assert_no_pending_responses()
    assert sent.mutating == ["CreateConnection", "UpdateConnection"]


# Crawlers -------------------------------------------------------------------------------------

CRAWLERS = [glue_jobs.S3Crawler, glue_jobs.RedshiftCrawler]


def test_crawler_definitions(ctx: Context) -> None:
    s3 = glue_jobs.S3Crawler(ctx).definition()
    assert s3["Role"] == "arn:aws:iam::123456789012:role/wcpipe-fifa-glue"
    assert s3["DatabaseName"] == "wcpipe_fifa_s3"
    assert s3["Targets"] == {
        "S3Targets": [{"Path": "s3://" + ctx.names.bucket + "/raw/attendance/"}]
    }
    assert s3["Classifiers"] == ["wcpipe-fifa-csv"]
    assert s3["SchemaChangePolicy"] == {
        "UpdateBehavior": "UPDATE_IN_DATABASE",
        "DeleteBehavior": "LOG",
    }
    assert s3["RecrawlPolicy"] == {"RecrawlBehavior": "CRAWL_EVERYTHING"}
    assert json.loads(s3["Configuration"]) == {
        "Version": 1.0,
        "CrawlerOutput": {"Tables": {"AddOrUpdateBehavior": "MergeNewColumns"}},
        "Grouping": {"TableGroupingPolicy": "CombineCompatibleSchemas"},
    }
    redshift = glue_jobs.RedshiftCrawler(ctx).definition()
    assert redshift["DatabaseName"] == "wcpipe_fifa_redshift"
    assert redshift["Targets"] == {
        "JdbcTargets": [{"ConnectionName": "wcpipe-fifa-redshift", "Path": "dev/public/attendance"}]
    }
    ctx.publish("iam.glue-role", {"arn": "arn:aws:iam::123456789012:role/published"})
    assert glue_jobs.S3Crawler(ctx).definition()["Role"].endswith("role/published")


@pytest.mark.parametrize("cls", CRAWLERS)
def test_crawler_ensure_twice_delete_twice(
    ctx: Context, sent: Requests, cls: type[glue_jobs._Crawler]
) -> None:
    crawler = cls(ctx)
    assert crawler.ensure() == "created"
    assert crawler.ensure() == "unchanged"
    arn = f"arn:aws:glue:us-east-1:123456789012:crawler/{crawler.name}"
    assert ctx.client("glue").get_tags(ResourceArn=arn)["Tags"][OWNER_TAG] == "fifa"
    observed = crawler.describe()
    assert observed is not None
    assert crawler.facts(observed) == {"state": "READY", "last crawl": "never"}
    assert crawler.destroy() == "deleted"
    assert crawler.destroy() == "absent"
    assert sent.mutating == ["CreateCrawler", "DeleteCrawler"]


def test_crawler_configuration_is_compared_as_json(ctx: Context) -> None:
    crawler = glue_jobs.S3Crawler(ctx)
    definition = crawler.definition()
    config = json.dumps(json.loads(definition["Configuration"]), indent=2)  # other spacing, order
    ctx.client("glue").create_crawler(**{**definition, "Configuration": config}, Tags=ctx.tags)
    observed = crawler.describe()
    assert observed is not None
    assert names(crawler.differences(observed)) == []


def test_crawler_not_owned_is_neither_adopted_nor_deleted(ctx: Context, sent: Requests) -> None:
    definition = glue_jobs.S3Crawler(ctx).definition()
    ctx.client("glue").create_crawler(**definition)  # same name, no ownership tag
    crawler = glue_jobs.S3Crawler(ctx)
    with pytest.raises(NotOwnedError, match="wcpipe-fifa-s3-crawler"):
        crawler.ensure()
    assert crawler.destroy() == "kept"
    assert sent.mutating == ["CreateCrawler"]


def test_crawler_classifier_drift_sends_update_crawler(ctx: Context, sent: Requests) -> None:
    crawler = glue_jobs.S3Crawler(ctx)
    definition = crawler.definition()
    ctx.client("glue").create_crawler(**{**definition, "Classifiers": []}, Tags=ctx.tags)
    observed = crawler.describe()
    assert observed is not None
    fields = Differences(crawler.differences(observed))
    assert fields.fields == ("Classifiers",)
    with stubbed(ctx) as stub:  # moto 5.2.5 has no UpdateCrawler
        stub.add_response("update_crawler", {}, {**definition, "Schedule": ""})
        crawler.update(observed, fields)
        stub.assert_no_pending_responses()
    assert sent.mutating == ["CreateCrawler", "UpdateCrawler"]


def test_crawler_target_and_tag_drift(ctx: Context, sent: Requests) -> None:
    crawler = glue_jobs.RedshiftCrawler(ctx)
    definition = crawler.definition()
    wrong = {"JdbcTargets": [{"ConnectionName": "wcpipe-fifa-redshift", "Path": "dev/public/%"}]}
    ours_but_one = {k: v for k, v in ctx.tags.items() if k != "project"}
    ctx.client("glue").create_crawler(
        **{**definition, "Targets": wrong}, Tags={**ours_but_one, "stale": "x"}
    )
    observed = crawler.describe()
    assert observed is not None
    assert names(crawler.differences(observed)) == ["Targets", "tags"]
    # Tags alone are corrected without UpdateCrawler, on moto; the tag someone else added stays.
    crawler.update(observed, Differences(crawler.tag_differences(observed)))
    again = crawler.describe()
    assert again is not None and names(crawler.differences(again)) == ["Targets"]
    assert again.tags == {**ctx.tags, "stale": "x"}
    assert sent.mutating == ["CreateCrawler", "TagResource"]


def test_crawler_create_waits_for_the_new_role(ctx: Context, clock: Any) -> None:
    crawler = glue_jobs.S3Crawler(ctx)
    expected = {**crawler.definition(), "Tags": ctx.tags}
    with stubbed(ctx) as stub:
        for _ in range(2):
            stub.add_client_error("create_crawler", "InvalidInputException", ASSUME_ROLE, 400)
        stub.add_response("create_crawler", {}, expected)
        observed = crawler.create()
        stub.assert_no_pending_responses()
    assert observed is not None and observed.tags == ctx.tags
    assert observed.data["Name"] == crawler.name
    assert clock.sleeps == [1.0, 2.0]


def test_crawler_create_gives_up_on_a_role_that_never_works(ctx: Context, clock: Any) -> None:
    crawler = glue_jobs.S3Crawler(ctx)
    with stubbed(ctx) as stub:
        for _ in range(30):
            stub.add_client_error("create_crawler", "InvalidInputException", ASSUME_ROLE, 400)
        with pytest.raises(WaitTimeout, match="wcpipe-fifa-s3-crawler: the new IAM role still"):
            crawler.create()
    assert sum(clock.sleeps) <= 120


def test_crawler_create_does_not_retry_other_invalid_input(ctx: Context, clock: Any) -> None:
    crawler = glue_jobs.S3Crawler(ctx)
    with stubbed(ctx) as stub:
        stub.add_client_error("create_crawler", "InvalidInputException", "bad path", 400)
        with pytest.raises(ctx.client("glue").exceptions.InvalidInputException):
            crawler.create()
    assert clock.sleeps == []


def running(name: str, state: str) -> dict[str, Any]:
    return {"Crawler": {"Name": name, "State": state}}


def test_crawler_running_is_stopped_before_delete(ctx: Context, clock: Any) -> None:
    crawler = glue_jobs.S3Crawler(ctx)
    name = {"Name": crawler.name}
    observed = Observed(running(crawler.name, "RUNNING")["Crawler"], ctx.tags)
    with stubbed(ctx) as stub:
        stub.add_response("stop_crawler", {}, name)
        stub.add_response("get_crawler", running(crawler.name, "STOPPING"), name)
        stub.add_response("get_crawler", running(crawler.name, "READY"), name)
        stub.add_response("delete_crawler", {}, name)
        crawler.delete(observed)
        stub.assert_no_pending_responses()
    assert clock.sleeps == [2.0]


def test_crawler_that_never_stops_is_a_bounded_wait(ctx: Context, clock: Any) -> None:
    crawler = glue_jobs.S3Crawler(ctx)
    observed = Observed(running(crawler.name, "RUNNING")["Crawler"], ctx.tags)
    with stubbed(ctx) as stub:
        stub.add_response("stop_crawler", {}, {"Name": crawler.name})
        for _ in range(60):
            stub.add_response("get_crawler", running(crawler.name, "STOPPING"))
        with pytest.raises(WaitTimeout, match="wcpipe-fifa-s3-crawler to stop"):
            crawler.delete(observed)
    assert clock.now <= glue_jobs._Crawler.stop_timeout


def test_crawler_facts_on_moto(ctx: Context) -> None:
    crawler = glue_jobs.S3Crawler(ctx)
    crawler.ensure()
    ctx.client("glue").start_crawler(Name=crawler.name)
    observed = crawler.describe()
    assert observed is not None
    facts = crawler.facts(observed)
    assert facts["state"] == "RUNNING"
    assert facts["last crawl"].startswith("RUNNING ")


# Job ------------------------------------------------------------------------------------------


def test_job_definition(ctx: Context) -> None:
    job = glue_jobs.job_definition(ctx)
    bucket = ctx.names.bucket
    assert job["Command"] == {
        "Name": "glueetl",
        "ScriptLocation": f"s3://{bucket}/wcpipe/glue/load.py",
        "PythonVersion": "3",
    }
    assert (job["GlueVersion"], job["WorkerType"], job["NumberOfWorkers"]) == ("5.1", "G.1X", 2)
    assert (job["Timeout"], job["MaxRetries"]) == (30, 0)
    assert job["ExecutionProperty"] == {"MaxConcurrentRuns": 1}
    assert job["Connections"] == {"Connections": ["wcpipe-fifa-redshift"]}
    args = job["DefaultArguments"]
    assert args["--job-bookmark-option"] == "job-bookmark-enable"
    assert args["--TempDir"] == f"s3://{bucket}/wcpipe/tmp/"
    assert args["--extra-py-files"] == f"s3://{bucket}/wcpipe/glue/wcpipe_lib.zip"
    assert json.loads(args["--wcpipe_config"])["load"]["mode"] == "merge"
    for flag in ("continuous-cloudwatch-log", "metrics", "job-insights"):
        assert args[f"--enable-{flag}"] == "true"
    ctx.publish(
        "s3.artifacts",
        {"glue_script_uri": "s3://elsewhere/load.py", "glue_libs_uri": "s3://elsewhere/lib.zip"},
    )
    published = glue_jobs.job_definition(ctx)
    assert published["Command"]["ScriptLocation"] == "s3://elsewhere/load.py"
    assert published["DefaultArguments"]["--extra-py-files"] == "s3://elsewhere/lib.zip"


def test_job_bookmarks_can_be_disabled(ctx: Context) -> None:
    spec = ctx.spec.model_copy(
        update={"glue": ctx.spec.glue.model_copy(update={"bookmarks": False})}
    )
    job = glue_jobs.job_definition(Context(spec=spec, aws=ctx.aws))
    assert job["DefaultArguments"]["--job-bookmark-option"] == "job-bookmark-disable"


def test_job_arguments_never_carry_a_password(published: Context) -> None:
    password = "Adm1n-Pa55-w0rd-4xQ"
    secret = published.client("secretsmanager").create_secret(
        Name=published.names.secret,
        SecretString=json.dumps({"username": "awsadmin", "password": password}),
    )
    published.publish("secretsmanager.admin-secret", {"arn": secret["ARN"], "password": password})
    text = json.dumps(glue_jobs.job_definition(published))
    assert password not in text
    assert "password" not in text.lower()


def test_job_ensure_twice_delete_twice(ctx: Context, sent: Requests) -> None:
    job = glue_jobs.Job(ctx)
    assert job.ensure() == "created"
    assert job.ensure() == "unchanged"
    arn = "arn:aws:glue:us-east-1:123456789012:job/wcpipe-fifa-load"
    assert ctx.client("glue").get_tags(ResourceArn=arn)["Tags"][OWNER_TAG] == "fifa"
    observed = job.describe()
    assert observed is not None
    assert job.facts(observed) == {"glue version": "5.1", "workers": "2 x G.1X"}
    assert job.destroy() == "deleted"
    assert job.destroy() == "absent"
    assert sent.mutating == ["CreateJob", "DeleteJob"]


def test_job_not_owned_is_neither_adopted_nor_deleted(ctx: Context, sent: Requests) -> None:
    ctx.client("glue").create_job(**glue_jobs.job_definition(ctx))
    job = glue_jobs.Job(ctx)
    with pytest.raises(NotOwnedError, match="wcpipe-fifa-load"):
        job.ensure()
    assert job.destroy() == "kept"
    assert sent.mutating == ["CreateJob"]


def test_job_worker_drift_sends_update_job(ctx: Context, sent: Requests) -> None:
    definition = glue_jobs.job_definition(ctx)
    ctx.client("glue").create_job(**{**definition, "NumberOfWorkers": 10}, Tags=ctx.tags)
    job = glue_jobs.Job(ctx)
    observed = job.describe()
    assert observed is not None
    fields = Differences(job.differences(observed))
    assert texts(fields) == ["NumberOfWorkers: 10 -> 2"]
    update = {k: v for k, v in definition.items() if k != "Name"}
    with stubbed(ctx) as stub:  # moto 5.2.5 has no UpdateJob
        stub.add_response(
            "update_job", {"JobName": job.name}, {"JobName": job.name, "JobUpdate": update}
        )
        job.update(observed, fields)
        stub.assert_no_pending_responses()
    assert sent.mutating == ["CreateJob", "UpdateJob"]


def test_job_argument_added_out_of_band_is_drift(ctx: Context) -> None:
    definition = glue_jobs.job_definition(ctx)
    arguments = {**definition["DefaultArguments"], "--conf": "spark.x=y"}
    ctx.client("glue").create_job(**{**definition, "DefaultArguments": arguments}, Tags=ctx.tags)
    observed = glue_jobs.Job(ctx).describe()
    assert observed is not None
    assert names(glue_jobs.Job(ctx).differences(observed)) == ["DefaultArguments"]


def test_job_create_waits_for_the_new_role(ctx: Context, clock: Any) -> None:
    job = glue_jobs.Job(ctx)
    expected = {**glue_jobs.job_definition(ctx), "Tags": ctx.tags}
    with stubbed(ctx) as stub:
        stub.add_client_error(
            "create_job",
            "InvalidInputException",
            "Role should be given assume role permissions",
            400,
        )
        stub.add_response("create_job", {"Name": job.name}, expected)
        observed = job.create()
        stub.assert_no_pending_responses()
    assert observed is not None and observed.data == glue_jobs.job_definition(ctx)
    assert clock.sleeps == [1.0]


def test_every_class_has_its_catalog_key(ctx: Context) -> None:
    keys = {
        cls.key: cls.kind
        for cls in (
            glue.Classifier,
            glue.S3Database,
            glue.RedshiftDatabase,
            glue.Connection,
            glue_jobs.S3Crawler,
            glue_jobs.RedshiftCrawler,
            glue_jobs.Job,
        )
    }
    assert keys == {
        "glue.classifier": "CSV classifier",
        "glue.s3-database": "Glue database",
        "glue.redshift-database": "Glue database",
        "glue.connection": "Glue connection",
        "glue.s3-crawler": "Glue crawler",
        "glue.redshift-crawler": "Glue crawler",
        "glue.job": "Glue job",
    }
