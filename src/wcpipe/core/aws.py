"""The one gateway to AWS: a lazily built session and a cache of clients.

Every client wcpipe uses comes from `Aws.client(service)`: one session (profile, region), one
endpoint (`--endpoint-url`, the spec's `endpoint_url`, or boto3's own `AWS_ENDPOINT_URL[_<SERVICE>]`
variables, which boto3 honours natively), one retry policy and one user agent. boto3 is imported
only when the first client is built, so `wcpipe --help` stays fast.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import boto3

USER_AGENT = "wcpipe/0.1"

# Process-wide botocore event hooks, registered on every client wcpipe builds: how tests and
# benchmarks observe (count, delay, fail) requests without patching anything.
_INSTRUMENTS: list[tuple[str, Any]] = []
_INSTRUMENTS_LOCK = threading.Lock()


def instrument(event: str, handler: Any) -> Callable[[], None]:
    """Register `handler` for botocore `event` on every client created from now on; returns a
    function that unregisters it (for clients created later)."""
    with _INSTRUMENTS_LOCK:
        _INSTRUMENTS.append((event, handler))

    def remove() -> None:
        with _INSTRUMENTS_LOCK:
            if (event, handler) in _INSTRUMENTS:
                _INSTRUMENTS.remove((event, handler))

    return remove


CONNECT_ATTEMPTS = 2
"""Attempts at a request whose connection is refused or cannot be made at all (nothing listens
there, or the name does not resolve): one retry, then the error. That is not a transient
condition, and botocore's standard mode would otherwise spend its whole budget (8 attempts with
backoff: 34-39 s) on it. Throttling, 5xx and dropped connections keep the full retry budget."""


def _fail_fast_on_refused(
    attempts: int = 1, caught_exception: BaseException | None = None, **_: Any
) -> None:
    """botocore `needs-retry` hook, registered first: re-raise a refused connection once it has
    had `CONNECT_ATTEMPTS` tries (raising here ends botocore's retry loop with this error)."""
    from botocore.exceptions import EndpointConnectionError

    if isinstance(caught_exception, EndpointConnectionError) and attempts >= CONNECT_ATTEMPTS:
        raise caught_exception


def is_local(url: str | None) -> bool:
    """Whether `url` points at this machine (a sandbox or moto server)."""
    from urllib.parse import urlsplit

    host = urlsplit(url or "").hostname or ""
    return host in ("localhost", "::1") or host.startswith("127.")


def is_region(name: str) -> bool:
    """Whether `name` is a region of one of AWS's partitions, by botocore's own endpoint data
    (each partition's `regionRegex` in botocore/data/endpoints.json): offline, no request."""
    import re

    from botocore.loaders import Loader

    partitions = Loader().load_data("endpoints")["partitions"]
    return any(re.match(p["regionRegex"], name) for p in partitions if p.get("regionRegex"))


class Aws:
    def __init__(
        self,
        *,
        region: str | None = None,
        profile: str | None = None,
        endpoint_url: str | None = None,
        max_attempts: int = 8,
        event_hooks: list[tuple[str, Any]] | None = None,
    ) -> None:
        self.region_name = region
        self.profile = profile
        self.endpoint_url = endpoint_url
        self.max_attempts = max_attempts
        self._event_hooks = list(event_hooks or [])
        self._session: boto3.Session | None = None
        self._clients: dict[str, Any] = {}
        self._lock = threading.RLock()
        self._account_id: str | None = None

    @property
    def session(self) -> boto3.Session:
        with self._lock:
            if self._session is None:
                import boto3

                self._session = boto3.Session(
                    profile_name=self.profile, region_name=self.region_name
                )
            return self._session

    @property
    def region(self) -> str:
        region = self.session.region_name
        if not region:
            from wcpipe.core.errors import WcpipeError

            raise WcpipeError(
                "no AWS region set", hint="pass --region, set 'region' in the spec or AWS_REGION"
            )
        return region

    def client(self, service: str) -> Any:
        """A (cached, thread-safe) client for `service`."""
        with self._lock:
            client = self._clients.get(service)
            if client is None:
                from botocore.config import Config

                config = Config(
                    retries={"mode": "standard", "max_attempts": self.max_attempts},
                    user_agent_extra=USER_AGENT,
                    max_pool_connections=20,
                )
                kwargs: dict[str, Any] = {"region_name": self.region, "config": config}
                if self.endpoint_url:
                    kwargs["endpoint_url"] = self.endpoint_url
                client = self.session.client(service, **kwargs)  # type: ignore[call-overload]
                with _INSTRUMENTS_LOCK:
                    hooks = self._event_hooks + _INSTRUMENTS
                client.meta.events.register_first("needs-retry", _fail_fast_on_refused)
                for event, handler in hooks:
                    client.meta.events.register(event, handler)
                # botocore builds `client.exceptions` lazily and not thread-safely: two threads
                # that first touch it at once can each get their own classes, and then
                # `except client.exceptions.NoSuchEntityException` misses the one raised.
                _ = client.exceptions
                self._clients[service] = client
            return client

    @property
    def account_id(self) -> str:
        with self._lock:
            if self._account_id is None:
                self._account_id = str(self.client("sts").get_caller_identity()["Account"])
            return self._account_id

    @property
    def partition(self) -> str:
        region = self.region
        if region.startswith("cn-"):
            return "aws-cn"
        if region.startswith("us-gov-"):
            return "aws-us-gov"
        return "aws"

    def arn(self, service: str, resource: str, *, region: bool = True, account: bool = True) -> str:
        return ":".join(
            [
                "arn",
                self.partition,
                service,
                self.region if region else "",
                self.account_id if account else "",
                resource,
            ]
        )
