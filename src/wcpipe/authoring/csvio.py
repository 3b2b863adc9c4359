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


_CHUNK = 1 << 16  # 64 KiB: the passes stay in cache, temporaries under malloc's mmap threshold
_MAX_RECORD = 1 << 24  # a record spanning more than this many bytes: csv.reader decides
_ASCII_COMPATIBLE = frozenset({"utf-8-sig", "ascii", "latin-1", "iso8859-1", "iso8859-15"})
_ASCII_COMPATIBLE |= {"cp1252", "cp1250", "cp1251", "cp437", "cp850", "mac-roman"}


def count_rows(stream: BinaryIO, dialect: Dialect) -> int:
    """The number of data records (header excluded, blank lines skipped), CSV-correct: a quoted
    newline does not start a record; exactly what csv.reader counts.

    Fast path (ASCII-compatible encodings, one-byte ASCII delimiter and quote, neither CR nor
    LF): the stream is read in chunks that end at a newline. A chunk without a quote character
    is counted with `bytes.count`; one with quotes by `_count_chunk`, in C-speed passes. A chunk
    ending inside a quoted field is extended line by line. Where that reasoning does not hold
    (a stray quote such as 6'2", a bare CR, a record over `_MAX_RECORD` bytes), csv.reader
    counts the rest of the stream, on latin-1 text: only ASCII bytes matter for boundaries.
    Other encodings (UTF-16...) use csv.reader over the decoded text throughout."""
    d, q = dialect.delimiter, dialect.quote
    simple = d.isascii() and q.isascii() and len(d) == len(q) == 1 and d != q
    encoding = codecs.lookup(_codec(dialect.encoding)).name
    if not simple or d in "\r\n" or q in "\r\n" or encoding not in _ASCII_COMPATIBLE:
        return _count_decoded(stream, dialect)
    delimiter, quote = ord(d), ord(q)
    rows, first = 0, True
    while chunk := stream.read(_CHUNK):
        if not chunk.endswith(b"\n"):
            chunk += stream.readline()
        if first:
            chunk, first = chunk.removeprefix(codecs.BOM_UTF8), False
        counted = _count_chunk(chunk, delimiter, quote)
        while counted is not None and counted[1] and len(chunk) < _MAX_RECORD:
            # The chunk ends inside a quoted field: read on to the line that closes it.
            more = _lines_closing_quote(stream, quote, _MAX_RECORD - len(chunk))
            if not more:
                break  # end of the stream inside quotes: csv.reader counts that record too
            chunk += more
            counted = _count_chunk(chunk, delimiter, quote)
        if counted is None or (counted[1] and len(chunk) >= _MAX_RECORD):
            with _text(stream, "latin-1") as rest:
                lines = itertools.chain(io.StringIO(chunk.decode("latin-1"), newline=""), rest)
                rows += sum(1 for r in _reader(lines, d, q) if r)
            break
        rows += counted[0]
    return rows - 1 if dialect.header and rows else rows


def _lines_closing_quote(stream: BinaryIO, quote: int, limit: int) -> bytes:
    """Whole lines from `stream` up to one that leaves an odd number of quote characters in
    total (closing the open field), or `limit` bytes, or the end of the stream."""
    lines, odd, size = [], False, 0
    while not odd and size < limit and (line := stream.readline()):
        lines.append(line)
        odd, size = odd ^ (line.count(quote) % 2 == 1), size + len(line)
    return b"".join(lines)


# _count_chunk works on the chunk as one big int, a byte per 8-bit lane (int.from_bytes), the
# lanes holding the byte's class; shifting by whole lanes lines up each byte with its
# neighbours, so "a quote after a plain character" is one shift and two ANDs over the whole chunk
# at C speed. The tagged lanes of quotes and newlines are then compacted into a short string
# (to_bytes, then delete the zero lanes), where parity is a matter of slicing.
_QUOTE, _NL, _CR, _OTHER, _DELIM = 0b0000_0011, 0b0000_1000, 0b0010_0000, 0b0001_0000, 0
# Tags in the compacted string: a quote (bit 1) with a plain character on its left (bit 0), a
# newline (bit 3) ending a blank line (bit 6).
_Q_LEFT = b"\x03"
_LINES = bytes.maketrans(b"\x02\x03\x08\x48", b'""\nb')


