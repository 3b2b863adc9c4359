"""S3 objects inside the pipeline bucket (`s3.py`): the code artifacts (`Artifacts`) and the
spec's data files (`DataFiles`, whose upload `wcpipe push` uses too: `DataFiles.push`); and,
with trigger on-arrival, the bucket's EventBridge notifications (`EventNotifications`). Same
service and contract as `s3.py`; in addition:
- Objects carry no tags: they are owned by exact key, and ours only inside a bucket that is ours.
- An object is uploaded only when its content changed: its SHA-256 is kept in the object metadata
  (`sha256`) and compared through `head_object`.
- `DataFiles` never touches other objects under the prefix; users may keep their own there.
- A data file is uploaded as UTF-8 without a byte order mark, transcoded from the spec's
  `data.csv.encoding` (`artifacts.utf8_chunks`: Glue reads CSV as UTF-8); its `sha256` is of the
  uploaded bytes, so `plan` compares what S3 holds with what would be uploaded.
"""

from __future__ import annotations

from functools import cached_property, partial
from pathlib import Path
from typing import Any

from wcpipe.core.errors import SpecError, WcpipeError, ignoring
from wcpipe.provision import artifacts as packaging
from wcpipe.provision.resources.base import (
    Difference,
    Differences,
    Observed,
    Resource,
    tags_from_list,
)
from wcpipe.provision.resources.s3 import NOT_FOUND, SSE
from wcpipe.spec import files as data_files
from wcpipe.spec.names import OWNER_TAG


def _head(s3: Any, bucket: str, key: str) -> dict[str, Any] | None:
    found: dict[str, Any] | None = ignoring(
        lambda: s3.head_object(Bucket=bucket, Key=key), *NOT_FOUND
    )
    return found


def _delete_keys(s3: Any, bucket: str, keys: list[str]) -> None:
    """Delete objects by key, up to 1000 a request; a missing object or bucket is already the
    wanted outcome (DeleteObjects reports no error for a key that does not exist)."""
    for start in range(0, len(keys), 1000):
        objects = [{"Key": k} for k in keys[start : start + 1000]]
        delete = {"Objects": objects, "Quiet": True}
        result = ignoring(partial(s3.delete_objects, Bucket=bucket, Delete=delete), *NOT_FOUND)
        if result is None:
            return
        errors = [e for e in result.get("Errors", []) if e.get("Code") not in NOT_FOUND]
        if errors:
            raise WcpipeError(
                f"deleting objects from S3 bucket {bucket}: {len(errors)} not deleted, e.g. "
                f"{errors[0].get('Key')}: {errors[0].get('Code')}"
            )


def _size(n: int) -> str:
    """Bytes as a person reads them: `812 B`, `3.2 KiB`, `1.5 GiB`."""
    if n < 1024:
        return f"{n} B"
    value = float(n)
    for unit in ("KiB", "MiB", "GiB"):
        value /= 1024
        if value < 1024 or unit == "GiB":
            break
    return f"{value:.1f} {unit}"


def _short(sha256: str | None) -> str | None:
    """An object's content digest as `plan` shows it (absent: None)."""
    return None if sha256 is None else f"sha256:{sha256[:12]}"


class _Objects(Resource):
    """Objects in the pipeline bucket, each uploaded only when its SHA-256 changed."""

    depends_on = ("s3.bucket",)

    @property
    def s3(self) -> Any:
        return self.ctx.client("s3")

    @property
    def bucket(self) -> str:
        return self.ctx.names.bucket

    def owned(self, observed: Observed) -> bool:
        # Objects carry no ownership tag of their own: they are ours only inside a bucket that
        # is ours, so neither `up` nor `down` touches them in somebody else's same-named bucket.
        return observed.tags.get(OWNER_TAG) == self.ctx.spec.name

    def _bucket_tags(self) -> dict[str, str]:
        """The bucket's tags: as `s3.bucket` published them in this run, else read."""
        published = self.ctx.output_or("s3.bucket", "tags")
        if published is not None:
            return dict(published)
        tagging = ignoring(
            lambda: self.s3.get_bucket_tagging(Bucket=self.bucket), "NoSuchTagSet", "NoSuchBucket"
        )
        return tags_from_list(tagging.get("TagSet") if tagging else None)

    def _remote(self, keys: list[str]) -> dict[str, str | None] | None:
        """key -> sha256 metadata ("" when unknown, None when missing); None if all missing
        (without a request when the bucket was just described and found absent)."""
        if self.ctx.known_absent("s3.bucket"):
            return None
        found: dict[str, str | None] = {}
        for key in keys:
            head = _head(self.s3, self.bucket, key)
            found[key] = None if head is None else head.get("Metadata", {}).get("sha256", "")
        if keys and all(v is None for v in found.values()):
            return None
        return found

    def _put_args(self, sha: str, content_type: str) -> dict[str, Any]:
        return {
            "Metadata": {"sha256": sha},
            "ServerSideEncryption": SSE,
            "ContentType": content_type,
        }


