"""The README's first commands are what CI runs and what a new user types."""

from __future__ import annotations

from support.paths import ROOT


def test_ci_runs_exactly_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()[-1]
    readme = (ROOT / "README.md").read_text()
    assert "python3 -m venv .venv && " in ci
    assert f"\n{ci}\n" in readme


def test_readme_opens_with_demo_then_tests() -> None:
    readme = (ROOT / "README.md").read_text()
    blocks = [b.split("\n", 1)[1] for b in readme.split("```sh")[1:3]]
    assert "wcpipe demo" in blocks[0]
    assert "pytest" in blocks[1]
