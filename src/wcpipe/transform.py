"""Cleaning and mapping: from a CSV record to a warehouse row, shared by the Glue script, the
sandbox's job runner and `verify`. Plain Python, no AWS, no Spark.

(Placeholder contract, to be completed: `job_arguments(spec, names)`.)
"""

from __future__ import annotations

import json

from wcpipe.names import Names
from wcpipe.spec import Spec


def job_config(spec: Spec, names: Names) -> dict[str, object]:
    """Everything the Glue job needs to know, as JSON-able data."""
    return {
        "source": {"database": names.s3_database, "table": names.source_table,
                   "drop_rows": [d.model_dump() for d in spec.data.drop_rows]},
        "target": {"schema": spec.table.schema_, "table": spec.table.name,
                   "database": spec.warehouse.database, "connection": names.connection},
        "columns": [c.model_dump() for c in spec.table.columns],
        "load": spec.load.model_dump(),
    }


def job_arguments(spec: Spec, names: Names) -> dict[str, str]:
    """The job's DefaultArguments that carry the mapping and load mode."""
    return {"--wcpipe_config": json.dumps(job_config(spec, names), sort_keys=True,
                                          separators=(",", ":"))}
