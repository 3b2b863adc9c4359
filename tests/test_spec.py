"""The spec: the shipped one is valid and short; bad ones fail with one line naming the YAML path
and line, exit code 2, no traceback and not a single AWS request."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from wcpipe.cli import main
from wcpipe.core.errors import SpecError
from wcpipe.spec.model import GLUE_PYTHON, json_schema, load_spec, parse_spec, type_family
from wcpipe.spec.names import cluster_identifier_problem

MINIMAL = """\
name: fifa
table:
  name: attendance
  columns:
    - {name: year, type: smallint}
"""


def test_shipped_spec_is_valid(spec) -> None:  # type: ignore[no-untyped-def]
    assert spec.name == "fifa"
    assert spec.load.mode == "merge" and spec.load.keys == ("year",)
    assert spec.table.column("highest_attendance").clean == ("strip_footnotes", "thousands")
    assert spec.data_paths()[0].is_file()


def test_minimal_spec_gets_defaults() -> None:
    spec = parse_spec(MINIMAL)
    assert spec.data.prefix == "raw/"
    assert spec.data.csv.header is True
    assert spec.warehouse.type == "provisioned"
    assert spec.glue.bookmarks is True
    assert spec.table.schema_ == "public"


def test_arrival_settle_defaults_to_ten_seconds_and_fits_a_longer_timeout() -> None:
    assert parse_spec(MINIMAL + "trigger: on-arrival\n").arrival_settle_seconds == 10
    text = (
        MINIMAL + "trigger: on-arrival\narrival_settle_seconds: 60\nlambda: {timeout_seconds: 70}\n"
    )
    assert parse_spec(text).arrival_settle_seconds == 60


def test_alerts_are_optional_and_keep_their_addresses() -> None:
    assert parse_spec(MINIMAL).alerts is None
    spec = parse_spec(MINIMAL + "alerts:\n  email: [ops@example.com, data.team@example.org]\n")
    assert spec.alerts is not None
    assert spec.alerts.email == ("ops@example.com", "data.team@example.org")
    assert spec.alerts.no_load_within_minutes == 60


def test_glue_version_defaults_to_5_1_and_accepts_exactly_the_glue_python_table() -> None:
    assert parse_spec(MINIMAL).glue.version == "5.1"
    assert list(GLUE_PYTHON) == ["4.0", "5.0", "5.1", "6.0"]
    for version in GLUE_PYTHON:
        assert parse_spec(_with(f"glue: {{version: '{version}'}}\n")).glue.version == version
    schema = json_schema()["$defs"]["Glue"]["properties"]
    assert schema["version"]["enum"] == list(GLUE_PYTHON)
    assert "G.025X" not in schema["worker_type"]["enum"]


def test_nodes_within_create_clusters_range_are_accepted() -> None:
    wide = parse_spec(_with("warehouse: {node_type: ra3.16xlarge, nodes: 100}\n"))
    assert wide.warehouse.nodes == 100
    assert parse_spec(_with("warehouse: {node_type: ra3.xlplus, nodes: 16}\n")).warehouse.nodes
    assert parse_spec(_with("warehouse: {node_type: ra3.4xlarge, nodes: 2}\n")).warehouse.nodes
    # A serverless warehouse has no nodes: its node settings are not CreateCluster's.
    serverless = _with("warehouse: {type: serverless, node_type: ra3.4xlarge}\n")
    assert parse_spec(serverless).warehouse.type == "serverless"


@pytest.mark.parametrize(
    ("identifier", "problem"),
    [
        ("wcpipe-fifa", None),
        ("a", None),
        ("a" * 63, None),
        ("a" * 64, "1 to 63 characters"),
        ("", "1 to 63 characters"),
        ("wcpipe-Fifa", "only lowercase letters, digits and hyphens"),
        ("wcpipe_fifa", "only lowercase letters, digits and hyphens"),
        ("1wcpipe", "first character must be a letter"),
        ("wcpipe-", "cannot end with a hyphen"),
        ("wcpipe--fifa", "two consecutive hyphens"),
    ],
)
def test_cluster_identifier_constraints(identifier: str, problem: str | None) -> None:
    found = cluster_identifier_problem(identifier)
    assert (found is None) if problem is None else (problem in (found or "")), found


def test_models_are_frozen() -> None:
    spec = parse_spec(MINIMAL)
    with pytest.raises(Exception):  # noqa: B017 - pydantic's ValidationError on a frozen model
        spec.name = "other"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "typ"),
    [
        ("integer", "integer"),
        ("INT", "integer"),
        ("decimal(12, 2)", "decimal"),
        ("varchar(max)", "varchar"),
        ("double precision", "double"),
        ("timestamptz", "timestamp"),
    ],
)
def test_type_family(text: str, typ: str) -> None:
    assert type_family(text) == typ


def test_json_schema_names_the_fields() -> None:
    schema = json_schema()
    assert "name" in schema["required"] and "table" in schema["required"]
    assert "lambda" in schema["properties"]


def _with(tail: str) -> str:
    return MINIMAL + tail


# (case, YAML text, the line expected in the message, a fragment of the message)
BAD_SPECS: list[tuple[str, str, int | None, str]] = [
    ("yaml-syntax", "name: fifa\ntable: [\n", 3, "invalid YAML"),
    ("yaml-tab-indent", "name: fifa\ntable:\n\tname: x\n", 3, "invalid YAML"),
    ("not-a-mapping", "- a\n- b\n", None, "expected a mapping"),
    ("empty-file", "", None, "expected a mapping"),
    ("missing-name", "table: {name: t, columns: [{name: a, type: int}]}\n", 1, "name: required"),
    ("missing-table", "name: fifa\n", 1, "table: required"),
    ("unknown-top-key", _with("colour: blue\n"), 6, "colour: unknown key"),
    ("unknown-nested-key", _with("glue:\n  wokers: 3\n"), 7, "glue.wokers: unknown key"),
    ("name-uppercase", MINIMAL.replace("fifa", "FIFA"), 1, "not a valid pipeline name"),
    ("name-too-long", MINIMAL.replace("fifa", "f" * 40), 1, "name"),
    ("name-underscore", MINIMAL.replace("fifa", "fi_fa"), 1, "name"),
    ("bad-region", _with("region: mars-1\n"), 6, "region"),
    ("bad-endpoint", _with("endpoint_url: localhost:5000\n"), 6, "endpoint_url"),
    (
        "bad-column-type",
        MINIMAL.replace("smallint", "varchr(3)"),
        5,
        "not a supported Redshift type",
    ),
    ("decimal-over-38", MINIMAL.replace("smallint", "'decimal(39,2)'"), 5, "precision of 1 to 38"),
    ("column-type-wrong-kind", MINIMAL.replace("smallint", "[1]"), 5, "type"),
    ("sql-unsafe-column", MINIMAL.replace("year", "year; drop table x"), 5, "columns[0].name"),
    ("column-uppercase", MINIMAL.replace("name: year", "name: Year"), 5, "columns[0].name"),
    ("reserved-column", MINIMAL.replace("name: year", "name: select"), 5, "reserved SQL word"),
    ("duplicate-column", _with("    - {name: year, type: integer}\n"), 4, "duplicate column"),
    ("no-columns", "name: fifa\ntable:\n  name: t\n  columns: []\n", 4, "at least 1"),
    ("unsafe-table-name", MINIMAL.replace("attendance", '"my table"'), 3, "table.name"),
    (
        "unsafe-schema",
        _with("").replace("  name: attendance", "  name: attendance\n  schema: a-b"),
        4,
        "table.schema",
    ),
    ("truncate-with-bookmarks", _with("load: {mode: truncate}\n"), None, "set glue.bookmarks"),
    ("bad-load-mode", _with("load: {mode: upsert}\n"), 6, "load.mode"),
    ("merge-without-keys", _with("load: {mode: merge}\n"), 6, "needs 'keys'"),
    ("merge-key-not-column", _with("load: {mode: merge, keys: [id]}\n"), None, "merge key 'id'"),
    ("keys-without-merge", _with("load: {mode: append, keys: [year]}\n"), 6, "only apply"),
    ("workers-not-int", _with("glue: {workers: many}\n"), 6, "glue.workers"),
    ("workers-too-few", _with("glue: {workers: 1}\n"), 6, "glue.workers"),
    ("bad-glue-version", _with("glue: {version: '2.0'}\n"), 6, "glue.version"),
    (
        "glue-3.0-runs-python-3.7",
        _with("glue: {version: '3.0'}\n"),
        6,
        "glue.version: Glue version '3.0' is not supported; use one of 4.0 (Python 3.10), "
        "5.0 (Python 3.11), 5.1 (Python 3.11), 6.0 (Python 3.13)",
    ),
    ("glue-version-unquoted", _with("glue: {version: 5.1}\n"), 6, "as a quoted string"),
    (
        "streaming-worker-type",
        _with("glue:\n  workers: 2\n  worker_type: G.025X\n"),
        8,
        "glue.worker_type: G.025X workers are only for Glue streaming jobs",
    ),
    (
        "more-nodes-than-create-cluster-takes",
        _with("warehouse: {node_type: ra3.16xlarge, nodes: 101}\n"),
        6,
        "warehouse.nodes: CreateCluster accepts 2 to 100 nodes of ra3.16xlarge, not 101",
    ),
    (
        "xlplus-multi-node-maximum",
        _with("warehouse:\n  node_type: ra3.xlplus\n  nodes: 17\n"),
        8,
        "warehouse.nodes: CreateCluster accepts 1 to 16 nodes of ra3.xlplus, not 17",
    ),
    (
        "ra3-4xlarge-needs-two-nodes",
        _with("warehouse:\n  node_type: ra3.4xlarge\n"),
        6,
        "warehouse.nodes: CreateCluster accepts 2 to 32 nodes of ra3.4xlarge, not 1",
    ),
    (
        "name-makes-a-cluster-identifier-with-two-hyphens",
        MINIMAL.replace("fifa", "world--cup"),
        1,
        "name: 'world--cup' would name the Redshift cluster 'wcpipe-world--cup', which "
        "CreateCluster refuses: it cannot contain two consecutive hyphens",
    ),
    ("bad-runtime", _with("lambda: {runtime: python2.7}\n"), 6, "lambda.runtime"),
    ("bad-retention", _with("logs: {retention_days: 10}\n"), 6, "logs.retention_days"),
    ("bad-warehouse-type", _with("warehouse: {type: bigquery}\n"), 6, "warehouse.type"),
    ("bad-node-type", _with("warehouse: {node_type: m5.large}\n"), 6, "warehouse.node_type"),
    (
        "rpu-not-multiple",
        _with("warehouse: {type: serverless, base_rpu: 12}\n"),
        6,
        "multiple of 8",
    ),
    ("max-below-base", _with("warehouse: {base_rpu: 32, max_rpu: 16}\n"), 6, "at least base_rpu"),
    ("reserved-admin", _with("warehouse: {admin_user: rdsdb}\n"), 6, "reserved"),
    ("bad-delimiter", _with("data: {csv: {delimiter: ';;'}}\n"), 6, "data.csv.delimiter"),
    ("bad-encoding", _with("data: {csv: {encoding: klingon}}\n"), 6, "unknown encoding"),
    ("bad-prefix", _with("data: {prefix: /raw}\n"), 6, "data.prefix"),
    ("bad-bucket", _with("data: {bucket: My_Bucket}\n"), 6, "data.bucket"),
    ("files-not-list", _with("data: {files: 3}\n"), 6, "data.files"),
    (
        "drop-rows-unknown-column",
        _with("data: {drop_rows: [{column: Nope, values: [x]}]}\n"),
        None,
        "drop_rows column 'Nope'",
    ),
    ("bad-clean-rule", MINIMAL.replace("smallint}", "smallint, clean: [magic]}"), 5, "clean[0]"),
    ("reserved-tag", _with("tags: {'wcpipe:pipeline': other}\n"), None, "reserved"),
    ("duplicate-key", _with("name: other\n"), 6, "duplicate key"),
    ("bad-vpc-id", _with("network: {vpc_id: default}\n"), 6, "network.vpc_id"),
    ("bad-trigger", _with("trigger: hourly\n"), 6, "trigger: 'hourly' is not a trigger"),
    ("cron-five-fields", _with("trigger: 'cron(0 6 * * ?)'\n"), 6, "takes six fields"),
    ("cron-both-days", _with("trigger: 'cron(0 6 * * * *)'\n"), 6, "must be '?'"),
    ("cron-minute-60", _with("trigger: 'cron(60 6 * * ? *)'\n"), 6, "Minutes: 60 is outside"),
    ("cron-bad-month", _with("trigger: 'cron(0 6 ? FOO MON *)'\n"), 6, "Month: 'FOO'"),
    (
        "settle-without-on-arrival",
        _with("arrival_settle_seconds: 5\n"),
        None,
        "arrival_settle_seconds applies only to trigger: on-arrival",
    ),
    (
        "settle-negative",
        _with("trigger: on-arrival\narrival_settle_seconds: -1\n"),
        7,
        "arrival_settle_seconds",
    ),
    (
        "settle-over-the-lambda-maximum",
        _with("trigger: on-arrival\narrival_settle_seconds: 891\n"),
        7,
        "arrival_settle_seconds",
    ),
    (
        "settle-longer-than-the-lambda-timeout",
        _with("trigger: on-arrival\narrival_settle_seconds: 25\n"),
        None,
        "arrival_settle_seconds 25 does not fit in lambda.timeout_seconds 30",
    ),
    ("alerts-bad-email", _with("alerts: {email: [ops.example.com]}\n"), 6, "alerts.email[0]"),
    ("alerts-no-email", _with("alerts: {email: []}\n"), 6, "alerts.email"),
    (
        "alerts-email-twice",
        _with("alerts: {email: [ops@example.com, OPS@example.com]}\n"),
        6,
        "listed twice",
    ),
    (
        "alerts-no-load-too-long",
        _with("alerts: {email: [ops@example.com], no_load_within_minutes: 1441}\n"),
        6,
        "alerts.no_load_within_minutes",
    ),
    (
        "nullable-not-bool",
        MINIMAL.replace("smallint}", "smallint, nullable: perhaps}"),
        5,
        "nullable",
    ),
]


@pytest.mark.parametrize(
    ("case", "text", "line", "fragment"), BAD_SPECS, ids=[c[0] for c in BAD_SPECS]
)
def test_bad_spec_names_path_and_line(
    case: str, text: str, line: int | None, fragment: str
) -> None:
    with pytest.raises(SpecError) as info:
        parse_spec(text, source="p.yaml")
    message = str(info.value)
    assert "\n" not in message
    assert fragment in message, message
    if line is not None:
        assert message.startswith(f"p.yaml:{line}: "), message
    assert info.value.exit_code == 2


def test_corpus_is_large_enough() -> None:
    assert len(BAD_SPECS) >= 30


class _CountingHandler(http.server.BaseHTTPRequestHandler):
    count = 0

    def _any(self) -> None:
        type(self).count += 1
        self.send_response(500)
        self.end_headers()

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _any

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def _server() -> Iterator[tuple[str, type[_CountingHandler]]]:
    handler = type("Handler", (_CountingHandler,), {"count": 0})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler
    finally:
        server.shutdown()


@pytest.fixture
def counting_endpoint(_server):  # type: ignore[no-untyped-def]
    """A local endpoint that counts every request it gets (and answers 500)."""
    _server[1].count = 0
    return _server


@pytest.mark.parametrize(
    "command", ["plan", "up --yes", "status", "down --yes", "verify", "run-crawler", "validate"]
)
@pytest.mark.parametrize(
    "case", ["unknown-top-key", "bad-column-type", "yaml-syntax", "merge-key-not-column"]
)
def test_cli_bad_spec_exit_2_one_line_no_request(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], counting_endpoint, command: str, case: str
) -> None:  # type: ignore[no-untyped-def]
    endpoint, handler = counting_endpoint
    text = next(c[1] for c in BAD_SPECS if c[0] == case)
    path = tmp_path / "pipeline.yaml"
    path.write_text(text)
    with pytest.raises(SystemExit) as exit_info:
        main(["-c", str(path), "--endpoint-url", endpoint, *command.split()])
    out, err = capfd.readouterr()
    assert exit_info.value.code == 2
    assert "Traceback" not in err and "Traceback" not in out
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert str(path) in lines[0]
    assert handler.count == 0


def test_validate_json_summary(wcpipe) -> None:  # type: ignore[no-untyped-def]
    result = wcpipe("--output", "json", "validate")
    assert result.code == 0, result
    data = json.loads(result.out)
    assert data["valid"] is True and data["pipeline"] == "fifa"
    assert len(data["columns"]) == 9


def test_schema_command_prints_json_schema(wcpipe) -> None:  # type: ignore[no-untyped-def]
    result = wcpipe("schema")
    assert result.code == 0
    assert json.loads(result.out)["title"] == "Spec"


def test_missing_spec_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="spec file not found"):
        load_spec(tmp_path / "nope.yaml")


# data.files: every entry checked at validate, plan and up; glob patterns ----------------------

FILES_SPEC = MINIMAL + "data:\n  prefix: raw/in/\n  files:\n"


def _files_spec(tmp_path: Path, *entries: str) -> Path:
    path = tmp_path / "pipeline.yaml"
    lines = "".join(f"    - {json.dumps(e)}\n" for e in entries)
    path.write_text(FILES_SPEC + lines)
    return path


@pytest.mark.parametrize(
    ("entries", "bad", "fragment"),
    [
        (("a.csv", "data/gone.csv"), 1, "'data/gone.csv' does not exist"),
        (("data/*.txt",), 0, "the pattern 'data/*.txt' matches no file"),
        (("data",), 0, "'data' is a folder, not a file"),
        (("a.csv", "data/**/a.csv"), 1, "would both upload to the key <prefix>a.csv"),
    ],
    ids=["missing", "pattern-matches-nothing", "folder", "two-files-one-key"],
)
@pytest.mark.parametrize("command", ["validate", "plan", "up --yes"])
def test_cli_bad_data_file_exit_2_one_line_naming_entry_no_request(
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
    counting_endpoint,  # type: ignore[no-untyped-def]
    command: str,
    entries: tuple[str, ...],
    bad: int,
    fragment: str,
) -> None:
    endpoint, handler = counting_endpoint
    (tmp_path / "data" / "x").mkdir(parents=True)
    (tmp_path / "a.csv").write_text("year\n1930\n")
    (tmp_path / "data" / "x" / "a.csv").write_text("year\n1934\n")
    path = _files_spec(tmp_path, *entries)
    with pytest.raises(SystemExit) as exit_info:
        main(["-c", str(path), "--endpoint-url", endpoint, *command.split()])
    out, err = capfd.readouterr()
    assert exit_info.value.code == 2
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    # The spec file and the entry's line (MINIMAL is 5 lines, then data:, prefix:, files:).
    assert lines[0].startswith(f"error: {path}:{9 + bad}: data.files[{bad}]: "), lines[0]
    assert fragment in lines[0]
    assert "Traceback" not in err + out
    assert handler.count == 0


def test_down_does_not_need_the_local_files(tmp_path: Path, wcpipe) -> None:  # type: ignore[no-untyped-def]
    # `down` reads the spec for names only: its files may be gone. It gets as far as AWS (here a
    # refused endpoint), past the spec.
    path = _files_spec(tmp_path, "gone.csv", "data/*.csv")
    assert load_spec(path).data_paths() == [tmp_path / "gone.csv"]
    result = wcpipe("-c", str(path), "--endpoint-url", "http://127.0.0.1:9", "down", "--yes")
    assert "data.files" not in result.err, result
    assert result.code == 1, result


def test_patterns_expand_sorted_by_path_each_file_once(tmp_path: Path, wcpipe) -> None:  # type: ignore[no-untyped-def]
    for name in ["data/b.csv", "data/a.csv", "data/2024/c.csv", "data/.hidden.csv", "z.csv"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("year\n1930\n")
    path = _files_spec(tmp_path, "z.csv", "data/**/*.csv", "data/a.csv")
    spec = load_spec(path)
    expected = ["z.csv", "data/2024/c.csv", "data/a.csv", "data/b.csv"]
    assert spec.check_data_files() == [tmp_path / p for p in expected]
    assert spec.data_paths() == spec.check_data_files()
    result = wcpipe("-c", str(path), "--output", "json", "validate")
    assert result.code == 0, result
    assert json.loads(result.out)["data"] == {"files": 4, "prefix": "raw/in/"}


def test_on_arrival_with_data_in_a_bucket_not_ours_is_refused(tmp_path: Path) -> None:
    """S3 sends arrival events only from a bucket whose own setting says so: data.source's bucket
    is never changed, so `on-arrival` there would never fire. Refused at validate."""
    import re

    from support.cli import run_cli
    from support.paths import SPEC_PATH

    spec = tmp_path / "pipeline.yaml"
    text = SPEC_PATH.read_text()
    files = re.compile(r"^  files:.*\n(    - .*\n)+", re.M)
    text = files.sub("  source: s3://someone-elses-data/raw/\n", text)
    text = re.sub(r"^  prefix: .*\n", "", text, flags=re.M)
    spec.write_text(text + "\ntrigger: on-arrival\n")
    result = run_cli("-c", str(spec), "validate")
    assert result.code == 2, result
    assert "trigger 'on-arrival' needs the data in the pipeline's own bucket" in result.err
    assert "Traceback" not in result.err
