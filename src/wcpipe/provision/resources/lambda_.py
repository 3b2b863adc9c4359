"""Lambda: the function that starts the Glue job, and the permission for EventBridge to invoke it.

Contract (see `resources/base.py`): `describe` reads only (get_function, get_policy);
`differences` is pure; `create`, `update` and `delete` are the only mutations.

`Function` deploys the zip that `s3.artifacts` uploaded (its bucket, key and base64 SHA-256 are
that resource's outputs). Lambda applies every change asynchronously: after create the function is
`Pending` until `Active`, after an update `LastUpdateStatus` is `InProgress` until `Successful`,
and a second update sent while one is in progress fails with ResourceConflictException. So every
mutation here is followed by a bounded wait, and a code update is waited for before a
configuration update. A freshly created IAM role may not be assumable by Lambda for a few seconds
("The role defined for the function cannot be assumed by Lambda."): create retries through
`wait.retry_while_role_propagates`.

Logging: the function writes JSON lines, so it is created with LoggingConfig LogFormat JSON and
the log group `logs.lambda-log-group` made. moto accepts LoggingConfig but does not return it, so
the `logging` difference is only judged when AWS reports a LoggingConfig.

`Permission` is a statement (Sid `names.permission_sid`) in the function's resource policy; it has
no tags, so it is owned by its exact Sid. It allows events.amazonaws.com to invoke the function
only from this pipeline's rule in this account (SourceArn + SourceAccount). With trigger
on-arrival, `ArrivalPermission` is the same for the arrival rule (Sid
`names.arrival_permission_sid`), and the function's environment names the bucket and prefix.
"""

from __future__ import annotations

import json
from typing import Any

from wcpipe.core.errors import ignoring
from wcpipe.core.wait import poll, retry_while_role_propagates
from wcpipe.provision.resources.base import (
    TAGS,
    Difference,
    Differences,
    Observed,
    Resource,
    compare,
)

HANDLER = "handler.handler"
"""The zip has handler.py at its root (lambda/handler.py)."""
EVENTS_PRINCIPAL = "events.amazonaws.com"
INVOKE = "lambda:InvokeFunction"
READY_TIMEOUT = 300.0
NOT_FOUND = "ResourceNotFoundException"


def function_arn(res: Resource) -> str:
    """The function's ARN: its published output, or derived from its name before it exists."""
    derived = res.ctx.aws.arn("lambda", f"function:{res.ctx.names.function}")
    return str(res.ctx.output_or("lambda.function", "arn", derived))


def rule_arn(res: Resource, rule: str | None = None) -> str:
    """An EventBridge rule's ARN (on the default bus), derived from its name (default: the
    crawler-succeeded rule)."""
    return res.ctx.aws.arn("events", f"rule/{rule or res.ctx.names.rule}")


