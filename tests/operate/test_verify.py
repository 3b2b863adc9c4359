"""verify: the real FIFA file in S3 against a warehouse answered by the Data API fixture.

The "warehouse" is a list of rows the test builds independently of wcpipe (csv module plus the
two fixes the spec declares), aggregated the way Redshift would answer verify's statements.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import re
from typing import Any

import pytest
from support.paths import FIFA_CSV

from wcpipe.core.errors import Mismatch, UsageError
from wcpipe.operate import verify as opverify

pytestmark = pytest.mark.usefixtures("athena")  # the source side runs on (the sandbox's) Athena


def fifa_rows() -> list[dict[str, Any]]:
    rows = []
    with FIFA_CSV.open(newline="", encoding="utf-8") as f:
        for rec in csv.DictReader(f):
            if rec["Year"] == "Overall":
                continue
            rows.append(
                {
                    "source_index": int(rec[""]),
                    "year": int(rec["Year"]),
                    "hosts": " ".join(rec["Hosts"].split()),
                    "total_attendance": int(rec["Total_Attendance"]),
                    "matches": int(rec["Matches"]),
                    "average_attendance": int(rec["Average_Attendance"]),
                    "highest_attendance": int(re.sub(r"\[\d+\]|,", "", rec["Number"])),
                    "venue": rec["Venue"].strip(),
                    "games": rec["Game(s)"].strip(),
                }
            )
    return rows


def answering(octx, rows: list[dict[str, Any]]):  # type: ignore[no-untyped-def]
    config = opverify.job_config(octx)
    _, aliases = opverify.figures_query(config, "t")

    def answer(sql: str) -> list[dict[str, Any]]:
        if "duplicate_keys" in sql:
            seen: dict[tuple[Any, ...], int] = {}
            for r in rows:
                key = tuple(r[k] for k in config.load_keys)
                seen[key] = seen.get(key, 0) + 1
            return [{"duplicate_keys": sum(1 for n in seen.values() if n > 1)}]
        out: dict[str, Any] = {"row_count": len(rows)}
        for alias, column in aliases.items():
            values = [r[column] for r in rows if r[column] is not None]
            out[alias] = len(values) if alias.startswith("n") else (sum(values) if values else None)
        return [out]

    return answer


def test_verify_matches_the_fifa_file(octx, deployed, data_api) -> None:
    sent = data_api.answer(answering(octx, fifa_rows()))

    report = opverify.verify(octx)

    assert report.ok, [c for c in report.checks if not c.ok]
    rows = next(c for c in report.checks if c.name == "rows")
    assert rows.source == 22 and rows.warehouse == 22
    assert report.source.read == 23 and report.source.dropped == 1
    total = next(c for c in report.checks if c.name == "sum of total_attendance")
    assert total.source == 43936730  # what the file's own Overall row says
    assert any("HAVING COUNT(*) > 1" in s for s in sent)
    report.raise_if_mismatch()


def test_verify_duplicated_row_is_a_count_mismatch(octx, deployed, data_api) -> None:
    rows = fifa_rows()
    data_api.answer(answering(octx, [*rows, rows[3]]))

    report = opverify.verify(octx)

    bad = {c.name for c in report.mismatches()}
    assert {"rows", "duplicate keys (year)"} <= bad
    with pytest.raises(Mismatch, match=r"rows: source 22, warehouse 23"):
        report.raise_if_mismatch()


def test_verify_value_lost_in_conversion_is_a_sum_mismatch(octx, deployed, data_api) -> None:
    rows = fifa_rows()
    rows[3]["highest_attendance"] = 173  # "173,850[86]" read as 173 by a careless load
    data_api.answer(answering(octx, rows))

    report = opverify.verify(octx)

    assert [c.name for c in report.mismatches()] == ["sum of highest_attendance"]


def test_verify_counts_csv_correctly_across_files(octx, deployed, data_api) -> None:
    s3 = octx.client("s3")
    # A second file: quoted newline inside a field, CRLF, a header of its own, a folder marker.
    s3.put_object(
        Bucket=deployed.bucket,
        Key=f"{deployed.prefix}more/2026.csv",
        Body=(
            b",Year,Hosts,Total_Attendance,Matches,Average_Attendance,Number,Venue,Game(s)\r\n"
            b'23,2026,"United States\nCanada Mexico",6000000,104,57692,94000,"MetLife, NJ",'
            b'"Final"\r\n'
        ),
    )
    s3.put_object(Bucket=deployed.bucket, Key=f"{deployed.prefix}more/", Body=b"")
    rows = fifa_rows()
    data_api.answer(answering(octx, rows))

    report = opverify.verify(octx)

    assert report.source.files == 2
    count = next(c for c in report.checks if c.name == "rows")
    assert (count.source, count.warehouse, count.ok) == (23, 22, False)


def test_verify_reports_unconvertible_source_values(octx, deployed, data_api) -> None:
    s3 = octx.client("s3")
    s3.put_object(
        Bucket=deployed.bucket,
        Key=f"{deployed.prefix}bad.csv",
        Body=(
            b",Year,Hosts,Total_Attendance,Matches,Average_Attendance,Number,Venue,Game(s)\n"
            b"99,2030,X,lots,1,1,1,V,G\n"
        ),
    )
    data_api.answer(answering(octx, fifa_rows()))

    report = opverify.verify(octx)

    rejected = next(c for c in report.checks if c.name.startswith("source rows rejected"))
    assert rejected.source == 1 and not rejected.ok
    assert "total_attendance" in rejected.detail


def test_cli_verify_ok_table(invoke, deployed, octx, data_api) -> None:
    data_api.answer(answering(octx, fifa_rows()))
    code, out, err = invoke("verify")
    assert code == 0, err
    assert "rows" in out and "22" in out and "MISMATCH" not in out


def test_cli_verify_json(invoke, deployed, octx, data_api) -> None:
    data_api.answer(answering(octx, fifa_rows()))
    code, out, _ = invoke("--output", "json", "verify")
    assert code == 0
    doc = json.loads(out)
    assert doc["ok"] is True
    assert {c["check"] for c in doc["checks"]} >= {"rows", "sum of year"}


def test_cli_verify_mismatch_exits_1_naming_figures(invoke, deployed, octx, data_api) -> None:
    rows = fifa_rows()
    data_api.answer(answering(octx, [*rows, rows[0]]))
    code, out, err = invoke("verify")
    assert code == 1
    assert "MISMATCH" in out
    assert "rows: source 22, warehouse 23" in err


FIFA_HEADER = b",Year,Hosts,Total_Attendance,Matches,Average_Attendance,Number,Venue,Game(s)\n"


def test_verify_sums_the_last_row_of_a_repeated_key(octx, deployed, data_api) -> None:
    # A later file restates 1930 (key: year): merge keeps that row, so the sums use its values.
    s3 = octx.client("s3")
    s3.put_object(
        Bucket=deployed.bucket,
        Key=f"{deployed.prefix}zz-fix.csv",
        Body=FIFA_HEADER + b'0,1930,Uruguay,434001,18,24112,"93,000",Centenario,Final\n',
    )
    rows = fifa_rows()
    rows[0].update(total_attendance=434001, average_attendance=24112, highest_attendance=93000)
    data_api.answer(answering(octx, rows))

    report = opverify.verify(octx)

    assert report.ok, report.mismatches()
    assert report.source.duplicate_source_keys == 1
    assert report.source.expected_rows == 22 and report.source.loaded == 23
    assert report.source.sums["total_attendance"] == 43936730 - 590549 + 434001


def test_source_figures_with_a_two_column_key_and_nulls(octx, deployed) -> None:
    # Key (year, hosts): a numeric and a text column; a NULL matches is skipped as SUM does.
    s3 = octx.client("s3")
    s3.put_object(
        Bucket=deployed.bucket,
        Key=f"{deployed.prefix}zz-more.csv",
        Body=FIFA_HEADER
        + b"30,1930,Elsewhere,1,,1,1,V,G\n"  # new key (other hosts), NULL matches
        + b"31,1930,Uruguay,2,5,2,2,V,G\n",  # repeats (1930, Uruguay)
    )
    config = dataclasses.replace(opverify.job_config(octx), load_keys=("year", "hosts"))
    nullable = [dataclasses.replace(c, nullable=True) for c in config.columns]
    config = dataclasses.replace(config, columns=tuple(nullable))
    source = opverify.source_figures(octx, config)

    rows = [r for r in fifa_rows() if r["year"] != 1930]
    rows += [
        {
            **fifa_rows()[0],
            "source_index": 30,
            "hosts": "Elsewhere",
            "total_attendance": 1,
            "matches": None,
        },
        {**fifa_rows()[0], "source_index": 31, "total_attendance": 2, "matches": 5},
    ]
    assert source.expected_rows == 23 and source.duplicate_source_keys == 1
    for column in ("year", "total_attendance", "matches", "source_index"):
        assert source.sums[column] == sum(r[column] for r in rows if r[column] is not None)


def test_cli_verify_at_80_columns_keeps_every_figure_whole(
    invoke, deployed, octx, data_api, monkeypatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    data_api.answer(answering(octx, fifa_rows()))
    code, out, err = invoke("verify")
    assert code == 0, err
    assert all(len(line) <= 80 for line in out.splitlines()), out
    doc = json.loads(invoke("--output", "json", "verify").out)
    for check in doc["checks"]:
        row = next(
            line for line in out.splitlines() if line.split("│")[0].strip() == check["check"]
        )
        assert str(check["source"]) in row and str(check["warehouse"]) in row, (check, out)


def test_a_big_scan_is_approved_first(octx, deployed, data_api, monkeypatch) -> None:
    monkeypatch.setattr(opverify, "CONFIRM_SCAN_BYTES", 1000)  # the FIFA file is bigger
    asked: list[str] = []
    athena = octx.client("athena")
    with pytest.raises(UsageError, match=r"would scan 1 object\(s\)") as refused:
        opverify.verify(octx, approve=lambda e: bool(asked.append(e.summary())))
    assert "--yes" in (refused.value.hint or "") and len(asked) == 1
    assert (
        athena.list_query_executions(WorkGroup=deployed.athena_workgroup)["QueryExecutionIds"] == []
    )
    data_api.answer(answering(octx, fifa_rows()))
    assert opverify.verify(octx, approve=lambda e: True).ok


def test_cli_verify_big_scan_needs_yes_without_a_terminal(
    invoke, deployed, octx, data_api, monkeypatch
) -> None:
    monkeypatch.setattr(opverify, "CONFIRM_SCAN_BYTES", 1000)
    data_api.answer(answering(octx, fifa_rows()))
    code, _, err = invoke("verify")
    assert code == 2 and "--yes" in err, err
    code, _, err = invoke("verify", "--yes")
    assert code == 0, err
