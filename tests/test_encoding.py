"""A CSV that is not UTF-8: `validate` decodes every data file in `data.csv.encoding` and names
the file and byte offset of the first byte that does not decode (exit 2, before any AWS call);
what `up` uploads is the file as UTF-8 without a byte order mark (`spec.files.utf8_chunks`)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.requests import Requests

from wcpipe.provision.artifacts import Utf8Reader, data_file_sha256
from wcpipe.spec import files as data_files
from wcpipe.spec.files import UndecodableFile, utf8_chunks

SPEC = """\
name: enc
data:
  files: [data.csv]
  csv: {{encoding: {encoding}}}
table:
  name: t
  columns:
    - {{name: city, type: varchar(64)}}
    - {{name: n, type: integer}}
"""


def _project(tmp_path: Path, encoding: str, data: bytes) -> Path:
    (tmp_path / "data.csv").write_bytes(data)
    spec = tmp_path / "pipeline.yaml"
    spec.write_text(SPEC.format(encoding=encoding))
    return spec


CP1252 = "city,n\nZürich,1\nSão Paulo,2\nMalmö \u2013 Süd,3\n".encode("cp1252")


def test_validate_accepts_a_file_in_its_declared_encoding(
    tmp_path: Path, wcpipe: Callable[..., Any]
) -> None:
    result = wcpipe("-c", str(_project(tmp_path, "cp1252", CP1252)), "validate")
    assert result.code == 0, result


def test_validate_names_the_file_and_offset_that_does_not_decode(
    tmp_path: Path, wcpipe: Callable[..., Any]
) -> None:
    # Declared UTF-8, written in cp1252: the "ü" of Zürich (0xfc) is the first bad byte.
    spec = _project(tmp_path, "utf-8", CP1252)
    result = wcpipe("-c", str(spec), "validate")
    assert result.code == 2, result
    offset = CP1252.index(b"\xfc")
    assert result.err.strip().splitlines() == [
        f"error: {tmp_path / 'data.csv'}: byte 0xfc at offset {offset} is not valid utf-8 "
        "(data.csv.encoding); declare the encoding the file is written in (e.g. cp1252, "
        "latin-1, utf-16)"
    ], result
    # plan and up stop at the same check, before any AWS request.
    requests = Requests.everywhere()
    try:
        for command in (["plan"], ["up", "--yes"]):
            refused = wcpipe("-c", str(spec), *command)
            assert refused.code == 2 and "offset" in refused.err, refused
            assert "Traceback" not in refused.err
    finally:
        requests.close()
    assert requests.sent == []


def test_a_byte_cp1252_leaves_undefined_is_refused(
    tmp_path: Path, wcpipe: Callable[..., Any]
) -> None:
    data = CP1252 + b"bad\x81,4\n"
    result = wcpipe("-c", str(_project(tmp_path, "cp1252", data)), "validate")
    assert result.code == 2, result
    assert f"byte 0x81 at offset {len(CP1252) + 3} is not valid cp1252" in result.err


def test_a_utf8_bom_under_another_encoding_is_refused(
    tmp_path: Path, wcpipe: Callable[..., Any]
) -> None:
    data = b"\xef\xbb\xbf" + "city,n\nZürich,1\n".encode()
    result = wcpipe("-c", str(_project(tmp_path, "cp1252", data)), "validate")
    assert result.code == 2, result
    assert result.err.strip().splitlines() == [
        f"error: {tmp_path / 'data.csv'}: starts with a UTF-8 byte order mark, but "
        "data.csv.encoding is cp1252: the file is UTF-8; declare encoding: utf-8"
    ]
    # Declared UTF-8, the same file is valid (its BOM is dropped on upload).
    assert wcpipe("-c", str(_project(tmp_path, "utf-8", data)), "validate").code == 0


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 1024])
def test_the_offset_is_exact_across_chunk_boundaries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    monkeypatch.setattr(data_files, "_CHUNK", chunk)
    path = tmp_path / "x.csv"
    good = "a,b\nü,€\n".encode()
    path.write_bytes(b"\xef\xbb\xbf" + good + b"\xe2\x82" + b"\n")  # a cut 3-byte character
    with pytest.raises(UndecodableFile) as caught:
        list(utf8_chunks(path, "utf-8"))
    assert caught.value.offset == 3 + len(good)


def test_uploaded_bytes_are_utf8_without_a_bom(tmp_path: Path) -> None:
    text = "city,n\nZürich,1\n"
    cases = {
        "cp1252": text.encode("cp1252"),
        "utf-8": b"\xef\xbb\xbf" + text.encode("utf-8"),
        "utf-16": text.encode("utf-16"),  # with its own BOM
        "latin-1": text.encode("latin-1"),
    }
    for encoding, data in cases.items():
        path = tmp_path / f"{encoding}.csv"
        path.write_bytes(data)
        uploaded = b"".join(utf8_chunks(path, encoding))
        assert uploaded == text.encode("utf-8"), encoding
        with Utf8Reader(path, encoding) as reader:
            assert reader.read() == uploaded
        assert data_file_sha256(path, encoding) == (
            hashlib.sha256(uploaded).hexdigest(),
            len(uploaded),
        )
    # A UTF-8 file without a BOM uploads byte for byte as it is.
    plain = tmp_path / "plain.csv"
    plain.write_bytes(text.encode("utf-8"))
    assert b"".join(utf8_chunks(plain, "utf-8")) == plain.read_bytes()
