"""csvio: CSV-correct streaming reads (BOM, CRLF, quoted newlines, dialects) and Glue naming."""

from __future__ import annotations

import csv
import io
import random
import time
from pathlib import Path

import pytest
from support.paths import FIFA_CSV

from wcpipe.authoring import csvio
from wcpipe.authoring.csvio import (
    Dialect,
    count_rows,
    glue_names,
    iter_records,
    open_records,
    read_header,
)


def test_fifa_header_names_the_empty_first_column_col0() -> None:
    with FIFA_CSV.open("rb") as f:
        header = read_header(f)
    assert header[:3] == ["col0", "Year", "Hosts"]
    assert header[-1] == "Game(s)"


def test_fifa_records_keep_quoted_commas_and_count_23() -> None:
    with FIFA_CSV.open("rb") as f:
        records = list(iter_records(f))
    assert len(records) == 23
    assert records[3][6] == "173,850[86]"
    assert records[0][7] == "Estadio Centenario, Montevideo"
    assert records[-1][0:2] == ["22", "Overall"]
    assert records[-1][8] == ""
    with FIFA_CSV.open("rb") as f:
        assert count_rows(f, Dialect()) == 23


def test_bom_and_crlf_are_handled() -> None:
    data = b"\xef\xbb\xbfa,b\r\n1,2\r\n3,4\r\n"
    assert read_header(io.BytesIO(data)) == ["a", "b"]
    assert list(iter_records(io.BytesIO(data))) == [["1", "2"], ["3", "4"]]
    assert count_rows(io.BytesIO(data), Dialect()) == 2


def test_quoted_newline_is_one_record() -> None:
    data = b'a,b\n1,"two\nlines"\r\n2,"x, y"\n\n'
    assert list(iter_records(io.BytesIO(data))) == [["1", "two\nlines"], ["2", "x, y"]]
    assert count_rows(io.BytesIO(data), Dialect()) == 2


def test_semicolon_dialect_and_other_quote() -> None:
    data = "n;v\n'a;b';1\n".encode("latin-1")
    dialect = Dialect.from_config(
        {"header": True, "delimiter": ";", "quote": "'", "encoding": "latin-1"}
    )
    header, records = open_records(io.BytesIO(data), dialect)
    assert header == ["n", "v"]
    assert list(records) == [["a;b", "1"]]


def test_no_header_names_columns_like_the_crawler() -> None:
    header, records = open_records(io.BytesIO(b"1,2\n3,4\n"), Dialect(header=False))
    assert header == ["col0", "col1"]
    assert list(records) == [["1", "2"], ["3", "4"]]
    assert count_rows(io.BytesIO(b"1,2\n3,4\n"), Dialect(header=False)) == 2


def test_empty_and_duplicate_headers() -> None:
    assert glue_names(["", "a", "a", " ", "a"]) == ["col0", "a", "a_1", "col3", "a_2"]


def test_empty_stream() -> None:
    assert open_records(io.BytesIO(b""), Dialect())[0] == []
    assert count_rows(io.BytesIO(b""), Dialect()) == 0


def test_caller_stream_stays_open() -> None:
    stream = io.BytesIO(b"a\n1\n")
    list(iter_records(stream))
    read_header(stream)
    assert not stream.closed


def test_count_rows_fast_path_is_fast(tmp_path: Path) -> None:
    # Measured here: quote-free ~150-250 MB/s, quoted fields ~40-70 MB/s (wc -l: ~1.5 GB/s).
    line = b'1,2022,Qatar,3404252,64,53191,88966,"Lusail Stadium, Qatar","Argentina 3-3, Final"\n'
    big = tmp_path / "big.csv"
    big.write_bytes(b"a,b,c,d,e,f,g,h,i\n" + line * 100_000 + line.replace(b'"', b"") * 100_000)
    start = time.perf_counter()
    with big.open("rb") as f:
        assert count_rows(f, Dialect()) == 200_000
    assert time.perf_counter() - start < 2.0


def _reference_count(data: bytes, dialect: Dialect) -> int:
    codec = "utf-8-sig" if dialect.encoding == "utf-8" else dialect.encoding
    text = io.StringIO(data.decode(codec), newline="")
    reader = csv.reader(text, delimiter=dialect.delimiter, quotechar=dialect.quote, strict=False)
    rows = sum(1 for r in reader if r)
    return rows - 1 if dialect.header and rows else rows


