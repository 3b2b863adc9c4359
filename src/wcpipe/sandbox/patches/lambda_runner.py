"""Lambda without docker: run a deployed function's own code in a subprocess, as Lambda would.

Contract:
- `invoke(sandbox, function, event)` runs the function's deployed package (moto keeps the zip,
  whether it came as ZipFile or from S3), unzipped once into a cache keyed by the package's
  SHA-256. The handler runs under the sandbox's Python with the function's environment plus
  AWS_ENDPOINT_URL (the sandbox), AWS_REGION, AWS_LAMBDA_FUNCTION_NAME and the other
  AWS_LAMBDA_* variables, and its execution role's credentials (`actors.assume`: every request
  it makes is authorised as the role); the function's Timeout bounds it. What it prints goes to
  /aws/lambda/<fn>, one stream per invocation named as Lambda names them
  (`YYYY/MM/DD/[$LATEST]<32 hex>`), between START / END / REPORT lines; an uncaught exception is
  logged as Lambda logs it ("[ERROR] Type: message" and the traceback, one event). Metrics
  AWS/Lambda Invocations, Errors (0 or 1) and Duration (FunctionName dimension) go to CloudWatch.
  Under a latency profile the function's waits (`SCALED_SECONDS`, AWS seconds) are divided by
  the profile's scale, as crawls and job runs are (`patches/latency`).
  A failure is logged and counted, never raised: the server keeps serving.
- `install()` patches moto once per process (`context.once`), each patch as `context.or_moto`
  (moto's own behaviour without a sandbox): (1) an EventBridge rule delivers to Lambda targets
  (asynchronously, on the sandbox's "events" pool, and only if the function's resource policy
  lets events.amazonaws.com invoke it, as on AWS; otherwise AWS/Events FailedInvocations);
  (2) a disabled rule delivers nothing; (3) the Lambda Invoke API runs the code the same way.
  Other targets keep moto's own delivery. PINS names the moto internals used here.
- Not modelled: memory limits (REPORT says "Max Memory Used: n/a"), layers, retries of failed
  asynchronous invocations, concurrency.
"""

from __future__ import annotations

import contextlib
import copy
import fnmatch
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from moto.awslambda.models import LambdaFunction
from moto.events.models import Rule

from wcpipe.sandbox.context import current, once, or_moto
from wcpipe.sandbox.patches import actors

if TYPE_CHECKING:
    from wcpipe.sandbox.context import SandboxView

PINS: tuple[tuple[str, str], ...] = (
    ("moto.events.models", "Rule"),
    ("moto.awslambda.models", "LambdaFunction"),
)

# Waits the function is configured with, in AWS seconds (lambda/handler.py's settle window):
# under a latency profile they are divided by its scale, as crawls and job runs are.
SCALED_SECONDS = ("ARRIVAL_SETTLE_SECONDS",)

# The bootstrap Lambda's Python runtime stands in for: import the handler, call it with the
# event and a context, write the outcome (result or error) to the file named by argv[1].
_BOOTSTRAP = r"""
import importlib, json, os, sys, time, traceback
result_path, task_root, handler = sys.argv[1], sys.argv[2], sys.argv[3]
sys.path.insert(0, task_root)
deadline = time.time() + float(os.environ["AWS_LAMBDA_FUNCTION_TIMEOUT"])
class Context:
    function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
    function_version = "$LATEST"
    invoked_function_arn = os.environ["WCPIPE_FUNCTION_ARN"]
    memory_limit_in_mb = os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]
    aws_request_id = os.environ["WCPIPE_REQUEST_ID"]
    log_group_name = os.environ["AWS_LAMBDA_LOG_GROUP_NAME"]
    log_stream_name = os.environ["AWS_LAMBDA_LOG_STREAM_NAME"]
    def get_remaining_time_in_millis(self):
        return max(0, int((deadline - time.time()) * 1000))
try:
    module_name, func_name = handler.rsplit(".", 1)
    module = importlib.import_module(module_name.replace("/", "."))
    result = getattr(module, func_name)(json.loads(sys.stdin.read() or "{}"), Context())
    outcome = {"ok": True, "result": result}
except Exception as exc:
    outcome = {"ok": False, "errorType": type(exc).__name__, "errorMessage": str(exc),
               "stackTrace": traceback.format_exception(exc)}
sys.stdout.flush(); sys.stderr.flush()
with open(result_path, "w") as out:
    json.dump(outcome, out, default=str)
"""


