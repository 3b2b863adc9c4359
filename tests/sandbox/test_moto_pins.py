"""The sandbox leans on moto's internals: fail loudly when an upgrade moves one."""

from __future__ import annotations

import importlib
from importlib.metadata import version

import pytest

from wcpipe.sandbox.core import MOTO_VERSION, PATCHED_INTERNALS


def _hook_pins() -> list[tuple[str, str]]:
    pins: list[tuple[str, str]] = []
    for name in (
        "wcpipe.sandbox.patches.crawler",
        "wcpipe.sandbox.patches.jobs",
        "wcpipe.sandbox.patches.s3_policy",
        "wcpipe.sandbox.patches.conflicts",
    ):
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError:
            continue
        pins.extend(getattr(module, "HOOK_PINS", ()))
    return pins


def test_moto_is_the_pinned_version() -> None:
    assert version("moto") == MOTO_VERSION, (
        f"moto {version('moto')} is installed but the sandbox is built against moto "
        f"{MOTO_VERSION}: it patches moto's internals. Install moto[server]=={MOTO_VERSION}, or "
        "re-check every entry of wcpipe.sandbox.core.PATCHED_INTERNALS and update the pin."
    )


@pytest.mark.parametrize("module,attribute", [*PATCHED_INTERNALS, *_hook_pins()])
def test_patched_internal_exists(module: str, attribute: str) -> None:
    try:
        owner = importlib.import_module(module)
    except ImportError as exc:
        pytest.fail(f"the sandbox patches {module}.{attribute}, but {module} is gone: {exc}")
    assert hasattr(owner, attribute), (
        f"the sandbox patches {module}.{attribute}, which this moto no longer has "
        f"(pinned: moto {MOTO_VERSION}); see wcpipe.sandbox.core.PATCHED_INTERNALS"
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
    """job_workers.ObjectReader reads `FakeKey._value_buffer` a chunk at a time under `.lock`."""
    from moto.s3.models import FakeKey

    key = FakeKey("k", b"abc" * 1000, account_id="123456789012", region_name="us-east-1")
    try:
        with key.lock:
            key._value_buffer.seek(3)
            assert key._value_buffer.read(3) == b"abc"
    finally:
        key.dispose()
