"""`data.source: s3://bucket/prefix/` on the sandbox, through the `wcpipe` command: `init` drafts
the spec from the objects (ranged GETs of their first bytes), `up` uploads nothing, `run` crawls
and loads the data where it is and `verify` agrees; `down` deletes the pipeline and leaves the
bucket that is not ours, and every object in it, untouched."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.paths import FIFA_CSV
from support.requests import Requests
from support.sandbox import empty_warehouse, warehouse_rows

pytestmark = pytest.mark.e2e
LANDING = "landing-zone-13b"


def _objects(s3: Any) -> dict[str, bytes]:
    listed = s3.list_objects_v2(Bucket=LANDING).get("Contents", [])
    return {o["Key"]: s3.get_object(Bucket=LANDING, Key=o["Key"])["Body"].read() for o in listed}


def test_data_in_s3_is_loaded_where_it_is_and_left_alone(
    sandbox: Any, tmp_path: Path, wcpipe: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WCPIPE_POLL_INTERVAL", "0.1")
    empty_warehouse(sandbox.pg_dsn)
    s3 = sandbox.client("s3")
    s3.create_bucket(Bucket=LANDING)
    lines = FIFA_CSV.read_bytes().splitlines(keepends=True)
    header, rows = lines[0], lines[1:]
    s3.put_object(Bucket=LANDING, Key="fifa/part-1.csv", Body=b"".join([header, *rows[:12]]))
    s3.put_object(Bucket=LANDING, Key="fifa/part-2.csv", Body=b"".join([header, *rows[12:]]))
    s3.put_object(Bucket=LANDING, Key="other/keep.txt", Body=b"not the pipeline's")
    before = _objects(s3)

    spec = tmp_path / "pipeline.yaml"
    endpoint = ["--endpoint-url", sandbox.endpoint]
    requests = Requests.everywhere()
    try:
        uri = f"s3://{LANDING}/fifa"
        init = wcpipe(*endpoint, "init", uri, "--name", "fifa-src", "-o", str(spec))
        assert init.code == 0, init
        # init read each object's first bytes with a ranged GET, never a whole object.
        gets = [r.params for r in requests.sent if r.operation == "GetObject"]
        assert gets and all(g.get("Range", "").startswith("bytes=0-") for g in gets), gets
        text = spec.read_text()
        assert f"source: s3://{LANDING}/fifa/" in text and "files:" not in text, text
        base = ["-c", str(spec), *endpoint]

        up = wcpipe(*base, "up", "--yes")
        assert up.code == 0, up
        assert wcpipe(*base, "plan", "--detailed-exitcode").code == 0

        run = wcpipe(*base, "run")
        assert run.code == 0, run
        assert warehouse_rows(sandbox, "SELECT count(*) FROM public.fifa") == [(22,)]
        verify = wcpipe(*base, "verify")
        assert verify.code == 0, verify

        down = wcpipe(*base, "down", "--yes")
        assert down.code == 0, down
        assert "nothing to delete" in wcpipe(*base, "down", "--yes").err
    finally:
        requests.close()
    # No request that writes named the bucket that is not ours; its objects are as they were.
    writes = [r for r in requests.sent if not r.read and r.params.get("Bucket") == LANDING]
    assert writes == [], writes
    assert _objects(s3) == before