class Artifacts(_Objects):
    """The Glue script, the Glue library zip and the Lambda package."""

    key = "s3.artifacts"
    kind = "code artifacts"

    @property
    def name(self) -> str:
        return f"s3://{self.bucket}/wcpipe/"

    @cached_property
    def artifacts(self) -> dict[str, packaging.Artifact]:
        names = self.ctx.names
        return packaging.build_artifacts(names.glue_script_key, names.lambda_package_key)

    def describe(self) -> Observed | None:
        remote = self._remote([a.key for a in self.artifacts.values()])
        return None if remote is None else Observed({"objects": remote}, self._bucket_tags())

    def differences(self, observed: Observed) -> list[Difference]:
        objects = observed.data.get("objects", {})
        return [
            Difference(role, _short(objects.get(a.key)), _short(a.sha256))
            for role, a in self.artifacts.items()
            if objects.get(a.key) != a.sha256
        ]

    def create(self) -> Observed | None:
        self.update(Observed({}), Differences(Difference(role) for role in self.artifacts))
        objects: dict[str, str | None] = {a.key: a.sha256 for a in self.artifacts.values()}
        return Observed({"objects": objects}, self._bucket_tags())

    def update(self, observed: Observed, fields: Differences) -> None:
        for role in fields.fields:
            a = self.artifacts[role]
            args = self._put_args(a.sha256, a.content_type)
            self.s3.put_object(Bucket=self.bucket, Key=a.key, Body=a.body, **args)

    def delete(self, observed: Observed) -> None:
        _delete_keys(self.s3, self.bucket, [a.key for a in self.artifacts.values()])

    def outputs(self, observed: Observed) -> dict[str, Any]:
        a = self.artifacts
        package = a["lambda_package"]
        return {
            "glue_script_uri": f"s3://{self.bucket}/{a['glue_script'].key}",
            "glue_libs_uri": f"s3://{self.bucket}/{a['glue_libs'].key}",
            "lambda_bucket": self.bucket,
            "lambda_key": package.key,
            "lambda_sha256_b64": packaging.sha256_b64(package.body),
        }


class DataFiles(_Objects):
    """The spec's local CSV files, each at `<prefix><file name>`."""

    key = "s3.data"
    kind = "data files"

    @property
    def name(self) -> str:
        return self.ctx.names.data_uri

    def _files(self) -> dict[str, Path]:
        files: dict[str, Path] = {}
        for path in self.ctx.spec.data_paths():
            key = f"{self.ctx.names.prefix}{path.name}"
            if key in files:
                raise SpecError(
                    f"data.files: {files[key]} and {path} would both upload to s3://"
                    f"{self.bucket}/{key}; give them different file names"
                )
            files[key] = path
        return files

    def describe(self) -> Observed | None:
        """Reads the remote metadata and hashes the local files (a missing file is recorded,
        and only reported when something would be uploaded, so `down` works without them)."""
        files = self._files()
        remote = self._remote(list(files))
        if remote is None:
            return None
        local: dict[str, dict[str, Any] | None] = {}
        for key, path in files.items():
            if path.is_file():
                sha, size = self._digest(path)
                local[key] = {"sha256": sha, "size": size}
            else:
                local[key] = None
        return Observed({"objects": remote, "local": local}, self._bucket_tags())

    def differences(self, observed: Observed) -> list[Difference]:
        local = observed.data["local"]
        remote = observed.data["objects"]
        changed = []
        for key, facts in local.items():
            if facts is None:
                self._missing(key)
            if remote.get(key) != facts["sha256"]:
                changed.append(Difference(key, _short(remote.get(key)), _short(facts["sha256"])))
        return changed

    def _missing(self, key: str) -> None:
        path = self._files()[key]
        raise SpecError(f"data.files: {path} does not exist (paths are relative to the spec file)")

    def create(self) -> Observed | None:
        local = {key: self._upload(key, path) for key, path in self._files().items()}
        objects: dict[str, str | None] = {key: f["sha256"] for key, f in local.items()}
        return Observed({"objects": objects, "local": local}, self._bucket_tags())

    def update(self, observed: Observed, fields: Differences) -> None:
        files = self._files()
        for key in fields.fields:
            self._upload(key, files[key])

    @property
    def _encoding(self) -> str:
        return self.ctx.spec.data.csv.encoding

    def _digest(self, path: Path) -> tuple[str, int]:
        """(sha256, size) of the bytes `path` uploads as, or SpecError if it does not decode
        (`validate` finds that first: `Spec.check_data_files`)."""
        try:
            return packaging.data_file_sha256(path, self._encoding)
        except packaging.UndecodableFile as exc:
            why = data_files.undecodable_message(path, exc.encoding, exc.offset, exc.data)
            raise SpecError(why) from None

    def _upload(self, key: str, path: Path) -> dict[str, Any]:
        """Upload one file as UTF-8 with the SHA-256 of those bytes in the metadata; return its
        sha256 and size."""
        if not path.is_file():
            self._missing(key)
        sha, size = self._digest(path)
        with packaging.Utf8Reader(path, self._encoding) as body:
            # upload_fileobj streams, switching to a multipart upload for large files.
            args = self._put_args(sha, "text/csv; charset=utf-8")
            self.s3.upload_fileobj(body, self.bucket, key, ExtraArgs=args)
        return {"sha256": sha, "size": size}

    def push(self, key: str, path: Path) -> tuple[int, bool]:
        """`wcpipe push`: upload one file to `key` as `up` uploads the spec's, unless the object
        there has this content already; (its size in bytes as uploaded, whether it was sent)."""
        sha, size = self._digest(path)
        head = _head(self.s3, self.bucket, key)
        if head is not None and head.get("Metadata", {}).get("sha256") == sha:
            return size, False
        self._upload(key, path)
        return size, True

    def delete(self, observed: Observed) -> None:
        present = [k for k, sha in observed.data.get("objects", {}).items() if sha is not None]
        _delete_keys(self.s3, self.bucket, present)

    def left_behind(self) -> list[str]:
        """Objects in the pipeline's bucket outside the data prefix and outside `wcpipe/` (every
        other key wcpipe writes is under it: artifacts, TempDir, Athena results; names.py),
        by folder: what a renamed `data.prefix` left. Kept: `down` deletes them with the bucket.
        Only in our own bucket, which is read with one listing."""
        if self.ctx.known_absent("s3.bucket") or not self._ours():
            return []
        prefix = self.ctx.names.prefix
        folders: dict[str, list[int]] = {}
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket)
        for page in pages:
            for obj in page.get("Contents", []):
                key = obj["Key"]
                if key.startswith((prefix, "wcpipe/")):
                    continue
                folder = key.rsplit("/", 1)[0] + "/" if "/" in key else ""
                folders.setdefault(folder, []).append(int(obj.get("Size", 0)))
        append = self.ctx.spec.load.mode == "append"
        return [
            f"{len(sizes)} object(s) ({_size(sum(sizes))}) under s3://{self.bucket}/{folder} "
            f"are kept: they are not under data.prefix ({prefix}), so crawls and loads no longer "
            "read them; `down` deletes them with the bucket"
            + (
                ". In append mode, files uploaded again under the new prefix are new objects to "
                "the job's bookmark and their rows load again: empty the table first, or use "
                "load.mode merge"
                if append
                else ""
            )
            for folder, sizes in sorted(folders.items())
        ]

    def _ours(self) -> bool:
        return self.owned(Observed({}, self._bucket_tags()))

    def facts(self, observed: Observed) -> dict[str, int]:
        local = [f for f in observed.data.get("local", {}).values() if f is not None]
        return {"files": len(local), "bytes": sum(int(f["size"]) for f in local)}


