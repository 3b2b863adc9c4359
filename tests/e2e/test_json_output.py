"""Every command's `--output json` on a real `up` (the sandbox), validated against the schema
`wcpipe schema COMMAND` prints: up (ending with the pipeline's outputs), plan, status, run,
start-job, logs, verify, down. And `status` rendered at 80 columns keeps within them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from support.cli import run_cli
from support.harness import new_pipeline
from support.json_shapes import check

pytestmark = pytest.mark.e2e


def test_every_command_prints_its_documented_json(
    sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WCPIPE_POLL_INTERVAL", "0.1")
    pipeline = new_pipeline(sandbox, tmp_path)

    def json_of(command: str, *args: str) -> Any:
        result = pipeline.cli("--output", "json", *command.split(), *args)
        assert result.code == 0, result
        document = json.loads(result.out)
        check(run_cli, command, document)
        return document

    up = json_of("up", "--yes")
    try:
        outputs = up["outputs"]
        assert outputs["bucket"] and outputs["bucket_arn"].startswith("arn:aws:s3:::")
        assert outputs["job_arn"].endswith(f":job/{outputs['job']}")
        assert outputs["glue_role_arn"].startswith("arn:aws:iam::")
        assert isinstance(outputs["warehouse_port"], int) and outputs["warehouse_host"]
        assert json_of("up", "--yes")["outputs"] == outputs  # the same with nothing to change
        assert json_of("plan")["pending"] == 0
        status = json_of("status")
        assert {r["state"] for r in status["resources"]} == {"present"}
        run = json_of("run")
        assert run["verify"]["ok"] is True and run["job_run"]["state"] == "SUCCEEDED"
        assert run["job_run"]["started"].endswith(("Z", "+00:00"))
        assert json_of("verify")["checks"][0]["source"] == 22
        status = json_of("status")
        assert status["job_run"]["run_id"] == run["job_run"]["run_id"]
        assert isinstance(status["lambda_activity"]["invocations"], int)
        events = json_of("logs", "all", "--since", "1h")
        assert events and all(e["timestamp"] for e in events)
        started = json_of("start-job")
        assert started["run_id"] and started["state"]

        monkeypatch.setenv("COLUMNS", "80")
        text = pipeline.cli("status")
        assert text.code == 0, text
        assert all(len(line) <= 80 for line in text.out.splitlines()), text.out
        monkeypatch.delenv("COLUMNS")
    finally:
        down = pipeline.cli("--output", "json", "down", "--yes")
    assert down.code == 0, down
    check(run_cli, "down", json.loads(down.out))
