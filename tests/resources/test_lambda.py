"""The Lambda function and its invoke permission, on moto (and Stubber where moto cannot say
"the role cannot be assumed yet" or "Pending"): ensure twice, delete twice, ownership, drift."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile
from typing import Any

import pytest
from botocore.stub import Stubber
from support.plan import names
from support.requests import Requests

from wcpipe.core.errors import NotOwnedError, ResourceFailed, WaitTimeout
from wcpipe.provision.resources.base import Context
from wcpipe.provision.resources.lambda_ import Function, Permission

FUNCTION = "wcpipe-fifa-start-job"
ROLE_ARN = "arn:aws:iam::123456789012:role/wcpipe-fifa-lambda"
RULE_ARN = "arn:aws:events:us-east-1:123456789012:rule/wcpipe-fifa-crawler-succeeded"
BUCKET = "wcpipe-fifa-123456789012-us-east-1"
KEY = "wcpipe/lambda/start_job.zip"
TAGS = {"wcpipe:pipeline": "fifa", "project": "world-cup-attendance"}
PROPAGATING = "The role defined for the function cannot be assumed by Lambda."


def tiny_zip(source: str) -> bytes:
    """A deterministic zip with handler.py at its root (fixed timestamps)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(zipfile.ZipInfo("handler.py", date_time=(2020, 1, 1, 0, 0, 0)), source)
    return buf.getvalue()


def publish_package(ctx: Context, body: bytes) -> None:
    """Do what `s3.artifacts` does: upload the zip and publish where it is and its hash."""
    ctx.client("s3").put_object(Bucket=BUCKET, Key=KEY, Body=body)
    sha = base64.b64encode(hashlib.sha256(body).digest()).decode()
    ctx.publish(
        "s3.artifacts", {"lambda_bucket": BUCKET, "lambda_key": KEY, "lambda_sha256_b64": sha}
    )


@pytest.fixture
def deps(ctx: Context) -> Context:
    """What Function depends on: the role (moto checks it exists) and the package in S3."""
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    role = ctx.client("iam").create_role(
        RoleName="wcpipe-fifa-lambda", AssumeRolePolicyDocument=json.dumps(trust)
    )
    ctx.publish("iam.lambda-role", {"arn": role["Role"]["Arn"]})
    ctx.client("s3").create_bucket(Bucket=BUCKET)
    publish_package(ctx, tiny_zip("def handler(event, context):\n    return 1\n"))
    return ctx


@pytest.fixture
def function(deps: Context) -> Function:
    return Function(deps)


def configuration(ctx: Context) -> dict[str, Any]:
    return dict(ctx.client("lambda").get_function_configuration(FunctionName=FUNCTION))


# Function ------------------------------------------------------------------------------------


def test_ensure_creates_the_function(deps: Context, function: Function) -> None:
    assert function.ensure() == "created"
    cfg = configuration(deps)
    assert cfg["Runtime"] == "python3.12"
    assert cfg["Handler"] == "handler.handler"
    assert cfg["Role"] == ROLE_ARN
    assert cfg["Timeout"] == 30
    assert cfg["MemorySize"] == 128
    assert cfg["Environment"]["Variables"] == {
        "GLUE_JOB_NAME": "wcpipe-fifa-load",
        "CRAWLER_NAME": "wcpipe-fifa-s3-crawler",
    }
    assert cfg["CodeSha256"] == deps.output("s3.artifacts", "lambda_sha256_b64")
    assert deps.client("lambda").list_tags(Resource=cfg["FunctionArn"])["Tags"] == TAGS
    assert deps.output("lambda.function", "arn") == cfg["FunctionArn"]


def test_create_asks_for_json_logs_in_our_log_group(deps: Context, function: Function) -> None:
    sent = Requests.on(deps.client("lambda"))
    function.ensure()
    [request] = sent.params("CreateFunction")
    assert request["LoggingConfig"] == {
        "LogFormat": "JSON",
        "LogGroup": "/aws/lambda/wcpipe-fifa-start-job",
    }


def test_ensure_twice_changes_nothing(deps: Context, function: Function) -> None:
    function.ensure()
    sent = Requests.on(deps.client("lambda"))
    assert function.ensure() == "unchanged"
    assert sent.mutating == []


