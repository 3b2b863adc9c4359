"""The job's counts as CloudWatch metrics: what glue/load.py (and the sandbox's job) publish
with PutMetricData when a run ends. Standard library only (ships in `wcpipe_lib.zip`).

Namespace `wcpipe`, dimension JobName (the job's name, which Glue passes every run as
`--JOB_NAME`, so the job needs no other argument to know it): RowsRead, RowsDropped,
RowsRejected and RowsLoaded (rows written to the warehouse: 0 when the run failed, whatever
its counts said it would have loaded), all Unit Count; and LoadsSucceeded, 1 for a run that
ended well (also one that found nothing new), 0 for one that failed: the no-load alarm counts
it. The Glue role may publish only to this namespace (and Glue's own), by the condition key
cloudwatch:namespace (iam_policies.glue_policy).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

NAMESPACE = "wcpipe"
DIMENSION = "JobName"
ROWS = {"read": "RowsRead", "dropped": "RowsDropped", "rejected": "RowsRejected"}
LOADED = "RowsLoaded"
SUCCEEDED = "LoadsSucceeded"


def metric_data(
    job_name: str, counts: Mapping[str, int], *, succeeded: bool
) -> list[dict[str, Any]]:
    """PutMetricData's MetricData for one run's counts."""
    dims = [{"Name": DIMENSION, "Value": job_name}]
    values = {metric: int(counts.get(key, 0)) for key, metric in ROWS.items()}
    values[LOADED] = int(counts.get("loaded", 0)) if succeeded else 0
    values[SUCCEEDED] = 1 if succeeded else 0
    return [
        {"MetricName": name, "Dimensions": dims, "Value": float(value), "Unit": "Count"}
        for name, value in values.items()
    ]


def publish(
    client: Any, job_name: str, counts: Mapping[str, int], *, succeeded: bool
) -> str | None:
    """Put the run's metrics with `client` (a CloudWatch client); None, or why it could not (a
    metric is never worth failing a load for: the run's own state is the alert)."""
    try:
        client.put_metric_data(
            Namespace=NAMESPACE, MetricData=metric_data(job_name, counts, succeeded=succeeded)
        )
    except Exception as exc:  # best effort: the caller prints it
        return f"wcpipe: could not publish the run's metrics: {type(exc).__name__}: {exc}"
    return None
