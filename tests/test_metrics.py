"""The job's counts as CloudWatch metrics (datamap/metrics.py): pure data, no IO."""

from __future__ import annotations

from wcpipe.datamap.metrics import metric_data


def _values(data: list[dict[str, object]]) -> dict[object, object]:
    return {d["MetricName"]: d["Value"] for d in data}


def test_a_successful_run_publishes_its_counts_and_one_success() -> None:
    counts = {"read": 23, "dropped": 1, "loaded": 22, "rejected": 0}
    data = metric_data("wcpipe-fifa-load", counts, succeeded=True)
    assert _values(data) == {
        "RowsRead": 23.0,
        "RowsDropped": 1.0,
        "RowsRejected": 0.0,
        "RowsLoaded": 22.0,
        "LoadsSucceeded": 1.0,
    }
    assert all(d["Dimensions"] == [{"Name": "JobName", "Value": "wcpipe-fifa-load"}] for d in data)
    assert {d["Unit"] for d in data} == {"Count"}


def test_a_failed_run_loaded_nothing_whatever_its_counts_said() -> None:
    counts = {"read": 23, "dropped": 1, "loaded": 20, "rejected": 2}
    values = _values(metric_data("j", counts, succeeded=False))
    assert (values["RowsLoaded"], values["RowsRejected"], values["LoadsSucceeded"]) == (0, 2, 0)
