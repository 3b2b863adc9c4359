"""Start-up: `wcpipe --help` and `wcpipe validate` wall time minus `python -c pass` .

Each round runs the three commands back to back (in a rotating order), so the noise of this
shared machine hits them alike; the overhead is the median of the per-round differences. The
console script is the one pip installed in this venv (what a user runs). One extra run with
`-X importtime` names the heaviest imports of `validate`, to say where the time goes.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from common import ROOT, SPEC_PATH, Results, median, offline, spread

GOAL = 0.2  # seconds of overhead over `python -c pass`
_ALWAYS = {"site", "encodings", "codecs", "io", "abc", "os", "stat", "posixpath", "genericpath"}


def _commands() -> dict[str, list[str]]:
    script = str(Path(sys.executable).parent / "wcpipe")
    prefix = [script] if os.path.exists(script) else [sys.executable, "-m", "wcpipe.cli"]
    return {
        "pass": [sys.executable, "-c", "pass"],
        "--help": [*prefix, "--help"],
        "validate": [*prefix, "-c", str(SPEC_PATH), "validate"],
    }


def _time(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    return time.perf_counter() - start


def heaviest_imports(args: list[str], top: int = 6) -> list[tuple[str, float]]:
    """Packages (names without a dot) by cumulative import time, in seconds, under
    `python -X importtime <args>`."""
    run = subprocess.run(
        [sys.executable, "-X", "importtime", *args], capture_output=True, text=True, cwd=ROOT
    )
    totals: dict[str, float] = {}
    for line in run.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        parts = [p.strip() for p in line.removeprefix("import time:").split("|")]
        try:
            cumulative = int(parts[1]) / 1e6
        except ValueError:
            continue
        name = parts[2]
        if "." not in name and not name.startswith("_") and name not in _ALWAYS:
            totals[name] = max(totals.get(name, 0.0), cumulative)
    return sorted(totals.items(), key=lambda kv: -kv[1])[:top]


def run(results: Results, *, quick: bool) -> None:
    offline()
    rounds = 4 if quick else 12
    cmds = _commands()
    names = list(cmds)
    times: dict[str, list[float]] = {n: [] for n in names}
    for name in names:  # warm the page cache and .pyc files
        _time(cmds[name])
    for i in range(rounds):
        rotated = names[i % 3 :] + names[: i % 3]
        for name in rotated:
            times[name].append(_time(cmds[name]))
    base = times["pass"]
    results.add("startup", "python -c pass", f"{median(base) * 1000:.0f} ms", notes=spread(base))
    for name in ("--help", "validate"):
        overhead = [t - b for t, b in zip(times[name], base, strict=True)]
        m = median(overhead)
        results.add(
            "startup",
            f"wcpipe {name} overhead",
            f"{m * 1000:.0f} ms",
            f"< {GOAL * 1000:.0f} ms",
            m < GOAL,
            f"wall {median(times[name]) * 1000:.0f} ms",
        )
    script = str(Path(sys.executable).parent / "wcpipe")
    heavy = heaviest_imports([script, "-c", str(SPEC_PATH), "validate"])
    results.details["startup.validate_imports_s"] = heavy
    results.add(
        "startup",
        "validate: heaviest imports",
        ", ".join(f"{n} {s * 1000:.0f}ms" for n, s in heavy[:4]),
    )
