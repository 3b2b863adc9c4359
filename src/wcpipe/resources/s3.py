"""S3: the pipeline bucket, the code artifacts in it and the data files uploaded to it.

Contract (see `resources/base.py`): `describe` makes only read calls (head/get/list), returns None
when nothing exists; `differences` is pure; only `create`/`update`/`delete` write.

- `Bucket` is private and TLS-only: default encryption (SSE-S3 with a bucket key; an existing
  aws:kms configuration is accepted as is), all four public-access blocks, BucketOwnerEnforced
  ownership, a bucket policy statement denying non-TLS requests, and `ctx.tags`. Deleting empties
  every object version and delete marker first.
- `Artifacts` and `DataFiles` are objects inside that bucket (no tags: owned by exact key). An
  object is uploaded only when its content changed: its SHA-256 is kept in the object metadata
  (`sha256`) and compared through `head_object`. `DataFiles` never touches other objects under
  the prefix; users may keep their own there.
"""

from __future__ import annotations

import contextlib
import json
from functools import cached_property
from pathlib import Path
from typing import Any

from wcpipe import packaging
from wcpipe.errors import SpecError, WcpipeError, error_code
from wcpipe.names import OWNER_TAG
from wcpipe.resources.base import Observed, Resource, tags_from_list

TLS_SID = "DenyInsecureTransport"
SSE = "AES256"
_NOT_FOUND = {"404", "NoSuchBucket", "NoSuchKey", "NotFound"}
_PUBLIC_BLOCKS = (
    "BlockPublicAcls",
    "IgnorePublicAcls",
    "BlockPublicPolicy",
    "RestrictPublicBuckets",
)