@dataclass
class Invocation:
    request_id: str
    log_stream: str
    errored: bool
    payload: Any  # the handler's result, or Lambda's error shape
    duration_ms: float
    output: str


def _cache_root(sandbox: SandboxView) -> Path:
    root = sandbox.lambda_cache or Path(tempfile.gettempdir()) / "wcpipe-lambda-cache"
    root.mkdir(parents=True, exist_ok=True)
    return root


def unpack(sandbox: SandboxView, code: bytes) -> Path:
    """The package unzipped, once per content (cache key: the package's SHA-256)."""
    target = _cache_root(sandbox) / hashlib.sha256(code).hexdigest()
    if not target.is_dir():
        staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=".unpack-"))
        with zipfile.ZipFile(io.BytesIO(code)) as archive:
            archive.extractall(staging)
        try:
            staging.rename(target)
        except OSError:  # another invocation unpacked it first
            shutil.rmtree(staging, ignore_errors=True)
    return target


def _stream_name(now: datetime) -> str:
    return f"{now:%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}"


def _environment(sandbox: SandboxView, fn: Any, request_id: str, stream: str) -> dict[str, str]:
    env = {k: os.environ[k] for k in ("PATH", "LANG", "LC_ALL", "TZ") if k in os.environ}
    env.update({str(k): str(v) for k, v in (fn.environment_vars or {}).items()})
    scale = float(getattr(sandbox.latency, "scale", 1.0) or 1.0)
    for name in SCALED_SECONDS:  # AWS seconds: sandbox seconds under a latency profile
        if name in env and scale != 1.0:
            env[name] = str(float(env[name]) / scale)
    # Lambda runs the function with its execution role's credentials (Lambda developer guide,
    # "Defining Lambda function permissions with an execution role"): its requests are the role's.
    env.update(actors.assume(sandbox, fn.role, fn.function_name))
    env.update(
        AWS_ENDPOINT_URL=sandbox.endpoint,
        AWS_REGION=sandbox.region,
        AWS_DEFAULT_REGION=sandbox.region,
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
        AWS_LAMBDA_FUNCTION_NAME=fn.function_name,
        AWS_LAMBDA_FUNCTION_VERSION="$LATEST",
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE=str(fn.memory_size),
        AWS_LAMBDA_FUNCTION_TIMEOUT=str(fn.timeout),
        AWS_LAMBDA_LOG_GROUP_NAME=f"/aws/lambda/{fn.function_name}",
        AWS_LAMBDA_LOG_STREAM_NAME=stream,
        AWS_EXECUTION_ENV=f"AWS_Lambda_{fn.run_time or 'python'}",
        PYTHONUNBUFFERED="1",
        PYTHONDONTWRITEBYTECODE="1",
        WCPIPE_FUNCTION_ARN=fn.function_arn,
        WCPIPE_REQUEST_ID=request_id,
    )
    return env


