"""SQL text built from the spec. Identifiers come only from validated spec fields (which match
`spec.SQL_IDENTIFIER`) and are quoted anyway; values are never pasted in: they go as parameters.

Redshift and PostgreSQL (the sandbox's stand-in) both accept everything here, except the
`SORTKEY` of `create_table` (Redshift's; the sandbox turns it into an index:
`wcpipe.sandbox.warehouse_pg.to_pg_statements`).
"""

from __future__ import annotations

import re

from wcpipe.spec.model import SQL_IDENTIFIER, Column, Spec, Table


def ident(name: str) -> str:
    """A quoted identifier; refuses anything the spec would not have accepted."""
    if not re.fullmatch(SQL_IDENTIFIER, name):
        raise ValueError(f"unsafe SQL identifier {name!r}")
    return f'"{name}"'


def qualified(table: Table, name: str | None = None) -> str:
    return f"{ident(table.schema_)}.{ident(name or table.name)}"


def column_ddl(column: Column) -> str:
    return f"{ident(column.name)} {column.type}{'' if column.nullable else ' NOT NULL'}"


def create_table(spec: Spec) -> str:
    """`CREATE TABLE IF NOT EXISTS` for the target table. In merge mode the table is sorted on
    the merge keys (`SORTKEY`): each load's `DELETE ... USING staging` then reads only the
    blocks whose zone maps can hold the new keys, instead of the whole table."""
    cols = ",\n  ".join(column_ddl(c) for c in spec.table.columns)
    ddl = f"CREATE TABLE IF NOT EXISTS {qualified(spec.table)} (\n  {cols}\n)"
    if spec.load.mode == "merge" and spec.load.keys:
        ddl += f" SORTKEY ({', '.join(ident(k) for k in spec.load.keys)})"
    return ddl


def owner_marker(spec: Spec) -> str:
    """The comment that marks a table as this pipeline's, so one the spec renamed away is still
    found (COMMENT ON TABLE, Amazon Redshift Database Developer Guide, r_COMMENT)."""
    return f"wcpipe pipeline {spec.name}"


def mark_table(spec: Spec) -> str:
    # The pipeline name is letters, digits and hyphens (the spec checks it): safe in a literal.
    return f"COMMENT ON TABLE {qualified(spec.table)} IS '{owner_marker(spec)}'"


def owned_tables_query() -> str:
    """Tables whose comment is :marker, as (schema, name). pg_description holds what COMMENT
    sets (obj_description reads it there), in PostgreSQL and in Redshift's catalog alike."""
    return (
        "SELECT n.nspname AS table_schema, c.relname AS table_name "
        "FROM pg_catalog.pg_class c "
        "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
        "JOIN pg_catalog.pg_description d ON d.objoid = c.oid AND d.objsubid = 0 "
        "WHERE c.relkind = 'r' AND d.description = :marker ORDER BY 1, 2"
    )


def create_schema(spec: Spec) -> str:
    return f"CREATE SCHEMA IF NOT EXISTS {ident(spec.table.schema_)}"


def add_column(spec: Spec, column: Column) -> str:
    return f"ALTER TABLE {qualified(spec.table)} ADD COLUMN {column_ddl(column)}"


def table_columns_query() -> str:
    """Columns of a table, by parameters :schema and :table (information_schema works on both)."""
    return (
        "SELECT column_name, data_type, character_maximum_length, numeric_precision, "
        "numeric_scale, is_nullable FROM information_schema.columns "
        "WHERE table_schema = :schema AND table_name = :table ORDER BY ordinal_position"
    )
