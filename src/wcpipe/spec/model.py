"""The pipeline spec: `config/pipeline.yaml` parsed once into typed, frozen models.

Contract: `load_spec(path)` either returns a `Spec` or raises `SpecError` whose message is one
line naming the YAML path (and line) of the bad field and what was expected. Nothing here talks to
AWS, so a spec that does not validate never causes an AWS request. Everything downstream reads
these models, never raw dicts.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from wcpipe.core.errors import SpecError
from wcpipe.datamap.values import DecimalRangeError, SqlType
from wcpipe.spec import files as data_files
from wcpipe.spec.cron import parse_cron
from wcpipe.spec.names import base_name, cluster_identifier, cluster_identifier_problem

# Redshift folds unquoted identifiers to lower case; we only accept names that need no quoting.
SQL_IDENTIFIER = r"^[a-z_][a-z0-9_]{0,126}$"
PIPELINE_NAME = r"^[a-z][a-z0-9-]{0,22}[a-z0-9]$"
# data.source: s3://bucket/prefix[/]. Bucket names are 3-63 lowercase letters, digits, dots and
# hyphens, beginning and ending with a letter or digit (Amazon S3 User Guide, "General purpose
# bucket naming rules"); the prefix is one or more folder names, as data.prefix allows.
S3_SOURCE = re.compile(
    r"s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(?P<prefix>([A-Za-z0-9_.=-]+/)*[A-Za-z0-9_.=-]+/?)"
)
RESERVED_WORDS = frozenset(
    """
    all and any as asc between by case cast check column constraint create default delete desc
    distinct do drop else end except false for foreign from grant group having in insert
    intersect into is join leading left like limit not null offset on or order primary
    references right select session_user table then to trailing true union unique user using
    when where with
    """.split()
)

# The Glue versions a spec may name, and the Python each runs Spark jobs on (AWS Glue Developer
# Guide, "AWS Glue versions", https://docs.aws.amazon.com/glue/latest/dg/release-notes.html; 6.0:
# "Migrating AWS Glue for Spark jobs to AWS Glue version 6.0", migrating-version-60.html). The
# code shipped to Glue (`wcpipe.datamap`) is run on each of these Pythons by
# tests/test_glue_python.py. Glue 3.0 runs Python 3.7, which that code does not support.
GLUE_PYTHON: dict[str, str] = {"4.0": "3.10", "5.0": "3.11", "5.1": "3.11", "6.0": "3.13"}
DEFAULT_GLUE_VERSION = "5.1"
# botocore's CreateJob WorkerType documentation: "G.025X ... is only available for Glue version
# 3.0 or later streaming jobs"; wcpipe's job is a batch (glueetl) job.
STREAMING_ONLY_WORKERS = frozenset({"G.025X"})
# DPUs per worker, for DPU-seconds: AWS Glue developer guide, "AWS Glue worker types"
# (worker-types.html; R types count M-DPUs) and CreateJob's WorkerType (G.025X: 0.25 DPU;
# Z.2X: 2 DPU, ML transforms).
DPU_PER_WORKER: dict[str, float] = {
    "G.025X": 0.25,
    "G.1X": 1.0,
    "G.2X": 2.0,
    "G.4X": 4.0,
    "G.8X": 8.0,
    "G.12X": 12.0,
    "G.16X": 16.0,
    "R.1X": 1.0,
    "R.2X": 2.0,
    "R.4X": 4.0,
    "R.8X": 8.0,
    "Z.2X": 2.0,
}
# CreateCluster's NumberOfNodes: "Value must be at least 1 and no more than 100" (Amazon Redshift
# API Reference, CreateCluster; botocore's redshift service model).
MAX_NODES = 100
# (fewest, most) nodes CreateCluster accepts per node type: the Amazon Redshift Management Guide,
# "Node type details" (working-with-clusters.html#rs-node-type-info; awsdocs/amazon-redshift-
# management-guide, doc_source/working-with-clusters.md): ra3.xlplus single-node 1 or
# multi-node 2-16 "with create cluster" (32 only by a later elastic resize), ra3.4xlarge 2-32
# (64 by elastic resize), ra3.16xlarge 2-128, dc2.large 1-32, dc2.8xlarge 2-128; MAX_NODES caps
# them all. Other node types get 1-MAX_NODES: ra3.large was not in that table when this was
# checked, so its own range is not enforced here.
NODE_RANGE: dict[str, tuple[int, int]] = {
    "ra3.xlplus": (1, 16),
    "ra3.4xlarge": (2, 32),
    "ra3.16xlarge": (2, 128),
    "dc2.large": (1, 32),
    "dc2.8xlarge": (2, 128),
}

# `trigger`: what starts the pipeline besides a schedule (spec/cron.py reads a cron(...)).
# `arrival_settle_seconds`: the Lambda waits the settle time out inside one invocation
# (lambda/handler.py), so it is bounded by the function's timeout, at most 900 s ("you can
# adjust this in increments of 1 second up to a maximum value of 900 seconds", AWS Lambda
# Developer Guide, "Configure Lambda function timeout"), less a margin for its listing and start.
ARRIVAL_SETTLE_DEFAULT = 10
ARRIVAL_SETTLE_MARGIN = 10
ARRIVAL_SETTLE_MAX = 900 - ARRIVAL_SETTLE_MARGIN
TRIGGERS = ("manual", "on-arrival")

CleaningRule = Literal[
    "trim",  # strip leading/trailing whitespace (after normalize_space, if both)
    "normalize_space",  # non-breaking and other Unicode spaces become one ASCII space
    "strip_footnotes",  # drop footnote marks such as "[86]" or "[a]"
    "thousands",  # drop thousands separators: "173,850" -> "173850"
    "empty_as_null",  # an empty value is NULL (default for non-text types)
]


def type_family(sql_type: str) -> str:
    """The family ('integer', 'varchar', ...) of a Redshift column type, or raise ValueError."""
    try:
        return SqlType.parse(sql_type).family
    except DecimalRangeError:
        raise
    except ValueError:
        raise ValueError(
            f"{sql_type!r} is not a supported Redshift type (smallint, integer, bigint, "
            "decimal(p,s), real, double precision, boolean, date, timestamp, varchar(n), char(n))"
        ) from None


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class CsvDialect(_Model):
    header: bool = Field(True, description="The first line of every file names the columns.")
    delimiter: str = Field(",", min_length=1, max_length=1)
    quote: str = Field('"', min_length=1, max_length=1)
    encoding: str = Field("utf-8", description="Python codec name of the files' encoding.")

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, v: str) -> str:
        import codecs

        try:
            codecs.lookup(v)
        except LookupError:
            raise ValueError(f"unknown encoding {v!r}") from None
        return v


class DropRows(_Model):
    """Drop source rows whose `column` holds one of `values` (e.g. a totals row)."""

    column: str
    values: tuple[str, ...] = Field(min_length=1)


class Data(_Model):
    files: tuple[str, ...] = Field(
        (),
        description="Local CSV files to upload under the prefix: paths or glob patterns "
        "(data/*.csv, data/**/*.csv), relative to the spec file. A pattern's matches sort by "
        "path, lexically; a file that does not exist or a pattern that matches nothing fails "
        "validate.",
    )
    bucket: str | None = Field(
        None,
        pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$",
        description="Bucket name; default wcpipe-<name>-<account>-<region>.",
    )
    prefix: str = Field("raw/", pattern=r"^([A-Za-z0-9_.=-]+/)+$")
    csv: CsvDialect = CsvDialect()
    drop_rows: tuple[DropRows, ...] = Field(
        (), description="Source rows that are not data (summary rows) and are never loaded."
    )
    source: str | None = Field(
        None,
        description="Data already in S3, s3://bucket/prefix/: crawled and loaded where it is, "
        "never uploaded to, modified or deleted (the bucket is not the pipeline's); the roles "
        "may read that prefix only. Instead of files (and prefix).",
    )

    @field_validator("source")
    @classmethod
    def _s3_uri(cls, v: str | None) -> str | None:
        if v is None:
            return v
        m = S3_SOURCE.fullmatch(v)
        if not m:
            raise ValueError(
                f"{v!r} is not an S3 folder: expected s3://bucket/prefix/ (a bucket name of 3-63 "
                "lowercase letters, digits, dots and hyphens, and a prefix of folder names)"
            )
        return f"s3://{m['bucket']}/{m['prefix'].rstrip('/')}/"

    @model_validator(mode="after")
    def _source_or_files(self) -> Data:
        if self.source is None:
            return self
        if self.files:
            raise ValueError(
                "give data.source (data already in S3) or data.files (local files to upload), "
                "not both"
            )
        if "prefix" in self.model_fields_set:
            raise ValueError("data.prefix is where data.files upload to; data.source names its own")
        if codecs.lookup(self.csv.encoding).name != "utf-8":
            raise ValueError(
                f"data.source objects are read as they are, and Glue reads CSV as UTF-8 only: "
                f"{self.csv.encoding} objects must be converted to UTF-8 first (or listed under "
                "data.files, which upload as UTF-8)"
            )
        return self

    @property
    def source_bucket(self) -> str | None:
        return None if self.source is None else self.source[5:].split("/", 1)[0]

    @property
    def source_prefix(self) -> str | None:
        return None if self.source is None else self.source[5:].split("/", 1)[1]


class Column(_Model):
    name: str = Field(pattern=SQL_IDENTIFIER, description="Column name in Redshift.")
    type: str = Field(description="Redshift type, e.g. integer, decimal(12,2), varchar(64).")
    source: str | None = Field(
        None,
        description="CSV header of the source column (default: name). An empty header is "
        "col<N> (0-based), as Glue's crawler names it.",
    )
    nullable: bool = True
    clean: tuple[CleaningRule, ...] = ()

    @field_validator("name")
    @classmethod
    def _not_reserved(cls, v: str) -> str:
        if v in RESERVED_WORDS:
            raise ValueError(f"{v!r} is a reserved SQL word; choose another column name")
        return v

    @field_validator("type")
    @classmethod
    def _known_type(cls, v: str) -> str:
        type_family(v)
        return " ".join(v.lower().split())

    @property
    def source_column(self) -> str:
        return self.name if self.source is None else self.source

    @property
    def family(self) -> str:
        return type_family(self.type)


class Table(_Model):
    schema_: str = Field("public", alias="schema", pattern=SQL_IDENTIFIER)
    name: str = Field(pattern=SQL_IDENTIFIER)
    columns: tuple[Column, ...] = Field(min_length=1)

    @field_validator("columns")
    @classmethod
    def _unique(cls, v: tuple[Column, ...]) -> tuple[Column, ...]:
        seen: set[str] = set()
        for c in v:
            if c.name in seen:
                raise ValueError(f"duplicate column {c.name!r}")
            seen.add(c.name)
        return v

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"table {self.name!r} has no column {name!r}")


class Load(_Model):
    mode: Literal["append", "truncate", "merge"] = "append"
    keys: tuple[Annotated[str, Field(pattern=SQL_IDENTIFIER)], ...] = ()

    @model_validator(mode="after")
    def _keys_for_merge(self) -> Load:
        if self.mode == "merge" and not self.keys:
            raise ValueError("mode 'merge' needs 'keys' (the columns that identify a row)")
        if self.mode != "merge" and self.keys:
            raise ValueError(f"'keys' only apply to mode 'merge', not {self.mode!r}")
        return self


class Warehouse(_Model):
    type: Literal["provisioned", "serverless"] = "provisioned"
    database: str = Field("dev", pattern=SQL_IDENTIFIER)
    admin_user: str = Field("awsadmin", pattern=r"^[a-z][a-z0-9_]{0,126}$")
    node_type: str = Field("ra3.large", pattern=r"^(dc2|ra3|ds2)\.[a-z0-9]+$")
    # validate_default: a node type whose clusters need 2 nodes is refused with the default 1.
    nodes: int = Field(1, ge=1, validate_default=True)
    base_rpu: int = Field(8, ge=8, le=1024)
    max_rpu: int | None = Field(None, ge=8, le=1024)
    final_snapshot: bool = Field(
        False, description="Take a final snapshot when `down` deletes the cluster."
    )

    @field_validator("admin_user")
    @classmethod
    def _admin_not_reserved(cls, v: str) -> str:
        if v in RESERVED_WORDS or v in {"rdsdb", "rdsadmin", "public"}:
            raise ValueError(f"{v!r} is reserved by Redshift; choose another admin user")
        return v

    @field_validator("nodes")
    @classmethod
    def _nodes_for_node_type(cls, v: int, info: ValidationInfo) -> int:
        node_type = info.data.get("node_type")  # absent when node_type itself was refused
        if info.data.get("type") == "serverless":
            return v
        low, high = NODE_RANGE.get(node_type or "", (1, MAX_NODES))
        high = min(high, MAX_NODES)
        if not low <= v <= high:
            raise ValueError(
                f"CreateCluster accepts {low} to {high} nodes of {node_type or 'a node type'}, "
                f"not {v}"
            )
        return v

    @model_validator(mode="after")
    def _rpu_range(self) -> Warehouse:
        if self.base_rpu % 8:
            raise ValueError("base_rpu must be a multiple of 8")
        if self.max_rpu is not None and self.max_rpu < self.base_rpu:
            raise ValueError("max_rpu must be at least base_rpu")
        return self


class Network(_Model):
    vpc_id: str | None = Field(None, pattern=r"^vpc-[0-9a-f]{8,17}$")
    subnet_id: str | None = Field(None, pattern=r"^subnet-[0-9a-f]{8,17}$")


class Glue(_Model):
    version: str = Field(
        DEFAULT_GLUE_VERSION,
        description="AWS Glue version of the job (it sets the job's Spark and Python).",
        json_schema_extra={"enum": list(GLUE_PYTHON)},
    )
    worker_type: Literal["G.1X", "G.2X", "G.4X", "G.8X"] = "G.1X"
    workers: int = Field(2, ge=2, le=299)
    timeout_minutes: int = Field(30, ge=1, le=2880)
    bookmarks: bool = True

    @field_validator("version", mode="before")
    @classmethod
    def _accepted_version(cls, v: object) -> object:
        accepted = ", ".join(f"{k} (Python {p})" for k, p in GLUE_PYTHON.items())
        if isinstance(v, int | float) and not isinstance(v, bool):
            raise ValueError(f"write the Glue version as a quoted string, one of {accepted}")
        if isinstance(v, str) and v not in GLUE_PYTHON:
            raise ValueError(f"Glue version {v!r} is not supported; use one of {accepted}")
        return v

    @field_validator("worker_type", mode="before")
    @classmethod
    def _batch_worker(cls, v: object) -> object:
        if v in STREAMING_ONLY_WORKERS:
            raise ValueError(
                f"{v} workers are only for Glue streaming jobs and wcpipe's job is a batch "
                "(glueetl) job: use G.1X, G.2X, G.4X or G.8X"
            )
        return v


class Lambda(_Model):
    runtime: Literal["python3.11", "python3.12", "python3.13"] = "python3.12"
    memory_mb: int = Field(128, ge=128, le=10240)
    timeout_seconds: int = Field(30, ge=1, le=900)


class Logs(_Model):
    retention_days: Literal[1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731] = 14


# An address SNS's email protocol can deliver to: one "@", a domain with a dot, no spaces
# (Amazon SNS Developer Guide, "Email notifications": the endpoint is an email address). A
# deliberately plain check: what SNS cannot deliver to, it never confirms.
EMAIL_ADDRESS = r"^[^@\s,;<>()]+@[^@\s,;<>()]+\.[^@\s,;<>().]+$"
# How long an arrival may wait for a successful load before the no-load alarm fires, in
# minutes: CloudWatch alarm periods are multiples of 60 seconds and EvaluationPeriods x Period
# may not exceed one day (Amazon CloudWatch User Guide, "Using Amazon CloudWatch alarms":
# "the evaluation range ... cannot be more than one day").
NO_LOAD_MINUTES_MAX = 1440


class Alerts(_Model):
    """Who hears when the pipeline fails, and how long an arrival may wait for its load."""

    email: tuple[Annotated[str, Field(pattern=EMAIL_ADDRESS, max_length=254)], ...] = Field(
        min_length=1,
        description="Addresses subscribed to the pipeline's alert topic (each must confirm "
        "the subscription SNS mails it).",
    )
    no_load_within_minutes: int = Field(
        60,
        ge=1,
        le=NO_LOAD_MINUTES_MAX,
        description="Alert when data arrived and no load succeeded within this many minutes.",
    )

    @field_validator("email")
    @classmethod
    def _unique_addresses(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        seen: set[str] = set()
        for address in v:
            if address.lower() in seen:
                raise ValueError(f"address {address!r} is listed twice")
            seen.add(address.lower())
        return v


class Spec(_Model):
    name: str = Field(
        description="Pipeline name: the prefix of every physical name and the ownership tag.",
        json_schema_extra={"pattern": PIPELINE_NAME},
    )
    region: str | None = Field(None, pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")
    profile: str | None = None
    endpoint_url: str | None = Field(None, pattern=r"^https?://")
    data: Data = Data()
    table: Table
    load: Load = Load()
    warehouse: Warehouse = Warehouse()
    network: Network = Network()
    glue: Glue = Glue()
    lambda_: Lambda = Field(Lambda(), alias="lambda")
    logs: Logs = Logs()
    alerts: Alerts | None = Field(None, description="Alerts by email (optional).")
    trigger: str = Field(
        "manual",
        description="What starts the pipeline: `manual` (a person runs `wcpipe run`), "
        "`on-arrival` (an object created under data.prefix starts the S3 crawler, through the "
        "bucket's EventBridge notifications) or a schedule `cron(Minutes Hours Day-of-month "
        "Month Day-of-week Year)` in UTC (the S3 crawler's Glue schedule).",
        json_schema_extra={"examples": ["manual", "on-arrival", "cron(0 6 * * ? *)"]},
    )
    arrival_settle_seconds: int = Field(
        ARRIVAL_SETTLE_DEFAULT,
        ge=0,
        le=ARRIVAL_SETTLE_MAX,
        description="trigger on-arrival: the crawl starts once no newer object has arrived "
        "under the prefix for this many seconds (a burst uploaded one by one costs one crawl); "
        "the Lambda waits it out, so it must fit in lambda.timeout_seconds with "
        f"{ARRIVAL_SETTLE_MARGIN} s to spare. 0 starts the crawl on the first arrival.",
    )
    tags: dict[Annotated[str, Field(min_length=1, max_length=128)], str] = {}

    @field_validator("name")
    @classmethod
    def _pipeline_name(cls, v: str) -> str:
        if not re.fullmatch(PIPELINE_NAME, v):
            raise ValueError(
                f"{v!r} is not a valid pipeline name: use 2-24 lowercase letters, digits and "
                "hyphens, starting with a letter (it prefixes bucket and resource names)"
            )
        cluster = cluster_identifier(v)
        problem = cluster_identifier_problem(cluster)
        if problem:
            raise ValueError(
                f"{v!r} would name the Redshift cluster {cluster!r}, which CreateCluster "
                f"refuses: {problem}"
            )
        return v

    @field_validator("trigger")
    @classmethod
    def _known_trigger(cls, v: str) -> str:
        if v in TRIGGERS:
            return v
        if v.startswith("cron("):
            parse_cron(v)  # ValueError: what is wrong with it
            return v
        raise ValueError(f"{v!r} is not a trigger: use manual, on-arrival or cron(...)")

    @property
    def on_arrival(self) -> bool:
        """Objects created under the prefix start the pipeline."""
        return self.trigger == "on-arrival"

    @property
    def schedule(self) -> str | None:
        """The S3 crawler's schedule expression, or None when no schedule starts it."""
        return self.trigger if self.trigger.startswith("cron(") else None

    @model_validator(mode="after")
    def _cross_checks(self) -> Spec:
        names = {c.name for c in self.table.columns}
        for key in self.load.keys:
            if key not in names:
                raise ValueError(f"merge key {key!r} is not a column of table {self.table.name!r}")
        sources = [c.source_column for c in self.table.columns]
        for drop in self.data.drop_rows:
            if drop.column not in sources:
                raise ValueError(f"drop_rows column {drop.column!r} is not a source column")
        if self.load.mode == "truncate" and self.glue.bookmarks:
            raise ValueError(
                "load mode 'truncate' replaces the table with what one run reads, but job "
                "bookmarks make a run read only new files: set glue.bookmarks: false"
            )
        for key in self.tags:
            if key.lower().startswith("aws:") or key.startswith("wcpipe:"):
                raise ValueError(f"tag key {key!r} is reserved")
        if self.on_arrival and self.data.source is not None:
            # Arrival events come from the bucket's own EventBridge setting, and data.source's
            # bucket is not ours to change: nothing would ever arrive.
            raise ValueError(
                "trigger 'on-arrival' needs the data in the pipeline's own bucket; with "
                "data.source use trigger: manual or cron(...)"
            )
        self._arrival_settle_fits()
        source = self.data.source_bucket
        if source is not None and (
            source == self.data.bucket or source.startswith(f"{base_name(self.name)}-")
        ):
            raise ValueError(
                f"data.source names the pipeline's own bucket {source!r}, which `down` deletes: "
                "data.source is for a bucket that is not the pipeline's"
            )
        return self

    def _arrival_settle_fits(self) -> None:
        """The settle time is waited out inside the Lambda's invocation: it must fit."""
        # A set value other than the default: a spec dumped and read back (every field set)
        # still validates; a settle time written for a manual trigger is refused.
        changed = self.arrival_settle_seconds != ARRIVAL_SETTLE_DEFAULT
        if "arrival_settle_seconds" in self.model_fields_set and changed and not self.on_arrival:
            raise ValueError("arrival_settle_seconds applies only to trigger: on-arrival")
        timeout = self.lambda_.timeout_seconds
        if self.on_arrival and self.arrival_settle_seconds + ARRIVAL_SETTLE_MARGIN > timeout:
            raise ValueError(
                f"arrival_settle_seconds {self.arrival_settle_seconds} does not fit in "
                f"lambda.timeout_seconds {timeout}: the Lambda waits it out, so the timeout "
                f"must be at least {ARRIVAL_SETTLE_MARGIN} s more"
            )

    # Where the spec file lives: relative data paths resolve against it.
    _base_dir: Path = PrivateAttr(default_factory=lambda: Path("."))
    # The spec file's name and the line of each data.files entry, for errors found after parsing.
    _source: str = PrivateAttr(default="<spec>")
    _file_lines: tuple[int | None, ...] = PrivateAttr(default=())

    @property
    def base_dir(self) -> Path:
        return self._base_dir

    def data_paths(self) -> list[Path]:
        """The local files `data.files` names, patterns expanded (`spec.files.resolve`)."""
        return data_files.resolve(self._base_dir, self.data.files)

    def check_data_files(self) -> list[Path]:
        """`data_paths()`, or SpecError naming the spec file, line and entry that is missing,
        matches nothing or clashes (`spec.files.check`), or the file and byte offset that does
        not decode in `data.csv.encoding` (`spec.files.check_decodes`)."""

        def where(i: int) -> str:
            line = self._file_lines[i] if i < len(self._file_lines) else None
            return f"{self._source}:{line}" if line else self._source

        paths = data_files.check(self._base_dir, self.data.files, where)
        data_files.check_decodes(paths, self.data.csv.encoding)
        return paths


