"""The one documented shape of each command's `--output json`, as pydantic models.

Every command that prints JSON hands its data to `wcpipe.ui.emit_shape(command, data)`, which
validates it against the command's model here and prints the model's JSON: so what a command
prints is exactly what `wcpipe schema COMMAND` (the model's JSON Schema) says. The conventions,
as aws-cli's and Terraform's JSON keep them: snake_case keys, numbers as numbers (an exact
non-integral decimal, a verify sum, as a decimal string), ISO-8601 timestamps with their offset,
`null` for what is unknown; one object per command (`logs` is an array, `logs --follow` one
event object per line). Models forbid extra keys, so a new key is a deliberate change here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel, StringConstraints

SnakeKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]
Fact = str | int | float | bool | None
Figure = int | float | str | None
"""A verify figure: a count or sum (an exact non-integral sum is a decimal string), or "-"."""


class Shape(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# -- plan, up, status, down ------------------------------------------------------------------


class Difference(Shape):
    field: str
    old: Any
    new: Any
    action: str = Field(description="update, or blocked (AWS cannot make it in place).")
    reason: str | None = None


class Change(Shape):
    resource: str = Field(description="The resource's key, e.g. s3.bucket.")
    kind: str
    name: str
    action: Literal["create", "update", "blocked", "none", "not-owned", "delete", "absent", "keep"]
    fields: list[str]
    differences: list[Difference]
    billable: bool
    reason: str | None = Field(
        None, description="Why, for a removal of what the spec no longer declares."
    )


class Cost(Shape):
    """A billable resource's pricing unit and rate (`spec.pricing`, AWS's list prices)."""

    resource: str
    kind: str
    name: str
    unit: str = Field(description='AWS\'s pricing unit: "node-hour", "RPU-hour", "TB scanned".')
    quantity: float
    dollars_per_unit: float | None
    bills: str
    dollars_per_hour: float | None
    dollars_per_month: float | None
    max_dollars_per_hour: float | None
    region: str
    read_on: str = Field(description="When the rates were read from AWS's pricing pages.")
    action: str = Field(description="The plan's action for that resource.")


class PlanOutput(Shape):
    changes: list[Change]
    pending: int = Field(description="How many changes `up` would make.")
    kept: list[str] = Field(
        description="What an earlier spec made that this one no longer declares and `up` "
        "keeps, each with why (a renamed table, objects under an old prefix)."
    )
    costs: list[Cost]


class PipelineOutputs(Shape):
    """What the pipeline is, once up (as `terraform output -json` ends an apply)."""

    bucket: str
    bucket_arn: str
    data_uri: str
    warehouse_type: Literal["provisioned", "serverless"]
    warehouse_host: str | None
    warehouse_port: int | None
    database: str = Field(description="The Redshift database.")
    table: str = Field(description="schema.table in Redshift.")
    glue_database: str = Field(description="The Glue catalog database the S3 crawler fills.")
    s3_crawler: str
    s3_crawler_arn: str
    redshift_crawler: str
    redshift_crawler_arn: str
    job: str
    job_arn: str
    function_arn: str | None
    rule_arn: str | None
    secret_arn: str | None
    glue_role_arn: str | None
    lambda_role_arn: str | None
    redshift_role_arn: str | None


class UpOutput(Shape):
    changes: list[Change]
    costs: list[Cost]
    result: dict[str, str] = Field(description="Each changed resource's outcome, by key.")
    outputs: PipelineOutputs


class ResourceStatus(Shape):
    resource: str
    kind: str
    name: str
    state: Literal["present", "missing", "drifted", "not-owned", "undeclared"] = Field(
        description="undeclared: it exists, is ours, and the spec no longer declares it "
        "(`up` and `down` delete it)."
    )
    drift: list[Difference]
    facts: dict[SnakeKey, Fact]


class JobRun(Shape):
    run_id: str
    state: str
    started: datetime | None
    duration_seconds: float | None
    dpu_seconds: float | None
    error: str | None


class LastCrawl(Shape):
    crawler: str
    state: str | None = Field(description="The crawler's state now (READY, RUNNING, ...).")
    status: str | None = Field(description="How its last crawl ended; null if never crawled.")
    started: datetime | None
    error: str | None


class LambdaActivity(Shape):
    hours: int
    invocations: int
    errors: int


class TriggerStatus(Shape):
    trigger: str = Field(description="manual, on-arrival or cron(...).")
    last_arrival: str | None = Field(description="The newest object under the prefix, and when.")


class StatusOutput(Shape):
    resources: list[ResourceStatus]
    trigger: TriggerStatus
    crawls: list[LastCrawl] | None
    job_run: JobRun | None = Field(description="The latest run; null if the job never ran.")
    lambda_activity: LambdaActivity | None
    alerts: dict[str, str] | None = Field(
        description="With alerts in the spec: each address's subscription state and each "
        "alarm's state (with its reason when not OK), by address or alarm name; else null."
    )
    unavailable: dict[SnakeKey, str] = Field(
        description="A section that could not be read (crawls, job_run, lambda_activity): why."
    )


class DownOutput(Shape):
    deleted: list[str]
    kept: list[Change]


# -- operating -------------------------------------------------------------------------------


class CrawlChanges(Shape):
    added: dict[str, str]
    removed: dict[str, str]
    retyped: dict[str, list[str]] = Field(description="column: [old type, new type]")


class LogLocation(Shape):
    group: str | None
    stream: str | None


class Crawl(Shape):
    crawler: str
    status: str
    attached: bool
    elapsed_seconds: float
    table: str
    columns: dict[str, str] | None
    changes: CrawlChanges
    log: LogLocation


class RunCrawlerOutput(Shape):
    crawls: list[Crawl]


class Check(Shape):
    check: str
    source: Figure
    warehouse: Figure
    ok: bool
    detail: str


class SourceCounts(Shape):
    files: int
    records: int
    dropped: int
    rejected: int
    expected_rows: int


class VerifyOutput(Shape):
    table: str
    ok: bool
    source: SourceCounts
    checks: list[Check]


class RunOutput(Shape):
    crawl: Crawl
    job_run: JobRun
    verify: VerifyOutput


class LogEvent(Shape):
    timestamp: datetime
    group: str
    stream: str
    message: str
    event_id: str


class LogsOutput(RootModel[list[LogEvent]]):
    """Without --follow: one array. With --follow: one LogEvent object per line."""


# -- the spec and the demo -------------------------------------------------------------------


class DataSummary(Shape):
    files: int
    prefix: str


class TableSummary(Shape):
    schema_: str = Field(alias="schema")
    name: str
    columns: int


class LoadSummary(Shape):
    mode: str
    keys: list[str]


class WarehouseSummary(Shape):
    type: Literal["provisioned", "serverless"]
    database: str
    nodes: int | None
    node_type: str | None
    base_rpu: int | None


class GlueSummary(Shape):
    version: str
    workers: int
    worker_type: str


class Column(Shape):
    name: str
    type: str
    source: str | None
    nullable: bool
    clean: list[str]


class ValidateOutput(Shape):
    valid: Literal[True]
    pipeline: str
    region: str | None = Field(description="null: from the environment.")
    data: DataSummary
    table: TableSummary
    load: LoadSummary
    warehouse: WarehouseSummary
    glue: GlueSummary
    columns: list[Column]


class InitOutput(Shape):
    written: str


class DemoOutput(Shape):
    up: UpOutput
    run: RunOutput | None = Field(None, description="null with --unattended (push runs it).")
    push: Any = Field(None, description="With --unattended: push --wait's JSON.")
    alert: str | None = Field(
        None, description="With --unattended: the alert a file with a bad value set off."
    )
    first_rows: list[dict[str, Any]]
    down: DownOutput | None = Field(description="null with --keep.")


class ServeOutput(Shape):
    endpoint: str
    warehouse_dsn: str
    region: str


SHAPES: dict[str, type[BaseModel]] = {
    "validate": ValidateOutput,
    "init": InitOutput,
    "plan": PlanOutput,
    "up": UpOutput,
    "status": StatusOutput,
    "down": DownOutput,
    "run-crawler": RunCrawlerOutput,
    "start-job": JobRun,
    "run": RunOutput,
    "logs": LogsOutput,
    "verify": VerifyOutput,
    "demo": DemoOutput,
    "sandbox serve": ServeOutput,
}
"""Each command's `--output json` shape. `schema` prints JSON Schemas, `iam-policy` IAM policy
documents (AWS's own format) and `completion` a shell script, whatever --output says."""


def render(command: str, data: Any) -> Any:
    """`data` checked against the command's shape, as JSON-ready values (raises if it does not
    fit: a bug here, never the user's)."""
    return SHAPES[command].model_validate(data).model_dump(mode="json", by_alias=True)


def json_schema(command: str) -> dict[str, Any]:
    shape = SHAPES[command]
    schema = shape.model_json_schema(by_alias=True, mode="serialization")
    schema.setdefault("title", shape.__name__)
    schema["$comment"] = f"`wcpipe {command} --output json`"
    return schema


def snake(key: str) -> str:
    """A human fact name as a JSON key: `last crawl` -> `last_crawl`, `base RPU` -> `base_rpu`."""
    import re

    return re.sub(r"[^a-z0-9]+", "_", key.lower()).strip("_") or "value"
