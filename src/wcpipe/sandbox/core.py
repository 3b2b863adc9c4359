"""The sandbox's public face: the `Sandbox` object (sandbox modules code against the part of it
they see, `context.SandboxView`).

Contract:
- `Sandbox(...)` is cheap; `start()` (or `with Sandbox() as sb:`) installs the patches (every
  module of `patches.registry`, once per process), starts the warehouse (embedded PostgreSQL, or
  `warehouse_dsn`) and moto's server on 127.0.0.1 (`server.start`), and returns self.
  `stop()` stops both and resets moto's state when it is the last sandbox in the process.
- Patches are process-wide, but each request is served "as" one sandbox: the server's WSGI
  middleware makes it `context.current()` for the request's thread, and `background()` work
  inherits it. Patched code calls `context.current()` to find the sandbox (its warehouse, its
  workers) and sees it as a `context.SandboxView`, which this class satisfies; `activate()`
  makes this sandbox current for a block.
- Helpers for sandbox modules (crawler, jobs, lambda_runner): `backend(service)`, `emit_event`,
  `log`, `put_metric`, `pg_connect`, `background(pool, fn, ...)`, and `idle()` for tests that
  wait until every background statement, delivery, crawl and run has finished.
- `glue_engine`: "python" (default) runs each job run with `patches/job_load`, the fast
  emulation; "spark" runs the deployed script on real PySpark (`glue_runtime`).
- `latency`: the profile hook. `None` means no added delay. Otherwise a callable
  `(service, operation) -> seconds` that the server's middleware sleeps before serving each
  request (see `server._Middleware`), so a benchmark can model AWS's per-call latency; a hook
  with `ready_after` (a `patches.latency.Profile`) also delays readiness, and the start of the
  work `background()` runs for crawls and job runs (`latency.delayed_start`).
- PINS names the moto internals used here (tests/sandbox/test_moto_pins.py checks them).
- Nothing here reads a real AWS profile: the sandbox's own clients use fake credentials.
"""

from __future__ import annotations

import contextlib
import copy
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wcpipe.sandbox import context
from wcpipe.sandbox.context import FAKE_CREDENTIALS
from wcpipe.sandbox.patches.latency import delayed_start

if TYPE_CHECKING:
    import psycopg

DEFAULT_ACCOUNT = "123456789012"  # moto's default account for any access key it does not know


def use_fake_credentials(region: str) -> None:
    """Make this process's AWS SDK use the sandbox's fake credentials: every AWS_* variable is
    dropped, no profile or config file is read and instance metadata is off, so no request can
    reach a real account."""
    for var in [v for v in os.environ if v.startswith("AWS_")]:
        del os.environ[var]
    os.environ.update(
        FAKE_CREDENTIALS,
        AWS_DEFAULT_REGION=region,
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
    )


PINS: tuple[tuple[str, str], ...] = (
    ("moto.backends", "get_backend"),
    ("moto.events.models", "EventsBackend"),  # describe_event_bus, its rules' send_to_targets
    ("moto.events.models", "Rule"),
    ("moto.logs.models", "LogsBackend"),
    ("moto.cloudwatch.models", "CloudWatchBackend"),
)

GLUE_ENGINES = ("python", "spark")
_GLOBAL_SERVICES = {"s3": "global", "iam": "global", "cloudfront": "global"}


