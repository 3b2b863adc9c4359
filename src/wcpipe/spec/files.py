"""The spec's local data files: `data.files` entries, each a path or a glob pattern, resolved
against the spec file's folder.

- An entry holding `*`, `?` or `[` is a pattern, matched by `glob.glob(recursive=True)`: `**`
  spans folders and, as in a shell, `*` skips names that start with a dot. Only files match.
- A pattern's matches sort by their path relative to the spec's folder, lexically (code point
  order, `/` between folders), so the same files are listed and uploaded in the same order on
  every machine. Entries keep the order they are written in; a file two entries name counts
  once, at the first.
- `resolve` is lenient (what `down` needs: a literal entry's path even when the file is gone, so
  its object's key is known; a pattern matching nothing adds nothing). `check` is what `validate`,
  `plan` and `up` run before any AWS request: every literal entry is a file, every pattern
  matches one, and no two files share a name (each uploads to `<prefix><file name>`).
- `utf8_chunks` is what a file uploads as: UTF-8 without a byte order mark, decoded from the
  spec's `data.csv.encoding`; `check_decodes` (run by `Spec.check_data_files`) refuses a file
  that does not decode, naming it and the byte offset.
"""

from __future__ import annotations

import codecs
import glob
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from wcpipe.core.errors import SpecError

PATTERN_CHARACTERS = frozenset("*?[")
_CHUNK = 1024 * 1024


def is_pattern(entry: str) -> bool:
    return not PATTERN_CHARACTERS.isdisjoint(entry)


def matches(base_dir: Path, pattern: str) -> list[Path]:
    """The files `pattern` matches under `base_dir`, sorted by relative path, lexically."""
    found = glob.glob(pattern, root_dir=base_dir, recursive=True)
    files = sorted(Path(p).as_posix() for p in found if (base_dir / p).is_file())
    return [base_dir / p for p in files]


def _expand(base_dir: Path, entries: Iterable[str]) -> list[tuple[int, str, list[Path]]]:
    """(index, entry, its paths) for every entry, each path only at its first entry."""
    seen: set[Path] = set()
    out = []
    for i, entry in enumerate(entries):
        paths = matches(base_dir, entry) if is_pattern(entry) else [base_dir / entry]
        fresh = [p for p in paths if p.resolve() not in seen]
        seen.update(p.resolve() for p in fresh)
        out.append((i, entry, fresh))
    return out


def resolve(base_dir: Path, entries: Iterable[str]) -> list[Path]:
    """Every path the entries name, in order (a literal entry's even if it does not exist)."""
    return [p for _, _, paths in _expand(base_dir, entries) for p in paths]


def check(base_dir: Path, entries: Iterable[str], where: Callable[[int], str]) -> list[Path]:
    """`resolve`, or raise SpecError naming the first bad entry: `where(i)` is the spec file and
    line of entry i."""
    hint = f"paths and patterns are relative to the spec file's folder, {base_dir}"
    by_name: dict[str, Path] = {}
    out: list[Path] = []
    for i, entry, paths in _expand(base_dir, entries):
        at = f"{where(i)}: data.files[{i}]"
        if is_pattern(entry) and not paths:
            raise SpecError(f"{at}: the pattern {entry!r} matches no file ({hint})")
        if not is_pattern(entry) and paths and not paths[0].is_file():
            what = "is a folder, not a file" if paths[0].is_dir() else "does not exist"
            raise SpecError(f"{at}: {entry!r} {what} ({hint})")
        for path in paths:
            other = by_name.setdefault(path.name, path)
            if other != path:
                raise SpecError(
                    f"{at}: {path} and {other} would both upload to the key "
                    f"<prefix>{path.name}; give them different file names"
                )
        out.extend(paths)
    return out


def upload_codec(encoding: str) -> str:
    """The codec a data file is decoded with before upload: a UTF-8 file's byte order mark is
    dropped ("utf-8-sig"), other codecs (UTF-16's own BOM included) decode as named."""
    return "utf-8-sig" if codecs.lookup(encoding).name == "utf-8" else encoding


class UndecodableFile(ValueError):
    """A data file holds bytes its declared encoding cannot decode, at `offset`."""

    def __init__(self, path: Path, encoding: str, offset: int, data: bytes) -> None:
        super().__init__(f"{path}: not valid {encoding}")
        self.path, self.encoding, self.offset, self.data = path, encoding, offset, data


def utf8_chunks(path: Path, encoding: str) -> Iterator[bytes]:
    """The bytes a data file is uploaded as: decoded from `encoding` and encoded as UTF-8, with
    no byte order mark, a chunk at a time. AWS Glue reads CSV as UTF-8: its DynamicFrame "supports
    custom encoding in XML, but not in other formats like JSON or CSV" (awslabs/aws-glue-samples,
    examples/converting_char_encoding.md), so the object in S3 is what Glue can read. A valid
    UTF-8 file without a BOM comes out byte for byte as it is. Raises UndecodableFile naming the
    byte offset of the first byte that does not decode."""
    decoder = codecs.getincrementaldecoder(upload_codec(encoding))(errors="strict")
    fed = 0
    with path.open("rb") as handle:
        while True:
            chunk = handle.read(_CHUNK)
            fed += len(chunk)
            try:
                text = decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                # exc.object is what the decoder was handed (its buffered bytes and this chunk,
                # less a BOM it consumed): it ends where the stream read so far ends.
                offset = fed - len(exc.object) + exc.start
                bad = exc.object[exc.start : exc.end]
                raise UndecodableFile(path, encoding, offset, bad) from None
            if text:
                yield text.encode("utf-8")
            if not chunk:
                return


def undecodable_message(path: Path, encoding: str, offset: int, data: bytes) -> str:
    """One line: which file, which bytes at which offset, and what to do."""
    shown = " ".join(f"0x{b:02x}" for b in data[:4])
    return (
        f"{path}: byte {shown} at offset {offset} is not valid {encoding} (data.csv.encoding); "
        "declare the encoding the file is written in (e.g. cp1252, latin-1, utf-16)"
    )


def check_decodes(paths: Iterable[Path], encoding: str) -> None:
    """Every file decodes in `encoding` (read whole, a chunk at a time), or SpecError naming the
    first file and byte offset that does not. A file that starts with a UTF-8 byte order mark is
    UTF-8: declared in another encoding (where the BOM would decode as "ï»¿" text into the first
    header), it is refused too."""
    for path in paths:
        with path.open("rb") as handle:
            bom = handle.read(len(codecs.BOM_UTF8)) == codecs.BOM_UTF8
        if bom and upload_codec(encoding) != "utf-8-sig":
            raise SpecError(
                f"{path}: starts with a UTF-8 byte order mark, but data.csv.encoding is "
                f"{encoding}: the file is UTF-8; declare encoding: utf-8"
            )
        try:
            for _ in utf8_chunks(path, encoding):
                pass
        except UndecodableFile as exc:
            raise SpecError(undecodable_message(path, encoding, exc.offset, exc.data)) from None
