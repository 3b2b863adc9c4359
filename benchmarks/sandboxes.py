"""One in-process sandbox for the whole benchmark run (embedded PostgreSQL takes seconds to
start), specs renamed per benchmark so their resources never collide, and wcpipe contexts
pointed at the sandbox.

The sandbox's `latency` hook is a `meter.ServerCount` for the whole run; a benchmark that needs
a latency profile sets `server_count.inner` for its duration.
"""

from __future__ import annotations

import atexit
import re
from typing import Any

from common import SPEC_PATH
from meter import ServerCount

_sandbox: Any = None
server_count = ServerCount()
warmed = False
"""True once a full `up` has run in this process (moto's imports and the packages are built)."""


def sandbox() -> Any:
    """The run's sandbox, started on first use and stopped at exit."""
    global _sandbox
    if _sandbox is None:
        from wcpipe.sandbox.core import Sandbox

        _sandbox = Sandbox(latency=server_count).start()
        atexit.register(_sandbox.stop)
    return _sandbox


def fifa_spec(name: str, **replace: str) -> Any:
    """The shipped FIFA spec under another pipeline name (its data paths still resolve)."""
    from wcpipe.spec.model import parse_spec

    text = SPEC_PATH.read_text()
    text = re.sub(r"(?m)^name: .*$", f"name: {name}", text)
    for pattern, new in replace.items():
        text = re.sub(pattern, new, text)
    return parse_spec(text, source=str(SPEC_PATH), base_dir=SPEC_PATH.parent)


def context(spec: Any, timing: Any = None, endpoint: str | None = None) -> Any:
    """A wcpipe Context against the sandbox, as `App.context` builds one."""
    from wcpipe.core.aws import Aws
    from wcpipe.core.wait import Timing
    from wcpipe.provision.resources.base import Context

    aws = Aws(region="us-east-1", endpoint_url=endpoint or sandbox().endpoint)
    return Context(spec=spec, aws=aws, timing=timing or Timing(initial=0.05, maximum=0.5))