class Function(Resource):
    key = "lambda.function"
    kind = "Lambda function"
    depends_on = ("iam.lambda-role", "s3.artifacts", "logs.lambda-log-group")

    @property
    def name(self) -> str:
        return self.ctx.names.function

    @property
    def _lambda(self) -> Any:
        return self.ctx.client("lambda")

    # What the spec asks for -----------------------------------------------------------------
    def _role_arn(self) -> str:
        names = self.ctx.names
        derived = names.role_arn(names.lambda_role, self.ctx.aws.partition)
        return str(self.ctx.output_or("iam.lambda-role", "arn", derived))

    def _code(self) -> dict[str, str]:
        return {
            "S3Bucket": self.ctx.output("s3.artifacts", "lambda_bucket"),
            "S3Key": self.ctx.output("s3.artifacts", "lambda_key"),
        }

    def _environment(self) -> dict[str, str]:
        names = self.ctx.names
        env = {"GLUE_JOB_NAME": names.job, "CRAWLER_NAME": names.s3_crawler}
        if self.ctx.spec.on_arrival:
            # lambda/handler.py: arrivals start the crawler; a crawl that succeeded while
            # objects arrived is followed by another (the objects are listed under the prefix).
            env.update(ARRIVAL_BUCKET=names.bucket, ARRIVAL_PREFIX=names.prefix)
            # It starts the crawl once nothing newer has arrived for the settle time.
            env.update(ARRIVAL_SETTLE_SECONDS=str(self.ctx.spec.arrival_settle_seconds))
        return env

    def _logging(self) -> dict[str, str]:
        return {"LogFormat": "JSON", "LogGroup": self.ctx.names.function_log_group}

    def _configuration(self) -> dict[str, Any]:
        """The settings update_function_configuration takes (create takes them too)."""
        spec = self.ctx.spec.lambda_
        return {
            "FunctionName": self.name,
            "Runtime": spec.runtime,
            "Handler": HANDLER,
            "Role": self._role_arn(),
            "Description": f"wcpipe {self.ctx.spec.name}: start Glue job {self.ctx.names.job} "
            "when the S3 crawler succeeds",
            "Timeout": spec.timeout_seconds,
            "MemorySize": spec.memory_mb,
            "Environment": {"Variables": self._environment()},
            "LoggingConfig": self._logging(),
        }

    # Reading --------------------------------------------------------------------------------
    def describe(self) -> Observed | None:
        found = ignoring(lambda: self._lambda.get_function(FunctionName=self.name), NOT_FOUND)
        if found is None:
            return None
        return Observed(data=found["Configuration"], tags=dict(found.get("Tags") or {}))

    def differences(self, observed: Observed) -> list[Difference]:
        data = observed.data
        spec = self.ctx.spec.lambda_
        fields = []
        sha = self.ctx.output_or("s3.artifacts", "lambda_sha256_b64")
        if sha and data.get("CodeSha256") != sha:
            fields.append(Difference("code", data.get("CodeSha256"), sha))
        checks = [
            ("runtime", data.get("Runtime"), spec.runtime),
            ("handler", data.get("Handler"), HANDLER),
            ("role", data.get("Role"), self._role_arn()),
            ("env", (data.get("Environment") or {}).get("Variables", {}), self._environment()),
            ("timeout", data.get("Timeout"), spec.timeout_seconds),
            ("memory", data.get("MemorySize"), spec.memory_mb),
        ]
        fields += compare(checks)
        logging = data.get("LoggingConfig")
        if logging is not None and any(logging.get(k) != v for k, v in self._logging().items()):
            have = {k: logging.get(k) for k in self._logging()}
            fields.append(Difference("logging", have, self._logging()))
        return fields + self.tag_differences(observed)

    def _wait_ready(self, doing: str) -> dict[str, Any]:
        """Poll until the function is Active and its last update Successful (bounded)."""

        def failed(cfg: dict[str, Any]) -> str | None:
            if cfg.get("State") == "Failed":
                return f"state Failed: {cfg.get('StateReason', 'no reason given')}"
            if cfg.get("LastUpdateStatus") == "Failed":
                return f"update failed: {cfg.get('LastUpdateStatusReason', 'no reason given')}"
            return None

        def done(cfg: dict[str, Any]) -> bool:
            return cfg.get("State") == "Active" and cfg.get("LastUpdateStatus") in (
                None,
                "Successful",
            )

        result: dict[str, Any] = poll(
            lambda: self._lambda.get_function_configuration(FunctionName=self.name),
            what=f"{self.kind} {self.name} to be ready after {doing}",
            done=done,
            failed=failed,
            timeout=READY_TIMEOUT,
            timing=self.ctx.timing,
        )
        return result

    # Changing -------------------------------------------------------------------------------
    def create(self) -> Observed | None:
        request = {
            **self._configuration(),
            "Code": self._code(),
            "PackageType": "Zip",
            "Publish": False,
            "Tags": self.ctx.tags,
        }
        tags = dict(self.ctx.tags)
        try:
            retry_while_role_propagates(
                lambda: self._lambda.create_function(**request),
                what=f"creating {self.kind} {self.name}",
                timing=self.ctx.timing,
            )
        except self._lambda.exceptions.ResourceConflictException:
            # Created meanwhile: carry on with what is there, and only if it is ours.
            observed = self.describe()
            if observed is None:
                raise
            self.check_owned(observed)
            tags = observed.tags
        # The last poll is the configuration GetFunction would return: no describe after it.
        ready = self._wait_ready("create")
        return Observed({k: v for k, v in ready.items() if k != "ResponseMetadata"}, tags)

    def update(self, observed: Observed, fields: Differences) -> None:
        busy = observed.data.get("State") == "Pending"
        busy = busy or observed.data.get("LastUpdateStatus") == "InProgress"
        if busy:
            self._wait_ready("a change already in progress")  # else AWS rejects the update
        if "code" in fields:
            self._lambda.update_function_code(FunctionName=self.name, **self._code())
            self._wait_ready("updating its code")
        config = {"runtime", "handler", "role", "env", "timeout", "memory", "logging"}
        if config & set(fields.fields):
            retry_while_role_propagates(
                lambda: self._lambda.update_function_configuration(**self._configuration()),
                what=f"updating {self.kind} {self.name}",
                timing=self.ctx.timing,
            )
            self._wait_ready("updating its configuration")
        if TAGS in fields:
            arn = observed.data["FunctionArn"]
            self.sync_tags(
                observed,
                lambda tags: self._lambda.tag_resource(Resource=arn, Tags=tags),
            )

    def delete(self, observed: Observed) -> None:
        ignoring(lambda: self._lambda.delete_function(FunctionName=self.name), NOT_FOUND)

    def outputs(self, observed: Observed) -> dict[str, Any]:
        return {"arn": observed.data["FunctionArn"]}

    def facts(self, observed: Observed) -> dict[str, str]:
        data = observed.data
        return {
            "state": str(data.get("State", "?")),
            "last modified": str(data.get("LastModified", "?")),
            "code": str(data.get("CodeSha256", ""))[:12],
        }