def test_destroy_twice(deps: Context, function: Function) -> None:
    function.ensure()
    assert function.destroy() == "deleted"
    assert function.destroy() == "absent"


def test_untagged_function_is_not_adopted_nor_deleted(deps: Context, function: Function) -> None:
    deps.client("lambda").create_function(
        FunctionName=FUNCTION,
        Runtime="python3.12",
        Role=ROLE_ARN,
        Handler="index.handler",
        Code={"S3Bucket": BUCKET, "S3Key": KEY},
    )
    with pytest.raises(NotOwnedError):
        function.ensure()
    assert function.destroy() == "kept"
    assert configuration(deps)["Handler"] == "index.handler"


def test_env_drift_is_named_and_fixed(deps: Context, function: Function) -> None:
    function.ensure()
    lam = deps.client("lambda")
    lam.update_function_configuration(
        FunctionName=FUNCTION, Environment={"Variables": {"GLUE_JOB_NAME": "other"}}
    )
    observed = function.describe()
    assert observed is not None
    assert names(function.differences(observed)) == ["env"]
    sent = Requests.on(lam)
    assert function.ensure() == "updated"
    assert sent.mutating == ["UpdateFunctionConfiguration"]
    assert configuration(deps)["Environment"]["Variables"]["GLUE_JOB_NAME"] == "wcpipe-fifa-load"
    observed = function.describe()
    assert observed is not None
    assert names(function.differences(observed)) == []


def test_settings_drift_is_named(deps: Context, function: Function) -> None:
    function.ensure()
    deps.client("lambda").update_function_configuration(
        FunctionName=FUNCTION, Timeout=3, MemorySize=256, Handler="x.y", Runtime="python3.11"
    )
    observed = function.describe()
    assert observed is not None
    assert names(function.differences(observed)) == ["runtime", "handler", "timeout", "memory"]
    assert function.ensure() == "updated"
    cfg = configuration(deps)
    assert (cfg["Timeout"], cfg["MemorySize"], cfg["Handler"]) == (30, 128, "handler.handler")


def test_new_package_updates_code_then_waits_then_configuration(
    deps: Context, function: Function
) -> None:
    function.ensure()
    lam = deps.client("lambda")
    lam.update_function_configuration(FunctionName=FUNCTION, Timeout=3)
    publish_package(deps, tiny_zip("def handler(event, context):\n    return 2\n"))
    observed = function.describe()
    assert observed is not None
    assert names(function.differences(observed)) == ["code", "timeout"]
    sent = Requests.on(lam)
    assert function.ensure() == "updated"
    # The configuration update is sent only after the code update is seen to be done.
    assert sent.ops[:4] == [
        "GetFunction",
        "UpdateFunctionCode",
        "GetFunctionConfiguration",
        "UpdateFunctionConfiguration",
    ]
    assert configuration(deps)["CodeSha256"] == deps.output("s3.artifacts", "lambda_sha256_b64")


def test_unknown_package_hash_is_not_a_difference(deps: Context, function: Function) -> None:
    function.ensure()
    deps.outputs["s3.artifacts"].pop("lambda_sha256_b64")
    observed = function.describe()
    assert observed is not None
    assert names(function.differences(observed)) == []


def test_tag_drift_is_named_and_fixed(deps: Context, function: Function) -> None:
    function.ensure()
    lam = deps.client("lambda")
    arn = deps.output("lambda.function", "arn")
    lam.untag_resource(Resource=arn, TagKeys=["project"])
    lam.tag_resource(Resource=arn, Tags={"stale": "yes"})
    observed = function.describe()
    assert observed is not None
    assert names(function.differences(observed)) == ["tags"]
    assert function.ensure() == "updated"
    assert function.ensure() == "unchanged"
    # ours are back; the tag someone else added stays (base.py's tag policy)
    assert lam.list_tags(Resource=arn)["Tags"] == {**TAGS, "stale": "yes"}


def test_logging_drift_is_judged_when_aws_reports_it(deps: Context, function: Function) -> None:
    function.ensure()
    observed = function.describe()
    assert observed is not None
    observed.data["LoggingConfig"] = {"LogFormat": "Text", "LogGroup": "/aws/lambda/x"}
    assert names(function.differences(observed)) == ["logging"]
    observed.data["LoggingConfig"] = {
        "LogFormat": "JSON",
        "LogGroup": "/aws/lambda/wcpipe-fifa-start-job",
        "ApplicationLogLevel": "INFO",
    }
    assert names(function.differences(observed)) == []


