"""`wcpipe push FILE...`: new data under the pipeline's prefix, uploaded as `up` uploads the
spec's data files (`s3_objects.DataFiles.push`: in the spec's encoding as UTF-8, content-addressed
by the SHA-256 in the object's metadata, so an unchanged file is not sent again).

Contract: `check_files(paths)` refuses, before any request, a path that is not a readable file
or two files that would land on one key (UsageError, one line naming the file). `push_files(ctx,
paths)` reads the bucket's tags (it must exist and be this pipeline's: `up` first) and each
object's metadata, then uploads only what changed; it returns a `Pushed` per file. With trigger
on-arrival each upload is an arrival: S3's Object Created event starts the pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wcpipe.core.errors import NotOwnedError, UsageError, WcpipeError, ignoring
from wcpipe.provision.resources.base import Context
from wcpipe.provision.resources.s3 import NOT_FOUND
from wcpipe.provision.resources.s3_objects import DataFiles
from wcpipe.spec.names import OWNER_TAG
from wcpipe.spec.session import Session


@dataclass(frozen=True)
class Pushed:
    path: Path
    key: str
    size: int
    uploaded: bool  # False: the object there has this content already

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": str(self.path),
            "key": self.key,
            "bytes": self.size,
            "result": "uploaded" if self.uploaded else "unchanged",
        }


def check_files(prefix: str, paths: list[Path]) -> dict[str, Path]:
    """key -> path for each file, or UsageError naming the first bad one (no request made)."""
    if not paths:
        raise UsageError("push: name at least one file")
    keys: dict[str, Path] = {}
    for path in paths:
        if not path.is_file():
            raise UsageError(f"push: {path}: no such file")
        key = f"{prefix}{path.name}"
        if key in keys:
            raise UsageError(f"push: {keys[key]} and {path} would both upload to {key}")
        keys[key] = path
    return keys


def _check_bucket(ctx: Session) -> None:
    s3, bucket = ctx.client("s3"), ctx.names.bucket
    tagging = ignoring(lambda: s3.get_bucket_tagging(Bucket=bucket), *NOT_FOUND)
    if tagging is None:
        raise WcpipeError(
            f"S3 bucket {bucket} does not exist", hint="create the pipeline first: wcpipe up"
        )
    tags = {t["Key"]: t["Value"] for t in tagging.get("TagSet", [])}
    if tags.get(OWNER_TAG) != ctx.spec.name:
        raise NotOwnedError("S3 bucket", bucket, ctx.spec.name)


def push_files(ctx: Context, paths: list[Path]) -> list[Pushed]:
    """Upload each file to `<prefix><file name>` unless that object has its content."""
    files = check_files(ctx.names.prefix, paths)
    _check_bucket(ctx)
    data = DataFiles(ctx)
    pushed = []
    for key, path in files.items():
        size, uploaded = data.push(key, path)
        pushed.append(Pushed(path, key, size, uploaded))
    return pushed