def invoke(sandbox: SandboxView, fn: Any, event: Any) -> Invocation:
    """Run one invocation of moto's LambdaFunction `fn`; log it and count it. Never raises."""
    request_id = str(uuid.uuid4())
    started = datetime.now(UTC)
    stream = _stream_name(started)
    group = f"/aws/lambda/{fn.function_name}"
    # Lambda writes the function's log with its execution role's permissions (Lambda developer
    # guide, "Sending Lambda function logs to CloudWatch Logs": CreateLogStream, PutLogEvents):
    # a role that may not write them leaves the invocation without its lines.
    actor = actors.service_actor(sandbox, fn.role, fn.function_name)
    access: dict[str, bool] = {}

    def log(line: str) -> None:
        if actor is None or actors.may_log(sandbox, actor, group, stream, access):
            sandbox.log(group, stream, line)

    log(f"START RequestId: {request_id} Version: $LATEST")
    began = time.perf_counter()
    output, outcome = _run(sandbox, fn, event, request_id, stream, log)
    duration_ms = (time.perf_counter() - began) * 1000
    errored = not outcome.get("ok")
    if errored:
        outcome.pop("ok", None)
        trace = "".join(outcome.get("stackTrace") or [])
        message = f"[ERROR] {outcome.get('errorType')}: {outcome.get('errorMessage')}"
        log(f"{message}\n{trace}".rstrip())
    log(f"END RequestId: {request_id}")
    log(
        f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
        f"Billed Duration: {max(1, int(duration_ms + 0.999))} ms\t"
        f"Memory Size: {fn.memory_size} MB\tMax Memory Used: n/a",
    )
    dims = {"FunctionName": fn.function_name}
    sandbox.put_metric("AWS/Lambda", "Invocations", 1, dims, unit="Count")
    sandbox.put_metric("AWS/Lambda", "Errors", 1 if errored else 0, dims, unit="Count")
    sandbox.put_metric("AWS/Lambda", "Duration", duration_ms, dims, unit="Milliseconds")
    payload = outcome if errored else outcome.get("result")
    return Invocation(request_id, stream, errored, payload, duration_ms, output)


def _run(
    sandbox: SandboxView,
    fn: Any,
    event: Any,
    request_id: str,
    stream: str,
    on_line: Callable[[str], None],
) -> tuple[str, dict[str, Any]]:
    """(combined stdout/stderr, outcome) of one run of the handler in a subprocess. Each line
    goes to `on_line` as the handler prints it, so it is logged at the time it was printed (as
    Lambda does), not when the invocation ends."""
    try:
        task_root = unpack(sandbox, fn.code_bytes)
    except (zipfile.BadZipFile, OSError) as exc:
        return "", {"ok": False, "errorType": "Runtime.InvalidPackage", "errorMessage": str(exc)}
    env = _environment(sandbox, fn, request_id, stream)
    with tempfile.TemporaryDirectory(prefix="wcpipe-invoke-") as tmp:
        result_path = Path(tmp) / "outcome.json"
        args = [sys.executable, "-c", _BOOTSTRAP, str(result_path), str(task_root), fn.handler]
        proc = subprocess.Popen(
            args,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,  # one stream, in the order written, as Lambda logs it
            text=True,
            env=env,
            cwd=task_root,
        )
        lines: list[str] = []

        def pump() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                lines.append(line)
                on_line(line.rstrip("\n"))

        reader = threading.Thread(target=pump, name="wcpipe-lambda-output", daemon=True)
        reader.start()
        assert proc.stdin is not None
        with contextlib.suppress(BrokenPipeError):
            proc.stdin.write(json.dumps(event))
            proc.stdin.close()
        try:
            proc.wait(timeout=float(fn.timeout))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            reader.join()
            message = f"Task timed out after {float(fn.timeout):.2f} seconds"
            return "".join(lines), {
                "ok": False,
                "errorType": "Sandbox.Timedout",
                "errorMessage": message,
            }
        reader.join()
        output = "".join(lines)
        if not result_path.exists():  # the interpreter died before the handler returned
            message = f"RequestId: {request_id} Error: Runtime exited with code {proc.returncode}"
            return output, {"ok": False, "errorType": "Runtime.ExitError", "errorMessage": message}
        outcome: dict[str, Any] = json.loads(result_path.read_text())
        return output, outcome


