"""The package that ships is the package that is tested: the wheel built from this tree holds
the demo spec and the FIFA data (`wcpipe/bundled/`), and `wcpipe demo` from a fresh venv
outside the checkout, with only the wheel installed, runs to exit 0.

The wheel is built as a user builds it (`pip wheel --no-deps`, with build isolation: pip fetches
`setuptools` from the configured index, here the machine's local mirror; nothing else is
downloaded). The fresh venv has no pip and none of wcpipe's dependencies: the wheel goes in
with `pip --python <venv> install --no-deps`, and a `.pth` file adds this venv's
site-packages as a plain path after the venv's own, so the dependencies import from there
while the checkout's editable wcpipe does not (a `.pth` line that is a path adds the directory
only; the editable install's own `.pth` hook there is never run)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
from support.paths import ROOT

pytestmark = pytest.mark.e2e

BUNDLED = (
    "wcpipe/bundled/config/pipeline.yaml",
    "wcpipe/bundled/data/FIFA World Cup Attendance.csv",
)
# What `pip wheel .` reads: the project's metadata and the package directories it names.
TREE = ("pyproject.toml", "README.md", "src", "lambda", "glue", "config", "data")


def _run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, (args, done.stdout[-3000:], done.stderr[-3000:])
    return done.stdout


def _wheel(tmp_path: Path) -> Path:
    """`pip wheel --no-deps` of a copy of this tree (the bundled/ links kept as links), so the
    build leaves nothing in the checkout."""
    source = tmp_path / "source"
    source.mkdir()
    for name in TREE:
        if (ROOT / name).is_dir():
            shutil.copytree(
                ROOT / name,
                source / name,
                symlinks=True,
                ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"),
            )
        else:
            shutil.copy2(ROOT / name, source / name)
    out = tmp_path / "dist"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    _run(*pip, "wheel", "--no-deps", "--quiet", "-w", out, source, cwd=tmp_path)
    (wheel,) = out.glob("wcpipe-*.whl")
    return wheel


def test_wheel_installed_in_a_fresh_venv_runs_the_demo(tmp_path: Path) -> None:
    wheel = _wheel(tmp_path)
    names = zipfile.ZipFile(wheel).namelist()
    assert set(BUNDLED) <= set(names), [n for n in names if "bundled" in n]

    venv = tmp_path / "venv"
    _run(sys.base_prefix + "/bin/python3", "-m", "venv", "--without-pip", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--python", python]
    _run(*pip, "install", "--no-deps", "--no-index", "--quiet", wheel, cwd=tmp_path)
    site = Path(
        _run(
            python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))", cwd=tmp_path
        ).strip()
    )
    (site / "zz_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")

    outside = tmp_path / "elsewhere"
    outside.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PYTHON"))}
    env["WCPIPE_POLL_INTERVAL"] = "0.1"
    where = _run(
        python,
        "-c",
        "import wcpipe; from wcpipe.cli.sandbox_cmd import bundled_spec; "
        "print(wcpipe.__file__); print(bundled_spec())",
        cwd=outside,
        env=env,
    ).splitlines()
    assert all(line.startswith(str(site)) for line in where), where  # the wheel's, not ROOT's

    demo = subprocess.run(
        [str(venv / "bin" / "wcpipe"), "demo"],
        cwd=outside,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert demo.returncode == 0, (demo.stdout[-3000:], demo.stderr[-3000:])
    assert "verify public.attendance" in demo.stdout and "MISMATCH" not in demo.stdout
    assert "bundled demo spec is missing" not in demo.stderr
