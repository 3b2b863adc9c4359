"""The embedded PostgreSQL never outlives the process that started it: however that process ends
(stop(), SIGTERM, SIGKILL), no server keeps running and no temp dir is left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

CHILD = """
import sys, time
from wcpipe.sandbox.warehouse_pg import EmbeddedPostgres
pg = EmbeddedPostgres()
print(pg._server.get_pid(), pg._temp, flush=True)
if sys.argv[1] == "stop":
    pg.stop()
    print("stopped", flush=True)
time.sleep(600)
"""


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A stopped postmaster that init has not reaped yet is a zombie: gone for our purpose.
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(")")[-1].split()[0] == "Z")


def _start(how: str) -> tuple[subprocess.Popen[str], int, Path]:
    child = subprocess.Popen([sys.executable, "-c", CHILD, how], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    pid, temp = child.stdout.readline().split()
    return child, int(pid), Path(temp)


def _gone(pid: int, temp: Path, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _running(pid) and not temp.exists():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_a_killed_process_leaves_no_server_behind(sig: signal.Signals) -> None:
    child, pid, temp = _start("run")
    try:
        assert _running(pid) and temp.exists()
        child.send_signal(sig)
        child.wait(timeout=10)
        assert _gone(pid, temp), f"PostgreSQL {pid} or {temp} outlived its process"
    finally:
        if _running(pid):
            os.kill(pid, signal.SIGKILL)


def test_stop_stops_the_server_and_the_watchdog() -> None:
    child, pid, temp = _start("stop")
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "stopped"
        assert _gone(pid, temp, timeout=1.0)
        child.kill()
        child.wait(timeout=10)
    finally:
        if _running(pid):
            os.kill(pid, signal.SIGKILL)