class Sandbox:
    """An offline AWS for one pipeline: moto + PostgreSQL + what moto lacks."""

    def __init__(
        self,
        *,
        port: int = 0,
        data_dir: str | Path | None = None,
        warehouse_dsn: str | None = None,
        region: str = "us-east-1",
        latency: Callable[[str, str], float] | None = None,
        lambda_cache: str | Path | None = None,
        glue_engine: str = "python",
        operator_policy: list[dict[str, Any]] | None = None,
    ) -> None:
        if glue_engine not in GLUE_ENGINES:
            raise ValueError(f"glue_engine must be one of {', '.join(GLUE_ENGINES)}")
        self.port = port
        self.data_dir = Path(data_dir) if data_dir else None
        self.warehouse_dsn = warehouse_dsn
        self.region = region
        self.account_id = DEFAULT_ACCOUNT
        # Profile hook: None = no delay; else (service, operation) -> seconds before each request.
        self.latency: Callable[[str, str], float] | None = latency
        self.lambda_cache = Path(lambda_cache) if lambda_cache else None
        # How job runs run: "python" (job_load's emulation, fast) or "spark" (the deployed
        # glue/load.py on real PySpark, glue_runtime); `glue_faults` is its test-only fault
        # injection (see glue_runtime/awsglue/_faults.py).
        self.glue_engine = glue_engine
        self.glue_faults: dict[str, Any] = {}
        # Policy documents the operator holds: with them, requests signed with
        # `operator_credentials` (set by start) are authorised as that person's
        # (patches/actors.install_operator); without, the operator is unrestricted.
        self.operator_policy = operator_policy
        self.operator_credentials: dict[str, str] = {}
        self.endpoint = ""
        self.pg_dsn = ""
        self._runtime: Any = None  # server.Runtime while started
        self._pools: dict[str, ThreadPoolExecutor] = {}
        self._pending: set[Future[Any]] = set()
        self._lock = threading.Lock()
        self.state: dict[str, Any] = {}  # per-sandbox state for patched code (statements, ...)

    # Lifecycle ---------------------------------------------------------------------------
    # server imports moto (and, through the patches, much of it): only when a sandbox starts.
    def start(self) -> Sandbox:
        from wcpipe.sandbox import server

        if self._runtime is None:
            self._runtime = server.start(self)
            context.started(self)
            if self.operator_policy is not None:
                from wcpipe.sandbox.patches.actors import install_operator

                self.operator_credentials = install_operator(self, self.operator_policy)
        return self

    def stop(self) -> None:
        from wcpipe.sandbox import server

        if self._runtime is None:
            return
        self.idle(timeout=10)
        for pool in self._pools.values():
            pool.shutdown(wait=False, cancel_futures=True)
        self._pools.clear()
        last = context.stopped(self)
        server.stop(self, self._runtime, reset_moto=last)
        self._runtime = None
        self.state.clear()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @contextlib.contextmanager
    def activate(self) -> Iterator[Sandbox]:
        """Make this the `context.current()` sandbox for the duration (the middleware does this
        for each request)."""
        with context.activate(self):
            yield self

    # Background work -----------------------------------------------------------------------
    def background(
        self, pool: str, fn: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> Future[Any]:
        """Run `fn` on the named worker pool ("statements", "events", "crawls", "jobs", ...)
        with this sandbox current. Exceptions are kept in the future, never raised here. Under a
        latency profile, crawls and job runs start after its delay (`latency.delayed_start`)."""
        work = context.bind(self, delayed_start(self.latency, pool, fn))
        with self._lock:
            executor = self._pools.get(pool)
            if executor is None:
                executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix=f"sandbox-{pool}")
                self._pools[pool] = executor
            future = executor.submit(work, *args, **kwargs)
            self._pending.add(future)
        future.add_done_callback(self._done)
        return future

    def _done(self, future: Future[Any]) -> None:
        with self._lock:
            self._pending.discard(future)

    def idle(self, timeout: float = 30.0) -> bool:
        """Wait until no background work is pending (work may start more work); True if idle."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                pending = list(self._pending)
            if not pending:
                return True
            for future in pending:
                with contextlib.suppress(Exception):
                    future.exception(timeout=max(0.0, deadline - time.monotonic()))
        with self._lock:
            return not self._pending

    # Helpers for sandbox modules -----------------------------------------------------------
    def backend(self, service: str) -> Any:
        """moto's backend for this account and region (global services: their one backend)."""
        from moto.backends import get_backend

        backends = get_backend(service)  # type: ignore[call-overload]
        return backends[self.account_id][_GLOBAL_SERVICES.get(service, self.region)]

    def pg_connect(self, database: str | None = None) -> psycopg.Connection[Any]:
        """A new autocommit connection to the warehouse: `database` (created on first use) or,
        by default, the server's maintenance database."""
        from wcpipe.sandbox import warehouse_pg

        return warehouse_pg.connect(self.pg_dsn, database)

    def emit_event(self, event: dict[str, Any]) -> None:
        """Put one event, in the shape EventBridge delivers it (version, id, detail-type, source,
        account, time, region, resources, detail), on the default bus; every enabled rule whose
        pattern matches delivers it to its targets (Lambda targets through lambda_runner)."""
        event = copy.deepcopy(event)
        event.setdefault("version", "0")
        event.setdefault("account", self.account_id)
        event.setdefault("region", self.region)
        event.setdefault("resources", [])
        event.setdefault("time", datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
        if "id" not in event:
            import uuid

            event["id"] = str(uuid.uuid4())
        bus = self.backend("events").describe_event_bus("default")
        with self.activate():
            for rule in list(bus.rules.values()):
                rule.send_to_targets(event)

    def log(self, group: str, stream: str, message: str, timestamp_ms: int | None = None) -> None:
        """Append one event to CloudWatch Logs, creating the group and stream if missing."""
        logs = self.backend("logs")
        with self._lock:
            if group not in logs.groups:
                logs.create_log_group(group, {})
            if stream not in logs.groups[group].streams:
                logs.create_log_stream(group, stream)
        ts = timestamp_ms if timestamp_ms is not None else int(time.time() * 1000)
        logs.put_log_events(group, stream, [{"timestamp": ts, "message": message}])

    def put_metric(
        self,
        namespace: str,
        name: str,
        value: float,
        dimensions: dict[str, str],
        unit: str = "None",
    ) -> None:
        """Record one datapoint now, as the service itself would (get_metric_statistics sees it).
        No Timestamp: moto then stamps it with its own (naive UTC) clock, which its queries use."""
        self.backend("cloudwatch").put_metric_data(
            namespace,
            [
                {
                    "MetricName": name,
                    "Value": value,
                    "Unit": unit,
                    "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()],
                }
            ],
        )

    def client(self, service: str) -> Any:
        """A boto3 client pointed at this sandbox with fake credentials (for tests and demo)."""
        import boto3

        return boto3.client(  # type: ignore[call-overload]
            service,
            endpoint_url=self.endpoint,
            region_name=self.region,
            aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=FAKE_CREDENTIALS["AWS_SESSION_TOKEN"],
        )
