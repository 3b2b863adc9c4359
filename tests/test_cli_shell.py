"""Shell habits: `wcpipe completion bash|zsh|fish` and `--no-color` (issue 13)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest
from support.paths import SPEC_PATH


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_prints_the_shell_script(wcpipe: Callable[..., Any], shell: str) -> None:
    result = wcpipe("completion", shell)
    assert result.code == 0, result
    assert "_WCPIPE_COMPLETE" in result.out
    assert f"{shell}_complete" in result.out


def test_completion_of_an_unknown_shell_is_a_usage_error(wcpipe: Callable[..., Any]) -> None:
    result = wcpipe("completion", "tcsh")
    assert result.code == 2 and "'tcsh' is not one of" in result.err


def test_the_script_completes_commands_and_options() -> None:
    """What the installed script asks the program, answered by the real entry point."""

    def complete(words: str, cword: int) -> list[str]:
        env = {**os.environ, "_WCPIPE_COMPLETE": "bash_complete"}
        env.update(COMP_WORDS=words, COMP_CWORD=str(cword))
        code = "import sys; from wcpipe.cli import main; sys.exit(main())"
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        ).stdout
        return [line.split(",", 1)[1] for line in out.splitlines()]

    assert "plan" in complete("wcpipe pl", 1)
    assert "--detailed-exitcode" in complete("wcpipe plan --det", 2)
    assert complete("wcpipe completion f", 2) == ["fish"]


@pytest.mark.parametrize("where", ["before", "after"])
def test_no_color_turns_colour_off(wcpipe: Callable[..., Any], where: str) -> None:
    from wcpipe import ui

    args = ["validate", "-c", str(SPEC_PATH)]
    result = wcpipe(*(["--no-color", *args] if where == "before" else [*args, "--no-color"]))
    assert result.code == 0, result
    assert "\x1b[" not in result.out + result.err
    assert ui._state["color"] is False
    console = ui._console("err")
    assert console.no_color and console.color_system is None
    ui.configure()  # the next command in this process starts with colour on again
    ui.reset()