def test_facts(deps: Context, function: Function) -> None:
    function.ensure()
    observed = function.describe()
    assert observed is not None
    facts = function.facts(observed)
    assert facts["state"] == "Active"
    assert len(facts["code"]) == 12


# Function: what moto cannot do (Stubber) ---------------------------------------------------


def _create_request(deps: Context) -> dict[str, Any]:
    return {
        "FunctionName": FUNCTION,
        "Runtime": "python3.12",
        "Handler": "handler.handler",
        "Role": ROLE_ARN,
        "Description": "wcpipe fifa: start Glue job wcpipe-fifa-load when the S3 crawler succeeds",
        "Timeout": 30,
        "MemorySize": 128,
        "Environment": {
            "Variables": {
                "GLUE_JOB_NAME": "wcpipe-fifa-load",
                "CRAWLER_NAME": "wcpipe-fifa-s3-crawler",
            }
        },
        "LoggingConfig": {"LogFormat": "JSON", "LogGroup": "/aws/lambda/wcpipe-fifa-start-job"},
        "Code": {"S3Bucket": BUCKET, "S3Key": KEY},
        "PackageType": "Zip",
        "Publish": False,
        "Tags": TAGS,
    }


def _config(state: str, update: str | None = "Successful") -> dict[str, Any]:
    cfg: dict[str, Any] = {"FunctionName": FUNCTION, "State": state}
    if update:
        cfg["LastUpdateStatus"] = update
    return cfg


def _stub_ready(stub: Stubber) -> None:
    """The poll that finds the function ready: create returns it, with no describe after."""
    by_name = {"FunctionName": FUNCTION}
    stub.add_response(
        "get_function_configuration", {**_config("Active"), "FunctionArn": "arn"}, by_name
    )


def test_create_retries_while_the_role_propagates(
    deps: Context, function: Function, clock: Any
) -> None:
    request = _create_request(deps)
    with Stubber(deps.client("lambda")) as stub:
        for _ in range(2):
            stub.add_client_error(
                "create_function",
                "InvalidParameterValueException",
                PROPAGATING,
                400,
                expected_params=request,
            )
        stub.add_response("create_function", {"FunctionName": FUNCTION}, request)
        _stub_ready(stub)
        observed = function.create()
        stub.assert_no_pending_responses()
    assert observed is not None
    assert observed.data == {**_config("Active"), "FunctionArn": "arn"}
    assert observed.tags == deps.tags
    assert clock.sleeps == [1.0, 2.0]


def test_create_gives_up_when_the_role_never_propagates(
    deps: Context, function: Function, clock: Any
) -> None:
    request = _create_request(deps)
    with Stubber(deps.client("lambda")) as stub:
        for _ in range(30):
            stub.add_client_error(
                "create_function",
                "InvalidParameterValueException",
                PROPAGATING,
                400,
                expected_params=request,
            )
        with pytest.raises(WaitTimeout, match="cannot be assumed"):
            function.create()
    assert sum(clock.sleeps) <= 120


def test_create_does_not_retry_other_invalid_parameters(
    deps: Context, function: Function, clock: Any
) -> None:
    with Stubber(deps.client("lambda")) as stub:
        stub.add_client_error(
            "create_function", "InvalidParameterValueException", "Unzipped size too large", 400
        )
        with pytest.raises(deps.client("lambda").exceptions.InvalidParameterValueException):
            function.create()
    assert clock.sleeps == []


def test_create_waits_while_pending(deps: Context, function: Function, clock: Any) -> None:
    by_name = {"FunctionName": FUNCTION}
    with Stubber(deps.client("lambda")) as stub:
        stub.add_response("create_function", {"FunctionName": FUNCTION}, _create_request(deps))
        stub.add_response("get_function_configuration", _config("Pending", None), by_name)
        stub.add_response("get_function_configuration", _config("Pending", None), by_name)
        _stub_ready(stub)
        function.create()
        stub.assert_no_pending_responses()
    assert len(clock.sleeps) == 2


