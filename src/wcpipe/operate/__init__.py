"""Operating the pipeline once it is up: crawls, job runs, the event-driven flow, logs, verify."""

from wcpipe.core.errors import ResourceFailed

UP_FIRST = "create the pipeline first: wcpipe up"
"""The hint of every operating command that finds a pipeline resource missing."""


def not_created(what: str) -> ResourceFailed:
    """`what` (a crawler, the job, the bucket) does not exist: the pipeline is not up."""
    return ResourceFailed(f"{what} does not exist", hint=UP_FIRST)