class Permission(Resource):
    """The crawler-succeeded rule may invoke the function (`ArrivalPermission`: the arrival
    rule's statement, the same but for its Sid and rule)."""

    key = "lambda.permission"
    kind = "invoke permission"
    depends_on = ("lambda.function",)
    taggable = False

    @property
    def name(self) -> str:
        return self.ctx.names.permission_sid

    @property
    def rule(self) -> str:
        """The rule whose events may invoke the function."""
        return self.ctx.names.rule

    @property
    def _lambda(self) -> Any:
        return self.ctx.client("lambda")

    def describe(self) -> Observed | None:
        if self.ctx.known_absent("lambda.function"):
            return None  # the statement lives in the function's policy
        found = ignoring(
            lambda: self._lambda.get_policy(FunctionName=self.ctx.names.function), NOT_FOUND
        )
        if found is None:
            return None  # no function, or a function without a resource policy
        for statement in json.loads(found["Policy"]).get("Statement", []):
            if statement.get("Sid") == self.name:
                return Observed(data=statement)
        return None

    def differences(self, observed: Observed) -> list[Difference]:
        statement = observed.data
        condition = statement.get("Condition") or {}
        principal = statement.get("Principal")
        if isinstance(principal, dict):
            principal = principal.get("Service")
        checks = [
            ("principal", principal, EVENTS_PRINCIPAL),
            ("action", statement.get("Action"), INVOKE),
            ("effect", statement.get("Effect"), "Allow"),
            (
                "source-arn",
                condition.get("ArnLike", {}).get("AWS:SourceArn"),
                rule_arn(self, self.rule),
            ),
            (
                "source-account",
                condition.get("StringEquals", {}).get("AWS:SourceAccount"),
                self.ctx.aws.account_id,
            ),
        ]
        return compare(checks)

    def create(self) -> Observed | None:
        try:
            added = self._lambda.add_permission(
                FunctionName=self.ctx.names.function,
                StatementId=self.name,
                Action=INVOKE,
                Principal=EVENTS_PRINCIPAL,
                SourceArn=rule_arn(self, self.rule),
                SourceAccount=self.ctx.aws.account_id,
            )
        except self._lambda.exceptions.ResourceConflictException:
            # Lambda uses this code both for "the statement id already exists" (added meanwhile:
            # an outcome) and for "an update is in progress" (a failure): tell them apart by
            # looking, not by the message.
            observed = self.describe()
            if observed is None:
                raise
            return observed
        # AddPermission answers with the statement as it now stands in the policy.
        statement = json.loads(added["Statement"]) if added.get("Statement") else None
        return Observed(data=statement) if isinstance(statement, dict) else None

    def update(self, observed: Observed, fields: Differences) -> None:
        # A policy statement cannot be edited: replace it.
        self.delete(observed)
        self.create()

    def delete(self, observed: Observed) -> None:
        # Gone already, or its function is: absent.
        ignoring(
            lambda: self._lambda.remove_permission(
                FunctionName=self.ctx.names.function, StatementId=self.name
            ),
            NOT_FOUND,
        )

    def facts(self, observed: Observed) -> dict[str, str]:
        condition = observed.data.get("Condition") or {}
        return {"source": str(condition.get("ArnLike", {}).get("AWS:SourceArn", "?"))}


class ArrivalPermission(Permission):
    """trigger on-arrival: the arrival rule (`events.ArrivalRule`) may invoke the function."""

    key = "lambda.arrival-permission"
    declared_by = "trigger: on-arrival"
    kind = "arrival invoke permission"

    @property
    def name(self) -> str:
        return self.ctx.names.arrival_permission_sid

    @property
    def rule(self) -> str:
        return self.ctx.names.arrival_rule


class JobSucceededPermission(Permission):
    """trigger on-arrival: the job-succeeded rule (`events.JobSucceededRule`) may invoke the
    function."""

    key = "lambda.job-succeeded-permission"
    declared_by = "trigger: on-arrival"
    kind = "job-succeeded invoke permission"

    @property
    def name(self) -> str:
        return self.ctx.names.job_succeeded_permission_sid

    @property
    def rule(self) -> str:
        return self.ctx.names.job_succeeded_rule
