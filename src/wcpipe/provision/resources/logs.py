"""CloudWatch Logs: the Lambda function's log group, created ahead of the function.

Contract (see `resources/base.py`): `describe` reads only (describe_log_groups with the exact name,
list_tags_for_resource); `differences` is pure and names `retention` and `tags`; `create`,
`update` and `delete` are the only mutations.

Lambda creates `/aws/lambda/<function>` by itself on the first invocation, untagged and with
logs kept forever. wcpipe creates it first, tagged and with `logs.retention_days`, so it is owned
and expires; the engine orders it before `lambda.function`.

The Glue log groups (`/aws-glue/crawlers`, `/aws-glue/jobs/output`, `/aws-glue/jobs/error`, ...)
are shared by every crawler and job in the account and region: wcpipe never creates, changes or
deletes them, and so they are not resources here.
"""

from __future__ import annotations

from typing import Any

from wcpipe.core.errors import ignoring
from wcpipe.provision.resources.base import (
    TAGS,
    Difference,
    Differences,
    Observed,
    Resource,
    compare,
)


class LambdaLogGroup(Resource):
    key = "logs.lambda-log-group"
    kind = "log group"

    @property
    def name(self) -> str:
        return self.ctx.names.function_log_group

    @property
    def _logs(self) -> Any:
        return self.ctx.client("logs")

    def _arn(self, data: dict[str, Any]) -> str:
        # `logGroupArn` is the ARN without the trailing ":*" that `arn` carries; tagging wants it.
        arn = data.get("logGroupArn") or str(data.get("arn", "")).removesuffix(":*")
        return str(arn) or self.ctx.aws.arn("logs", f"log-group:{self.name}")

    def describe(self) -> Observed | None:
        # The name is a prefix filter: several groups may share it, only the exact one is ours.
        pages = self._logs.get_paginator("describe_log_groups").paginate(
            logGroupNamePrefix=self.name
        )
        for page in pages:
            for group in page.get("logGroups", []):
                if group.get("logGroupName") == self.name:
                    tags = self._logs.list_tags_for_resource(resourceArn=self._arn(group))
                    return Observed(data=group, tags=dict(tags.get("tags", {})))
        return None

    def differences(self, observed: Observed) -> list[Difference]:
        retention = (
            "retention",
            observed.data.get("retentionInDays"),
            self.ctx.spec.logs.retention_days,
        )
        return compare([retention]) + self.tag_differences(observed)

    def create(self) -> Observed | None:
        days = self.ctx.spec.logs.retention_days
        try:
            self._logs.create_log_group(logGroupName=self.name, tags=self.ctx.tags)
        except self._logs.exceptions.ResourceAlreadyExistsException:
            # Created meanwhile (by another run, or by Lambda on a first invocation): adopt it
            # only if it is ours.
            observed = self.describe()
            if observed is not None:
                self.check_owned(observed)
            self._logs.put_retention_policy(logGroupName=self.name, retentionInDays=days)
            return None
        self._logs.put_retention_policy(logGroupName=self.name, retentionInDays=days)
        # A new group holds exactly what was sent; its ARN follows from its name.
        data = {"logGroupName": self.name, "retentionInDays": days, "storedBytes": 0}
        return Observed(data=data, tags=dict(self.ctx.tags))

    def update(self, observed: Observed, fields: Differences) -> None:
        if "retention" in fields:
            self._logs.put_retention_policy(
                logGroupName=self.name, retentionInDays=self.ctx.spec.logs.retention_days
            )
        if TAGS in fields:
            arn = self._arn(observed.data)
            self.sync_tags(
                observed,
                lambda tags: self._logs.tag_resource(resourceArn=arn, tags=tags),
            )

    def delete(self, observed: Observed) -> None:
        ignoring(
            lambda: self._logs.delete_log_group(logGroupName=self.name),
            "ResourceNotFoundException",
        )

    def outputs(self, observed: Observed) -> dict[str, Any]:
        return {"name": self.name, "arn": self._arn(observed.data)}

    def facts(self, observed: Observed) -> dict[str, str]:
        retention = observed.data.get("retentionInDays")
        return {
            "retention": f"{retention} days" if retention else "never expires",
            "stored": f"{observed.data.get('storedBytes', 0)} bytes",
        }
