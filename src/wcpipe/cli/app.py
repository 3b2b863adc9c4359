"""State shared by all commands: global options, the spec (loaded once), the AWS context and the
time its waits run on."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wcpipe.core.wait import Timing
    from wcpipe.provision.resources.base import Context, Resource
    from wcpipe.spec.model import Spec


def poll_timing() -> Timing:
    """Real time, polling as `WCPIPE_POLL_INTERVAL` (seconds) says for the first interval: the
    sandbox answers in well under a second, AWS in tens of seconds to minutes."""
    import os

    from wcpipe.core.errors import UsageError
    from wcpipe.core.wait import Timing

    raw = os.environ.get("WCPIPE_POLL_INTERVAL")
    if not raw:
        return Timing()
    try:
        initial = float(raw)
        if not 0 < initial <= 60:
            raise ValueError
    except ValueError:
        raise UsageError(
            f"WCPIPE_POLL_INTERVAL={raw!r}: expected seconds between 0 and 60"
        ) from None
    return Timing(initial=initial, maximum=max(initial, min(30.0, initial * 20)))


# The commands that read the spec's local data files (`App.spec` checks them for these).
LOCAL_DATA_COMMANDS = frozenset({"validate", "plan", "up"})


def _debug_log(on: bool) -> None:
    from wcpipe.core import debuglog

    debuglog.enable(on)


@dataclass
class App:
    config_path: str
    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    output: str = "text"
    debug: bool = False
    no_color: bool = False
    timing: Timing | None = None
    """How every wait of this command sleeps and reads the clock. None (what a user gets): real
    time, `poll_timing()`. The CLI entry passes what `main(timing=...)` was given: tests end
    waits instantly with a FakeClock's."""

    def __post_init__(self) -> None:
        from wcpipe import ui

        ui.configure(output=self.output, debug=self.debug, color=not self.no_color)
        _debug_log(self.debug)

    def set_global(self, attribute: str, value: object) -> None:
        """A global option given after the command (it replaces the one before it). Only before
        the spec or the AWS context is used: commands read them after their options parse."""
        setattr(self, attribute, value)
        if attribute in ("output", "debug", "no_color"):
            from wcpipe import ui

            ui.configure(output=self.output, debug=self.debug, color=not self.no_color)
            _debug_log(self.debug)

    @cached_property
    def spec(self) -> Spec:
        """The spec, loaded once. For the commands that read the local data files (validate,
        plan, up) every `data.files` entry is checked too, before any AWS request; the others
        (`down` above all) work without them."""
        import click

        from wcpipe.spec.model import load_spec

        spec = load_spec(self.config_path)
        command = click.get_current_context(silent=True)
        if command is not None and command.info_name in LOCAL_DATA_COMMANDS:
            spec.check_data_files()
        return spec

    @cached_property
    def context(self) -> Context:
        """The AWS context. Loading the spec comes first, so a bad spec never reaches AWS."""
        from wcpipe.core.aws import Aws, is_region
        from wcpipe.core.errors import UsageError
        from wcpipe.provision.resources.base import Context

        spec = self.spec
        if self.region is not None and not is_region(self.region):
            raise UsageError(
                f"--region {self.region!r} is not an AWS region (e.g. us-east-1, eu-west-1)"
            )
        aws = Aws(
            region=self.region or spec.region,
            profile=self.profile or spec.profile,
            endpoint_url=self.endpoint_url or spec.endpoint_url,
        )
        timing = self.timing if self.timing is not None else poll_timing()
        return Context(spec=spec, aws=aws, timing=timing)

    def resources(self) -> list[Resource]:
        from wcpipe.provision.resources import catalog

        return catalog(self.context)

    def undeclared(self) -> list[Resource]:
        """What this pipeline may own that the spec no longer declares (`resources.undeclared`)."""
        from wcpipe.provision.resources import undeclared

        return undeclared(self.context)

    @property
    def json(self) -> bool:
        return self.output == "json"
