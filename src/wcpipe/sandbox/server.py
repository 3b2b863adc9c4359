"""The sandbox's machinery: moto's server in-process, the warehouse, and the patches.

Contract:
- `start(sandbox)` installs the patches (`patches.registry.install()`: every patch module, once
  per process), starts the warehouse (an external `warehouse_dsn`, or embedded PostgreSQL in
  `data_dir`/a temp dir), then moto's `ThreadedMotoServer` on 127.0.0.1 only (port 0 picks a
  free port), and fills in `sandbox.endpoint` and `sandbox.pg_dsn`. It returns the `Runtime`
  that `stop()` takes back. A port that cannot be listened on (taken) is a `WcpipeError` before
  the warehouse starts, and again if it is taken between that check and the bind (werkzeug's
  `make_server` then exits its thread, which would otherwise leave `start()` waiting forever).
- Every request passes through `_Middleware`, which makes the sandbox `context.current()` for
  the request's thread (so patched moto code finds its warehouse and workers) and applies the
  profile hook `sandbox.latency` (None = no delay) before moto serves the request.
- `stop(..., reset_moto=True)` also resets moto's in-memory state: state lives as long as the
  server. Only the warehouse outlives it, and only with `data_dir` or an external DSN.
- The sandbox is a `context.SandboxView` here (`core.Sandbox` is one). PINS names the moto
  internals used here.
"""

from __future__ import annotations

import errno
import re
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from moto.moto_server.threaded_moto_server import ThreadedMotoServer

from wcpipe.core.errors import WcpipeError
from wcpipe.sandbox import context
from wcpipe.sandbox.patches import registry

if TYPE_CHECKING:
    from wcpipe.sandbox.context import SandboxView
    from wcpipe.sandbox.warehouse_pg import EmbeddedPostgres

PINS: tuple[tuple[str, str], ...] = (
    ("moto.moto_server.threaded_moto_server", "ThreadedMotoServer"),
    ("moto.moto_server.werkzeug_app", "DomainDispatcherApplication"),
    ("moto.moto_server.werkzeug_app", "create_backend_app"),
    ("moto.moto_server.werkzeug_app", "MotoRequestHandler"),
    ("moto.moto_api._internal.models", "moto_api_backend"),
)
_SCOPE = re.compile(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/")


class _Middleware:
    """WSGI wrapper: serve each request as `sandbox`, after its profile delay (if any)."""

    def __init__(self, app: Callable[..., Iterable[bytes]], sandbox: SandboxView) -> None:
        self.app = app
        self.sandbox = sandbox

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        latency = self.sandbox.latency
        if latency is not None:
            service, operation = _operation(environ)
            delay = latency(service, operation)
            if delay > 0:
                time.sleep(delay)
        with context.activate(self.sandbox):
            # moto builds the whole body before returning, so the context covers all its work.
            return list(self.app(environ, start_response))


def _operation(environ: dict[str, Any]) -> tuple[str, str]:
    """(service, operation) of a request, from its SigV4 scope and X-Amz-Target (JSON APIs);
    query and REST APIs report the HTTP method and path instead of an operation name."""
    scope = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    service = scope.group(1) if scope else ""
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    operation = (
        target.rsplit(".", 1)[-1]
        if target
        else (f"{environ.get('REQUEST_METHOD', '')} {environ.get('PATH_INFO', '')}")
    )
    return service, operation


class _SandboxMotoServer(ThreadedMotoServer):
    """moto's threaded server, with our middleware around its WSGI app."""

    def __init__(self, sandbox: SandboxView, port: int) -> None:
        super().__init__(ip_address="127.0.0.1", port=port, verbose=False)
        self._sandbox = sandbox
        self._failed: BaseException | None = None

    def start(self) -> None:
        super().start()
        if self._failed is not None:
            self._thread.join()  # type: ignore[union-attr]
            raise _cannot_listen(self._port, self._failed)

    def _server_entry(self) -> None:
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        app = _Middleware(DomainDispatcherApplication(create_backend_app), self._sandbox)
        try:
            self._server = make_server(
                self._ip_address, self._port, app, True, request_handler=MotoRequestHandler
            )
        except BaseException as exc:  # werkzeug's bind failure is a SystemExit(1)
            self._failed = exc
            self._server_ready_event.set()
            return
        self._server_ready_event.set()
        self._server.serve_forever()


def _cannot_listen(port: int, exc: BaseException) -> WcpipeError:
    if (isinstance(exc, OSError) and exc.errno == errno.EADDRINUSE) or isinstance(exc, SystemExit):
        return WcpipeError(
            f"port {port} on 127.0.0.1 is in use: pass another --port, or none for a free one"
        )
    reason = exc.strerror if isinstance(exc, OSError) else str(exc)
    return WcpipeError(f"cannot listen on 127.0.0.1:{port}: {reason}")


def check_port(port: int) -> None:
    """Refuse a port that cannot be listened on, before anything starts. Binds as werkzeug's
    server does (SO_REUSEADDR, `socketserver.TCPServer.allow_reuse_address`), so a port in
    TIME_WAIT passes here as it would there."""
    if port == 0:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as exc:
            raise _cannot_listen(port, exc) from None


@dataclass
class Runtime:
    server: _SandboxMotoServer
    embedded: EmbeddedPostgres | None


def start(sandbox: SandboxView) -> Runtime:
    import logging

    check_port(sandbox.port)
    registry.install()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no per-request access log
    embedded = None
    if sandbox.warehouse_dsn:
        sandbox.pg_dsn = sandbox.warehouse_dsn
    else:
        from wcpipe.sandbox.warehouse_pg import EmbeddedPostgres

        embedded = EmbeddedPostgres(sandbox.data_dir)
        sandbox.pg_dsn = embedded.dsn
    server = _SandboxMotoServer(sandbox, sandbox.port)
    try:
        server.start()
    except BaseException:
        if embedded is not None:
            embedded.stop()
        raise
    host, port = server.get_host_and_port()
    sandbox.endpoint = f"http://{host}:{port}"
    return Runtime(server, embedded)


def stop(sandbox: SandboxView, runtime: Runtime, *, reset_moto: bool) -> None:
    try:
        runtime.server.stop()
    finally:
        if runtime.embedded is not None:
            runtime.embedded.stop()
        if reset_moto:
            from moto.moto_api._internal.models import moto_api_backend

            moto_api_backend.reset()