# EventBridge -> Lambda ----------------------------------------------------------------------
def _allows_events(fn: Any, rule_arn: str) -> bool:
    """Does the function's resource policy let EventBridge (this rule) invoke it?"""
    for statement in getattr(fn.policy, "statements", []):
        principal = statement.get("Principal", {})
        service = principal.get("Service") if isinstance(principal, dict) else principal
        if statement.get("Effect", "Allow") != "Allow" or service != "events.amazonaws.com":
            continue
        condition = statement.get("Condition", {}).get("ArnLike", {})
        source = condition.get("AWS:SourceArn") or condition.get("aws:SourceArn")
        if source is None or fnmatch.fnmatchcase(rule_arn, source):
            return True
    return False


def deliver(
    sandbox: SandboxView, rule_name: str, rule_arn: str, target_arn: str, event: Any
) -> None:
    """Deliver one event to a Lambda target (runs on the "events" pool)."""
    dims = {"RuleName": rule_name}
    try:
        fn = sandbox.backend("lambda").get_function(target_arn)
    except Exception:
        fn = None
    if fn is None or not _allows_events(fn, rule_arn):
        sandbox.put_metric("AWS/Events", "FailedInvocations", 1, dims, unit="Count")
        return
    sandbox.put_metric("AWS/Events", "Invocations", 1, dims, unit="Count")
    invoke(sandbox, fn, event)


def _as_delivered(event: dict[str, Any]) -> dict[str, Any]:
    """The event as EventBridge hands it to a target: ISO time, no moto bookkeeping."""
    out = {k: v for k, v in event.items() if k != "ingestion-time"}
    if isinstance(out.get("time"), int | float):
        out["time"] = datetime.fromtimestamp(out["time"], UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return out


def _as_moto(event: dict[str, Any]) -> dict[str, Any]:
    """The event as moto's own target delivery expects it: epoch time, and the ingestion time
    its input transformer reads (EventBridge stamps it when it accepts an event)."""
    out = copy.deepcopy(event)
    if isinstance(out.get("time"), str):
        stamp = datetime.fromisoformat(out["time"].replace("Z", "+00:00"))
        out["time"] = stamp.timestamp()
    out.setdefault("ingestion-time", out.get("time"))
    return out


_moto_send_to_targets: Callable[..., None] = Rule.send_to_targets  # for the other targets


def _send_to_targets(self: Any, original_event: Any, transform_input: bool = True) -> None:
    if self.state != "ENABLED" or not self.event_pattern.matches_event(original_event):
        return
    lambdas = [t for t in self.targets if ":lambda:" in t["Arn"]]
    others = [t for t in self.targets if ":lambda:" not in t["Arn"]]
    if others:
        rest = copy.copy(self)
        rest.targets = others
        _moto_send_to_targets(rest, _as_moto(original_event), transform_input)
    if not lambdas:
        return
    sandbox = current()
    for target in lambdas:
        event: Any = _as_delivered(original_event)
        if "Input" in target:
            event = json.loads(target["Input"])
        sandbox.background("events", deliver, sandbox, self.name, self.arn, target["Arn"], event)


def _invoke_lambda(self: Any, event: str | None = None) -> tuple[str, bool, str]:
    """moto's LambdaFunction._invoke_lambda, without docker: (payload, errored, log tail)."""
    payload = json.loads(event) if isinstance(event, str) else event
    try:
        result = invoke(current(), self, payload if payload is not None else {})
    except Exception:  # never take the server down
        return json.dumps({"errorMessage": traceback.format_exc()}), True, ""
    return json.dumps(result.payload), result.errored, result.output[-4096:]


@once
def install() -> None:
    """Patch moto's EventBridge delivery and Lambda invocation."""
    Rule.send_to_targets = or_moto(  # type: ignore[method-assign]
        _send_to_targets, _moto_send_to_targets
    )
    LambdaFunction._invoke_lambda = or_moto(  # type: ignore[method-assign]
        _invoke_lambda, LambdaFunction._invoke_lambda
    )
