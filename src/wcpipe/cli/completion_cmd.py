"""`wcpipe completion bash|zsh|fish`: the shell's completion script, from Click's own."""

from __future__ import annotations

import click

SHELLS = ("bash", "zsh", "fish")
INSTALL = {
    "bash": 'eval "$(wcpipe completion bash)"   # in ~/.bashrc',
    "zsh": 'eval "$(wcpipe completion zsh)"    # in ~/.zshrc',
    "fish": "wcpipe completion fish > ~/.config/fish/completions/wcpipe.fish",
}


@click.command()
@click.argument("shell", type=click.Choice(SHELLS))
def completion(shell: str) -> None:
    """Print the completion script for SHELL (commands, options, choices).

    \b
      bash:  eval "$(wcpipe completion bash)"   (in ~/.bashrc)
      zsh:   eval "$(wcpipe completion zsh)"    (in ~/.zshrc)
      fish:  wcpipe completion fish > ~/.config/fish/completions/wcpipe.fish
    """
    from click.shell_completion import get_completion_class

    from wcpipe import ui
    from wcpipe.cli import cli

    cls = get_completion_class(shell)
    assert cls is not None  # every SHELLS entry is one of Click's
    ui.line(cls(cli, {}, "wcpipe", "_WCPIPE_COMPLETE").source())
