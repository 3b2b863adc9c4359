"""S3: the pipeline bucket, plus what the object resources in `s3_objects.py` share with it
(`SSE`, `NOT_FOUND`).

Contract (see `resources/base.py`), for every S3 resource in both modules: `describe` makes only
read calls (head/get/list), returns None when nothing exists; `differences` is pure; only
`create`/`update`/`delete` write.

- `Bucket` is private and TLS-only: default encryption (SSE-S3 with a bucket key; an existing
  aws:kms configuration is accepted as is), all four public-access blocks, BucketOwnerEnforced
  ownership, a bucket policy statement denying non-TLS requests, and `ctx.tags` (tags others
  added are kept, as base.py's tag policy says). Its lifecycle configuration holds wcpipe's rule
  expiring the Glue job's TempDir after a day (rules others added are kept). Deleting empties
  every object version and delete marker first.
"""

from __future__ import annotations

import json
from typing import Any

from wcpipe.core.errors import WcpipeError, error_code, ignoring
from wcpipe.provision.resources.base import (
    TAGS,
    Difference,
    Differences,
    Observed,
    Resource,
    tag_list,
    tags_from_list,
)

TLS_SID = "DenyInsecureTransport"
TEMP_DIR_RULE_ID = "wcpipe-expire-glue-temp-dir"
SSE = "AES256"
NOT_FOUND = {"404", "NoSuchBucket", "NoSuchKey", "NotFound"}
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


def temp_dir_rule(prefix: str) -> dict[str, Any]:
    """The lifecycle rule that empties the Glue job's TempDir: Glue's Redshift connector stages
    every load's rows (and COPY's manifest) there and never deletes them; it only warns when the
    bucket has no lifecycle rule (spark-redshift-community `Utils.scala`,
    `checkThatBucketHasObjectLifecycleConfiguration`). Objects expire a day after they are
    written (S3 rounds up to the next midnight UTC: at least 24 hours, longer than any load) and
    unfinished multipart uploads are aborted a day after they began. The shape is the
    LifecycleRule of PutBucketLifecycleConfiguration (Amazon S3 API Reference, LifecycleRule;
    botocore's s3 service model): a Filter with exactly one Prefix, Status Enabled, Expiration
    Days, AbortIncompleteMultipartUpload DaysAfterInitiation."""
    return {
        "ID": TEMP_DIR_RULE_ID,
        "Filter": {"Prefix": prefix},
        "Status": "Enabled",
        "Expiration": {"Days": 1},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
    }


