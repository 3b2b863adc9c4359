"""All terminal output: the only module that imports rich.

Data (tables, JSON, log lines) goes to stdout; progress, spinners, warnings and errors go to
stderr. Colour and live displays appear only on a TTY. With `--output json` the data is one JSON
document on stdout and nothing else is written there.
"""

from __future__ import annotations

import json
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from wcpipe.provision.engine import Reporter

if TYPE_CHECKING:
    from rich.console import Console

    from wcpipe.provision.resources.base import Resource

_state: dict[str, Any] = {"output": "text", "debug": False, "color": True}
_consoles: dict[str, Console] = {}


def configure(*, output: str = "text", debug: bool = False, color: bool = True) -> None:
    """`color=False` (--no-color) turns colour and styles off; rich honours NO_COLOR itself."""
    if color != _state["color"]:
        _consoles.clear()
    _state["output"] = output
    _state["debug"] = debug
    _state["color"] = color


def json_mode() -> bool:
    return bool(_state["output"] == "json")


def _console(stream: str) -> Console:
    if stream not in _consoles:
        from rich.console import Console

        # No `file=`: rich then looks up sys.stdout/sys.stderr on every write, so a console
        # survives the streams being swapped (tests, the demo's in-process commands).
        target = sys.stdout if stream == "out" else sys.stderr
        _consoles[stream] = Console(
            stderr=stream == "err",
            # Piped output is data: do not wrap it at 80 columns, unless COLUMNS says to.
            width=_columns() or (None if target.isatty() else 200),
            highlight=False,
            soft_wrap=False,
            no_color=not _state["color"] or None,
            color_system="auto" if _state["color"] else None,
        )
    return _consoles[stream]


def _columns() -> int | None:
    """COLUMNS, the terminal width a person set (`COLUMNS=80 wcpipe status | less`)."""
    raw = os.environ.get("COLUMNS", "")
    return int(raw) if raw.isdigit() and int(raw) > 0 else None


def reset() -> None:
    """Forget consoles (tests swap sys.stdout/sys.stderr between invocations)."""
    _consoles.clear()


def is_tty() -> bool:
    return sys.stderr.isatty()


# -- stderr: messages ------------------------------------------------------------------------


def info(message: str) -> None:
    _console("err").print(message, markup=False)


def step(message: str) -> None:
    """A line of progress for long operations."""
    _console("err").print(f"[dim]·[/] {_escape(message)}")


def warn(message: str) -> None:
    _console("err").print(f"[yellow]warning:[/] {_escape(message)}")


def error(message: str, hint: str | None = None) -> None:
    console = _console("err")
    console.print(f"[bold red]error:[/] {_escape(message)}", soft_wrap=True)
    if hint:
        console.print(f"[dim]hint: {_escape(hint)}[/]", soft_wrap=True)


def traceback() -> None:
    _console("err").print_exception(show_locals=False)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def confirm(question: str) -> bool | None:
    """The person's answer (default no), or None when there is no one to ask (stdin is not a
    terminal)."""
    import click

    if not sys.stdin.isatty():
        return None
    return bool(click.confirm(question, default=False, err=True))


@contextmanager
def spinner(message: str) -> Iterator[None]:
    if not is_tty() or json_mode():
        step(message)
        yield
        return
    with _console("err").status(_escape(message)):
        yield


