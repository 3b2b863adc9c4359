"""`data.source: s3://bucket/prefix/`, the spec side and the roles: the URI's shape is checked at
`validate` (exit 2, one line, before any AWS call), it excludes data.files and data.prefix and
names a bucket that is not the pipeline's; the Glue role may list and read that prefix only, and
write nothing there. `init s3://...` warns when the objects disagree on their header."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import parliament
import pytest

from wcpipe.provision.resources.iam_policies import glue_policy
from wcpipe.spec.model import load_spec
from wcpipe.spec.names import Names

SPEC = """\
name: landed
data:
{data}
table:
  name: t
  columns:
    - {{name: id, type: integer}}
"""


def _spec(tmp_path: Path, data: str) -> Path:
    path = tmp_path / "pipeline.yaml"
    path.write_text(SPEC.format(data=data))
    return path


def test_validate_accepts_a_source_and_says_it_is_read_in_place(
    tmp_path: Path, wcpipe: Callable[..., Any]
) -> None:
    spec = _spec(tmp_path, "  source: s3://landing/in/2024")
    result = wcpipe("-c", str(spec), "validate")
    assert result.code == 0, result
    assert "read in place from s3://landing/in/2024/" in " ".join(result.out.split())
    loaded = load_spec(spec)
    assert (loaded.data.source_bucket, loaded.data.source_prefix) == ("landing", "in/2024/")
    names = Names.of(loaded, "123456789012", "us-east-1")
    assert names.data_uri == "s3://landing/in/2024/"
    assert names.bucket == "wcpipe-landed-123456789012-us-east-1"  # artifacts, temp dir
    assert names.source_table == "2024"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("  source: s3://landing", "is not an S3 folder: expected s3://bucket/prefix/"),
        ("  source: s3://landing/", "is not an S3 folder"),
        ("  source: s3://Landing/in/", "is not an S3 folder"),
        ("  source: https://landing/in/", "is not an S3 folder"),
        ("  source: s3://la/in/", "is not an S3 folder"),
        ("  source: s3://landing/in//x/", "is not an S3 folder"),
        (
            "  source: s3://landing/in/\n  files: [a.csv]",
            "give data.source (data already in S3) or data.files (local files to upload), not both",
        ),
        ("  source: s3://landing/in/\n  prefix: raw/", "data.prefix is where data.files upload"),
        (
            "  source: s3://landing/in/\n  csv: {encoding: cp1252}",
            "Glue reads CSV as UTF-8 only",
        ),
        (
            "  source: s3://mine/in/\n  bucket: mine",
            "data.source names the pipeline's own bucket 'mine'",
        ),
        ("  source: s3://wcpipe-landed-1-us-east-1/in/", "the pipeline's own bucket"),
    ],
)
def test_a_bad_source_is_one_line_exit_2(
    tmp_path: Path, wcpipe: Callable[..., Any], data: str, expected: str
) -> None:
    result = wcpipe("-c", str(_spec(tmp_path, data)), "validate")
    assert result.code == 2, result
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {tmp_path / 'pipeline.yaml'}:"), lines
    assert expected in lines[0], lines
    assert "Traceback" not in result.err


def test_the_glue_role_reads_the_source_prefix_only(tmp_path: Path) -> None:
    spec = load_spec(_spec(tmp_path, "  source: s3://landing/in/"))
    policy = glue_policy(Names.of(spec, "123456789012", "us-east-1"), "aws")
    on_landing = [
        s for s in policy["Statement"] if "arn:aws:s3:::landing" in json.dumps(s["Resource"])
    ]
    assert sorted(
        (s["Sid"], tuple(s["Action"]), json.dumps(s["Resource"])) for s in on_landing
    ) == [
        ("ListSource", ("s3:ListBucket",), json.dumps("arn:aws:s3:::landing")),
        ("ReadData", ("s3:GetObject",), json.dumps("arn:aws:s3:::landing/in/*")),
    ]
    # The connector's bucket checks are on the TempDir's bucket, ours, only.
    checks = next(s for s in policy["Statement"] if s["Sid"] == "TempDirChecks")
    assert checks["Resource"] == "arn:aws:s3:::wcpipe-landed-123456789012-us-east-1"
    listing = next(s for s in on_landing if s["Sid"] == "ListSource")
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["in", "in/*"]}}
    # The pipeline bucket is listed only under the temp dir now: no data there.
    ours = next(s for s in policy["Statement"] if s["Sid"] == "ListDataAndTemp")
    assert all(p.startswith("wcpipe/") for p in ours["Condition"]["StringLike"]["s3:prefix"])
    found = parliament.analyze_policy_string(json.dumps(policy)).findings
    assert [(f.issue, f.detail) for f in found] == []


def test_init_warns_when_objects_disagree_on_their_header(
    moto: None, tmp_path: Path, wcpipe: Callable[..., Any]
) -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="landing")
    s3.put_object(Bucket="landing", Key="in/a.csv", Body=b"id,amount\n1,10\n2,20\n")
    s3.put_object(Bucket="landing", Key="in/b.csv", Body=b"id,amount\n3,30\n")
    s3.put_object(Bucket="landing", Key="in/c.csv", Body=b"id,total,note\n4,40,x\n")
    out = tmp_path / "landing.yaml"
    result = wcpipe("init", "s3://landing/in", "--name", "landing", "-o", str(out))
    assert result.code == 0, result
    warned = " ".join(result.err.split())
    assert (
        'warning: s3://landing/in/c.csv: its header "id,total,note" differs from '
        's3://landing/in/a.csv\'s "id,amount"; the spec follows the first'
    ) in warned, result
    assert "b.csv" not in warned
    spec = load_spec(out)
    assert spec.data.source == "s3://landing/in/" and spec.data.files == ()
    assert [c.source_column for c in spec.table.columns] == ["id", "amount"]


def test_init_on_a_bucket_without_a_prefix_is_a_usage_error(
    moto: None, tmp_path: Path, wcpipe: Callable[..., Any]
) -> None:
    result = wcpipe("init", "s3://landing", "-o", str(tmp_path / "x.yaml"))
    assert result.code == 2, result
    assert result.err.strip().splitlines() == [
        "error: s3://landing: expected s3://bucket/prefix (a bucket and a folder in it)"
    ]


def test_init_on_objects_that_are_not_utf8_says_so(
    moto: None, tmp_path: Path, wcpipe: Callable[..., Any]
) -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="landing")
    body = "city,n\nZürich,1\nMalmö,2\n".encode("cp1252")
    s3.put_object(Bucket="landing", Key="in/a.csv", Body=body)
    out = tmp_path / "x.yaml"
    result = wcpipe("init", "s3://landing/in/", "--name", "landing", "-o", str(out))
    assert result.code == 2, result
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        "error: s3://landing/in/: the objects are cp1252, not UTF-8"
    ), lines
    assert not out.exists()