def test_create_reports_a_failed_function(deps: Context, function: Function) -> None:
    failed = {**_config("Failed", None), "StateReason": "Lambda was unable to decrypt"}
    with Stubber(deps.client("lambda")) as stub:
        stub.add_response("create_function", {"FunctionName": FUNCTION}, _create_request(deps))
        stub.add_response("get_function_configuration", failed, {"FunctionName": FUNCTION})
        with pytest.raises(ResourceFailed, match="unable to decrypt"):
            function.create()


# Permission ------------------------------------------------------------------------------------


@pytest.fixture
def permission(deps: Context, function: Function) -> Permission:
    function.ensure()
    return Permission(deps)


def statement(ctx: Context) -> dict[str, Any]:
    policy = json.loads(ctx.client("lambda").get_policy(FunctionName=FUNCTION)["Policy"])
    [found] = [s for s in policy["Statement"] if s["Sid"] == "wcpipe-fifa-events-invoke"]
    return dict(found)


def test_permission_lets_only_our_rule_invoke(deps: Context, permission: Permission) -> None:
    assert permission.ensure() == "created"
    found = statement(deps)
    assert found["Principal"] == {"Service": "events.amazonaws.com"}
    assert found["Action"] == "lambda:InvokeFunction"
    assert found["Condition"]["ArnLike"]["AWS:SourceArn"] == RULE_ARN
    assert found["Condition"]["StringEquals"]["AWS:SourceAccount"] == "123456789012"


def test_permission_ensure_twice_changes_nothing(deps: Context, permission: Permission) -> None:
    permission.ensure()
    sent = Requests.on(deps.client("lambda"))
    assert permission.ensure() == "unchanged"
    assert sent.mutating == []


def test_permission_destroy_twice(deps: Context, permission: Permission) -> None:
    permission.ensure()
    assert permission.destroy() == "deleted"
    assert permission.destroy() == "absent"


def test_permission_without_function_is_absent(deps: Context) -> None:
    assert Permission(deps).describe() is None
    assert Permission(deps).destroy() == "absent"


def test_other_statements_are_not_ours(deps: Context, permission: Permission) -> None:
    deps.client("lambda").add_permission(
        FunctionName=FUNCTION,
        StatementId="someone-else",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
    )
    assert permission.describe() is None
    assert permission.ensure() == "created"
    assert permission.destroy() == "deleted"
    policy = json.loads(deps.client("lambda").get_policy(FunctionName=FUNCTION)["Policy"])
    assert [s["Sid"] for s in policy["Statement"]] == ["someone-else"]


def test_permission_source_drift_is_replaced(deps: Context, permission: Permission) -> None:
    lam = deps.client("lambda")
    lam.add_permission(
        FunctionName=FUNCTION,
        StatementId="wcpipe-fifa-events-invoke",
        Action="lambda:InvokeFunction",
        Principal="events.amazonaws.com",
        SourceArn="arn:aws:events:us-east-1:123456789012:rule/other",
        SourceAccount="123456789012",
    )
    observed = permission.describe()
    assert observed is not None
    assert names(permission.differences(observed)) == ["source-arn"]
    sent = Requests.on(lam)
    assert permission.ensure() == "updated"
    assert sent.mutating == ["RemovePermission", "AddPermission"]
    assert statement(deps)["Condition"]["ArnLike"]["AWS:SourceArn"] == RULE_ARN


def test_permission_added_meanwhile_is_an_outcome(deps: Context, permission: Permission) -> None:
    lam = deps.client("lambda")
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "wcpipe-fifa-events-invoke", "Effect": "Allow"}],
    }
    with Stubber(lam) as stub:
        stub.add_client_error("add_permission", "ResourceConflictException", "exists", 409)
        stub.add_response("get_policy", {"Policy": json.dumps(policy)}, {"FunctionName": FUNCTION})
        observed = permission.create()
        stub.assert_no_pending_responses()
    assert observed is not None and observed.data == policy["Statement"][0]


def test_permission_conflict_while_updating_is_a_failure(
    deps: Context, permission: Permission
) -> None:
    lam = deps.client("lambda")
    with Stubber(lam) as stub:
        stub.add_client_error("add_permission", "ResourceConflictException", "in progress", 409)
        stub.add_client_error("get_policy", "ResourceNotFoundException", "no policy", 404)
        with pytest.raises(lam.exceptions.ResourceConflictException):
            permission.create()
