"""SQL for the load modes, the same text for Redshift and PostgreSQL (the sandbox's stand-in).

Contract:
- Standard library only (ships to AWS Glue in `wcpipe_lib.zip`).
- Identifiers are validated against `^[a-z_][a-z0-9_]{0,126}$` (the spec's rule, re-implemented
  here without pydantic) and quoted; no value is ever pasted into SQL.
- Every statement is one line: Glue's Redshift writer refuses newlines in pre/postactions.
- A load is: fill a staging table shaped `LIKE` the target, then run `load_statements` in ONE
  transaction:
    append   -> INSERT INTO target SELECT cols FROM staging
    truncate -> DELETE FROM target, then INSERT (not TRUNCATE: Redshift's TRUNCATE commits
                implicitly, which would expose an empty table if the INSERT then failed)
    merge    -> DELETE FROM target USING staging WHERE every key matches, then INSERT
  and finally DROP the staging table. Merge keys are NOT NULL by convention, so plain `=` is
  enough (a NULL key would never match, and its row would be inserted again on every run). Merge
  assumes the keys are unique within one load; duplicates in the source stay duplicates.
"""

from __future__ import annotations

import hashlib
import re

from wcpipe.datamap.config import JobConfig

IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,126}")
_MAX_IDENTIFIER = 127


def ident(name: str) -> str:
    """A quoted identifier; refuses anything the spec would not have accepted."""
    if not IDENTIFIER.fullmatch(name):
        raise ValueError(f"unsafe SQL identifier {name!r}")
    return f'"{name}"'


def _table(config: JobConfig, name: str) -> str:
    return f"{ident(config.target_schema)}.{ident(name)}"


def target(config: JobConfig) -> str:
    return _table(config, config.target_table)


def staging_table(config: JobConfig, run_id: str) -> str:
    """The staging table's (unquoted) name for one run: `<target>_stg_<run id>`, sanitized; a
    name that would pass Redshift's 127-byte limit ends in a hash of the run id instead."""
    rid = re.sub(r"[^a-z0-9_]", "_", run_id.lower()) or "run"
    name = f"{config.target_table}_stg_{rid}"
    if len(name) > _MAX_IDENTIFIER:
        digest = hashlib.sha256(run_id.encode()).hexdigest()[:16]
        name = f"{config.target_table[: _MAX_IDENTIFIER - 21]}_stg_{digest}"
    ident(name)
    return name


def create_staging(config: JobConfig, staging: str) -> str:
    return f"CREATE TABLE {_table(config, staging)} (LIKE {target(config)})"


def drop_staging(config: JobConfig, staging: str) -> str:
    return f"DROP TABLE IF EXISTS {_table(config, staging)}"


def _insert(config: JobConfig, staging: str) -> str:
    cols = ", ".join(ident(c) for c in config.column_names)
    return f"INSERT INTO {target(config)} ({cols}) SELECT {cols} FROM {_table(config, staging)}"


def _delete_matching(config: JobConfig, staging: str) -> str:
    t, s = target(config), _table(config, staging)
    keys = " AND ".join(f"{t}.{ident(k)} = {s}.{ident(k)}" for k in config.load_keys)
    return f"DELETE FROM {t} USING {s} WHERE {keys}"


def load_statements(config: JobConfig, staging: str) -> list[str]:
    """The statements that move a filled staging table into the target; run them in ONE
    transaction (the caller opens and commits it)."""
    mode = config.load_mode
    if mode == "append":
        head: list[str] = []
    elif mode == "truncate":
        head = [f"DELETE FROM {target(config)}"]
    elif mode == "merge":
        if not config.load_keys:
            raise ValueError("load mode 'merge' needs keys")
        head = [_delete_matching(config, staging)]
    else:
        raise ValueError(f"unknown load mode {mode!r}")
    return [*head, _insert(config, staging), f"DROP TABLE {_table(config, staging)}"]


def glue_pre_post_actions(config: JobConfig, staging: str) -> tuple[str, str]:
    """`preactions` and `postactions` for Glue's Redshift writer (`connection_options`), which
    writes the frame into the staging table between them. The preactions drop a leftover
    staging table of the same name and create it LIKE the target (otherwise Glue would create
    it from the frame's Spark types, losing varchar sizes); the postactions move it into the
    target. No BEGIN/END: the connector already runs its CREATE, the preactions, the COPY and
    the postactions on one connection with autocommit off and commits once at the end
    (spark-redshift-community `RedshiftWriter.saveToRedshift`), so the load is one transaction
    and an `END` of ours would commit it early. Glue runs the postactions only after a
    successful COPY, and rolls everything back when any statement fails."""
    pre = "; ".join([drop_staging(config, staging), create_staging(config, staging)]) + ";"
    post = "; ".join(load_statements(config, staging)) + ";"
    return pre, post