def tls_only_statement(bucket_arn: str) -> dict[str, Any]:
    return {
        "Sid": TLS_SID,
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def _normal(statement: dict[str, Any]) -> str:
    """A statement as canonical JSON: one-item lists and strings compare equal, order ignored."""
    out: dict[str, Any] = {}
    for key, value in statement.items():
        if isinstance(value, list):
            value = sorted(value) if len(value) != 1 else value[0]
        out[key] = value
    return json.dumps(out, sort_keys=True)


def _read(call: Any, missing: set[str], **kwargs: Any) -> dict[str, Any] | None:
    """A get_* call whose "not configured" error codes mean None."""
    try:
        result: dict[str, Any] = call(**kwargs)
        return result
    except Exception as exc:
        if error_code(exc) in missing:
            return None
        raise


def _head(s3: Any, bucket: str, key: str) -> dict[str, Any] | None:
    try:
        result: dict[str, Any] = s3.head_object(Bucket=bucket, Key=key)
        return result
    except Exception as exc:
        if error_code(exc) in _NOT_FOUND:
            return None
        raise


def _delete_keys(s3: Any, bucket: str, keys: list[str]) -> None:
    """Delete objects by key, up to 1000 a request; a missing object or bucket is already the
    wanted outcome (DeleteObjects reports no error for a key that does not exist)."""
    for start in range(0, len(keys), 1000):
        objects = [{"Key": k} for k in keys[start : start + 1000]]
        try:
            result = s3.delete_objects(Bucket=bucket, Delete={"Objects": objects, "Quiet": True})
        except Exception as exc:
            if error_code(exc) in _NOT_FOUND:
                return
            raise
        errors = [e for e in result.get("Errors", []) if e.get("Code") not in _NOT_FOUND]
        if errors:
            raise WcpipeError(
                f"deleting objects from S3 bucket {bucket}: {len(errors)} not deleted, e.g. "
                f"{errors[0].get('Key')}: {errors[0].get('Code')}"
            )


class Bucket(Resource):
    key = "s3.bucket"
    kind = "S3 bucket"

    @property
    def name(self) -> str:
        return self.ctx.names.bucket

    @property
    def arn(self) -> str:
        return f"arn:{self.ctx.aws.partition}:s3:::{self.name}"

    @property
    def s3(self) -> Any:
        return self.ctx.client("s3")

    def describe(self) -> Observed | None:
        try:
            head = self.s3.head_bucket(Bucket=self.name)
        except Exception as exc:
            code = error_code(exc)
            if code in _NOT_FOUND:
                return None
            if code in {"403", "AccessDenied"}:
                # Bucket names are global: it exists in an account we cannot read.
                return Observed({"foreign": True})
            raise
        b = {"Bucket": self.name}
        tagging = _read(self.s3.get_bucket_tagging, {"NoSuchTagSet"}, **b)
        tags = tags_from_list((tagging or {}).get("TagSet"))
        observed = Observed({"foreign": False}, tags)
        if not self.owned(observed):
            return observed  # not ours: read nothing more
        enc = _read(
            self.s3.get_bucket_encryption, {"ServerSideEncryptionConfigurationNotFoundError"}, **b
        )
        rules = (enc or {}).get("ServerSideEncryptionConfiguration", {}).get("Rules", [])
        default = rules[0].get("ApplyServerSideEncryptionByDefault", {}) if rules else {}
        pab = _read(self.s3.get_public_access_block, {"NoSuchPublicAccessBlockConfiguration"}, **b)
        own = _read(self.s3.get_bucket_ownership_controls, {"OwnershipControlsNotFoundError"}, **b)
        own_rules = (own or {}).get("OwnershipControls", {}).get("Rules", [])
        policy = _read(self.s3.get_bucket_policy, {"NoSuchBucketPolicy"}, **b)
        # HeadBucket names the bucket's region; ask GetBucketLocation only if it did not.
        region = head.get("BucketRegion") or (
            self.s3.get_bucket_location(**b).get("LocationConstraint") or "us-east-1"
        )
        observed.data.update(
            region=region,
            encryption=default.get("SSEAlgorithm"),
            kms_key=default.get("KMSMasterKeyID"),
            bucket_key=bool(rules and rules[0].get("BucketKeyEnabled")),
            public_access_block=(pab or {}).get("PublicAccessBlockConfiguration", {}),
            ownership=own_rules[0].get("ObjectOwnership") if own_rules else None,
            policy=json.loads(policy["Policy"]) if policy else None,
        )
        return observed

    def differences(self, observed: Observed) -> list[str]:
        d = observed.data
        fields = []
        sse_s3 = d.get("encryption") == SSE and d.get("bucket_key")
        if not (sse_s3 or d.get("encryption") == "aws:kms"):
            fields.append("encryption")
        pab = d.get("public_access_block") or {}
        if not all(pab.get(k) is True for k in _PUBLIC_BLOCKS):
            fields.append("public_access_block")
        if d.get("ownership") != "BucketOwnerEnforced":
            fields.append("ownership")
        if not self._has_tls_statement(d.get("policy")):
            fields.append("policy")
        if _user_tags(observed.tags) != self.ctx.tags:
            fields.append("tags")
        return fields

    def _has_tls_statement(self, policy: dict[str, Any] | None) -> bool:
        wanted = _normal(tls_only_statement(self.arn))
        statements = (policy or {}).get("Statement", [])
        return any(_normal(s) == wanted for s in statements if isinstance(s, dict))

    def create(self) -> Observed | None:
        """Create, tag and configure the bucket; return what a describe would then find (every
        setting is what was just sent), or None if a concurrent run had created it."""
        region = self.ctx.aws.region
        # The tags go with the create call, so no crash can leave the bucket untagged (and so
        # not ours); they are put again below for S3 backends that drop them (moto does).
        config: dict[str, Any] = {"Tags": self.ctx.tag_list()}
        if region != "us-east-1":
            config["LocationConstraint"] = region
        kwargs: dict[str, Any] = {
            "Bucket": self.name,
            "ObjectOwnership": "BucketOwnerEnforced",
            "CreateBucketConfiguration": config,
        }
        settings = ["public_access_block", "encryption", "policy"]
        ours = True
        try:
            self.s3.create_bucket(**kwargs)
        except self.s3.exceptions.BucketAlreadyOwnedByYou:
            ours = False  # created by a concurrent run a moment ago: converge it below
            settings.append("ownership")
        except self.s3.exceptions.BucketAlreadyExists:
            raise WcpipeError(
                f"S3 bucket {self.name!r} already exists in another AWS account",
                hint="bucket names are global: set data.bucket in the spec to another name",
            ) from None
        # Tag before the settings: a run interrupted from here on still knows the bucket as its own.
        self._put_tags()
        self.update(Observed({}), settings)
        if not ours:
            return None
        return Observed(
            {
                "foreign": False,
                "region": region,
                "encryption": SSE,
                "kms_key": None,
                "bucket_key": True,
                "public_access_block": dict.fromkeys(_PUBLIC_BLOCKS, True),
                "ownership": "BucketOwnerEnforced",
                "policy": self._policy_document(None),
            },
            dict(self.ctx.tags),
        )

    def update(self, observed: Observed, fields: list[str]) -> None:
        b = self.name
        if "tags" in fields:
            self._put_tags()
        if "public_access_block" in fields:
            config = dict.fromkeys(_PUBLIC_BLOCKS, True)
            self.s3.put_public_access_block(Bucket=b, PublicAccessBlockConfiguration=config)
        if "ownership" in fields:
            rules = [{"ObjectOwnership": "BucketOwnerEnforced"}]
            self.s3.put_bucket_ownership_controls(Bucket=b, OwnershipControls={"Rules": rules})
        if "encryption" in fields:
            rule = {
                "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": SSE},
                "BucketKeyEnabled": True,
            }
            self.s3.put_bucket_encryption(
                Bucket=b, ServerSideEncryptionConfiguration={"Rules": [rule]}
            )
        if "policy" in fields:
            document = self._policy_document(observed.data.get("policy"))
            self.s3.put_bucket_policy(Bucket=b, Policy=json.dumps(document))

    def _policy_document(self, current: dict[str, Any] | None) -> dict[str, Any]:
        """The policy to put: statements others added are kept, ours (by Sid) is replaced."""
        policy = current or {"Version": "2012-10-17", "Statement": []}
        others = [s for s in policy.get("Statement", []) if s.get("Sid") != TLS_SID]
        return {
            "Version": policy.get("Version", "2012-10-17"),
            "Statement": [*others, tls_only_statement(self.arn)],
        }

    def _put_tags(self) -> None:
        self.s3.put_bucket_tagging(Bucket=self.name, Tagging={"TagSet": self.ctx.tag_list()})

    def delete(self, observed: Observed) -> None:
        self._empty()
        with contextlib.suppress(self.s3.exceptions.NoSuchBucket):
            self.s3.delete_bucket(Bucket=self.name)

    def _empty(self) -> None:
        """Delete every object version and delete marker, a page (at most 1000) at a time.
        Each round lists from the start again instead of following markers: the marker of a
        page just deleted need not exist any more (moto then ends the listing early)."""
        while True:
            try:
                page = self.s3.list_object_versions(Bucket=self.name, MaxKeys=1000)
            except self.s3.exceptions.NoSuchBucket:
                return
            items = [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
            if not items:
                return
            objects = [{"Key": o["Key"], "VersionId": o["VersionId"]} for o in items]
            result = self.s3.delete_objects(
                Bucket=self.name, Delete={"Objects": objects, "Quiet": True}
            )
            if result.get("Errors"):
                first = result["Errors"][0]
                raise WcpipeError(
                    f"emptying S3 bucket {self.name}: {len(result['Errors'])} objects not "
                    f"deleted, e.g. {first.get('Key')}: {first.get('Code')}"
                )

    def outputs(self, observed: Observed) -> dict[str, Any]:
        # The tags say whose the bucket is, and so whose the objects in it are (`_Objects`).
        return {"name": self.name, "arn": self.arn, "tags": dict(observed.tags)}

    def facts(self, observed: Observed) -> dict[str, str]:
        d = observed.data
        return {"region": str(d.get("region", "?")), "encryption": str(d.get("encryption"))}


def _user_tags(tags: dict[str, str]) -> dict[str, str]:
    """Tags a user can set (AWS-managed `aws:` tags are neither ours nor drift)."""
    return {k: v for k, v in tags.items() if not k.startswith("aws:")}


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
        tagging = _read(
            self.s3.get_bucket_tagging, {"NoSuchTagSet", "NoSuchBucket"}, Bucket=self.bucket
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

    def differences(self, observed: Observed) -> list[str]:
        objects = observed.data.get("objects", {})
        return [role for role, a in self.artifacts.items() if objects.get(a.key) != a.sha256]

    def create(self) -> Observed | None:
        self.update(Observed({}), list(self.artifacts))
        objects: dict[str, str | None] = {a.key: a.sha256 for a in self.artifacts.values()}
        return Observed({"objects": objects}, self._bucket_tags())

    def update(self, observed: Observed, fields: list[str]) -> None:
        for role in fields:
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
                sha, size = packaging.file_sha256(path)
                local[key] = {"sha256": sha, "size": size}
            else:
                local[key] = None
        return Observed({"objects": remote, "local": local}, self._bucket_tags())

    def differences(self, observed: Observed) -> list[str]:
        local = observed.data["local"]
        remote = observed.data["objects"]
        changed = []
        for key, facts in local.items():
            if facts is None:
                self._missing(key)
            if remote.get(key) != facts["sha256"]:
                changed.append(key)
        return changed

    def _missing(self, key: str) -> None:
        path = self._files()[key]
        raise SpecError(f"data.files: {path} does not exist (paths are relative to the spec file)")

    def create(self) -> Observed | None:
        local = {key: self._upload(key, path) for key, path in self._files().items()}
        objects: dict[str, str | None] = {key: f["sha256"] for key, f in local.items()}
        return Observed({"objects": objects, "local": local}, self._bucket_tags())

    def update(self, observed: Observed, fields: list[str]) -> None:
        files = self._files()
        for key in fields:
            self._upload(key, files[key])

    def _upload(self, key: str, path: Path) -> dict[str, Any]:
        """Upload one file with its SHA-256 in the metadata; return its sha256 and size."""
        if not path.is_file():
            self._missing(key)
        with path.open("rb") as handle:
            sha = packaging.stream_sha256(handle)
            size = handle.tell()
            handle.seek(0)
            # upload_fileobj streams, switching to a multipart upload for large files.
            self.s3.upload_fileobj(
                handle, self.bucket, key, ExtraArgs=self._put_args(sha, "text/csv")
            )
        return {"sha256": sha, "size": size}

    def delete(self, observed: Observed) -> None:
        present = [k for k, sha in observed.data.get("objects", {}).items() if sha is not None]
        _delete_keys(self.s3, self.bucket, present)

    def facts(self, observed: Observed) -> dict[str, str]:
        local = [f for f in observed.data.get("local", {}).values() if f is not None]
        return {"files": str(len(local)), "bytes": str(sum(f["size"] for f in local))}