@functools.cache
def _classes(delimiter: int, quote: int) -> bytes:
    table = bytearray([_OTHER]) * 256
    table[10], table[13], table[delimiter], table[quote] = _NL, _CR, _DELIM, _QUOTE
    return bytes(table)


@functools.cache
def _lanes(lanes: int, value: int) -> int:
    """`value` in each of `lanes` lanes (a power of two: few distinct sizes are cached)."""
    return int.from_bytes(bytes([value]) * lanes, "little")


def _count_chunk(chunk: bytes, delimiter: int, quote: int) -> tuple[int, bool] | None:
    """(records ended in `chunk`, does it end inside a quoted field), for a chunk starting at a
    record boundary; None where csv.reader would disagree with this reasoning.

    Quote characters are taken to alternate open/close (a doubled quote closes and reopens).
    csv.reader agrees on every newline when each opening quote (even rank) follows a
    delimiter, a newline, a quote or the chunk's start: then it opens a field there. (A closing
    quote followed by text, "a"b, leaves csv.reader in an unquoted field, outside quotes as
    the parity says; a later quote in that field follows text and fails the test.) Anything
    else (6'2" in an unquoted field) returns None, as does a CR not followed by LF. A record
    ends at each newline outside quotes, but for the newlines ending blank lines (LF or CRLF
    right after another LF or the chunk's start), and an unterminated last line ends one."""
    if quote not in chunk:
        if b"\r" in chunk and _BARE_CR.search(chunk):
            return None
        return _count_unquoted(chunk), False
    n = len(chunk)
    size = 1 << (n - 1).bit_length()
    i = int.from_bytes(chunk.translate(_classes(delimiter, quote)), "little")
    if b"\r" in chunk:
        cr_next = (i << 6) & _lanes(size, _NL)  # a CR, moved to the next lane's LF bit
        if cr_next & i != cr_next:
            return None
    # Shifting left by 8k moves each lane k lanes up (towards the chunk's end).
    quote_left = (i << 4) & i & _lanes(size, 1)  # lane i-1's "plain" bit onto lane i's bit 0
    newline = i & _lanes(size, _NL)
    blank = newline & ((i << 8) | _NL | ((i << 6) & ((i << 16) | _NL << 8)))
    tagged = (i & _lanes(size, 0b10)) | newline | quote_left | (blank << 3)
    marks = tagged.to_bytes(n, "little").translate(None, b"\x00")
    quotes = marks.translate(None, b"\x08\x48")
    if _Q_LEFT in quotes[0::2]:  # an opening quote after text
        return None
    # One line per newline mark; dropping pairs of quotes leaves one on each line with an odd
    # number of them, and the newlines between such lines are inside quotes.
    lines = marks.translate(_LINES).replace(b'""', b"")
    if b'"' in lines:
        lines = b"".join(lines.split(b'"')[0::2])
    inside = len(quotes) % 2 == 1
    return lines.count(b"\n") + (inside or not chunk.endswith(b"\n")), inside


def _count_unquoted(chunk: bytes) -> int:
    lines = chunk.count(b"\n")
    blank = int(chunk.startswith((b"\n", b"\r\n")))
    if b"\n\n" in chunk or b"\n\r\n" in chunk:
        blank += len(_BLANK_AFTER_NEWLINE.findall(chunk))
    unterminated = not chunk.endswith(b"\n") and chunk.rstrip(b"\r") != b""
    return lines - blank + unterminated


_BLANK_AFTER_NEWLINE = re.compile(rb"\n(?=\r?\n)")
_BARE_CR = re.compile(rb"\r(?!\n)")


def _count_decoded(stream: BinaryIO, dialect: Dialect) -> int:
    rows = 0
    with _text(stream, dialect.encoding) as text:
        for record in _reader(text, dialect.delimiter, dialect.quote):
            if record:
                rows += 1
    return rows - 1 if dialect.header and rows else rows
