"""The Glue library zip, as built, on the Python of every Glue version a spec may name.

`wcpipe_lib.zip` ships to AWS Glue, whose Python is not the one the CLI runs on (GLUE_PYTHON in
`wcpipe.spec.model`, from the AWS Glue Developer Guide). Each test runs that version's interpreter
isolated (`-I -S`: no site-packages, no environment, no current directory), with nothing but the
standard library and the zip on sys.path, and compares what it computes with what this (the host)
Python computes through the installed package. A missing interpreter FAILS the test, naming the
Python to install: a skipped check would pass the very release it exists to stop.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
from support.paths import FIFA_CSV

from wcpipe.authoring.csvio import Dialect, open_records
from wcpipe.datamap.config import JobConfig
from wcpipe.datamap.transform import Mapper
from wcpipe.datamap.values import ConversionError, SqlType, convert
from wcpipe.provision.artifacts import glue_libs_zip
from wcpipe.spec.job import job_config
from wcpipe.spec.model import GLUE_PYTHON
from wcpipe.spec.names import Names

# The child: the zip (argv[1]) onto sys.path by hand (-S and -I add nothing), the job's config
# (argv[2]), the FIFA file (argv[3]) read with the stdlib csv module, each record mapped with
# Mapper.map_record; prints the rows and counts as JSON.
MAP_FIFA = """
import csv, json, sys
sys.path.insert(0, sys.argv[1])
from wcpipe.datamap.transform import Mapper
from wcpipe.datamap.config import JobConfig
config = JobConfig.from_json(sys.argv[2])
with open(sys.argv[3], encoding=config.csv["encoding"], newline="") as f:
    records = [r for r in csv.reader(f, delimiter=config.csv["delimiter"],
                                     quotechar=config.csv["quote"]) if r]
header = [name if name.strip() else "col%d" % i for i, name in enumerate(records[0])]
mapper = Mapper(config)
index = mapper.index(header)
rows = [mapper.map_record(index, record) for record in records[1:]]
rows = [list(row) for row in rows if row is not None]
print(json.dumps({"rows": rows, "counts": mapper.counts(), "where": sys.modules[
    "wcpipe.datamap.transform"].__file__, "path": sys.path}))
"""

# The child: values.convert on each value (argv[2], JSON) for a plain and a zoned timestamp.
CONVERT_TIMESTAMPS = """
import json, sys
sys.path.insert(0, sys.argv[1])
from wcpipe.datamap.values import ConversionError, SqlType, convert
out = []
for value in json.loads(sys.argv[2]):
    for sql in ("timestamp", "timestamptz"):
        try:
            out.append(convert(value, SqlType.parse(sql)).isoformat())
        except ConversionError:
            out.append("rejected")
