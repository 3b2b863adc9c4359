"""`wcpipe init`: the FIFA file yields the shipped spec's types and rules; awkward files (BOM, CRLF,
semicolons, quoted newlines, all-string columns, an empty first header) each give a valid spec;
an existing file is never overwritten without --force; an S3 prefix works like a file."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from support.paths import FIFA_CSV, ROOT

from wcpipe.authoring.draft import draft_spec, sample_local, sample_s3
from wcpipe.authoring.infer import infer_glue_type, sniff
from wcpipe.spec.model import load_spec, parse_spec


def _draft(tmp_path: Path, name: str, content: bytes):  # type: ignore[no-untyped-def]
    path = tmp_path / name
    path.write_bytes(content)
    text = draft_spec(sample_local(path), name="sample", spec_dir=tmp_path)
    return parse_spec(text, source="drafted", base_dir=tmp_path), text


def test_fifa_draft_matches_the_shipped_spec(spec, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    drafted = parse_spec(
        draft_spec(sample_local(FIFA_CSV), spec_dir=ROOT / "config"), base_dir=ROOT / "config"
    )
    assert drafted.data.drop_rows == spec.data.drop_rows
    assert drafted.data.csv == spec.data.csv
    assert drafted.data_paths()[0].resolve() == spec.data_paths()[0].resolve()
    # The shipped spec's types, but with headroom: a sample's small numbers are never smallint.
    widened = {"smallint": "integer"}
    shipped = {
        c.source_column: (widened.get(c.type, c.type), c.nullable, c.clean)
        for c in spec.table.columns
    }
    proposed = {c.source_column: (c.type, c.nullable, c.clean) for c in drafted.table.columns}
    assert proposed == shipped


def test_bom_and_crlf(tmp_path: Path) -> None:
    spec, text = _draft(
        tmp_path, "bom.csv", b"\xef\xbb\xbfid,when\r\n1,2024-01-02\r\n2,2024-02-03\r\n"
    )
    assert [c.source_column for c in spec.table.columns] == ["id", "when"]
    assert spec.table.column("when_").type == "date"  # "when" is a reserved word
    assert "byte order mark" in text and "CRLF" in text


def test_semicolons_and_decimal(tmp_path: Path) -> None:
    spec, _ = _draft(tmp_path, "semi.csv", b"code;price;ok\nA;1.50;true\nB;22.75;false\nC;3;true\n")
    assert spec.data.csv.delimiter == ";"
    assert spec.table.column("price").type == "decimal(7,2)"  # 2 whole digits seen, 3 more
    assert spec.table.column("ok").type == "boolean"


def test_quoted_newlines(tmp_path: Path) -> None:
    spec, _ = _draft(
        tmp_path, "notes.csv", b'id,note\n1,"first line\nsecond line"\n2,"a, b"\n3,c\n'
    )
    assert spec.table.column("id").type == "integer"
    assert spec.table.column("note").type.startswith("varchar(")


def test_all_string_columns_still_get_a_header(tmp_path: Path) -> None:
    # Glue's built-in classifier cannot see this header; init detects it, and wcpipe declares it.
    spec, _ = _draft(
        tmp_path, "names.csv", b"first,last\nAda,Lovelace\nAlan,Turing\nGrace,Hopper\n"
    )
    assert spec.data.csv.header is True
    assert [c.name for c in spec.table.columns] == ["first", "last"]


def test_empty_first_header_and_nulls(tmp_path: Path) -> None:
    spec, text = _draft(tmp_path, "idx.csv", b",name,score\n0,a,1\n1,,2\n2,c,\n")
    assert spec.table.columns[0].source_column == "col0"
    assert spec.table.column("name").nullable and "empty_as_null" in spec.table.column("name").clean
    assert spec.table.column("score").nullable
    assert "Glue's crawler names col0" in text


def test_headerless_file(tmp_path: Path) -> None:
    spec, _ = _draft(tmp_path, "raw.csv", b"1,2.5\n2,3.5\n3,4.5\n")
    assert spec.data.csv.header is False
    assert [c.source_column for c in spec.table.columns] == ["col0", "col1"]


def test_reserved_and_odd_names_become_safe(tmp_path: Path) -> None:
    spec, _ = _draft(tmp_path, "odd.csv", b"select,2nd value,Game(s)\n1,2,x\n2,3,y\n")
    assert [c.name for c in spec.table.columns] == ["select_", "c_2nd_value", "game_s"]


def test_glue_type_inference() -> None:
    assert infer_glue_type(["1930", "1934", "Overall"]) == "string"
    assert infer_glue_type(["1", "2.5", ""]) == "double"
    assert infer_glue_type(["true", "false"]) == "boolean"
    assert infer_glue_type(["590549", "43936730"]) == "bigint"
    assert sniff(b"a;b\n1;2\n").delimiter == ";"


def test_cli_writes_and_refuses_to_overwrite(tmp_path: Path, wcpipe) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "config" / "fifa.yaml"
    first = wcpipe("init", str(FIFA_CSV), "--name", "fifa", "-o", str(out))
    assert first.code == 0, first
    assert load_spec(out).name == "fifa"
    before = out.read_text()
    second = wcpipe("init", str(FIFA_CSV), "--name", "other", "-o", str(out))
    assert second.code == 2
    assert "exists; pass --force" in second.err and "Traceback" not in second.err
    assert out.read_text() == before
    forced = wcpipe("init", str(FIFA_CSV), "--name", "other", "-o", str(out), "--force")
    assert forced.code == 0
    assert load_spec(out).name == "other"


def test_cli_missing_file_is_a_clear_error(tmp_path: Path, wcpipe) -> None:  # type: ignore[no-untyped-def]
    result = wcpipe("init", str(tmp_path / "nope.csv"), "-o", str(tmp_path / "x.yaml"))
    assert result.code == 2
    assert result.err.strip().splitlines() == [f"error: {tmp_path / 'nope.csv'}: no such file"]


def test_cli_bad_name(tmp_path: Path, wcpipe) -> None:  # type: ignore[no-untyped-def]
    result = wcpipe("init", str(FIFA_CSV), "--name", "Bad_Name", "-o", str(tmp_path / "x.yaml"))
    assert result.code == 2
    assert "--name" in result.err


def test_s3_prefix_sample(moto) -> None:  # type: ignore[no-untyped-def]
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="landing")
    s3.put_object(Bucket="landing", Key="in/a.csv", Body=b"id,amount\n1,10\n2,20\n")
    s3.put_object(Bucket="landing", Key="in/b.csv", Body=b'id,amount\n3,"1,000"\n')
    sample = sample_s3(s3, "s3://landing/in/")
    assert sample.data.count(b"id,amount") == 1
    spec = parse_spec(draft_spec(sample, name="landing"))
    assert [c.source_column for c in spec.table.columns] == ["id", "amount"]
    assert spec.data.files == ()


@pytest.mark.parametrize("uri", ["s3://", "s3:/x"])
def test_bad_s3_uri(moto, uri: str) -> None:  # type: ignore[no-untyped-def]
    from wcpipe.core.errors import WcpipeError

    with pytest.raises(WcpipeError):
        sample_s3(boto3.client("s3", region_name="us-east-1"), uri)


def test_cli_header_only_file_says_there_is_nothing_to_infer(tmp_path: Path, wcpipe) -> None:  # type: ignore[no-untyped-def]
    source = tmp_path / "empty.csv"
    source.write_bytes(b"id,city,amount\n")
    out = tmp_path / "empty.yaml"
    result = wcpipe("init", str(source), "--name", "empty", "-o", str(out))
    assert result.code == 0, result
    assert (
        f"warning: {source}: a header and no data rows, so there is nothing to infer types "
        "from: its 3 column(s) are drafted as varchar(256)"
    ) in " ".join(result.err.split())
    spec = load_spec(out)
    # The header is the header, not a data row; every column is a nullable placeholder.
    assert spec.data.csv.header is True
    assert [(c.name, c.source_column, c.type, c.nullable) for c in spec.table.columns] == [
        ("id", "id", "varchar(256)", True),
        ("city", "city", "varchar(256)", True),
        ("amount", "amount", "varchar(256)", True),
    ]
    assert "No data rows: nothing to infer the types from" in out.read_text()


def test_a_one_row_file_of_numbers_is_data_not_a_header(tmp_path: Path) -> None:
    spec, text = _draft(tmp_path, "one.csv", b"1,2.5\n")
    assert spec.data.csv.header is False
    assert "nothing to infer" not in text


def test_types_leave_headroom_and_comments_say_what_was_seen(tmp_path: Path) -> None:
    rows = [
        b"small,big,huge,price,code",
        b"1,300000000,9000000000000000000,12.5,AB",
        b"30000,-2,1,0.25,CD",
    ]
    spec, text = _draft(tmp_path, "sizes.csv", b"\n".join(rows) + b"\n")
    types = {c.name: c.type for c in spec.table.columns}
    assert types == {
        "small": "integer",  # 30000 fits smallint; 10x does not
        "big": "bigint",  # 3e8 fits integer; 10x does not
        "huge": "decimal(38,0)",  # 9e18 fits bigint; 10x does not
        "price": "decimal(7,2)",  # up to 2 whole digits seen, 3 more of room
        "code": "varchar(32)",  # 2 bytes seen: at least 32
    }
    assert "integer: 2 value(s) from 1 to 30000; room for 10x the largest" in text
    assert "up to 2 whole digit(s) and 2 decimal place(s)" in text
    assert "varchar(32): longest value 2 bytes in UTF-8" in text


def test_small_data_is_proposed_serverless_with_the_reason(tmp_path: Path) -> None:
    spec, text = _draft(tmp_path, "tiny.csv", b"id,v\n1,2\n2,3\n")
    assert spec.warehouse.type == "serverless" and spec.warehouse.base_rpu == 8
    assert "bills compute" in text and "per RPU-second" in text and "node-hour" in text
    assert "https://aws.amazon.com/redshift/pricing/" in text


def test_large_data_stays_provisioned(tmp_path: Path) -> None:
    from dataclasses import replace

    from wcpipe.authoring.draft import SERVERLESS_MAX_BYTES

    path = tmp_path / "big.csv"
    path.write_bytes(b"id,v\n1,2\n2,3\n")
    sample = replace(sample_local(path), total_bytes=SERVERLESS_MAX_BYTES + 1)
    spec = parse_spec(draft_spec(sample, name="big", spec_dir=tmp_path), base_dir=tmp_path)
    assert spec.warehouse.type == "provisioned"
