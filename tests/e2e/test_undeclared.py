"""What the spec no longer declares is planned too (issue 13): after `warehouse.type` changes,
the other type's billable warehouse is shown by `plan` as a removal with its reason and a
billing warning, by `status` as `undeclared`, deleted by `up` once the new warehouse is up, and
by `down` when the spec changed back without an `up`. Through the `wcpipe` command on the
sandbox."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.paths import ROOT, SPEC_PATH
from support.requests import Requests
from support.sandbox import empty_warehouse

pytestmark = pytest.mark.e2e
NAME = "fifa-sw"
REASON = "the spec no longer declares it (it exists only with warehouse.type: provisioned)"


def _clusters(sandbox: Any) -> list[str]:
    rs = sandbox.client("redshift")
    return [c["ClusterIdentifier"] for c in rs.describe_clusters()["Clusters"]] + [
        g["ClusterSubnetGroupName"]
        for g in rs.describe_cluster_subnet_groups()["ClusterSubnetGroups"]
        if g["ClusterSubnetGroupName"].startswith(f"wcpipe-{NAME}")
    ]


def _serverless(sandbox: Any) -> list[str]:
    rs = sandbox.client("redshift-serverless")
    return [n["namespaceName"] for n in rs.list_namespaces()["namespaces"]] + [
        w["workgroupName"] for w in rs.list_workgroups()["workgroups"]
    ]


def _up(
    sandbox: Any,
    tmp_path: Path,
    wcpipe: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
    name: str,
) -> tuple[Path, list[str]]:
    """The FIFA project as pipeline `name`, up on an empty warehouse: its spec and the options."""
    monkeypatch.setenv("WCPIPE_POLL_INTERVAL", "0.1")
    empty_warehouse(sandbox.pg_dsn)
    (tmp_path / "config").mkdir()
    shutil.copytree(ROOT / "data", tmp_path / "data")
    spec = tmp_path / "config" / "pipeline.yaml"
    spec.write_text(SPEC_PATH.read_text().replace("name: fifa\n", f"name: {name}\n", 1))
    base = ["-c", str(spec), "--endpoint-url", sandbox.endpoint]
    assert wcpipe(*base, "up", "--yes").code == 0
    return spec, base


def _switch(spec: Path, old: str, new: str) -> None:
    text = spec.read_text()
    assert f"\n  type: {old}\n" in text
    spec.write_text(text.replace(f"\n  type: {old}\n", f"\n  type: {new}\n", 1))


def test_switching_warehouse_type_removes_the_old_warehouse(
    sandbox: Any, tmp_path: Path, wcpipe: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    spec, base = _up(sandbox, tmp_path, wcpipe, monkeypatch, NAME)
    cluster = f"wcpipe-{NAME}"
    assert cluster in _clusters(sandbox)

    # provisioned -> serverless: the cluster and its subnet group are planned for removal.
    _switch(spec, "provisioned", "serverless")
    plan = wcpipe(*base, "--output", "json", "plan")
    assert plan.code == 0, plan
    removals = {
        c["resource"]: c for c in json.loads(plan.out)["changes"] if c["action"] == "delete"
    }
    assert set(removals) == {"redshift.cluster", "redshift.subnet-group"}, removals
    assert removals["redshift.cluster"]["reason"] == REASON
    assert removals["redshift.cluster"]["billable"] is True
    shown = wcpipe(*base, "plan", "--detailed-exitcode")
    assert shown.code == 2, shown
    assert "delete" in shown.out and cluster in shown.out, shown
    assert f"Redshift cluster {cluster} bills while it exists" in shown.err, shown
    # The connection's endpoint comes from the workgroup this `up` creates, as Terraform says.
    assert "JDBC_CONNECTION_URL: jdbc:redshift://" in shown.out, shown
    assert "-> (known after up)" in shown.out, shown
    status = wcpipe(*base, "--output", "json", "status")
    rows = {r["resource"]: r for r in json.loads(status.out)["resources"]}
    assert rows["redshift.cluster"]["state"] == "undeclared", rows["redshift.cluster"]
    assert rows["redshift.cluster"]["facts"]["why"] == REASON

    # `up` creates the Serverless warehouse, then removes the cluster; then nothing is pending.
    up = wcpipe(*base, "up", "--yes")
    assert up.code == 0, up
    assert _clusters(sandbox) == []
    assert sorted(_serverless(sandbox)) == [cluster, cluster]
    requests = Requests.everywhere()
    try:
        again = wcpipe(*base, "up", "--yes")
        assert again.code == 0 and again.err.count("No changes.") == 1, again
        assert requests.mutating == []
    finally:
        requests.close()
    assert wcpipe(*base, "status", "--detailed-exitcode").code == 0

    # Back to provisioned, no `up`: `down` still finds the Serverless warehouse and deletes it.
    _switch(spec, "serverless", "provisioned")
    status = wcpipe(*base, "--output", "json", "status")
    states = {r["resource"]: r["state"] for r in json.loads(status.out)["resources"]}
    assert states["redshift-serverless.workgroup"] == "undeclared", states
    assert states["redshift.cluster"] == "missing", states
    down = wcpipe(*base, "down", "--yes")
    assert down.code == 0, down
    assert "Redshift Serverless workgroup" in down.out, down
    assert _serverless(sandbox) == [] and _clusters(sandbox) == []
    tagging = sandbox.client("resourcegroupstaggingapi")
    owner = [{"Key": "wcpipe:pipeline", "Values": [NAME]}]
    left = tagging.get_resources(TagFilters=owner)["ResourceTagMappingList"]
    assert [r["ResourceARN"] for r in left] == []
    assert "nothing to delete" in wcpipe(*base, "down", "--yes").err


def test_renamed_table_and_prefix_are_kept_and_said_plainly(
    sandbox: Any, tmp_path: Path, wcpipe: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Renaming the table or the prefix leaves loaded rows and uploaded objects: `plan` and `up`
    say what is kept and why (and, in append mode, that the files' rows load again); a table made
    before tables carried the pipeline's marker is marked by `up`. Deleting them is left to the
    person: the table holds rows people may query, and `down` removes the objects with the
    bucket."""
    from support.sandbox import warehouse_rows

    name = "fifa-rn"
    spec, base = _up(sandbox, tmp_path, wcpipe, monkeypatch, name)
    marker = f"wcpipe pipeline {name}"
    assert warehouse_rows(sandbox, "SELECT obj_description('public.attendance'::regclass)") == [
        (marker,)
    ]

    # A table made before the marker existed: planned as a comment change, marked by `up`.
    with sandbox.pg_connect("dev") as conn:
        conn.execute("COMMENT ON TABLE public.attendance IS NULL")
    plan = wcpipe(*base, "--output", "json", "plan")
    [table] = [c for c in json.loads(plan.out)["changes"] if c["resource"] == "redshift-data.table"]
    assert (table["action"], table["fields"]) == ("update", ["comment"]), table
    assert wcpipe(*base, "up", "--yes").code == 0
    assert json.loads(wcpipe(*base, "--output", "json", "plan").out)["pending"] == 0

    # Rename both: nothing of the old is deleted, and plan says so, plainly.
    text = spec.read_text()
    text = text.replace("  prefix: raw/attendance/", "  prefix: raw/worldcup/", 1)
    text = text.replace("  name: attendance\n", "  name: worldcup\n", 1)
    spec.write_text(text)
    shown = wcpipe(*base, "plan")
    assert shown.code == 0, shown
    said = " ".join(shown.err.split())
    assert (
        "Redshift table public.attendance is kept: the spec's table is now public.worldcup" in said
    )
    assert "DROP TABLE public.attendance" in said, said
    bucket = f"wcpipe-{name}-123456789012-us-east-1"
    assert f"1 object(s) (2.5 KiB) under s3://{bucket}/raw/attendance/ are kept" in said, said
    assert "append mode" not in said, said  # the FIFA spec merges on year: nothing doubles
    text = spec.read_text()
    merge = (
        "  mode: merge                  # rerunning never doubles a tournament\n  keys: [year]\n"
    )
    assert merge in text
    spec.write_text(text.replace(merge, "  mode: append\n", 1))
    appending = " ".join(wcpipe(*base, "plan").err.split())
    assert "In append mode, files uploaded again under the new prefix" in appending, appending
    spec.write_text(text)
    kept = json.loads(wcpipe(*base, "--output", "json", "plan").out)["kept"]
    assert len(kept) == 2, kept
    up = wcpipe(*base, "up", "--yes")
    assert up.code == 0, up
    assert "public.attendance is kept" in " ".join(up.err.split()), up
    assert warehouse_rows(sandbox, "SELECT to_regclass('public.attendance') IS NOT NULL") == [
        (True,)
    ]
    s3 = sandbox.client("s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="raw/")["Contents"]]
    assert sorted(keys) == [
        "raw/attendance/FIFA World Cup Attendance.csv",
        "raw/worldcup/FIFA World Cup Attendance.csv",
    ]
    assert wcpipe(*base, "down", "--yes").code == 0
