"""`--debug` logs the HTTP exchange as `aws --debug` does (botocore's debug log), with the
request signature, the admin password and the secret's value redacted (issue 13)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.paths import ROOT, SPEC_PATH

from wcpipe.core.debuglog import MASK, redact

pytestmark = pytest.mark.e2e


def test_debug_logs_every_exchange_and_never_a_secret(
    sandbox: Any, tmp_path: Path, wcpipe: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WCPIPE_POLL_INTERVAL", "0.1")
    (tmp_path / "config").mkdir()
    shutil.copytree(ROOT / "data", tmp_path / "data")
    spec = tmp_path / "config" / "pipeline.yaml"
    shutil.copy(SPEC_PATH, spec)
    base = ["-c", str(spec), "--endpoint-url", sandbox.endpoint]

    up = wcpipe(*base, "up", "--yes", "--debug")
    assert up.code == 0, up
    status = wcpipe(*base, "--debug", "status")
    assert status.code == 0, status
    quiet = wcpipe(*base, "status")  # without --debug: no HTTP log
    assert quiet.code == 0 and "Sending http request" not in quiet.err

    secret = sandbox.client("secretsmanager").get_secret_value(
        SecretId="wcpipe-fifa/redshift-admin"
    )
    password = json.loads(secret["SecretString"])["password"]
    log = up.err + status.err
    assert "Sending http request" in log and "Response body" in log
    assert "CreateCluster" in log and "GetSecretValue" in log
    assert password not in log
    assert "Signature=" not in log and f"'Authorization': b'{MASK}'" in log
    assert "'MasterUserPassword': '***'" in log


REPR_SECRET = (
    """b'{"SecretString":"{\\\\"username\\\\":\\\\"admin\\\\","""
    """\\\\"password\\\\":\\\\"Qw3rty\\\\"}"}'"""
)
"""GetSecretValue's response body as botocore logs it: repr'd bytes, the JSON's quotes escaped."""


def test_redact_takes_out_signatures_passwords_and_secret_strings() -> None:
    samples = {
        "headers={'Authorization': b'AWS4-HMAC-SHA256 Credential=AKID/x, Signature=ab12'}": (
            "AKID",
            "ab12",
        ),
        "'X-Amz-Security-Token': b'FQoGZXIvYXdz'": ("FQoGZXIvYXdz",),
        "Action=CreateCluster&MasterUserPassword=Pa55word%21x&Version=2012-12-01": ("Pa55word",),
        '{"adminUserPassword": "Pa55wordQ", "namespaceName": "n"}': ("Pa55wordQ",),
        REPR_SECRET: ("Qw3rty",),
        "{'SecretAccessKey': 'wJalrXUtnFEMI', 'SessionToken': 'IQoJb3JpZ2lu'}": (
            "wJalrXUtnFEMI",
            "IQoJb3JpZ2lu",
        ),
    }
    for text, secrets in samples.items():
        clean = redact(text)
        assert MASK in clean, text
        for value in secrets:
            assert value not in clean, (text, clean)
    assert redact("DescribeClusters ClusterIdentifier=wcpipe-fifa") == (
        "DescribeClusters ClusterIdentifier=wcpipe-fifa"
    )


def test_a_hidden_value_is_redacted_in_every_encoding_a_body_carries() -> None:
    from urllib.parse import quote

    from wcpipe.core.debuglog import hide

    password = "Ab1&<x>%'q,}z!Z9"
    hide(password)
    for text in (
        f"<Message>The parameter MasterUserPassword '{password}' is not valid</Message>",
        "<Message>MasterUserPassword &apos;Ab1&amp;&lt;x&gt;%&apos;q,}z!Z9&apos;</Message>",
        f"Action=CreateCluster&MasterUserPassword={quote(password, safe='')}&Version=1",
        '{"adminUserPassword": "Ab1&<x>%\'q,}z!Z9"}',
    ):
        clean = redact(text)
        pieces = {password[i : i + 6] for i in range(len(password) - 5)}
        assert not any(p in clean for p in pieces), (text, clean)
