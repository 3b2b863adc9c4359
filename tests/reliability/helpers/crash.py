"""Run `wcpipe <args>` and SIGKILL this very process at its k-th mutating AWS request: a crash
at an arbitrary point of a run, with no chance to clean up.

Environment:
- WCPIPE_KILL_AT: k, counted over mutating requests (anything but a read, as
  `support.requests.is_read` defines it).
- WCPIPE_KILL_ON: instead, `<service>.<Operation>` (say `s3.PutBucketTagging`): die at the
  first request of that operation.
- WCPIPE_KILL_WHEN: `before-send` (the k-th request is never sent) or `response-received`
  (it was sent and served, but its answer is lost).
The hooks are registered through `wcpipe.core.aws.instrument`, so they sit on every client wcpipe
builds: one notes in the request's context whether the call reads (its parameters are known only
then), the other counts and kills at WCPIPE_KILL_WHEN.
"""

from __future__ import annotations

import atexit
import os
import signal
import sys
import threading
from typing import Any

from support.requests import is_read

from wcpipe.cli import main
from wcpipe.core.aws import instrument

KILL_AT = int(os.environ.get("WCPIPE_KILL_AT", "0"))
KILL_ON = os.environ.get("WCPIPE_KILL_ON", "")
WHEN = os.environ.get("WCPIPE_KILL_WHEN", "before-send")
_count = 0
_lock = threading.Lock()


def classify(model: Any, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    context["wcpipe_read"] = is_read(model.name, params)


def hook(event_name: str, **kwargs: Any) -> None:
    global _count
    # before-send passes the request (which carries the context), response-received the context.
    context = kwargs["context"] if "context" in kwargs else kwargs["request"].context
    if context.get("wcpipe_read"):
        return
    with _lock:
        _count += 1
        if _count == KILL_AT or (KILL_ON and event_name.endswith(f".{KILL_ON}")):
            sys.stderr.write(f"KILLED at mutating request {_count}: {event_name}\n")
            sys.stderr.flush()
            os.kill(os.getpid(), signal.SIGKILL)


@atexit.register
def _tally() -> None:
    sys.stderr.write(f"MUTATIONS {_count}\n")


instrument("before-parameter-build", classify)
instrument(WHEN, hook)
sys.exit(main())