def _normal(statement: dict[str, Any]) -> str:
    """A statement as canonical JSON: one-item lists and strings compare equal, order ignored."""
    out: dict[str, Any] = {}
    for key, value in statement.items():
        if isinstance(value, list):
            value = sorted(value) if len(value) != 1 else value[0]
        out[key] = value
    return json.dumps(out, sort_keys=True)


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
            head = ignoring(lambda: self.s3.head_bucket(Bucket=self.name), *NOT_FOUND)
        except Exception as exc:
            if error_code(exc) in {"403", "AccessDenied"}:
                # Bucket names are global: it exists in an account we cannot read.
                return Observed({"foreign": True})
            raise
        if head is None:
            return None
        b = {"Bucket": self.name}
        tagging = ignoring(lambda: self.s3.get_bucket_tagging(**b), "NoSuchTagSet")
        tags = tags_from_list((tagging or {}).get("TagSet"))
        observed = Observed({"foreign": False}, tags)
        if not self.owned(observed):
            return observed  # not ours: read nothing more
        # Each setting, None when the bucket has none (S3 answers a "not found" code of its own).
        enc = ignoring(
            lambda: self.s3.get_bucket_encryption(**b),
            "ServerSideEncryptionConfigurationNotFoundError",
        )
        rules = (enc or {}).get("ServerSideEncryptionConfiguration", {}).get("Rules", [])
        default = rules[0].get("ApplyServerSideEncryptionByDefault", {}) if rules else {}
        pab = ignoring(
            lambda: self.s3.get_public_access_block(**b), "NoSuchPublicAccessBlockConfiguration"
        )
        own = ignoring(
            lambda: self.s3.get_bucket_ownership_controls(**b), "OwnershipControlsNotFoundError"
        )
        own_rules = (own or {}).get("OwnershipControls", {}).get("Rules", [])
        policy = ignoring(lambda: self.s3.get_bucket_policy(**b), "NoSuchBucketPolicy")
        lifecycle = ignoring(
            lambda: self.s3.get_bucket_lifecycle_configuration(**b), "NoSuchLifecycleConfiguration"
        )
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
            lifecycle=(lifecycle or {}).get("Rules", []),
        )
        return observed

    def differences(self, observed: Observed) -> list[Difference]:
        d = observed.data
        fields = []
        sse_s3 = d.get("encryption") == SSE and d.get("bucket_key")
        if not (sse_s3 or d.get("encryption") == "aws:kms"):
            have = f"{d.get('encryption')}" + (", bucket key" if d.get("bucket_key") else "")
            fields.append(Difference("encryption", have, f"{SSE}, bucket key"))
        pab = d.get("public_access_block") or {}
        if not all(pab.get(k) is True for k in _PUBLIC_BLOCKS):
            have_pab = {k: pab.get(k) for k in _PUBLIC_BLOCKS}
            fields.append(
                Difference("public_access_block", have_pab, dict.fromkeys(_PUBLIC_BLOCKS, True))
            )
        if d.get("ownership") != "BucketOwnerEnforced":
            fields.append(Difference("ownership", d.get("ownership"), "BucketOwnerEnforced"))
        if not self._has_tls_statement(d.get("policy")):
            fields.append(Difference("policy", "no TLS-only statement", f"+statement {TLS_SID}"))
        if not self._has_temp_dir_rule(d.get("lifecycle") or []):
            rule = f"+rule {TEMP_DIR_RULE_ID}"
            fields.append(Difference("lifecycle", "no temp-dir expiry rule", rule))
        return fields + self.tag_differences(observed)

    def _has_tls_statement(self, policy: dict[str, Any] | None) -> bool:
        wanted = _normal(tls_only_statement(self.arn))
        statements = (policy or {}).get("Statement", [])
        return any(_normal(s) == wanted for s in statements if isinstance(s, dict))

    @property
    def temp_dir_rule(self) -> dict[str, Any]:
        return temp_dir_rule(self.ctx.names.glue_temp_prefix)

    def _has_temp_dir_rule(self, rules: list[dict[str, Any]]) -> bool:
        # A rule read back may carry empty elements it was not put with: compared without them.
        found = [{k: v for k, v in r.items() if v not in (None, "", [], {})} for r in rules]
        return self.temp_dir_rule in found

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
        settings = ["public_access_block", "encryption", "policy", "lifecycle"]
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
        self._put_tags(Observed({}))
        self.update(Observed({}), Differences(Difference(s) for s in settings))
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
                "lifecycle": [self.temp_dir_rule],
            },
            dict(self.ctx.tags),
        )

    def update(self, observed: Observed, fields: Differences) -> None:
        b = self.name
        if TAGS in fields:
            self._put_tags(observed)
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
        if "lifecycle" in fields:
            # PutBucketLifecycleConfiguration replaces the whole configuration: rules others
            # added are sent again, ours (by ID) replaced.
            others = [
                r for r in observed.data.get("lifecycle") or [] if r.get("ID") != TEMP_DIR_RULE_ID
            ]
            self.s3.put_bucket_lifecycle_configuration(
                Bucket=b, LifecycleConfiguration={"Rules": [*others, self.temp_dir_rule]}
            )

    def _policy_document(self, current: dict[str, Any] | None) -> dict[str, Any]:
        """The policy to put: statements others added are kept, ours (by Sid) is replaced."""
        policy = current or {"Version": "2012-10-17", "Statement": []}
        others = [s for s in policy.get("Statement", []) if s.get("Sid") != TLS_SID]
        return {
            "Version": policy.get("Version", "2012-10-17"),
            "Statement": [*others, tls_only_statement(self.arn)],
        }

    def _put_tags(self, observed: Observed) -> None:
        """PutBucketTagging replaces the whole set: the tags to keep are sent with ours (never
        `aws:` tags, which S3 refuses in a request)."""
        keep = {k: v for k, v in observed.tags.items() if not k.startswith("aws:")}
        tags = tag_list({**keep, **self.ctx.tags})
        self.s3.put_bucket_tagging(Bucket=self.name, Tagging={"TagSet": tags})

    def delete(self, observed: Observed) -> None:
        self._empty()
        ignoring(lambda: self.s3.delete_bucket(Bucket=self.name), "NoSuchBucket")

    def _empty(self) -> None:
        """Delete every object version and delete marker, a page (at most 1000) at a time.
        Each round lists from the start again instead of following markers: the marker of a
        page just deleted need not exist any more (moto then ends the listing early)."""
        while True:
            page = ignoring(
                lambda: self.s3.list_object_versions(Bucket=self.name, MaxKeys=1000),
                "NoSuchBucket",
            )
            if page is None:
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
        # The tags say whose the bucket is, and so whose the objects in it are (`s3_objects.py`).
        return {"name": self.name, "arn": self.arn, "tags": dict(observed.tags)}

    def facts(self, observed: Observed) -> dict[str, str]:
        d = observed.data
        return {"region": str(d.get("region", "?")), "encryption": str(d.get("encryption"))}
