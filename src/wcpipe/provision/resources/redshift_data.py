"""The target table, created and evolved through the Redshift Data API.

Contract:
- `describe` first asks whether the warehouse (cluster or Serverless workgroup) exists, is
  available and is ours: from the state and ownership the warehouse published when the engine
  described it in this run, else with one read call; if not, the table counts as absent (it
  lives and dies with the warehouse, and one that is not ours is for `plan` to mark and `up` to
  stop at, not to read with credentials it does not take). Otherwise it reads the table's
  columns from `information_schema.columns`.
- `create` runs `CREATE SCHEMA IF NOT EXISTS` and `sql.create_table(spec)`; both are idempotent.
- `differences` compares the spec's columns with the table's, by name and normalized type
  ("columns: +name", "column name: varchar(64) -> varchar(128)"). Columns the table has and the
  spec does not are left alone, and so is nullability.
- `update` only makes safe changes: it adds missing columns and widens varchar columns. Any other
  type change raises before anything is altered: converting data is a migration for a person.
- Each table it creates carries this pipeline's comment (`sql.owner_marker`); one made before
  that is marked by `update` (`comment: None -> ...`). `left_behind` names the pipeline's other
  marked tables (the spec renamed its table): kept, since they hold loaded rows.
- `delete` does nothing: the table goes with the warehouse, after which `describe` finds it absent.
"""

from __future__ import annotations

import re
from typing import Any

from wcpipe.provision.resources.base import (
    Context,
    Difference,
    Differences,
    Observed,
    Resource,
    refuse_blocked,
    warehouse_key,
)
from wcpipe.provision.resources.redshift import Cluster
from wcpipe.provision.resources.redshift_serverless import Workgroup
from wcpipe.spec.model import Column, type_family
from wcpipe.warehouse import dataapi as warehouse
from wcpipe.warehouse import sql

_INFO_SCHEMA_TYPES = {
    "smallint": "smallint",
    "integer": "integer",
    "bigint": "bigint",
    "real": "real",
    "double precision": "double precision",
    "boolean": "boolean",
    "date": "date",
    "timestamp without time zone": "timestamp",
    "timestamp with time zone": "timestamptz",
}
VARCHAR_MAX = 65535


def canonical_type(sql_type: str) -> str:
    """A spec type in one spelling per type: `int4` -> `integer`, `numeric(9)` -> `decimal(9,0)`,
    `character varying(max)` -> `varchar(65535)`."""
    t = " ".join(sql_type.lower().split())
    family = type_family(t)
    found = re.search(r"\(([^)]*)\)", t)
    args = [a.strip() for a in found.group(1).split(",")] if found else []
    if family == "decimal":
        return f"decimal({args[0]},{args[1] if len(args) > 1 else 0})"
    if family == "varchar":
        return f"varchar({VARCHAR_MAX if args[0] == 'max' else int(args[0])})"
    if family == "char":
        return f"char({int(args[0])})"
    if family == "double":
        return "double precision"
    if family == "timestamp":
        zoned = t == "timestamptz" or (t.endswith("with time zone") and "without" not in t)
        return "timestamptz" if zoned else "timestamp"
    return family


def observed_type(row: dict[str, Any]) -> str:
    """The canonical type of an `information_schema.columns` row."""
    data_type = str(row.get("data_type", "")).lower()
    if data_type == "character varying":
        return f"varchar({int(row['character_maximum_length'])})"
    if data_type in ("character", "char"):
        return f"char({int(row['character_maximum_length'])})"
    if data_type in ("numeric", "decimal"):
        return f"decimal({int(row['numeric_precision'])},{int(row.get('numeric_scale') or 0)})"
    return _INFO_SCHEMA_TYPES.get(data_type, data_type)


def _varchar_length(canonical: str) -> int | None:
    found = re.fullmatch(r"varchar\((\d+)\)", canonical)
    return int(found.group(1)) if found else None


