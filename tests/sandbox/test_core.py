"""The Sandbox object: routing, helpers, the server's shape, its modules' imports, and the CLI
commands."""

from __future__ import annotations

import ast
import os
import signal
import subprocess
import sys
import time
from typing import Any

import pytest


def test_endpoint_is_loopback_and_account_is_motos(sandbox: Any, client: Any) -> None:
    assert sandbox.endpoint.startswith("http://127.0.0.1:")
    assert client("sts").get_caller_identity()["Account"] == sandbox.account_id == "123456789012"


def test_backend_is_what_clients_see(sandbox: Any, client: Any) -> None:
    client("glue").create_database(DatabaseInput={"Name": "seen"})
    assert "seen" in sandbox.backend("glue").databases
    client("s3").create_bucket(Bucket="core-bucket")
    assert "core-bucket" in sandbox.backend("s3").buckets


def test_log_creates_group_and_stream(sandbox: Any, client: Any) -> None:
    sandbox.log("/wcpipe/test", "stream-1", "hello", timestamp_ms=int(time.time() * 1000) - 1000)
    sandbox.log("/wcpipe/test", "stream-1", "again")
    events = client("logs").get_log_events(
        logGroupName="/wcpipe/test", logStreamName="stream-1", startFromHead=True
    )
    assert [e["message"] for e in events["events"]] == ["hello", "again"]


def test_put_metric_is_queryable(sandbox: Any, client: Any) -> None:
    from datetime import UTC, datetime, timedelta

    sandbox.put_metric("WcPipe/Test", "Rows", 7, {"Table": "t"}, unit="Count")
    now = datetime.now(UTC)
    points = client("cloudwatch").get_metric_statistics(
        Namespace="WcPipe/Test",
        MetricName="Rows",
        Dimensions=[{"Name": "Table", "Value": "t"}],
        StartTime=now - timedelta(minutes=5),
        EndTime=now + timedelta(minutes=1),
        Period=60,
        Statistics=["Sum"],
    )["Datapoints"]
    assert sum(p["Sum"] for p in points) == 7


def test_pg_connect_creates_the_database(sandbox: Any) -> None:
    with sandbox.pg_connect("core_db") as conn:
        assert conn.execute("SELECT current_database()").fetchone() == ("core_db",)
        assert conn.autocommit


def test_current_and_background(sandbox: Any) -> None:
    from wcpipe.sandbox.context import current

    assert current() is sandbox  # the only sandbox running
    future = sandbox.background("test", current)
    assert future.result(timeout=5) is sandbox
    assert sandbox.idle(timeout=5)


def test_latency_hook_sees_each_request(sandbox: Any, client: Any) -> None:
    seen: list[tuple[str, str]] = []
    sandbox.latency = lambda service, operation: seen.append((service, operation)) or 0.0
    try:
        client("glue").get_databases()
    finally:
        sandbox.latency = None
    assert seen == [("glue", "GetDatabases")]


def test_every_patch_is_installed_at_start(sandbox: Any) -> None:
    """Installed with the others when the sandbox starts, not on a first request: the latency
    module's readiness patches, though no request was served under a profile."""
    from moto.glue.models import GlueBackend
    from moto.redshift.models import Cluster

    assert isinstance(vars(Cluster)["status"], property)
    assert hasattr(GlueBackend.start_crawler, "__wrapped__")
    assert hasattr(GlueBackend.start_job_run, "__wrapped__")


def _sandbox_imports() -> dict[str, set[str]]:
    """wcpipe.sandbox module -> the wcpipe.sandbox modules it imports: at module level, under
    TYPE_CHECKING or inside a function, and the packages an import of a submodule runs."""
    from pathlib import Path

    import wcpipe.sandbox

    root = Path(wcpipe.sandbox.__file__).parent
    paths = {
        ".".join(("wcpipe", "sandbox", *p.relative_to(root).with_suffix("").parts)).removesuffix(
            ".__init__"
        ): p
        for p in root.rglob("*.py")
    }
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                    base = f"{up}.{base}" if base else up
                found.update([base, *(f"{base}.{a.name}" for a in node.names)])
        for target in list(found):
            while "." in target:  # importing a.b.c runs a.b's __init__ first
                target = target.rpartition(".")[0]
                found.add(target)
        graph[name] = {m for m in found if m in paths and m != name}
    return graph


def test_sandbox_modules_import_one_another_without_a_cycle() -> None:
    graph = _sandbox_imports()
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        if name in path:
            cycle = [*path[path.index(name) :], name]
            pytest.fail(f"import cycle: {' -> '.join(cycle)}")
        if name in done:
            return
        for imported in sorted(graph[name]):
            visit(imported, [*path, name])
        done.add(name)

    for name in sorted(graph):
        visit(name, [])
    assert graph["wcpipe.sandbox.context"] == set(), "context imports no other sandbox module"


def test_command_module_imports_nothing_heavy() -> None:
    code = (
        "import sys, wcpipe.cli.sandbox_cmd\n"
        "heavy = [m for m in ('boto3', 'moto', 'rich', 'psycopg') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_sandbox_help_lists_serve() -> None:
    from click.testing import CliRunner

    from wcpipe.cli import cli

    result = CliRunner().invoke(cli, ["sandbox", "--help"])
    assert result.exit_code == 0, result.output
    assert "serve" in result.output


def test_serve_prints_endpoint_and_ends_quietly_on_ctrl_c(warehouse_dsn: str) -> None:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from wcpipe.cli import main; main()",
            "sandbox",
            "serve",
            "--warehouse-dsn",
            warehouse_dsn,
        ],
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stderr is not None
    lines: list[str] = []
    deadline = time.monotonic() + 60
    while not any("export AWS_ENDPOINT_URL=http://127.0.0.1:" in ln for ln in lines):
        assert time.monotonic() < deadline and proc.poll() is None, "".join(lines)
        lines.append(proc.stderr.readline())
    proc.send_signal(signal.SIGINT)
    _, rest = proc.communicate(timeout=30)
    assert proc.returncode == 0, rest
    assert "Traceback" not in rest and "interrupted" not in rest


@pytest.mark.e2e
def test_data_dir_keeps_the_warehouse(tmp_path: Any) -> None:
    import tempfile
    from pathlib import Path

    from wcpipe.sandbox.core import Sandbox

    data_dir = Path(tempfile.mkdtemp(prefix="wcpipe-keep-")) / "pgdata"
    with Sandbox(data_dir=data_dir) as first, first.pg_connect("dev") as conn:
        conn.execute("CREATE TABLE kept (id int)")
    with Sandbox(data_dir=data_dir) as second, second.pg_connect("dev") as conn:
        assert conn.execute("SELECT to_regclass('public.kept') IS NOT NULL").fetchone() == (True,)
