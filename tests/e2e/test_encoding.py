"""A cp1252 CSV through the `wcpipe` command on the sandbox: `up` uploads it as UTF-8 (the
object is the FIFA file's UTF-8 bytes, its `sha256` metadata theirs), a second `plan` has nothing
to do, `run` crawls and loads it and `verify` agrees (it reads the same uploaded bytes); `down`
twice leaves nothing."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.paths import FIFA_CSV, ROOT, SPEC_PATH
from support.sandbox import empty_warehouse, warehouse_rows

pytestmark = pytest.mark.e2e


def test_a_cp1252_file_is_uploaded_as_utf8_and_loads(
    sandbox: Any, tmp_path: Path, wcpipe: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WCPIPE_POLL_INTERVAL", "0.1")
    empty_warehouse(sandbox.pg_dsn)
    shutil.copytree(ROOT / "data", tmp_path / "data")
    (tmp_path / "config").mkdir()
    local = tmp_path / "data" / FIFA_CSV.name
    utf8 = FIFA_CSV.read_bytes()
    local.write_bytes(utf8.decode("utf-8").encode("cp1252"))  # en dashes, "ã" and NBSP change bytes
    assert local.read_bytes() != utf8
    text = SPEC_PATH.read_text()
    assert "name: fifa\n" in text and "encoding: utf-8}" in text
    spec = tmp_path / "config" / "pipeline.yaml"
    spec.write_text(
        text.replace("name: fifa\n", "name: fifa-enc\n").replace(
            "encoding: utf-8}", "encoding: cp1252}"
        )
    )
    base = ["-c", str(spec), "--endpoint-url", sandbox.endpoint]

    assert wcpipe(*base, "validate").code == 0
    up = wcpipe(*base, "up", "--yes")
    assert up.code == 0, up
    s3 = sandbox.client("s3")
    bucket = next(
        b["Name"] for b in s3.list_buckets()["Buckets"] if b["Name"].startswith("wcpipe-fifa-enc-")
    )
    key = f"raw/attendance/{FIFA_CSV.name}"
    obj = s3.get_object(Bucket=bucket, Key=key)
    assert obj["Body"].read() == utf8
    assert obj["Metadata"]["sha256"] == hashlib.sha256(utf8).hexdigest()
    # Content addressing is over the uploaded bytes: nothing to upload again.
    again = wcpipe(*base, "plan", "--detailed-exitcode")
    assert again.code == 0, again

    run = wcpipe(*base, "run")
    assert run.code == 0, run
    hosts = "SELECT hosts FROM public.attendance WHERE year = 2002"
    assert warehouse_rows(sandbox, hosts) == [("South Korea Japan",)]
    venue = "SELECT venue FROM public.attendance WHERE year = 1950"
    assert warehouse_rows(sandbox, venue) == [("Maracanã Stadium, Rio de Janeiro",)]
    verify = wcpipe(*base, "verify")
    assert verify.code == 0, verify

    assert wcpipe(*base, "down", "--yes").code == 0
    assert "nothing to delete" in wcpipe(*base, "down", "--yes").err