@pytest.mark.parametrize("well_formed", [True, False])
def test_count_rows_agrees_with_csv_reader(
    monkeypatch: pytest.MonkeyPatch, well_formed: bool
) -> None:
    """Tiny chunks put chunk boundaries everywhere; malformed input (stray quotes, bare CR)
    must still count exactly as csv.reader does."""
    monkeypatch.setattr(csvio, "_CHUNK", 7)
    rng = random.Random(7)
    cells = ["x", "y,z", 'q"q', "n\nl", "", " ", "\u00e9\r\n"]
    junk = ["a", ",", '"', "\n", "\r\n", 'b"c', '"x"y', "\r", "6'2\""]
    for _ in range(1500):
        if well_formed:
            buf = io.StringIO(newline="")
            writer = csv.writer(buf, lineterminator=rng.choice(["\n", "\r\n"]))
            for _ in range(rng.randint(0, 6)):
                writer.writerow(["".join(rng.choices(cells, k=rng.randint(0, 2)))] * 2)
            text = buf.getvalue().replace("\n", "\n\n", rng.randint(0, 1))
            text = ("\ufeff" if rng.random() < 0.2 else "") + text
        else:
            text = "".join(rng.choices(junk, k=rng.randint(0, 12)))
        data = text.encode()
        for dialect in (Dialect(), Dialect(header=False)):
            assert count_rows(io.BytesIO(data), dialect) == _reference_count(data, dialect), text


# Fragments that a CSV writer produces, and ones it never does (stray quotes, bare CRs, a
# quote closing a field then more text), mixed so that both meet at chunk boundaries.
_PIECES = [
    "x",
    ",",
    "\n",
    "\r\n",
    '"a,b"',
    '"q""q"',
    '""',
    '"n\nl"',
    '"crlf\r\nin"',
    "\n\n",
    "\r\n\r\n",
    "6'2\"",
    '"x"y',
    'a"b',
    '"',
    "\r",
    "\u00e9",
    '"\u00e9\n,"',
    "  ",
    '"""',
]


@pytest.mark.parametrize("chunk", [1, 7, 64, 1 << 18])
def test_count_rows_property_against_csv_reader(
    monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    monkeypatch.setattr(csvio, "_CHUNK", chunk)
    rng = random.Random(chunk)
    for case in range(3000):
        weights = [8 if p.startswith('"') or p in "x,\n" else 1 for p in _PIECES]
        if case % 3 == 0:  # mostly well-formed
            weights = [
                w if p not in ("\r", '"', 'a"b', '"x"y', "6'2\"") else 0
                for p, w in zip(_PIECES, weights, strict=True)
            ]
        text = "".join(rng.choices(_PIECES, weights, k=rng.randint(0, 40)))
        data = ("\ufeff" if case % 7 == 0 else "") + text
        for dialect in (Dialect(), Dialect(header=False)):
            raw = data.encode()
            assert count_rows(io.BytesIO(raw), dialect) == _reference_count(raw, dialect), repr(
                text
            )


@pytest.mark.parametrize(
    "dialect",
    [
        Dialect(delimiter=";", quote="'", encoding="latin-1"),
        Dialect(delimiter="\t", encoding="cp1252"),
        Dialect(delimiter="|", encoding="utf-16"),
    ],
)
def test_count_rows_other_dialects_agree_with_csv_reader(dialect: Dialect) -> None:
    rng = random.Random(5)
    q, d = dialect.quote, dialect.delimiter
    pieces = [
        "x",
        d,
        "\n",
        "\r\n",
        f"{q}a{d}b{q}",
        f"{q}n\nl{q}",
        f"{q}{q}",
        "\u00e9",
        f"a{q}b",
        "\n\n",
    ]
    for _ in range(500):
        text = "".join(rng.choices(pieces, k=rng.randint(0, 30)))
        raw = text.encode(dialect.encoding)
        assert count_rows(io.BytesIO(raw), dialect) == _reference_count(raw, dialect), repr(text)


def test_count_rows_quoted_newlines_across_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    # Records longer than a chunk, and longer than _MAX_RECORD (csv.reader takes over).
    monkeypatch.setattr(csvio, "_CHUNK", 16)
    data = b"h\n" + b'"' + b"line\n" * 40 + b'",x\n' + b'1,"a\nb"\n' * 30 + b'"open\nat the end'
    expected = _reference_count(data, Dialect())
    assert expected == 32
    assert count_rows(io.BytesIO(data), Dialect()) == expected
    monkeypatch.setattr(csvio, "_MAX_RECORD", 64)
    assert count_rows(io.BytesIO(data), Dialect()) == expected


def test_count_rows_stray_quote_falls_back_exactly() -> None:
    # The first quote is literal (unquoted field), so the second opens a field holding a newline.
    data = b'h\na"b,"c\nd",e"f\n1\n'
    assert _reference_count(data, Dialect()) == 2
    assert count_rows(io.BytesIO(data), Dialect()) == 2