# ---------------------------------------------------------------------------------------------
# Loading, with errors that name the YAML path and line.


class _LineLoader(yaml.SafeLoader):
    """A SafeLoader that remembers the line of every mapping key and sequence item."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    mapping: dict[str, Any] = {}
    lines: dict[str, int] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str | int | float | bool) and key is not None:
            raise yaml.constructor.ConstructorError(
                None, None, "mapping keys must be strings", key_node.start_mark
            )
        if key in mapping:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        mapping[str(key)] = loader.construct_object(value_node, deep=True)
        lines[str(key)] = key_node.start_mark.line + 1
    return _Lined(mapping, lines, node.start_mark.line + 1)


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> list[Any]:
    items = [loader.construct_object(n, deep=True) for n in node.value]
    return _LinedList(items, [n.start_mark.line + 1 for n in node.value])


class _Lined(dict[str, Any]):
    def __init__(self, data: dict[str, Any], lines: dict[str, int], line: int) -> None:
        super().__init__(data)
        self.lines = lines
        self.line = line


class _LinedList(list[Any]):
    def __init__(self, data: list[Any], lines: list[int]) -> None:
        super().__init__(data)
        self.lines = lines


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def _line_of(doc: Any, loc: tuple[int | str, ...]) -> int | None:
    line: int | None = getattr(doc, "line", None)
    node = doc
    for part in loc:
        if isinstance(node, _Lined) and isinstance(part, str) and part in node:
            line = node.lines.get(part, line)
            node = node[part]
        elif isinstance(node, _LinedList) and isinstance(part, int) and part < len(node):
            line = node.lines[part]
            node = node[part]
        else:
            break
    return line


def _dotted(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _explain(err: Any) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required field is missing"
    msg = str(err["msg"])
    return msg.removeprefix("Value error, ")


def parse_spec(text: str, *, source: str = "<spec>", base_dir: Path | None = None) -> Spec:
    """Parse YAML text into a Spec, or raise SpecError naming the path and line."""
    try:
        doc = yaml.load(text, Loader=_LineLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{source}:{mark.line + 1}" if mark else source
        raise SpecError(f"{where}: invalid YAML: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise SpecError(f"{source}: invalid YAML: {exc}") from None
    if not isinstance(doc, dict):
        raise SpecError(f"{source}: expected a mapping at the top level with at least 'name'")
    try:
        spec = Spec.model_validate(doc)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(
            p for p in first["loc"] if not (isinstance(p, str) and p.startswith("function-"))
        )
        line = _line_of(doc, loc)
        where = f"{source}:{line}" if line else source
        # Pydantic reports aliases in loc; show them as the user wrote them.
        extra = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise SpecError(f"{where}: {_dotted(loc)}: {_explain(first)}{extra}") from None
    spec._base_dir = base_dir or Path(".")
    spec._source = source
    entries = len(spec.data.files)
    spec._file_lines = tuple(_line_of(doc, ("data", "files", i)) for i in range(entries))
    return spec


def load_spec(path: str | Path) -> Spec:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(f"{p}: spec file not found (use -c/--config to name it)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"{p}: cannot read spec: {exc}") from None
    return parse_spec(text, source=str(p), base_dir=p.resolve().parent)


def json_schema() -> dict[str, Any]:
    return Spec.model_json_schema(by_alias=True)
