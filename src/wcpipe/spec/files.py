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
"""

from __future__ import annotations

import glob
from collections.abc import Callable, Iterable
from pathlib import Path

from wcpipe.core.errors import SpecError

PATTERN_CHARACTERS = frozenset("*?[")


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
