"""The Glue job's configuration from the spec: the JSON the job's `--wcpipe_config` argument
carries (`job_config`, `job_arguments`), read on Glue by `wcpipe.datamap.config.JobConfig`.
Client side only (it takes the pydantic Spec): nothing here ships to Glue."""

from __future__ import annotations

import json

from wcpipe.spec.model import Spec
from wcpipe.spec.names import Names

UPLOADED_ENCODING = "utf-8"


def job_config(spec: Spec, names: Names) -> dict[str, object]:
    """Everything the Glue job needs to know, as JSON-able data (`JobConfig.from_dict`)."""
    drops = [d.model_dump(mode="json") for d in spec.data.drop_rows]
    fields = {"name", "type", "nullable", "clean"}
    return {
        "source": dict(database=names.s3_database, table=names.source_table, drop_rows=drops),
        "target": dict(
            schema=spec.table.schema_,
            table=spec.table.name,
            database=spec.warehouse.database,
            connection=names.connection,
            iam_role=names.role_arn(names.redshift_role),
        ),
        "columns": [
            {**c.model_dump(include=fields, mode="json"), "source": c.source_column}
            for c in spec.table.columns
        ],
        "load": spec.load.model_dump(mode="json"),
        # The objects in S3 are UTF-8 whatever the local files' encoding: `up` transcodes them
        # (spec.files.utf8_chunks), so the job and `verify` read them as UTF-8.
        "csv": {**spec.data.csv.model_dump(mode="json"), "encoding": UPLOADED_ENCODING},
    }


def job_arguments(spec: Spec, names: Names) -> dict[str, str]:
    """The job's DefaultArguments that carry the mapping and load mode (deterministic JSON)."""
    config = json.dumps(job_config(spec, names), sort_keys=True, separators=(",", ":"))
    return {"--wcpipe_config": config}
