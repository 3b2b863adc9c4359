"""run-crawler: state progression, attach, column changes, failure (library and CLI)."""

from __future__ import annotations

import json

import pytest
from support.cli import run_cli
from support.json_shapes import check

from wcpipe.core.errors import ResourceFailed
from wcpipe.operate import crawl


def test_diff_columns_added_removed_retyped() -> None:
    changes = crawl.diff_columns(
        {"a": "string", "b": "bigint", "c": "string"}, {"a": "string", "b": "string", "d": "double"}
    )
    assert changes.added == {"d": "double"}
    assert changes.removed == {"c": "string"}
    assert changes.retyped == {"b": ("bigint", "string")}
    assert crawl.diff_columns(None, None).describe() == []


def test_run_crawler_waits_through_running_with_progress(
    octx, deployed, world, transitions
) -> None:
    transitions("glue::crawl", 2)
    seen: list[crawl.CrawlProgress] = []

    result = crawl.run_crawler(octx, crawl.targets(octx, "s3")[0], on_progress=seen.append)

    assert result.status in ("SUCCEEDED", "COMPLETED")
    assert not result.attached
    assert [p.state for p in seen][:1] == ["RUNNING"]
    assert world.clock.sleeps  # it really waited, on the injected clock
    assert result.log_group == "/aws-glue/crawlers"
    assert result.log_stream == deployed.s3_crawler


def test_run_crawler_attaches_to_a_running_crawl(octx, deployed, world, transitions) -> None:
    transitions("glue::crawl", 1)
    glue = octx.client("glue")
    glue.start_crawler(Name=deployed.s3_crawler)

    result = crawl.run_crawler(octx, crawl.targets(octx, "s3")[0])

    assert result.attached
    assert len(glue.list_crawls(CrawlerName=deployed.s3_crawler)["Crawls"]) == 1


def test_run_crawler_reports_column_changes(octx, deployed, crawler_writes_table) -> None:
    glue = octx.client("glue")
    glue.create_table(
        DatabaseName=deployed.s3_database,
        TableInput={
            "Name": deployed.source_table,
            "StorageDescriptor": {
                "Columns": [
                    {"Name": "year", "Type": "bigint"},
                    {"Name": "hosts", "Type": "string"},
                    {"Name": "old", "Type": "string"},
                ]
            },
        },
    )
    crawler_writes_table(
        deployed.s3_database,
        deployed.source_table,
        {"year": "string", "hosts": "string", "venue": "string"},
    )

    result = crawl.run_crawler(octx, crawl.targets(octx, "s3")[0])

    assert result.columns == {"year": "string", "hosts": "string", "venue": "string"}
    assert result.changes.added == {"venue": "string"}
    assert result.changes.removed == {"old": "string"}
    assert result.changes.retyped == {"year": ("bigint", "string")}


def test_run_crawler_failed_names_error_and_log(octx, deployed, crawls_fail) -> None:
    with pytest.raises(ResourceFailed) as err:
        crawl.run_crawler(octx, crawl.targets(octx, "s3")[0])
    assert crawls_fail in str(err.value)
    assert f"group /aws-glue/crawlers, stream {deployed.s3_crawler}" in str(err.value)


def test_run_crawler_missing_crawler(octx, moto, spec) -> None:
    with pytest.raises(ResourceFailed, match="does not exist"):
        crawl.run_crawler(octx, crawl.targets(octx, "s3")[0])


def test_cli_run_crawler_all_prints_columns(invoke, deployed, world, crawler_writes_table) -> None:
    crawler_writes_table(
        deployed.s3_database, deployed.source_table, {"year": "bigint", "hosts": "string"}
    )
    code, out, err = invoke("run-crawler", "all")
    assert code == 0, err
    assert "year" in out and "added" in out
    assert deployed.s3_crawler in err and deployed.redshift_crawler in err


def test_cli_run_crawler_json(invoke, deployed, world) -> None:
    code, out, _ = invoke("--output", "json", "run-crawler", "s3")
    assert code == 0
    doc = json.loads(out)
    check(run_cli, "run-crawler", doc)
    assert doc["crawls"][0]["crawler"] == deployed.s3_crawler


def test_cli_run_crawler_failed_exits_1_with_log_location(
    invoke, deployed, world, crawls_fail
) -> None:
    code, _out, err = invoke("run-crawler", "s3")
    assert code == 1
    assert crawls_fail in err
    assert "/aws-glue/crawlers" in err and deployed.s3_crawler in err
