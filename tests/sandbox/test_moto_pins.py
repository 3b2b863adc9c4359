"""The sandbox leans on moto's internals: fail loudly when an upgrade moves one."""

from __future__ import annotations

import importlib
from importlib.metadata import version

import pytest

from wcpipe.sandbox import authz, core, server
from wcpipe.sandbox.patches import registry
from wcpipe.sandbox.patches.registry import MOTO_VERSION

# Every moto internal the sandbox patches or calls: each patch module's PINS, and server's and
# core's (and authz's). A module of the registry without PINS fails here, at collection.
PINS = sorted({*registry.pins(), *server.PINS, *core.PINS, *authz.PINS})


def test_moto_is_the_pinned_version() -> None:
    assert version("moto") == MOTO_VERSION, (
        f"moto {version('moto')} is installed but the sandbox is built against moto "
        f"{MOTO_VERSION}: it patches moto's internals. Install moto[server]=={MOTO_VERSION}, or "
        "re-check every module's PINS (wcpipe.sandbox.patches.registry, server, core) and "
        "update the pin."
    )


def test_every_patch_module_pins_what_it_patches() -> None:
    for module in registry.MODULES:
        assert module.PINS, f"{module.__name__} declares no moto internals (PINS)"
        assert callable(module.install), f"{module.__name__} has no install()"


@pytest.mark.parametrize("module,attribute", PINS)
def test_patched_internal_exists(module: str, attribute: str) -> None:
    try:
        owner = importlib.import_module(module)
    except ImportError as exc:
        pytest.fail(f"the sandbox patches {module}.{attribute}, but {module} is gone: {exc}")
    assert hasattr(owner, attribute), (
        f"the sandbox patches {module}.{attribute}, which this moto no longer has "
        f"(pinned: moto {MOTO_VERSION}); see the PINS of the sandbox module that names it"
    )


@pytest.mark.parametrize(
    "owner,method",
    [
        ("moto.events.models:Rule", "send_to_targets"),
        ("moto.events.models:Rule", "event_pattern"),
        ("moto.awslambda.models:LambdaFunction", "_invoke_lambda"),
        ("moto.moto_server.threaded_moto_server:ThreadedMotoServer", "_server_entry"),
        ("moto.glue.responses:GlueResponse", "glue_backend"),
        ("moto.logs.models:LogsBackend", "put_log_events"),
        ("moto.cloudwatch.models:CloudWatchBackend", "put_metric_data"),
        ("moto.s3.models:FakeBucket", "get_permission"),
        ("moto.iam.access_control:IAMPolicyStatement", "_check_conditions"),
        ("moto.iam.access_control:IAMPolicy", "is_action_permitted"),
        ("moto.glue.models:GlueBackend", "delete_database"),
        ("moto.glue.models:GlueBackend", "delete_crawler"),
        ("moto.glue.models:GlueBackend", "delete_job"),
    ],
)
def test_patched_methods_exist(owner: str, method: str) -> None:
    module, cls = owner.split(":")
    klass = getattr(importlib.import_module(module), cls)
    if method == "event_pattern":  # an instance attribute: check the constructor sets it
        import inspect

        assert "self.event_pattern" in inspect.getsource(klass.__init__)
        return
    assert hasattr(klass, method), f"the sandbox patches {owner}.{method}, which moto lacks now"


def test_fake_key_streams_from_its_buffer_under_its_lock() -> None:
    """athena_engine reads `FakeKey._value_buffer`'s file (rolled over) under `.lock`."""
    from moto.s3.models import FakeKey

    key = FakeKey("k", b"abc" * 1000, account_id="123456789012", region_name="us-east-1")
    try:
        with key.lock:
            key._value_buffer.seek(3)
            assert key._value_buffer.read(3) == b"abc"
    finally:
        key.dispose()