class TargetTable(Resource):
    key = "redshift-data.table"
    kind = "Redshift table"
    taggable = False
    depends_on = (
        "redshift.cluster",
        "redshift-serverless.workgroup",
        "secretsmanager.admin-secret",
    )

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self._owned: list[str] | None = None

    @property
    def name(self) -> str:
        return f"{self.ctx.spec.table.schema_}.{self.ctx.spec.table.name}"

    def _warehouse_available(self) -> bool:
        """Whether the warehouse exists, is available and is ours (a warehouse that is not ours
        holds no table of ours, and we hold no credentials to read it with)."""
        if self.ctx.known_absent(warehouse_key(self.ctx)):
            return False
        status = self.ctx.output_or(warehouse_key(self.ctx), "status")
        owned = self.ctx.output_or(warehouse_key(self.ctx), "owned")
        if status is None:
            found: Cluster | Workgroup = (
                Workgroup(self.ctx)
                if self.ctx.spec.warehouse.type == "serverless"
                else Cluster(self.ctx)
            )
            observed = found.describe()
            if observed is None:
                return False
            status, owned = found.outputs(observed)["status"], found.owned(observed)
        return bool(owned) and str(status).lower() == "available"

    def describe(self) -> Observed | None:
        self._owned = None  # asked afresh on each describe; left_behind reuses this answer
        if not self._warehouse_available():
            return None
        table = self.ctx.spec.table
        rows = warehouse.query(
            self.ctx,
            sql.table_columns_query(),
            {"schema": table.schema_, "table": table.name},
            what=f"reading the columns of {self.name}",
        )
        if not rows:
            return None
        columns = [
            {
                "name": r["column_name"],
                "type": observed_type(r),
                "nullable": str(r.get("is_nullable", "YES")).upper() == "YES",
            }
            for r in rows
        ]
        return Observed({"columns": columns, "marked": self.name in self._owned_tables()})

    def _owned_tables(self) -> list[str]:
        """`schema.table` of each table carrying this pipeline's comment (one query per run of
        describe and left_behind: the answer is kept on the instance)."""
        if self._owned is None:
            rows = warehouse.query(
                self.ctx,
                sql.owned_tables_query(),
                {"marker": sql.owner_marker(self.ctx.spec)},
                what="finding this pipeline's tables",
            )
            self._owned = [f"{r['table_schema']}.{r['table_name']}" for r in rows]
        return self._owned

    def left_behind(self) -> list[str]:
        """This pipeline's tables (by their comment, `sql.owner_marker`) other than the spec's:
        a table the spec renamed away. Kept: it holds loaded rows people may query."""
        if not self._warehouse_available():
            return []
        return [
            f"Redshift table {name} is kept: the spec's table is now {self.name}, and {name} "
            f"holds rows loaded before; drop it with `DROP TABLE {name}` when nothing reads it"
            for name in self._owned_tables()
            if name != self.name
        ]

    def _changes(self, observed: Observed) -> tuple[list[Column], list[tuple[Column, str, str]]]:
        """Spec columns the table lacks, and (column, table type, spec type) where types differ."""
        have = {c["name"]: c["type"] for c in observed.data["columns"]}
        missing, changed = [], []
        for column in self.ctx.spec.table.columns:
            want = canonical_type(column.type)
            if column.name not in have:
                missing.append(column)
            elif have[column.name] != want:
                changed.append((column, have[column.name], want))
        return missing, changed

    def differences(self, observed: Observed) -> list[Difference]:
        missing, changed = self._changes(observed)
        out = []
        if observed.data.get("marked") is False:  # made before tables carried the marker
            out.append(Difference("comment", None, sql.owner_marker(self.ctx.spec)))
        out += [Difference(f"column {c.name}", None, canonical_type(c.type)) for c in missing]
        for column, old, new in changed:
            old_len, new_len = _varchar_length(old), _varchar_length(new)
            if old_len is not None and new_len is not None and new_len > old_len:
                out.append(Difference(f"column {column.name}", old, new))
            else:
                out.append(
                    Difference(
                        f"column {column.name}",
                        old,
                        new,
                        "blocked",
                        "wcpipe only adds columns and widens VARCHAR in place; migrate by hand: "
                        "add a new column, copy and convert, drop the old one and rename it",
                    )
                )
        return out

    def create(self) -> Observed | None:
        warehouse.execute(self.ctx, sql.create_schema(self.ctx.spec), what="creating the schema")
        warehouse.execute(self.ctx, sql.create_table(self.ctx.spec), what=f"creating {self.name}")
        warehouse.execute(self.ctx, sql.mark_table(self.ctx.spec), what=f"marking {self.name}")
        columns = [
            {"name": c.name, "type": canonical_type(c.type), "nullable": c.nullable}
            for c in self.ctx.spec.table.columns
        ]
        return Observed({"columns": columns})

    def update(self, observed: Observed, fields: Differences) -> None:
        refuse_blocked(self, fields)
        if "comment" in fields:
            warehouse.execute(self.ctx, sql.mark_table(self.ctx.spec), what=f"marking {self.name}")
        missing, changed = self._changes(observed)
        widen = [column for column, _old, _new in changed if f"column {column.name}" in fields]
        table = self.ctx.spec.table
        for column in missing:
            if f"column {column.name}" not in fields:
                continue
            if not column.nullable and self._has_rows():
                # Existing rows have no value for the new column, so NOT NULL would fail (or need
                # a made-up default). Add it nullable; loads fill it from now on.
                column = column.model_copy(update={"nullable": True})
            warehouse.execute(
                self.ctx, sql.add_column(self.ctx.spec, column), what=f"adding {column.name}"
            )
        for column in widen:
            # Redshift runs ALTER COLUMN TYPE only outside a transaction: one statement each.
            warehouse.execute(
                self.ctx,
                f"ALTER TABLE {sql.qualified(table)} ALTER COLUMN {sql.ident(column.name)} "
                f"TYPE {column.type}",
                what=f"widening {column.name}",
            )

    def _has_rows(self) -> bool:
        rows = warehouse.query(
            self.ctx,
            f"SELECT 1 AS one FROM {sql.qualified(self.ctx.spec.table)} LIMIT 1",
            what=f"checking whether {self.name} has rows",
        )
        return bool(rows)

    def delete(self, observed: Observed) -> None:
        """Nothing to do: the table is deleted with its warehouse."""

    def outputs(self, observed: Observed) -> dict[str, Any]:
        return {"table": self.name, "columns": [c["name"] for c in observed.data["columns"]]}

    def facts(self, observed: Observed) -> dict[str, str]:
        return {"columns": str(len(observed.data["columns"]))}
