"""The one way tests run the `wcpipe` command in-process: `run_cli(*args)`.

It calls the console entry point (`wcpipe.cli.main`, with its error boundary and exit codes) and
captures what it writes to stdout and stderr by swapping the streams, so it works from fixtures
of any scope (capsys is function-scoped). `ui` forgets its consoles before and after, so none
holds on to a swapped stream. Time is injected the way the CLI takes it, through `main`, never
by patching a module.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from wcpipe.core.wait import Timing
    from wcpipe.spec.names import Names


class CliResult(NamedTuple):
    """A finished `wcpipe` run: exit code, stdout, stderr (unpacks as `code, out, err`)."""

    code: int
    out: str
    err: str

    def __repr__(self) -> str:
        return f"CliResult(code={self.code}, out={self.out[-2000:]!r}, err={self.err[-2000:]!r})"


def run_cli(*args: str, timing: Timing | None = None) -> CliResult:
    """`wcpipe <args>` in this process; with `timing`, every wait of the command runs on it
    (`wcpipe.cli.main(timing=...)`, which hands it to the App)."""
    from wcpipe import ui
    from wcpipe.cli import main

    out, err = io.StringIO(), io.StringIO()
    ui.reset()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(list(args), timing=timing)
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    ui.reset()
    return CliResult(code, out.getvalue(), err.getvalue())


@contextlib.contextmanager
def deployed(sandbox: Any, spec: Path) -> Iterator[tuple[list[str], Names]]:
    """`up --yes` of `spec` on `sandbox` (fast polls), yielding the CLI's base arguments and the
    pipeline's names; `down --yes` after, which must succeed."""
    import pytest

    from wcpipe.spec.model import load_spec
    from wcpipe.spec.names import Names

    base = ["-c", str(spec), "--endpoint-url", sandbox.endpoint]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WCPIPE_POLL_INTERVAL", "0.1")
        up = run_cli(*base, "up", "--yes")
        assert up.code == 0, up
        yield base, Names.of(load_spec(spec), sandbox.account_id, sandbox.region)
        down = run_cli(*base, "down", "--yes")
        assert down.code == 0, down
