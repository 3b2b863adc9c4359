"""`wcpipe sandbox serve` and `wcpipe demo`: the offline AWS, served or used in-process.

Thin commands over `wcpipe.sandbox.core.Sandbox` (imported lazily, like boto3 and moto: nothing
heavy at module level). Both set fake AWS credentials in this process's environment and point
AWS config files at /dev/null first, so no real profile is ever read and no request leaves the
machine. `demo` drives the ordinary wcpipe commands (`up`, `run`, `verify`, `down`) through
`wcpipe.cli.cli.main(..., standalone_mode=False)` against the sandbox's endpoint, so what it shows
is exactly what those commands do against AWS.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import tempfile
import threading
from pathlib import Path
from typing import Any

import click

from wcpipe.cli.app import App

DEMO_REGION = "us-east-1"


def bundled_spec() -> Path:
    """The FIFA spec: the packaged copy (wcpipe/bundled/) or, in a checkout, config/."""
    import wcpipe

    package = Path(wcpipe.__file__).resolve().parent
    for candidate in (
        package / "bundled" / "config" / "pipeline.yaml",
        package.parent.parent / "config" / "pipeline.yaml",
    ):
        if candidate.is_file():
            return candidate
    from wcpipe.core.errors import UsageError

    raise UsageError("the bundled demo spec is missing from this installation")


GLUE_ENGINE = click.option(
    "--glue-engine",
    type=click.Choice(["python", "spark"]),
    default="python",
    show_default=True,
    help="How job runs run: 'python', a fast emulation of the job; 'spark', the deployed "
    "glue/load.py on real PySpark (Glue 5.1's Spark; needs Java 17 and wcpipe[spark]).",
)


WAREHOUSE = click.option(
    "--warehouse",
    type=click.Choice(["provisioned", "serverless"]),
    default="provisioned",
    show_default=True,
    help="The demo's warehouse: a provisioned cluster, or Redshift Serverless.",
)


def demo_spec(warehouse: str, workdir: Path, unattended: bool = False) -> Path:
    """The bundled spec for `warehouse`: itself, or a copy in `workdir` with `warehouse.type`
    changed (its data files, relative to it, reached through a link to the bundled data). With
    `unattended`, the copy has `trigger: on-arrival`, alerts, and no `data.files`: the data is
    pushed."""
    spec = bundled_spec()
    if warehouse == "provisioned" and not unattended:
        return spec
    text = spec.read_text(encoding="utf-8")
    changed = text.replace("\n  type: provisioned", f"\n  type: {warehouse}", 1)
    assert warehouse == "provisioned" or changed != text, "the bundled spec names its type"
    if unattended:
        files = re.compile(r"^  files:.*\n(    - .*\n)+", re.MULTILINE)
        assert files.search(changed), "the bundled spec lists its data files"
        changed = files.sub("  files: []\n", changed, count=1) + "\ntrigger: on-arrival\n"
        # The sandbox answers in well under a second: a short settle window keeps the demo brisk.
        changed += "arrival_settle_seconds: 2\n"
        changed += f"alerts:\n  email: [{DEMO_ALERTS_TO}]\n"
    (workdir / "config").mkdir()
    (workdir / "data").symlink_to(spec.parent.parent / "data", target_is_directory=True)
    copy = workdir / "config" / spec.name
    copy.write_text(changed, encoding="utf-8")
    return copy


def _glue_engine_ready(engine: str) -> None:
    """Refuse --glue-engine spark before anything starts when this machine cannot run it."""
    if engine != "spark":
        return
    from wcpipe.core.errors import UsageError
    from wcpipe.sandbox.glue_runtime import engine as spark

    try:
        spark.check()
    except spark.EngineMissing as exc:
        raise UsageError(f"--glue-engine spark: {exc}") from None


@click.group()
def sandbox() -> None:
    """An offline AWS for this pipeline: moto, a real PostgreSQL, and what moto lacks."""


@sandbox.command()
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=None,
    show_default="a free port",
    help="Port on 127.0.0.1 to listen on (1-65535). One in use is refused at once.",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    help="Keep the warehouse (PostgreSQL) here, across restarts.",
)
@click.option("--warehouse-dsn", help="Use this PostgreSQL instead of an embedded one.")
@click.option(
    "--latency",
    type=click.Choice(["none", "aws"]),
    default="none",
    show_default=True,
    help="'aws': AWS's per-request delay and readiness waits (cluster, IAM, crawl, job "
    "start-up), divided by --latency-scale.",
)
@click.option(
    "--latency-scale",
    type=click.FloatRange(min=1.0),
    default=60.0,
    show_default=True,
    help="AWS seconds per sandbox second under --latency aws.",
)
@click.option(
    "--operator-policy",
    "operator_policy",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    help="Authorise your own requests too, as a person holding exactly these policy documents "
    "(repeat for each; e.g. what `wcpipe iam-policy --out-dir` wrote): the credentials to use "
    "are printed.",
)
@GLUE_ENGINE
@click.pass_obj
def serve(
    app: App,
    port: int | None,
    data_dir: str | None,
    warehouse_dsn: str | None,
    latency: str = "none",
    latency_scale: float = 60.0,
    glue_engine: str = "python",
    operator_policy: tuple[str, ...] = (),
) -> None:
    """Serve the sandbox on 127.0.0.1 until Ctrl-C.

    Point wcpipe (or any AWS SDK) at it with --endpoint-url or AWS_ENDPOINT_URL. Every message
    an SNS topic publishes (the pipeline's alerts) is printed, one line each.
    """
    from wcpipe import ui
    from wcpipe.sandbox.core import Sandbox, use_fake_credentials
    from wcpipe.sandbox.patches.latency import profile
    from wcpipe.sandbox.server import check_port

    _glue_engine_ready(glue_engine)
    check_port(port or 0)  # a port in use: one line, before anything starts
    documents = [_policy_document(path) for path in operator_policy] or None
    region = app.region or DEMO_REGION
    use_fake_credentials(region)
    box = Sandbox(
        port=port or 0,
        data_dir=data_dir,
        warehouse_dsn=warehouse_dsn,
        region=region,
        latency=profile(latency, scale=latency_scale),
        glue_engine=glue_engine,
        operator_policy=documents,
    )
    with ui.spinner("starting the sandbox"):
        box.start()
    if app.json:
        ui.emit_shape(
            "sandbox serve",
            {"endpoint": box.endpoint, "warehouse_dsn": box.pg_dsn, "region": box.region},
        )
    from wcpipe.sandbox.patches import sns_delivery

    # Every message a topic publishes (the pipeline's alerts among them), one line on stdout.
    sns_delivery.listen(box, lambda *published: ui.line(sns_delivery.one_line(*published)))
    # SIGTERM (kill, a service manager) ends it as Ctrl-C does: the warehouse is stopped too.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how a server ends: quietly
            _announce(box)
            threading.Event().wait()
    finally:
        box.stop()


def _policy_document(path: str) -> dict[str, Any]:
    """One IAM policy document from a file, refused in one line if it is not one."""
    import json

    from wcpipe.core.errors import UsageError

    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise UsageError(f"--operator-policy {path}: not a JSON policy document ({exc})") from None
    if not isinstance(document, dict) or "Statement" not in document:
        raise UsageError(f"--operator-policy {path}: a policy document needs a Statement")
    return document


def _announce(box: Any) -> None:
    from wcpipe import ui

    ui.info(f"sandbox listening on {box.endpoint} (warehouse: {box.pg_dsn})")
    if box.glue_engine == "spark":
        ui.info("  job runs: the deployed glue/load.py on real PySpark")
    ui.info(f"  export AWS_ENDPOINT_URL={box.endpoint}")
    if box.operator_credentials:
        ui.info("  your requests are authorised as a role holding exactly --operator-policy:")
        for key, value in box.operator_credentials.items():
            ui.info(f"  export {key}={value}", soft_wrap=True)
    else:
        ui.info("  export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing")
    ui.info(f"  export AWS_DEFAULT_REGION={box.region} WCPIPE_POLL_INTERVAL=0.2")
    ui.info("Ctrl-C (or SIGTERM) stops it.")


@click.command()
@click.option(
    "--keep", is_flag=True, help="Leave the pipeline up and keep the sandbox serving until Ctrl-C."
)
@click.option(
    "--unattended",
    is_flag=True,
    help="trigger on-arrival: up, then push the data file; the pipeline loads and verifies it "
    "with no `run`.",
)
@GLUE_ENGINE
@WAREHOUSE
@click.pass_obj
def demo(
    app: App,
    keep: bool,
    unattended: bool = False,
    glue_engine: str = "python",
    warehouse: str = "provisioned",
) -> None:
    """Run the bundled FIFA pipeline end to end on an offline sandbox: up, run, verify, the
    first rows from the warehouse, then down. With --unattended, nobody runs it: up with trigger
    on-arrival, push the data file, and the arrival crawls, loads and verifies it. No AWS account
    is used. With --output json: one document of each step's JSON (`wcpipe schema demo`);
    progress stays on stderr."""
    from wcpipe import ui
    from wcpipe.sandbox.core import Sandbox, use_fake_credentials

    _glue_engine_ready(glue_engine)
    use_fake_credentials(DEMO_REGION)
    # The sandbox answers in well under a second: poll it often (see app.poll_timing).
    os.environ.setdefault("WCPIPE_POLL_INTERVAL", "0.2")
    workdir = tempfile.TemporaryDirectory(prefix="wcpipe-demo-")
    spec_path = str(demo_spec(warehouse, Path(workdir.name), unattended))
    commands = [["up", "--yes"], ["run"]]
    if unattended:  # the bundled spec's own files, pushed: their arrival runs the pipeline
        pushed = [str(p) for p in App(config_path=str(bundled_spec())).spec.data_paths()]
        commands = [["up", "--yes"], ["push", *pushed, "--wait"]]
    with ui.spinner("starting the sandbox (moto + PostgreSQL)"):
        box = Sandbox(region=DEMO_REGION, glue_engine=glue_engine).start()
    try:
        base = ["-c", spec_path, "--endpoint-url", box.endpoint, "--region", DEMO_REGION]
        if app.debug:
            base.append("--debug")
        if app.json:
            base += ["--output", "json"]
        # `run` (and `push --wait`) ends with `verify` and prints its table.
        steps: dict[str, Any] = {}
        for args in commands:
            ui.step(f"wcpipe {' '.join(args)}")
            steps[args[0]] = _wcpipe(base + args, capture=app.json)
        steps["first_rows"] = _first_rows(spec_path, box.endpoint, show=not app.json)
        if unattended:
            steps["alert"] = _bad_push_alerts(box, base, Path(workdir.name))
        steps["down"] = None
        if keep:
            if app.json:
                ui.emit_shape("demo", steps)
            with contextlib.suppress(KeyboardInterrupt):
                _announce(box)
                threading.Event().wait()
            return
        ui.step("wcpipe down --yes")
        steps["down"] = _wcpipe([*base, "down", "--yes"], capture=app.json)
        if app.json:
            ui.emit_shape("demo", steps)
    finally:
        box.stop()
        workdir.cleanup()


DEMO_ALERTS_TO = "you@example.com"
# A tournament whose year is not a number: the job rejects it, fails before writing, and the
# pipeline's alert rule publishes to its topic.
_BAD_ROWS = (
    ",Year,Hosts,Total_Attendance,Matches,Average_Attendance,Number,Venue,Game(s)\n"
    '23,twenty-six,United States,6000000,104,57692,94000,"MetLife Stadium","Final"\n'
)
ALERT_WAIT_SECONDS = 30.0


def _bad_push_alerts(box: Any, base: list[str], workdir: Path) -> str:
    """`--unattended`'s second act: push a file with a value that is not a number; the arrival
    runs the job, which fails, and the alert that reaches the topic is shown. Returns it."""
    import time

    from wcpipe import ui
    from wcpipe.core.errors import ResourceFailed, WcpipeError
    from wcpipe.sandbox.patches import sns_delivery

    heard: list[str] = []
    sns_delivery.listen(box, lambda *published: heard.append(sns_delivery.one_line(*published)))
    bad = workdir / "bad-year.csv"
    bad.write_text(_BAD_ROWS, encoding="utf-8")
    ui.step(f"wcpipe push {bad.name} --wait   (its Year is 'twenty-six')")
    try:
        _wcpipe([*base, "push", str(bad), "--wait"], capture=ui.json_mode())
    except WcpipeError as exc:
        ui.info(f"the load failed before writing, as it must: {str(exc).splitlines()[0]}")
    else:
        raise ResourceFailed("the file with a bad value loaded: the demo expected the job to fail")
    deadline = time.monotonic() + ALERT_WAIT_SECONDS
    while not heard and time.monotonic() < deadline:
        time.sleep(0.2)
    if not heard:
        raise ResourceFailed(f"no alert reached the topic within {ALERT_WAIT_SECONDS:.0f}s")
    for line in heard:
        ui.warn(f"{line} (mailed to {DEMO_ALERTS_TO} once confirmed)")
    return heard[0]


def _wcpipe(args: list[str], *, capture: bool = False) -> Any:
    """`wcpipe <args>` in this process; with `capture`, its stdout (one JSON document) parsed
    and returned instead of printed."""
    import io
    import json

    from wcpipe.cli import cli

    if not capture:
        cli.main(args=args, prog_name="wcpipe", standalone_mode=False)
        return None
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        cli.main(args=args, prog_name="wcpipe", standalone_mode=False)
    return json.loads(out.getvalue())


def _first_rows(spec_path: str, endpoint: str, limit: int = 5, *, show: bool = True) -> Any:
    from wcpipe import ui
    from wcpipe.warehouse import dataapi as warehouse
    from wcpipe.warehouse import sql

    app = App(config_path=spec_path, region=DEMO_REGION, endpoint_url=endpoint)
    table = app.spec.table
    columns = [c.name for c in table.columns]
    order = sql.ident(columns[0])
    rows = warehouse.query(
        app.context,
        f"SELECT * FROM {sql.qualified(table)} ORDER BY {order} LIMIT {int(limit)}",
        what="the first rows",
    )
    if show:
        ui.table(
            columns,
            [[row.get(c) for c in columns] for row in rows],
            title=f"{table.schema_}.{table.name}: first {limit} rows",
        )
    return [{c: row.get(c) for c in columns} for row in rows]
