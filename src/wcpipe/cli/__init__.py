"""The `wcpipe` command: global options, lazily loaded subcommands, and the one error boundary.

Subcommand modules are imported only when used (and must not import boto3 or rich at module
level), so `wcpipe --help` starts fast. Exit codes: 0 ok, 1 failed, mismatch or cancelled, 2 bad
usage or spec, 130 interrupted.
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Any

import click

from wcpipe.cli.app import App

if TYPE_CHECKING:
    from wcpipe.core.wait import Timing

COMMANDS: dict[str, str] = {
    "init": "wcpipe.cli.init_cmd:init",
    "validate": "wcpipe.cli.spec_cmds:validate",
    "schema": "wcpipe.cli.spec_cmds:schema",
    "plan": "wcpipe.cli.provision:plan",
    "up": "wcpipe.cli.provision:up",
    "status": "wcpipe.cli.provision:status",
    "down": "wcpipe.cli.provision:down",
    "run-crawler": "wcpipe.cli.operate:run_crawler",
    "start-job": "wcpipe.cli.operate:start_job",
    "run": "wcpipe.cli.operate:run",
    "push": "wcpipe.cli.push_cmd:push",
    "logs": "wcpipe.cli.logs_cmd:logs",
    "verify": "wcpipe.cli.verify_cmd:verify",
    "sandbox": "wcpipe.cli.sandbox_cmd:sandbox",
    "demo": "wcpipe.cli.sandbox_cmd:demo",
    "completion": "wcpipe.cli.completion_cmd:completion",
    "iam-policy": "wcpipe.cli.iam_policy_cmd:iam_policy",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                return None  # not built yet
            raise
        command: click.Command = getattr(module, attr)
        _accept_global_options(command)
        return command


DEBUG_HELP = (
    "Show tracebacks, and log every AWS request and response on stderr as `aws --debug` does "
    "(signatures, passwords and secret values redacted)."
)

# Global options are accepted after the command too, as aws-cli accepts them (`wcpipe verify
# --output json`, `wcpipe up --yes --debug`); each command's --help lists them. Given after the
# command, a value replaces the one given before it.
_GLOBALS: tuple[tuple[tuple[str, ...], str, dict[str, Any]], ...] = (
    (
        ("-c", "--config"),
        "config_path",
        {"type": click.Path(dir_okay=False), "help": "The pipeline spec."},
    ),
    (("--profile",), "profile", {"help": "AWS profile (overrides the spec)."}),
    (("--region",), "region", {"help": "AWS region (overrides the spec)."}),
    (("--endpoint-url",), "endpoint_url", {"help": "Send every AWS request here."}),
    (
        ("--output",),
        "output",
        {"type": click.Choice(["text", "json"]), "help": "Format of the data on stdout."},
    ),
    (
        ("--debug",),
        "debug",
        {"is_flag": True, "default": None, "help": DEBUG_HELP},
    ),
    (
        ("--no-color",),
        "no_color",
        {"is_flag": True, "default": None, "help": "No colour (NO_COLOR=1 does the same)."},
    ),
)


def _set_global(attribute: str) -> Any:
    def callback(ctx: click.Context, _param: click.Parameter, value: Any) -> None:
        if value is not None and isinstance(ctx.obj, App):
            ctx.obj.set_global(attribute, value)

    return callback


def _accept_global_options(command: click.Command) -> None:
    if getattr(command, "_wcpipe_globals", False):
        return
    for flags, attribute, extra in _GLOBALS:
        command.params.append(
            click.Option(
                list(flags),
                expose_value=False,
                callback=_set_global(attribute),
                **{"default": None, **extra},
            )
        )
    command._wcpipe_globals = True  # type: ignore[attr-defined]
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _accept_global_options(sub)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "-c",
    "--config",
    "config",
    default="config/pipeline.yaml",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="The pipeline spec.",
)
@click.option("--profile", help="AWS profile (overrides the spec).")
@click.option("--region", help="AWS region (overrides the spec).")
@click.option(
    "--endpoint-url",
    help="Send every AWS request here (a sandbox or moto server). "
    "AWS_ENDPOINT_URL is honoured too.",
)
@click.option(
    "--output",
    "output",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Format of the data on stdout.",
)
@click.option("--debug", is_flag=True, help=DEBUG_HELP)
@click.option("--no-color", is_flag=True, help="No colour (NO_COLOR=1 does the same).")
@click.version_option(package_name="wcpipe")
@click.pass_context
def cli(
    ctx: click.Context,
    config: str,
    profile: str | None,
    region: str | None,
    endpoint_url: str | None,
    output: str,
    debug: bool,
    no_color: bool,
) -> None:
    """Stand up, run, check and tear down an S3 -> Glue -> Redshift pipeline from one YAML file.

    Exit codes: 0 ok, 1 failed, mismatch or cancelled, 2 bad usage or spec, 130 interrupted.
    """
    given = ctx.obj or {}  # what main() was handed (nothing when Click is invoked directly)
    ctx.obj = App(
        config_path=config,
        profile=profile,
        region=region,
        endpoint_url=endpoint_url,
        output=output,
        debug=debug,
        no_color=no_color,
        timing=given.get("timing"),
    )


def main(argv: list[str] | None = None, *, timing: Timing | None = None) -> Any:
    """The console script: run the CLI and turn every error into one line and an exit code.
    `timing`, if given, is how every wait sleeps and reads the clock (`App.timing`)."""
    from wcpipe.core.errors import WcpipeError

    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        code = cli.main(
            args=argv, prog_name="wcpipe", standalone_mode=False, obj={"timing": timing}
        )
        # Outside standalone mode Click returns an `Exit`'s code instead of exiting (`plan
        # --detailed-exitcode` exits 2 that way).
        return sys.exit(code) if isinstance(code, int) and code else code
    except click.exceptions.Abort:
        _ui().error("aborted")
        return sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        return sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        return sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        _ui().error("interrupted")
        return sys.exit(130)
    except Exception as exc:
        error = exc if isinstance(exc, WcpipeError) else _translate(exc)
        ui = _ui()
        if debug:
            ui.traceback()
        ui.error(str(error), getattr(error, "hint", None))
        return sys.exit(error.exit_code)


def _translate(exc: Exception) -> Any:
    from wcpipe.core.errors import WcpipeError, translate

    try:
        import botocore.exceptions as bx

        if isinstance(exc, bx.BotoCoreError | bx.ClientError):
            return translate(exc)
    except ImportError:  # pragma: no cover
        pass
    return WcpipeError(f"unexpected error: {type(exc).__name__}: {exc} (rerun with --debug)")


def _ui() -> Any:
    from wcpipe import ui

    return ui
