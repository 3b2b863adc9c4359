"""`wcpipe sandbox serve` as a user runs it: it serves AWS on loopback with the exports it prints,
and SIGTERM (as Ctrl-C) stops it with its warehouse, leaving nothing behind. A port in use is
refused at once, an impossible one is a usage error."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import EndpointConnectionError
from support.cli import CliResult

from wcpipe.sandbox.context import FAKE_CREDENTIALS


def test_serve_answers_and_sigterm_stops_it_cleanly(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    serve = subprocess.Popen(
        [str(Path(sys.executable).with_name("wcpipe")), "sandbox", "serve"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        assert serve.stdout is not None
        lines = []
        for line in serve.stdout:
            lines.append(line)
            if "stops it" in line:
                break
        text = "".join(lines)
        found = re.search(r"listening on (http://127\.0\.0\.1:\d+) \(warehouse: (\S+)\)", text)
        assert found, text
        endpoint, warehouse = found[1], found[2]
        assert f"export AWS_ENDPOINT_URL={endpoint}" in text
        pgdata = Path(re.search(r"host=(\S+)", warehouse)[1])  # type: ignore[index]
        assert pgdata.exists()

        def s3() -> object:
            return boto3.client(
                "s3",
                endpoint_url=endpoint,
                region_name="us-east-1",
                aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                config=Config(retries={"max_attempts": 1}),
            )

        s3().create_bucket(Bucket="served")  # type: ignore[attr-defined]
        assert [b["Name"] for b in s3().list_buckets()["Buckets"]] == ["served"]  # type: ignore[attr-defined]

        # What a topic publishes is printed, one line each.
        sns = boto3.client(
            "sns",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )
        topic = sns.create_topic(Name="served-alerts")["TopicArn"]
        alert = {"pipeline": "fifa", "hop": "load", "state": "FAILED", "run": "jr_1"}
        alert["look"] = "wcpipe logs job --run-id jr_1"
        sns.publish(TopicArn=topic, Message=json.dumps(alert))

        serve.send_signal(signal.SIGTERM)
        assert serve.wait(timeout=30) == 0
        rest = serve.stdout.read()
        assert "Traceback" not in rest
        assert (
            "alert on served-alerts: fifa load FAILED run jr_1: wcpipe logs job --run-id jr_1"
            in rest.splitlines()
        ), rest
        with pytest.raises(EndpointConnectionError):
            s3().list_buckets()  # type: ignore[attr-defined]
        assert not pgdata.exists(), "the warehouse's temp dir outlived the server"
    finally:
        if serve.poll() is None:
            serve.kill()
            serve.wait()


def test_serve_on_a_port_in_use_exits_at_once_with_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        began = time.monotonic()
        done = subprocess.run(
            [
                str(Path(sys.executable).with_name("wcpipe")),
                "sandbox",
                "serve",
                "--port",
                str(port),
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        took = time.monotonic() - began
    assert done.returncode == 1, done
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert lines == [
        f"error: port {port} on 127.0.0.1 is in use: pass another --port, or none for a free one"
    ], done.stderr
    assert took < 30, f"took {took:.0f}s to refuse the port"


@pytest.mark.parametrize("port", ["0", "70000", "abc"])
def test_serve_on_an_impossible_port_is_a_usage_error(
    wcpipe: Callable[..., CliResult], port: str
) -> None:
    code, out, err = wcpipe("sandbox", "serve", "--port", port)
    assert code == 2
    assert out == ""
    assert "Invalid value for '--port'" in err and port in err
    assert "Traceback" not in err


def test_server_bind_failure_after_the_check_raises_instead_of_hanging() -> None:
    """A port taken between `check_port` and werkzeug's bind: werkzeug's `make_server` exits
    its thread (SystemExit), and `start()` must say so, not wait for a ready event forever."""
    from wcpipe.core.errors import WcpipeError
    from wcpipe.sandbox.server import _SandboxMotoServer

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = _SandboxMotoServer(None, port)  # type: ignore[arg-type]
        with pytest.raises(WcpipeError, match=f"port {port} on 127.0.0.1 is in use"):
            server.start()
