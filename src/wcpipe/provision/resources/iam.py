"""IAM: the three service roles (Glue, Lambda, Redshift), each with one least-privilege inline
policy named `wcpipe`, scoped to this pipeline's ARNs (the documents: `iam_policies.py`).

Contract (see `resources/base.py`): `describe` makes only read calls (get_role, which carries
the tags, get_role_policy, list_role_policies, list_attached_role_policies); `differences` is
pure; only `create`/`update`/`delete` write. Policy documents are compared as normalized JSON
(`same_policy`). Managed policies attached by hand, and inline policies other than `wcpipe`, are
drift and are removed.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from wcpipe.core.errors import ignoring
from wcpipe.provision.resources.base import (
    TAGS,
    Difference,
    Differences,
    Observed,
    Resource,
    tag_list,
)
from wcpipe.provision.resources.iam_policies import (
    glue_policy,
    lambda_policy,
    redshift_policy,
    same_policy,
    trust_policy,
)

POLICY_NAME = "wcpipe"
NO_SUCH_ENTITY = "NoSuchEntity"
"""IAM's code for NoSuchEntityException: the role, or a policy of it, does not exist."""
MAX_SESSION = 3600


class _Role(Resource):
    kind = "IAM role"
    description: ClassVar[str]
    source_account_condition: ClassVar[bool] = False
    """Add aws:SourceAccount to the trust policy. Only where the service is known to send it
    when it assumes the role: a condition it does not satisfy makes the role unusable."""

    @property
    def iam(self) -> Any:
        return self.ctx.client("iam")

    def services(self) -> list[str]:
        raise NotImplementedError

    def policy(self) -> dict[str, Any]:
        raise NotImplementedError

    def trust(self) -> dict[str, Any]:
        account = self.ctx.names.account_id if self.source_account_condition else None
        return trust_policy(self.services(), account)

    @property
    def arn(self) -> str:
        return self.ctx.names.role_arn(self.name, self.ctx.aws.partition)

    def describe(self) -> Observed | None:
        role = ignoring(lambda: self.iam.get_role(RoleName=self.name)["Role"], NO_SUCH_ENTITY)
        if role is None:
            return None
        # GetRole returns every tag (a role holds at most 50): no ListRoleTags round trip.
        tags = {t["Key"]: t["Value"] for t in role.get("Tags", [])}
        observed = Observed(
            {
                "arn": role["Arn"],
                "trust": role.get("AssumeRolePolicyDocument"),
                "description": role.get("Description", ""),
                "max_session": role.get("MaxSessionDuration", MAX_SESSION),
            },
            tags,
        )
        if not self.owned(observed):
            return observed
        inline, attached = self._listed_policies()
        policy = None
        if POLICY_NAME in inline:
            got = self.iam.get_role_policy(RoleName=self.name, PolicyName=POLICY_NAME)
            policy = got["PolicyDocument"]
        observed.data.update(
            policy=policy,
            other_inline=sorted(p for p in inline if p != POLICY_NAME),
            managed=sorted(attached),
        )
        return observed

    def differences(self, observed: Observed) -> list[Difference]:
        d = observed.data
        fields = []
        if not same_policy(d.get("trust"), self.trust()):
            fields.append(Difference("trust_policy", d.get("trust"), self.trust()))
        if d.get("policy") is None or not same_policy(d["policy"], self.policy()):
            fields.append(Difference("policy", d.get("policy"), self.policy()))
        if d.get("other_inline"):
            fields.append(Difference("other_inline_policies", sorted(d["other_inline"]), []))
        if d.get("managed"):
            fields.append(Difference("managed_policies", sorted(d["managed"]), []))
        fields += self.tag_differences(observed)
        if d.get("description") != self.description:
            fields.append(Difference("description", d.get("description"), self.description))
        if d.get("max_session") != MAX_SESSION:
            fields.append(Difference("max_session", d.get("max_session"), MAX_SESSION))
        return fields

    def create(self) -> Observed | None:
        """Create the role and its policy; return what a describe would then find (the role as
        CreateRole answered, the policy as sent), or None if a concurrent run had made it."""
        try:
            role = self.iam.create_role(
                RoleName=self.name,
                AssumeRolePolicyDocument=json.dumps(self.trust()),
                Description=self.description,
                MaxSessionDuration=MAX_SESSION,
                Tags=self.ctx.tag_list(),
            )["Role"]
        except self.iam.exceptions.EntityAlreadyExistsException:
            observed = self.describe()  # created a moment ago by a concurrent run
            if observed is not None:
                self.check_owned(observed)
            self._put_policy()
            return None
        self._put_policy()
        return Observed(
            {
                "arn": role["Arn"],
                "trust": self.trust(),
                "description": role.get("Description", self.description),
                "max_session": role.get("MaxSessionDuration", MAX_SESSION),
                "policy": self.policy(),
                "other_inline": [],
                "managed": [],
            },
            {t["Key"]: t["Value"] for t in role.get("Tags") or self.ctx.tag_list()},
        )

    def _put_policy(self) -> None:
        self.iam.put_role_policy(
            RoleName=self.name, PolicyName=POLICY_NAME, PolicyDocument=json.dumps(self.policy())
        )

    def update(self, observed: Observed, fields: Differences) -> None:
        name = self.name
        if "trust_policy" in fields:
            self.iam.update_assume_role_policy(
                RoleName=name, PolicyDocument=json.dumps(self.trust())
            )
        if "policy" in fields:
            self._put_policy()
        if "other_inline_policies" in fields:
            for policy in observed.data["other_inline"]:
                self._delete_inline(policy)
        if "managed_policies" in fields:
            for arn in observed.data["managed"]:
                self._detach(arn)
        if TAGS in fields:
            self._retag(observed)
        if "description" in fields or "max_session" in fields:
            self.iam.update_role(
                RoleName=name, Description=self.description, MaxSessionDuration=MAX_SESSION
            )

    def _retag(self, observed: Observed) -> None:
        self.sync_tags(
            observed,
            lambda tags: self.iam.tag_role(RoleName=self.name, Tags=tag_list(tags)),
        )

    def _delete_inline(self, policy: str) -> None:
        ignoring(
            lambda: self.iam.delete_role_policy(RoleName=self.name, PolicyName=policy),
            NO_SUCH_ENTITY,
        )

    def _detach(self, arn: str) -> None:
        ignoring(
            lambda: self.iam.detach_role_policy(RoleName=self.name, PolicyArn=arn), NO_SUCH_ENTITY
        )

    def delete(self, observed: Observed) -> None:
        """Inline policies and attachments first: IAM refuses to delete a role that has any.
        The describe listed them; if one was added since, IAM answers DeleteConflict and they
        are listed again."""
        d = observed.data
        ours = [POLICY_NAME] if d.get("policy") is not None else []
        inline = [*ours, *d.get("other_inline", [])]
        ignoring(lambda: self._delete_role(inline, d.get("managed", [])), NO_SUCH_ENTITY)

    def _delete_role(self, inline: list[str], managed: list[str]) -> None:
        self._strip(inline, managed)
        try:
            self.iam.delete_role(RoleName=self.name)
        except self.iam.exceptions.DeleteConflictException:
            self._strip(*self._listed_policies())
            self.iam.delete_role(RoleName=self.name)

    def _strip(self, inline: list[str], managed: list[str]) -> None:
        for policy in inline:
            self._delete_inline(policy)
        for arn in managed:
            self._detach(arn)

    def _listed_policies(self) -> tuple[list[str], list[str]]:
        """(inline policy names, attached policy ARNs) as IAM lists them now."""
        inline: list[str] = []
        for page in self.iam.get_paginator("list_role_policies").paginate(RoleName=self.name):
            inline += page["PolicyNames"]
        managed: list[str] = []
        pages = self.iam.get_paginator("list_attached_role_policies").paginate(RoleName=self.name)
        for page in pages:
            managed += [p["PolicyArn"] for p in page["AttachedPolicies"]]
        return inline, managed

    def outputs(self, observed: Observed) -> dict[str, Any]:
        return {"arn": observed.data.get("arn") or self.arn, "name": self.name}

    def facts(self, observed: Observed) -> dict[str, str]:
        return {"arn": str(observed.data.get("arn", ""))}