print(json.dumps(out))
"""

# Accepted by Python 3.11's datetime.fromisoformat but not 3.10's ("Z", "+HHMM", a fraction of
# other than 3 or 6 digits), and values every version must refuse.
TIMESTAMPS = [
    "2022-12-18",
    "2022-12-18T18:00",
    "2022-12-18 18:00:00",
    "2022-12-18T18:00:00Z",
    "2022-12-18T18:00:00+0300",
    "2022-12-18T18:00:00+03:00",
    "2022-12-18T18:00:00.5",
    "2022-12-18T18:00:00.1234-05:30",
    "2022-12-18T18:00:00.123456Z",
    " 2022-12-18T18:00Z ",
    "2022-12-18+01:00",  # an offset without a time
    "2022-12-18Z",
    "2022-02-30T00:00",
    "2022-12-18T24:00",
    "2022-12-18T18:00:00+24:00",
    "2022-12-18T18:00:00+01:75",
    "yesterday",
]


def _pyenv_roots() -> list[Path]:
    """Where pyenv keeps interpreters: `pyenv root`, $PYENV_ROOT, ~/.pyenv (in that order)."""
    roots: list[Path] = []
    pyenv = shutil.which("pyenv")
    if pyenv:
        done = subprocess.run([pyenv, "root"], capture_output=True, text=True, timeout=30)
        if done.returncode == 0 and done.stdout.strip():
            roots.append(Path(done.stdout.strip()))
    if os.environ.get("PYENV_ROOT"):
        roots.append(Path(os.environ["PYENV_ROOT"]))
    roots.append(Path.home() / ".pyenv")
    return list(dict.fromkeys(roots))


def glue_interpreter(minor: str) -> Path | None:
    """The newest installed patch release of Python `minor` (e.g. '3.10' -> 3.10.13)."""
    found: dict[tuple[int, ...], Path] = {}
    for root in _pyenv_roots():
        for version in (root / "versions").glob(f"{minor}.*"):
            python = version / "bin" / "python"
            if re.fullmatch(rf"{re.escape(minor)}\.\d+", version.name) and python.is_file():
                found.setdefault(tuple(map(int, version.name.split("."))), python)
    return found[max(found)] if found else None


def run_isolated(python: Path, code: str, *args: str) -> object:
    done = subprocess.run(
        [str(python), "-I", "-S", "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": os.environ.get("PATH", ""), "LC_ALL": "C.UTF-8"},
        cwd="/",
    )
    assert done.returncode == 0, f"{python}:\n{done.stderr}"
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def lib_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("glue") / "wcpipe_lib.zip"
    path.write_bytes(glue_libs_zip())
    return path


def _interpreter_for(version: str) -> Path:
    minor = GLUE_PYTHON[version]
    python = glue_interpreter(minor)
    if python is None:
        pytest.fail(
            f"Glue {version} runs Python {minor}, and no Python {minor} is installed here "
            f"(looked in {', '.join(str(r / 'versions') for r in _pyenv_roots())}): install "
            f"it, e.g. `pyenv install {minor}`, so the Glue library zip is tested on it"
        )
    return python


def _host_fifa(config_json: str) -> dict[str, object]:
    config = JobConfig.from_json(config_json)
    mapper = Mapper(config)
    with FIFA_CSV.open("rb") as f:
        header, records = open_records(f, Dialect.from_config(config.csv))
        index = mapper.index(header)
        rows = [mapper.map_record(index, r) for r in records]
    return {"rows": [list(r) for r in rows if r is not None], "counts": mapper.counts()}


def _host_timestamps(values: Sequence[str]) -> list[str]:
    out = []
    for value in values:
        for sql in ("timestamp", "timestamptz"):
            try:
                out.append(convert(value, SqlType.parse(sql)).isoformat())  # type: ignore[attr-defined]
            except ConversionError:
                out.append("rejected")
    return out


GLUE_VERSIONS = [pytest.param(v, id=f"glue-{v}-python-{p}") for v, p in GLUE_PYTHON.items()]


@pytest.mark.parametrize("version", GLUE_VERSIONS)
def test_the_zip_maps_the_fifa_file_on_glues_python_as_on_the_host(
    version: str, lib_zip: Path, spec
) -> None:  # type: ignore[no-untyped-def]
    python = _interpreter_for(version)
    config = json.dumps(job_config(spec, Names.of(spec, "123456789012", "us-east-1")))
    child = run_isolated(python, MAP_FIFA, str(lib_zip), config, str(FIFA_CSV))
    assert isinstance(child, dict)
    # The code ran from the zip, with nothing but the zip and the standard library to import.
    assert child.pop("where") == f"{lib_zip}/wcpipe/datamap/transform.py"
    assert not any("site-packages" in p or p.endswith("/src") for p in child.pop("path"))
    host = _host_fifa(config)
    assert host["counts"] == {"read": 23, "dropped": 1, "loaded": 22, "rejected": 0}
    assert child == host


@pytest.mark.parametrize("version", GLUE_VERSIONS)
def test_timestamps_convert_on_glues_python_as_on_the_host(version: str, lib_zip: Path) -> None:
    python = _interpreter_for(version)
    child = run_isolated(python, CONVERT_TIMESTAMPS, str(lib_zip), json.dumps(TIMESTAMPS))
    host = _host_timestamps(TIMESTAMPS)
    assert child == host
    by_value = dict(zip(TIMESTAMPS, zip(host[::2], host[1::2], strict=True), strict=True))
    assert by_value["2022-12-18T18:00:00Z"] == ("2022-12-18T18:00:00", "2022-12-18T18:00:00+00:00")
    assert by_value["2022-12-18T18:00:00+0300"][0] == "2022-12-18T15:00:00"
    assert by_value["2022-12-18T18:00:00.5"][0] == "2022-12-18T18:00:00.500000"
    refused = [v for v, got in by_value.items() if got == ("rejected", "rejected")]
    assert refused == TIMESTAMPS[-7:]


def test_the_newest_patch_of_a_minor_is_chosen(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    for name in ("3.10.2", "3.10.13", "3.10.9", "3.10.20t", "3.100.1"):
        (tmp_path / "versions" / name / "bin").mkdir(parents=True)
        (tmp_path / "versions" / name / "bin" / "python").write_text("")
    monkeypatch.setenv("PATH", "")  # no pyenv executable: PYENV_ROOT, then ~/.pyenv
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert glue_interpreter("3.10") == tmp_path / "versions" / "3.10.13" / "bin" / "python"
    assert glue_interpreter("3.9") is None


def test_timestamps_parse_as_python_3_11s_fromisoformat_did() -> None:
    """The field-by-field parse gives what datetime.fromisoformat gives on Python 3.11+ (the
    reference before Glue 4.0's Python 3.10 was supported) for every value its pattern admits."""
    rng = random.Random(20221218)
    plain, zoned = SqlType.parse("timestamp"), SqlType.parse("timestamptz")
    for _ in range(3000):
        value = f"{rng.randint(1, 9999):04d}-{rng.randint(0, 13):02d}-{rng.randint(0, 32):02d}"
        if rng.random() < 0.8:
            value += rng.choice("T ") + f"{rng.randint(0, 25):02d}:{rng.randint(0, 61):02d}"
            if rng.random() < 0.7:
                value += f":{rng.randint(0, 61):02d}"
                if rng.random() < 0.5:
                    value += "." + "".join(rng.choices("0123456789", k=rng.randint(1, 6)))
            zone = rng.choice(["", "Z", "+", "-"])
            if zone in ("+", "-"):
                colon = rng.choice(["", ":"])
                zone += f"{rng.randint(0, 25):02d}{colon}{rng.randint(0, 59):02d}"
            value += zone
        try:
            expected: datetime | None = datetime.fromisoformat(value)
        except ValueError:
            expected = None
        for sql in (plain, zoned):
            try:
                got: object = convert(value, sql)
            except ConversionError:
                got = None
            want = expected
            if want is not None and want.tzinfo is not None and not sql.with_zone:
                want = want.astimezone(UTC).replace(tzinfo=None)
            assert got == want and repr(got) == repr(want), (value, sql, got, want)
