"""Streaming, CSV-correct reading of source files, shared by the sandbox's job runner and `verify`.

Contract:
- Standard library only (this module ships to AWS Glue in `wcpipe_lib.zip`, without pydantic).
- Input is a binary stream; it is decoded with a `TextIOWrapper(newline="")` so that the csv
  module sees quoted newlines, CRLF and LF as written, and memory stays constant however large
  the file. A UTF-8 byte order mark is dropped. The caller's stream is never closed.
- Blank lines are skipped (as Spark and Glue's crawler do); every other line is a record.
- Header names follow Glue's crawler: an empty header becomes `col<N>` (N is the 0-based position)
  and a repeated header gets a suffix `_<n>` (its second occurrence `_1`, the third `_2`, ...).
  Otherwise names are kept as written ("Game(s)"): the spec's `source` refers to them. Glue's
  catalog also lower-cases them; `transform.Mapper.index` matches names case-insensitively.
- Without a header, columns are named `col0`, `col1`, ... as the crawler names them.
"""

from __future__ import annotations

import codecs
import csv
import functools
import io
import itertools
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import BinaryIO


@dataclass(frozen=True)
class Dialect:
    """How the source files are written (the spec's `data.csv`)."""

    header: bool = True
    delimiter: str = ","
    quote: str = '"'
    encoding: str = "utf-8"

    @classmethod
    def from_config(cls, data: Mapping[str, object]) -> Dialect:
        """From the `csv` part of the job config (or `CsvDialect.model_dump()`)."""
        default = cls()
        return cls(
            header=bool(data.get("header", default.header)),
            delimiter=str(data.get("delimiter", default.delimiter)),
            quote=str(data.get("quote", default.quote)),
            encoding=str(data.get("encoding", default.encoding)),
        )


def _codec(encoding: str) -> str:
    # Excel and many exporters start UTF-8 files with a BOM; "utf-8-sig" drops it if present.
    return "utf-8-sig" if codecs.lookup(encoding).name == "utf-8" else encoding


@contextmanager
def _text(stream: BinaryIO, encoding: str) -> Iterator[io.TextIOWrapper]:
    text = io.TextIOWrapper(stream, encoding=_codec(encoding), newline="")
    try:
        yield text
    finally:
        # Detach so that closing (or collecting) the wrapper leaves the caller's stream open.
        text.detach()


def _reader(text: Iterable[str], delimiter: str, quote: str) -> Iterator[list[str]]:
    return csv.reader(text, delimiter=delimiter, quotechar=quote, doublequote=True, strict=False)


def glue_names(header: Sequence[str]) -> list[str]:
    """Column names as Glue's crawler makes them from a header row (see the module docstring)."""
    names: list[str] = []
    seen: dict[str, int] = {}
    for position, raw in enumerate(header):
        name = raw if raw.strip() else f"col{position}"
        count = seen.get(name, 0)
        seen[name] = count + 1
        names.append(name if count == 0 else f"{name}_{count}")
    return names


def iter_records(
    stream: BinaryIO,
    *,
    delimiter: str = ",",
    quote: str = '"',
    encoding: str = "utf-8",
    header: bool = True,
) -> Iterator[list[str]]:
    """The data records of a CSV stream, as lists of strings; the header line is skipped."""
    with _text(stream, encoding) as text:
        records = (r for r in _reader(text, delimiter, quote) if r)
        if header:
            next(records, None)
        yield from records


def read_header(
    stream: BinaryIO,
    *,
    delimiter: str = ",",
    quote: str = '"',
    encoding: str = "utf-8",
    header: bool = True,
) -> list[str]:
    """The column names of a CSV stream (Glue's naming); consumes the stream's first record."""
    with _text(stream, encoding) as text:
        first = next((r for r in _reader(text, delimiter, quote) if r), [])
    if header:
        return glue_names(first)
    return [f"col{i}" for i in range(len(first))]


def open_records(stream: BinaryIO, dialect: Dialect) -> tuple[list[str], Iterator[list[str]]]:
    """One pass over a stream: (column names, iterator of data records)."""
    text = io.TextIOWrapper(stream, encoding=_codec(dialect.encoding), newline="")
    records = (r for r in _reader(text, dialect.delimiter, dialect.quote) if r)
    first = next(records, None)
    if first is None:
        text.detach()
        return [], iter(())
    if dialect.header:
        return glue_names(first), _detaching(text, records)
    return [f"col{i}" for i in range(len(first))], _detaching(text, _prepend(first, records))


def _prepend(first: list[str], rest: Iterator[list[str]]) -> Iterator[list[str]]:
    yield first
    yield from rest


