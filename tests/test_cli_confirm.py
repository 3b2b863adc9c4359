"""`up` and `down` ask before they act: "no" is a cancel (exit 1, nothing done, as Terraform's
"Apply cancelled"); with no terminal to ask on, a usage error naming --yes (issue 13)."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from support.paths import SPEC_PATH


class Terminal(io.StringIO):
    """Typed answers on a stdin that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def _buckets(sandbox: Any) -> list[str]:
    return [b["Name"] for b in sandbox.client("s3").list_buckets()["Buckets"]]


def test_no_cancels_and_yes_applies(
    sandbox: Any, wcpipe: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WCPIPE_POLL_INTERVAL", "0.1")
    base = ["-c", str(SPEC_PATH), "--endpoint-url", sandbox.endpoint]
    for answer in ("n\n", "\n"):  # no, and the default (no)
        monkeypatch.setattr("sys.stdin", Terminal(answer))
        result = wcpipe(*base, "up")
        assert result.code == 1, result
        # (the typed answer's newline is not echoed here, so the error follows the question)
        assert result.err.rstrip().endswith("[y/N]: error: up cancelled: nothing was changed")
        assert _buckets(sandbox) == []

    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # not a terminal: nobody to ask
    result = wcpipe(*base, "up")
    assert result.code == 2, result
    assert "rerun with --yes to apply without asking" in result.err
    assert _buckets(sandbox) == []

    monkeypatch.setattr("sys.stdin", Terminal("y\n"))
    assert wcpipe(*base, "up").code == 0
    [bucket] = _buckets(sandbox)

    monkeypatch.setattr("sys.stdin", Terminal("n\n"))
    result = wcpipe(*base, "down")
    assert result.code == 1, result
    assert result.err.rstrip().endswith("[y/N]: error: down cancelled: nothing was changed")
    assert _buckets(sandbox) == [bucket]

    monkeypatch.setattr("sys.stdin", Terminal("y\n"))
    assert wcpipe(*base, "down").code == 0
    assert _buckets(sandbox) == []
