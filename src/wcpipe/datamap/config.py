"""The job's configuration as the code shipped to Glue reads it: `JobConfig` (parsed from the
`--wcpipe_config` JSON that `wcpipe.spec.job.job_config` writes) and its `ColumnConfig`s.
Standard library only (ships in `wcpipe_lib.zip`); `transform` and `convert` both build on it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from wcpipe.datamap.values import RULES, SqlType


@dataclass(frozen=True)
class ColumnConfig:
    name: str
    type: str
    source: str
    nullable: bool = True
    clean: tuple[str, ...] = ()
    sql: SqlType = field(init=False, compare=False)

    def __post_init__(self) -> None:
        unknown = [r for r in self.clean if r not in RULES]
        if unknown:
            raise ValueError(f"column {self.name!r}: unknown cleaning rule(s) {unknown}")
        object.__setattr__(self, "sql", SqlType.parse(self.type))

    @property
    def family(self) -> str:
        return self.sql.family


@dataclass(frozen=True)
class JobConfig:
    """What the load needs, parsed from `job_config(spec, names)`'s JSON (see `from_json`)."""

    source_database: str
    source_table: str
    drop_rows: tuple[tuple[str, frozenset[str]], ...]  # (source column, raw values)
    target_schema: str
    target_table: str
    target_database: str
    connection: str
    columns: tuple[ColumnConfig, ...]
    load_mode: str
    load_keys: tuple[str, ...]
    csv: Mapping[str, Any]  # header, delimiter, quote, encoding (csvio.Dialect.from_config)
    # The role Redshift assumes for COPY from the TempDir (the connector's `aws_iam_role`);
    # empty: the connector would pass the job role's one-hour session credentials instead.
    iam_role: str = ""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> JobConfig:
        src, tgt, load = data["source"], data["target"], data["load"]
        return cls(
            source_database=src["database"],
            source_table=src["table"],
            drop_rows=tuple((d["column"], frozenset(d["values"])) for d in src["drop_rows"]),
            target_schema=tgt["schema"],
            target_table=tgt["table"],
            target_database=tgt["database"],
            connection=tgt["connection"],
            columns=tuple(
                ColumnConfig(
                    **{**c, "source": c.get("source") or c["name"], "clean": tuple(c["clean"])}
                )
                for c in data["columns"]
            ),
            load_mode=load["mode"],
            load_keys=tuple(load.get("keys", ())),
            csv=dict(data.get("csv", {})),
            iam_role=str(tgt.get("iam_role") or ""),
        )

    @classmethod
    def from_json(cls, text: str) -> JobConfig:
        return cls.from_dict(json.loads(text))

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)