def _detaching(text: io.TextIOWrapper, records: Iterator[list[str]]) -> Iterator[list[str]]:
    try:
        yield from records
    finally:
        text.detach()


_CHUNK = 1 << 20
_BLANK_AFTER_NEWLINE = re.compile(rb"\n(?=\r?\n)")
_BARE_CR = re.compile(rb"\r(?!\n)")


def count_rows(stream: BinaryIO, dialect: Dialect) -> int:
    """The number of data records (header excluded, blank lines skipped), CSV-correct: a quoted
    newline does not start a record.

    Fast path (ASCII-compatible encodings, one-byte ASCII delimiter and quote): the stream is
    read in ~1 MiB chunks that end at a newline with an even number of quote characters, i.e.
    at a record boundary in a well-formed file. A chunk without any quote character is counted
    with `bytes.count` at memory speed; a chunk with quotes goes through csv.reader in a tight
    loop (bytes decoded as latin-1: only ASCII bytes matter for record boundaries). Other
    encodings (UTF-16...) use csv.reader over the decoded text throughout."""
    ascii_dialect = dialect.delimiter.isascii() and dialect.quote.isascii()
    if not ascii_dialect or codecs.lookup(_codec(dialect.encoding)).name not in _ASCII_COMPATIBLE:
        return _count_decoded(stream, dialect)
    quote = dialect.quote.encode("ascii")
    rows, first = 0, True
    while chunk := stream.read(_CHUNK):
        if not chunk.endswith(b"\n"):
            chunk += stream.readline()
        while chunk.count(quote) % 2 and (more := stream.readline()):
            chunk += more
        if first:
            chunk, first = chunk.removeprefix(codecs.BOM_UTF8), False
        counted = _count_well_formed(chunk, dialect, quote)
        if counted is None:
            # From here on (a record boundary: every earlier chunk was well formed), let
            # csv.reader decide, on latin-1 text: only ASCII bytes matter for boundaries.
            with _text(stream, "latin-1") as rest:
                lines = itertools.chain(io.StringIO(chunk.decode("latin-1"), newline=""), rest)
                rows += sum(1 for r in _reader(lines, dialect.delimiter, dialect.quote) if r)
            break
        rows += counted
    return rows - 1 if dialect.header and rows else rows


_ASCII_COMPATIBLE = frozenset({"utf-8-sig", "ascii", "latin-1", "iso8859-1", "iso8859-15"})
_ASCII_COMPATIBLE |= {"cp1252", "cp1250", "cp1251", "cp437", "cp850", "mac-roman"}


def _count_well_formed(chunk: bytes, dialect: Dialect, quote: bytes) -> int | None:
    outside = chunk
    if quote in chunk:
        # With well-formed quoting, quote characters alternate open/close (a doubled quote
        # toggles twice), so the even pieces of a split lie outside quotes: keep those, one
        # quote character standing for each quoted section.
        pieces = chunk.split(quote)
        outside = quote.join(pieces[::2]) + (quote if len(pieces) % 2 == 0 else b"")
    if (b"\r" in chunk and _BARE_CR.search(chunk)) or (
        outside is not chunk and _stray_quote(dialect.delimiter, dialect.quote).search(outside)
    ):
        # Old Mac line ends, or a quote that does not open or close a field ("6'2\"", which
        # csv.reader keeps as text): the caller lets csv.reader decide.
        return None
    lines = outside.count(b"\n")
    blank = int(outside.startswith((b"\n", b"\r\n")))
    if b"\n\n" in outside or b"\n\r\n" in outside:
        blank += len(_BLANK_AFTER_NEWLINE.findall(outside))
    unterminated = not outside.endswith(b"\n") and outside.rstrip(b"\r") != b""
    return lines - blank + unterminated


@functools.cache
def _stray_quote(delimiter: str, quote: str) -> re.Pattern[bytes]:
    """In `outside` text: a run of quote characters not preceded by a delimiter or newline, or
    not followed by a delimiter or line end. Starts with the literal quote: a memchr-speed scan."""
    d, q = re.escape(delimiter.encode("ascii")), re.escape(quote.encode("ascii"))
    return re.compile(rb"%s(?:(?=[^%s\r\n%s])|(?<=[^%s\n%s]%s))" % (q, d, q, d, q, q))


def _count_decoded(stream: BinaryIO, dialect: Dialect) -> int:
    rows = 0
    with _text(stream, dialect.encoding) as text:
        for record in _reader(text, dialect.delimiter, dialect.quote):
            if record:
                rows += 1
    return rows - 1 if dialect.header and rows else rows