class EventNotifications(_Objects):
    """trigger on-arrival: the bucket sends its events to EventBridge (its notification
    configuration's EventBridgeConfiguration, an empty element: Amazon S3 User Guide, "Enabling
    Amazon EventBridge"), where `events.arrival-rule` picks the objects created under the prefix.

    PutBucketNotificationConfiguration replaces the whole configuration, so the topic, queue and
    function notifications others configured are read and sent again, with EventBridge turned
    on (create) or off (delete). It has no tags: ours only inside a bucket that is ours."""

    key = "s3.event-notifications"
    declared_by = "trigger: on-arrival"
    kind = "S3 EventBridge notifications"

    @property
    def name(self) -> str:
        return f"s3://{self.bucket} -> EventBridge"

    def _configuration(self) -> dict[str, Any] | None:
        """The bucket's notification configuration (without the response metadata), or None
        when the bucket does not exist."""
        if self.ctx.known_absent("s3.bucket"):
            return None
        found = ignoring(
            lambda: self.s3.get_bucket_notification_configuration(Bucket=self.bucket),
            *NOT_FOUND,
        )
        if found is None:
            return None
        return {k: v for k, v in found.items() if k != "ResponseMetadata"}

    def describe(self) -> Observed | None:
        config = self._configuration()
        if config is None or "EventBridgeConfiguration" not in config:
            return None
        return Observed({"configuration": config}, self._bucket_tags())

    def differences(self, observed: Observed) -> list[Difference]:
        return []  # on or off: present is right

    def _put(self, config: dict[str, Any]) -> None:
        self.s3.put_bucket_notification_configuration(
            Bucket=self.bucket, NotificationConfiguration=config
        )

    def create(self) -> Observed | None:
        config = {**(self._configuration() or {}), "EventBridgeConfiguration": {}}
        self._put(config)
        return Observed({"configuration": config}, self._bucket_tags())

    def delete(self, observed: Observed) -> None:
        config = dict(observed.data.get("configuration") or {})
        config.pop("EventBridgeConfiguration", None)
        ignoring(lambda: self._put(config), *NOT_FOUND)

    def facts(self, observed: Observed) -> dict[str, str]:
        return {"events": "to EventBridge (default bus)"}
