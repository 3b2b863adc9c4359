"""Run `wcpipe <args>` and SIGKILL this very process at its k-th mutating AWS request: a crash
at an arbitrary point of a run, with no chance to clean up.

Environment:
- WCPIPE_KILL_AT: k, counted over mutating requests (anything but Describe/Get/List/Head).
- WCPIPE_KILL_ON: instead, `<service>.<Operation>` (say `s3.PutBucketTagging`): die at the
  first request of that operation.
- WCPIPE_KILL_WHEN: `before-send` (the k-th request is never sent) or `response-received`
  (it was sent and served, but its answer is lost).
The hook is registered through `wcpipe.core.aws.instrument`, so it sits on every client wcpipe
builds.
"""

from __future__ import annotations

import atexit
import os
import signal
import sys
import threading
from typing import Any

from wcpipe.cli import main
from wcpipe.core.aws import instrument

READS = ("Describe", "Get", "List", "Head")
KILL_AT = int(os.environ.get("WCPIPE_KILL_AT", "0"))
KILL_ON = os.environ.get("WCPIPE_KILL_ON", "")
WHEN = os.environ.get("WCPIPE_KILL_WHEN", "before-send")
_count = 0
_lock = threading.Lock()


def hook(event_name: str, **_: Any) -> None:
    global _count
    operation = event_name.rsplit(".", 1)[-1]
    if operation.startswith(READS):
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


instrument(WHEN, hook)
sys.exit(main())