# -- stdout: data ----------------------------------------------------------------------------


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def line(text: str) -> None:
    """One line of data (a log event) on stdout, unstyled."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def table(
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    title: str | None = None,
    styles: dict[str, str] | None = None,
    show_header: bool = True,
) -> None:
    from rich.table import Table

    numeric = [
        any(v not in (None, "") for v in column) and all(_is_number(v) for v in column)
        for column in zip(*rows, strict=False)
    ] or [False] * len(columns)
    console = _console("out")
    if show_header and _least_width(columns, rows, numeric) > console.width:
        # Too many columns to keep every number whole: one block per row, as psql's \x does.
        for n, row in enumerate(rows, 1):
            heading = f"{title}: row {n}" if title else f"row {n}"
            pairs = list(zip(columns, row, strict=False))
            table(["column", "value"], pairs, title=heading, show_header=False)
        return
    t = Table(
        title=title,
        title_justify="left",
        title_style="bold",
        show_edge=False,
        header_style="bold",
        show_header=show_header,
        min_width=len(title or ""),
    )
    for c, is_number in zip(columns, numeric, strict=True):
        # A number is never split across lines (it does not shrink; the other columns wrap).
        if is_number:
            t.add_column(Breakable(c), justify="right", no_wrap=True)
        else:
            t.add_column(Breakable(c))
    for row in rows:
        t.add_row(*[_cell(v, styles) for v in row])
    console.print(t)


def _least_width(columns: Sequence[str], rows: Sequence[Sequence[Any]], numeric: list[bool]) -> int:
    """The narrowest the table can be with every number whole and every other cell wrapped at
    its widest piece: each column's content, its padding (2) and the rule between columns (1)."""
    total = -1
    for i, (name, is_number) in enumerate(zip(columns, numeric, strict=True)):
        cells = [Breakable(name), *(_cell(row[i], None) for row in rows if i < len(row))]
        if is_number:
            need = max(len(c.text) for c in cells[1:])
            need = max(need, Breakable(name).least())
        else:
            need = max(c.least() for c in cells)
        total += need + 3
    return total


_NUMBER = re.compile(r"-?\d[\d,]*(\.\d+)?([eE][-+]?\d+)?")


def _is_number(value: Any) -> bool:
    """A number, or an empty cell (which does not decide a column)."""
    if value is None or value == "":
        return True
    if isinstance(value, bool):
        return False
    return isinstance(value, int | float) or bool(_NUMBER.fullmatch(str(value).strip()))


# Where a cell may wrap: after spaces, and after the separators of names, ARNs, paths and keys
# (`wcpipe-fifa-s3-crawler`, `/aws-glue/jobs/output`, `arn:aws:iam::...`), not inside a word
# or a number (no break before a digit after `.` or `,`: 1,850,547 and 3.14 stay whole).
_PIECE = re.compile(r"[^\s]*?(?:\s+|[-/:_;=|@]|[.,](?!\d)|$)")


class Breakable:
    """A table cell that wraps at sensible points (see `_PIECE`) instead of folding a name
    mid-word; a piece wider than the column is folded as a last resort. Its measurement tells
    rich the widest piece (the least it needs) and the longest line (the most)."""

    def __init__(self, text: str, style: str = "") -> None:
        self.text = text
        self.style = style

    def _pieces(self, line: str) -> list[str]:
        return [p for p in _PIECE.findall(line) if p]

    def least(self) -> int:
        """The widest piece: the narrowest this cell can be without folding a word."""
        pieces = (p.rstrip() for ln in self.text.split("\n") for p in self._pieces(ln))
        return max(1, max((len(p) for p in pieces), default=0))

    def __rich_measure__(self, console: Any, options: Any) -> Any:
        from rich.measure import Measurement

        longest = max(len(ln) for ln in self.text.split("\n"))
        return Measurement(self.least(), max(longest, 1)).with_maximum(options.max_width)

    def wrap(self, width: int) -> list[str]:
        out: list[str] = []
        for line in self.text.split("\n"):
            current = ""
            for piece in self._pieces(line):
                if current and len(current + piece.rstrip()) > width:
                    out.append(current.rstrip())
                    current = ""
                current += piece
                while len(current.rstrip()) > width:  # one piece wider than the column
                    out.append(current[:width])
                    current = current[width:]
            out.append(current.rstrip())
        return out

    def __rich_console__(self, console: Any, options: Any) -> Any:
        from rich.text import Text

        for line in self.wrap(max(options.max_width, 1)):
            yield Text(line, style=self.style, no_wrap=True, end="\n")


