"""Ctrl-C during `up`, as a person presses it: the command says at once that it is stopping,
ends within a bounded time with exit 130, says what was done and that the next `up` converges;
the next `up` does, and `plan` then has nothing to do (issue 13)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.paths import ROOT, SPEC_PATH

pytestmark = pytest.mark.e2e

ENTRY = "import sys; from wcpipe.cli import main; sys.exit(main())"


def test_ctrl_c_during_up_stops_promptly_and_the_next_up_converges(
    sandbox: Any, tmp_path: Path, wcpipe: Callable[..., Any]
) -> None:
    (tmp_path / "config").mkdir()
    shutil.copytree(ROOT / "data", tmp_path / "data")
    spec = tmp_path / "config" / "pipeline.yaml"
    shutil.copy(SPEC_PATH, spec)
    base = ["-c", str(spec), "--endpoint-url", sandbox.endpoint]
    env = {**os.environ, "WCPIPE_POLL_INTERVAL": "0.2"}
    proc = subprocess.Popen(
        [sys.executable, "-c", ENTRY, *base, "up", "--yes"],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert proc.stderr is not None
    seen = []
    for line in proc.stderr:  # the first resource being created: Ctrl-C now
        seen.append(line)
        if ": creating" in line:
            break
    pressed = time.monotonic()
    proc.send_signal(signal.SIGINT)
    rest = proc.stderr.read()
    code = proc.wait(timeout=60)
    took = time.monotonic() - pressed
    err = "".join(seen) + rest
    assert code == 130, err
    assert took < 30, (took, err)
    assert "stopping: no new up steps" in err or "interrupted" in err, err
    assert "Traceback" not in err

    again = wcpipe(*base, "up", "--yes")
    assert again.code == 0, again
    settled = wcpipe(*base, "plan", "--detailed-exitcode")
    assert settled.code == 0, settled
    assert wcpipe(*base, "down", "--yes").code == 0
