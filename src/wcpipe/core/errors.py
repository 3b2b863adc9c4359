"""One error tree for wcpipe, and the one place botocore errors become messages for people.

Exit codes: 0 ok, 1 failed, mismatch or cancelled, 2 bad usage or spec. The library raises
these; only the CLI boundary (`wcpipe.cli.main`) turns them into output and an exit code.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class WcpipeError(Exception):
    """Root of every error wcpipe reports to a user. Its message is one line."""

    exit_code = 1
    hint: str | None = None

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint


class SpecError(WcpipeError):
    """The spec (or a command-line argument) is invalid: nothing was sent to AWS."""

    exit_code = 2


class UsageError(WcpipeError):
    exit_code = 2


class Cancelled(WcpipeError):
    """The person answered "no": nothing was done (exit 1, as Terraform's "Apply cancelled")."""

    exit_code = 1


class NotOwnedError(WcpipeError):
    """A resource with the name wcpipe would use exists but is not tagged as this pipeline's."""

    def __init__(self, kind: str, name: str, pipeline: str) -> None:
        super().__init__(
            f"{kind} {name!r} exists but is not owned by pipeline {pipeline!r} "
            "(no wcpipe:pipeline tag); wcpipe will not adopt or delete it",
            hint="rename the pipeline, or remove or tag the existing resource yourself",
        )
        self.kind = kind
        self.name = name


class BlockedChange(WcpipeError):
    """The spec asks for a change AWS cannot make in place (`plan` shows it as `blocked`)."""

    def __init__(self, message: str, hint: str | None = None, *, creating: bool = False) -> None:
        if creating:  # a create that cannot be made until something outside the spec changes
            super().__init__(
                f"cannot create: {message}",
                hint=hint or "nothing was created: do what it says, then `wcpipe up` again",
            )
            return
        super().__init__(
            f"cannot change in place: {message}",
            hint=hint or "put the spec back, or `wcpipe down` and `up` to start afresh",
        )


class Interrupted(WcpipeError):
    """Ctrl-C during `up` or `down`: what was done, and how to converge."""

    exit_code = 130


class Abandoned(Exception):
    """Raised inside a step whose wait was cut short by Ctrl-C (never shown to a user)."""


class WaitTimeout(WcpipeError):
    """A bounded wait ran out."""


class ResourceFailed(WcpipeError):
    """A resource, crawl or job run reached a failure state."""


class Mismatch(WcpipeError):
    """`verify` found that source and warehouse disagree."""


class CycleError(WcpipeError):
    exit_code = 2


def error_code(exc: BaseException) -> str | None:
    """The AWS error code of a botocore ClientError, else None."""
    response: Any = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        return str(code) if code else None
    return None


def ignoring(call: Callable[[], T], *codes: str) -> T | None:
    """Run `call`; an AWS error whose code is one of `codes` is an outcome, not a failure, and
    gives None. The one place "not found" is handled: a describe that finds nothing returns None,
    a delete of what is already gone is "absent"; also an "already exists" the caller resolves by
    describing. Matched by error code (`error_code`), never by message text."""
    try:
        return call()
    except Exception as exc:
        if error_code(exc) in codes:
            return None
        raise


def error_message(exc: BaseException) -> str:
    response: Any = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Message", "")) or str(exc)
    return str(exc)


_DENIED = (
    "the credentials in use lack this permission: `wcpipe iam-policy` prints the policy this "
    "spec needs; check --profile"
)
_HINTS = {
    "AccessDenied": _DENIED,
    "AccessDeniedException": _DENIED,
    "UnrecognizedClientException": "the credentials are not valid for this endpoint/region",
    "InvalidClientTokenId": "the credentials are not valid; check --profile",
    "ExpiredToken": "the session token expired; refresh your credentials",
    "ExpiredTokenException": "the session token expired; refresh your credentials",
    "ThrottlingException": "AWS is throttling requests; wait a minute and run the command again",
}


def translate(exc: BaseException, doing: str | None = None) -> WcpipeError:
    """A botocore/boto3 exception as a WcpipeError: what failed, what AWS said, what to do."""
    from botocore import exceptions as bx

    prefix = f"{doing}: " if doing else ""
    if isinstance(exc, WcpipeError):
        return exc
    if isinstance(exc, bx.NoCredentialsError):
        return WcpipeError(
            f"{prefix}no AWS credentials found",
            hint="configure a profile (--profile) or set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY",
        )
    if isinstance(exc, bx.NoRegionError):
        return WcpipeError(f"{prefix}no AWS region set", hint="pass --region or set it in the spec")
    if isinstance(exc, bx.EndpointConnectionError | bx.ConnectionClosedError):
        from wcpipe.core.aws import is_local

        url = str(getattr(exc, "kwargs", {}).get("endpoint_url", ""))
        hint = (
            "nothing answers there: start the sandbox with `wcpipe sandbox serve`, or check "
            "--endpoint-url / AWS_ENDPOINT_URL"
            if is_local(url)
            else "check --endpoint-url / AWS_ENDPOINT_URL, the region and the network"
        )
        what = f"cannot reach {url}" if url else f"cannot reach AWS: {exc}"
        return WcpipeError(f"{prefix}{what}", hint=hint)
    if isinstance(exc, bx.ProfileNotFound):
        return WcpipeError(f"{prefix}{exc}", hint="check --profile against ~/.aws/config")
    if isinstance(exc, bx.ClientError):
        code = error_code(exc) or "Error"
        op = getattr(exc, "operation_name", "request")
        return WcpipeError(
            f"{prefix}{op} failed: {code}: {error_message(exc)}", hint=_HINTS.get(code)
        )
    if isinstance(exc, bx.BotoCoreError):
        return WcpipeError(f"{prefix}{exc}")
    return WcpipeError(f"{prefix}{type(exc).__name__}: {exc}")