_DEFAULT_STYLES = {
    "create": "green",
    "created": "green",
    "update": "yellow",
    "updated": "yellow",
    "delete": "red",
    "deleted": "red",
    "not-owned": "bold red",
    "missing": "red",
    "drifted": "yellow",
    "present": "green",
    "none": "dim",
    "unchanged": "dim",
    "ok": "green",
    "MISMATCH": "bold red",
    "SUCCEEDED": "green",
    "FAILED": "bold red",
}


def _cell(value: Any, styles: dict[str, str] | None) -> Breakable:
    text = "" if value is None else str(value)
    return Breakable(text, (styles or _DEFAULT_STYLES).get(text, ""))


def kv(pairs: Sequence[tuple[str, Any]], *, title: str | None = None) -> None:
    table(["", ""], [(k, v) for k, v in pairs], title=title, show_header=False)


# -- live progress of a resource graph ---------------------------------------------------------


NOTE_EVERY = 15.0
"""Seconds between two progress notes of one resource printed as lines (no TTY): a wait polls
every few seconds, and its log should not."""


class ProgressReporter(Reporter):
    """Each resource's state in a live table on a TTY (with how long it has waited and what
    for); plain lines on stderr otherwise, progress notes at most every NOTE_EVERY seconds."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._rows: dict[str, list[str]] = {}
        self._started: dict[str, float] = {}
        self._noted: dict[str, float] = {}
        self._clock = clock
        self._live: Any = None

    def begin(self, resources: list[Resource], verb: str) -> None:
        for r in sorted(resources, key=lambda r: r.key):
            self._rows[r.key] = [r.kind, r.name, "waiting", ""]
        if is_tty() and not json_mode():
            from rich.live import Live

            self._live = Live(
                self._render(), console=_console("err"), refresh_per_second=8, transient=False
            )
            self._live.start()

    def _render(self) -> Any:
        from rich.table import Table

        t = Table(show_edge=False, header_style="bold")
        for c in ("resource", "name", "state", ""):
            t.add_column(c)
        for key, (kind, name, state, note) in self._rows.items():
            elapsed = ""
            if key in self._started and state not in (
                "created",
                "updated",
                "unchanged",
                "deleted",
                "absent",
                "kept",
                "failed",
            ):
                elapsed = f"{time.monotonic() - self._started[key]:.0f}s"
            t.add_row(kind, name, _cell(state, None), " ".join(x for x in (note, elapsed) if x))
        return t

    def _update(self, key: str, state: str | None = None, note: str | None = None) -> None:
        with self._lock:
            row = self._rows.setdefault(key, [key, "", "", ""])
            if state is not None:
                row[2] = state
            if note is not None:
                row[3] = note
            if self._live is not None:
                self._live.update(self._render())
            elif state is not None and state not in ("unchanged", "absent"):
                step(f"{row[0]} {row[1]}: {state}{(' - ' + row[3]) if row[3] else ''}")
            elif state is None and note:
                now = self._clock()
                if now - self._noted.get(key, -NOTE_EVERY) >= NOTE_EVERY:
                    self._noted[key] = now
                    step(f"{row[0]} {row[1]}: {note}")

    def started(self, key: str, doing: str) -> None:
        self._started[key] = time.monotonic()
        if doing != "checking":
            self._update(key, doing)

    def note(self, key: str, message: str) -> None:
        self._update(key, None, message)

    def finished(self, key: str, outcome: str) -> None:
        self._update(key, outcome, "")

    def failed(self, key: str, error: str) -> None:
        self._update(key, "failed", error)

    def stopping(self, message: str) -> None:
        """Ctrl-C: said at once, under the table as it stands."""
        with self._lock:
            if self._live is not None:
                self._live.update(self._render())
                self._live.stop()
                self._live = None
        warn(message)

    def end(self) -> None:
        if self._live is not None:
            self._live.update(self._render())
            self._live.stop()
            self._live = None