class GlueRole(_Role):
    key = "iam.glue-role"
    description = "wcpipe: Glue crawlers and the load job"

    @property
    def name(self) -> str:
        return self.ctx.names.glue_role

    def services(self) -> list[str]:
        return ["glue.amazonaws.com"]

    def policy(self) -> dict[str, Any]:
        return glue_policy(self.ctx.names, self.ctx.aws.partition)


class LambdaRole(_Role):
    key = "iam.lambda-role"
    description = "wcpipe: the Lambda function that starts the Glue job"
    source_account_condition = True

    @property
    def name(self) -> str:
        return self.ctx.names.lambda_role

    def services(self) -> list[str]:
        return ["lambda.amazonaws.com"]

    def policy(self) -> dict[str, Any]:
        return lambda_policy(self.ctx.names, self.ctx.aws.partition, self.ctx.spec.on_arrival)


class RedshiftRole(_Role):
    key = "iam.redshift-role"
    description = "wcpipe: Redshift COPY from the pipeline bucket"

    @property
    def name(self) -> str:
        return self.ctx.names.redshift_role

    def services(self) -> list[str]:
        if self.ctx.spec.warehouse.type == "serverless":
            return ["redshift-serverless.amazonaws.com", "redshift.amazonaws.com"]
        return ["redshift.amazonaws.com"]

    def policy(self) -> dict[str, Any]:
        return redshift_policy(self.ctx.names, self.ctx.aws.partition)
