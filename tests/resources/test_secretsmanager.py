"""The admin secret on moto: generated once, kept through updates, never shown."""

from __future__ import annotations

import json
import string
import traceback

import pytest
from botocore.stub import Stubber
from support.plan import names
from support.requests import Requests

from wcpipe.core.errors import NotOwnedError, WcpipeError
from wcpipe.provision.resources.base import Difference, Differences
from wcpipe.provision.resources.secretsmanager import (
    AdminSecret,
    admin_credentials,
    generate_password,
)


@pytest.fixture
def sm(ctx):  # type: ignore[no-untyped-def]
    return ctx.client("secretsmanager")


def _value(sm, name="wcpipe-fifa/redshift-admin"):  # type: ignore[no-untyped-def]
    return json.loads(sm.get_secret_value(SecretId=name)["SecretString"])


def test_secret_ensure_twice_then_delete_twice(ctx, sm):
    secret = AdminSecret(ctx)
    assert secret.ensure() == "created"
    calls = Requests.on(sm)
    assert secret.ensure() == "unchanged"
    assert calls.mutating == []

    value = _value(sm)
    assert value["username"] == "awsadmin"
    assert value["engine"] == "redshift"
    assert value["dbname"] == "dev"
    assert admin_credentials(ctx) == ("awsadmin", value["password"])
    raw = sm.describe_secret(SecretId=secret.name)
    assert ctx.outputs[secret.key] == {"arn": raw["ARN"]}
    assert {t["Key"]: t["Value"] for t in raw["Tags"]} == ctx.tags

    assert secret.destroy() == "deleted"
    assert secret.destroy() == "absent"
    with pytest.raises(sm.exceptions.ResourceNotFoundException):
        sm.describe_secret(SecretId=secret.name)


def test_generated_passwords_satisfy_redshift():
    for _ in range(200):
        p = generate_password()
        assert len(p) == 32
        assert any(c.isupper() for c in p) and any(c.islower() for c in p)
        assert any(c.isdigit() for c in p)
        assert all(c in string.printable and c not in " '\"\\/@\t\n\r\x0b\x0c" for c in p)
    assert generate_password() != generate_password()


def test_username_change_keeps_the_password(ctx, sm):
    secret = AdminSecret(ctx)
    secret.ensure()
    password = _value(sm)["password"]
    warehouse = ctx.spec.warehouse.model_copy(update={"admin_user": "loader"})
    ctx.spec = ctx.spec.model_copy(update={"warehouse": warehouse})
    assert names(secret.differences(secret.describe())) == ["username"]
    assert secret.ensure() == "updated"
    assert _value(sm) == {
        "username": "loader",
        "password": password,
        "engine": "redshift",
        "dbname": "dev",
    }
    assert secret.ensure() == "unchanged"


def test_tag_and_description_drift_is_fixed(ctx, sm):
    secret = AdminSecret(ctx)
    secret.ensure()
    sm.untag_resource(SecretId=secret.name, TagKeys=["project"])
    sm.tag_resource(SecretId=secret.name, Tags=[{"Key": "extra", "Value": "1"}])
    sm.update_secret(SecretId=secret.name, Description="changed")
    assert names(secret.differences(secret.describe())) == ["tags", "description"]
    password = _value(sm)["password"]
    assert secret.ensure() == "updated"
    assert secret.ensure() == "unchanged"
    assert _value(sm)["password"] == password


def test_secret_pending_deletion_is_absent_and_restored_on_create(ctx, sm):
    secret = AdminSecret(ctx)
    secret.ensure()
    password = _value(sm)["password"]
    sm.delete_secret(SecretId=secret.name, RecoveryWindowInDays=7)
    assert secret.describe() is None
    assert secret.destroy() == "absent"
    assert secret.ensure() == "created"
    assert "DeletedDate" not in sm.describe_secret(SecretId=secret.name)
    assert _value(sm)["password"] == password
    assert secret.ensure() == "unchanged"


def test_unowned_secret_is_neither_changed_nor_deleted(ctx, sm):
    sm.create_secret(Name="wcpipe-fifa/redshift-admin", SecretString="{}")
    secret = AdminSecret(ctx)
    with pytest.raises(NotOwnedError):
        secret.converge(secret.describe())
    assert secret.destroy() == "kept"
    assert sm.get_secret_value(SecretId=secret.name)["SecretString"] == "{}"


def test_the_password_never_appears_in_errors_or_output(ctx, sm, capsys, caplog):
    secret = AdminSecret(ctx)
    secret.ensure()
    password = _value(sm)["password"]
    texts = []
    # An AWS failure on the call that carries the password.
    with Stubber(sm) as stub:
        stub.add_response(
            "get_secret_value",
            {
                "SecretString": json.dumps(
                    {
                        "username": "awsadmin",
                        "password": password,
                        "engine": "redshift",
                        "dbname": "dev",
                    }
                )
            },
            {"SecretId": secret.name},
        )
        stub.add_client_error(
            "put_secret_value",
            "InternalServiceError",
            f"boom {password}",
            expected_params={
                "SecretId": secret.name,
                "SecretString": json.dumps(
                    {
                        "username": "loader",
                        "password": password,
                        "engine": "redshift",
                        "dbname": "dev",
                    }
                ),
            },
        )
        warehouse = ctx.spec.warehouse.model_copy(update={"admin_user": "loader"})
        ctx.spec = ctx.spec.model_copy(update={"warehouse": warehouse})
        with pytest.raises(WcpipeError) as info:
            secret.update(secret_observed(secret), Differences([Difference("username")]))
    texts.append(str(info.value))
    texts.append("".join(traceback.format_exception(info.value)))
    assert "InternalServiceError" in texts[0]
    # A failure before the request is sent (e.g. botocore validating parameters), whose
    # message quotes the value.
    sm.meta.events.register_first("before-parameter-build.*.*", _explode)
    with pytest.raises(WcpipeError) as info2:
        secret.update(secret_observed(secret), Differences([Difference("password")]))
    sm.meta.events.unregister("before-parameter-build.*.*", _explode)
    assert "updating secret" in str(info2.value)
    texts.append(str(info2.value))
    texts.append("".join(traceback.format_exception(info2.value)))
    out = capsys.readouterr()
    texts += [out.out, out.err, caplog.text]
    assert info2.value.__context__ is None and info.value.__context__ is None
    for text in texts:
        assert password not in text


def secret_observed(secret):  # type: ignore[no-untyped-def]
    from wcpipe.provision.resources.base import Observed

    return Observed({"arn": "x"}, dict(secret.ctx.tags))


def _explode(params, **_):  # type: ignore[no-untyped-def]
    if "SecretString" in params:
        raise ValueError(f"bad parameter {params['SecretString']}")
