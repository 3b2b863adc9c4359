"""`wcpipe init`: a ready, commented spec from a CSV file or the CSV objects under an S3 prefix.

Contract: `sample_local` / `sample_s3` read a bounded sample (streamed; never the whole of a large
file), `draft` profiles it with `wcpipe.authoring.infer` (the same inference the sandbox's
crawler uses) and returns the spec's YAML text with a comment beside every decision, and the
warnings to show (`draft_spec` is its text). `write_spec` refuses to overwrite unless forced. The
text it writes passes `wcpipe validate` (checked before writing).

- Types leave headroom above what the sample shows (`infer.propose`), and each column's comment
  says what was seen (values, range, longest value).
- A file with a header and no data rows has nothing to infer from: its columns are drafted as
  `HEADER_ONLY_TYPE`, nullable, and a warning and the spec's comments say so (the column names
  are still worth having; an error would leave the user to type them).
- The warehouse is Redshift Serverless when all the data is at most `SERVERLESS_MAX_BYTES`
  (see the constant), else a provisioned cluster."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from wcpipe.authoring.infer import (
    ColumnProfile,
    Detected,
    glue_type_of,
    is_total_label,
    propose,
    sniff,
    sql_name,
)
from wcpipe.core.errors import UsageError, WcpipeError
from wcpipe.spec.model import S3_SOURCE

SAMPLE_BYTES = 4 * 1024 * 1024
MAX_OBJECTS = 20  # objects whose rows are sampled
MAX_HEADER_CHECKS = 100  # objects whose header is compared with the first's
MAX_LISTED = 10_000  # objects listed (for their total size)
HEADER_BYTES = 64 * 1024  # a ranged GET of this many bytes holds any sensible header
HEADER_ONLY_TYPE = "varchar(256)"
# Redshift Serverless "bills for compute in RPU-hours, billed for each second, with a 60-second
# minimum ... only while your queries run and nothing while the endpoint is idle"; a provisioned
# cluster's on-demand rate is "billed for compute nodes in a running cluster", per node-hour,
# while it exists (Amazon Redshift pricing, https://aws.amazon.com/redshift/pricing/; Management
# Guide, serverless-billing.html and purchase-reserved-node-instance.html). A pipeline over a few
# GB loads in minutes and is queried now and then, so it pays for seconds, not for every hour.
SERVERLESS_MAX_BYTES = 10 * 1024**3
SERVERLESS_BASE_RPU = 8  # the smallest base capacity CreateWorkgroup takes (spec: base_rpu)


@dataclass(frozen=True)
class Sample:
    origin: str  # what the user named
    data: bytes  # the first bytes (whole records only when truncated)
    truncated: bool
    local_file: Path | None = None
    s3_uri: str | None = None
    total_bytes: int | None = None  # all the data's size (None: not known)
    warnings: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class Draft:
    """A drafted spec: its YAML text, and what the user should be told."""

    text: str
    warnings: tuple[str, ...]


def sample_local(path: Path, limit: int = SAMPLE_BYTES) -> Sample:
    try:
        with path.open("rb") as f:
            data = f.read(limit + 1)
        size = path.stat().st_size
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror}") from None
    truncated = len(data) > limit
    body = _whole_lines(data[:limit]) if truncated else data
    return Sample(str(path), body, truncated, local_file=path, total_bytes=size)


def sample_s3(client: Any, uri: str, limit: int = SAMPLE_BYTES) -> Sample:
    """A bounded sample of the CSV objects under an s3:// prefix, read with ranged GETs (never a
    whole object): the first bytes of each object, in key order, until `limit` is spent. Every
    object's header (up to MAX_HEADER_CHECKS of them) is read the same way, and objects whose
    header differs from the first one's are warned about."""
    m = S3_SOURCE.fullmatch(uri)
    if not m:
        raise UsageError(f"{uri}: expected s3://bucket/prefix (a bucket and a folder in it)")
    bucket, prefix = m["bucket"], m["prefix"].rstrip("/") + "/"
    folder = f"s3://{bucket}/{prefix}"
    keys, sizes, listed_all = _list_objects(client, bucket, prefix)
    if not keys:
        raise WcpipeError(f"{folder}: no objects under this prefix")
    headers = {key: _header(client, bucket, key) for key in keys[:MAX_HEADER_CHECKS]}
    warnings = _header_warnings(folder, keys, headers)
    # Only objects with the first object's header are sampled: the spec follows the first.
    same = [k for k in keys if headers.get(k, headers[keys[0]]) == headers[keys[0]]]
    chunks, truncated, budget, header = [], False, limit, b""
    for i, key in enumerate(same[:MAX_OBJECTS]):
        body = _first_bytes(client, bucket, key, budget)
        truncated = truncated or len(body) > budget
        body = _whole_lines(body[:budget]) if len(body) > budget else body
        if i == 0:
            header = body.split(b"\n", 1)[0] + b"\n"
        elif body.startswith(header):
            body = body[len(header) :]  # later objects repeat the header: keep one
        if body:
            chunks.append(body if body.endswith(b"\n") else body + b"\n")
        budget -= len(body)
        if budget <= 0:
            break
    if not listed_all:
        warnings.append(f"{folder}: more than {MAX_LISTED} objects; the size is not known")
    total = sum(sizes) if listed_all else None
    return Sample(
        folder,
        b"".join(chunks),
        truncated,
        s3_uri=folder,
        total_bytes=total,
        warnings=tuple(warnings),
    )


def _list_objects(client: Any, bucket: str, prefix: str) -> tuple[list[str], list[int], bool]:
    """The data objects' keys (sorted) and sizes, and whether the listing was complete (at most
    MAX_LISTED objects are listed)."""
    keys: list[str] = []
    sizes: list[int] = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for o in page.get("Contents", []):
            if o["Size"] and not o["Key"].endswith("/"):
                keys.append(o["Key"])
                sizes.append(int(o["Size"]))
        if len(keys) > MAX_LISTED:
            return sorted(keys), sizes, False
    return sorted(keys), sizes, True


def _first_bytes(client: Any, bucket: str, key: str, count: int) -> bytes:
    """The first `count` + 1 bytes of an object (one ranged GET; fewer when it is shorter)."""
    got = client.get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{max(count, 0)}")
    body: bytes = got["Body"].read()
    return body


def _header(client: Any, bucket: str, key: str) -> bytes:
    first = _first_bytes(client, bucket, key, HEADER_BYTES - 1)
    return first.split(b"\n", 1)[0].removeprefix(b"\xef\xbb\xbf").rstrip(b"\r")


def _header_warnings(folder: str, keys: list[str], headers: dict[str, bytes]) -> list[str]:
    """One warning per object whose header is not the first one's (the crawler makes one table
    of the prefix, and the job maps columns by header name)."""
    bucket = folder.removeprefix("s3://").split("/", 1)[0]
    first = headers[keys[0]]
    out = [
        f"s3://{bucket}/{key}: its header {_shown(header)} differs from "
        f"s3://{bucket}/{keys[0]}'s {_shown(first)}; the spec follows the first"
        for key, header in headers.items()
        if header != first
    ]
    if len(keys) > MAX_HEADER_CHECKS:
        out.append(f"only the first {MAX_HEADER_CHECKS} of {len(keys)} objects' headers checked")
    return out


def _shown(header: bytes) -> str:
    text = header.decode("utf-8", errors="replace")
    return _q(text if len(text) <= 80 else text[:77] + "...")


def _whole_lines(data: bytes) -> bytes:
    cut = data.rfind(b"\n")
    return data[: cut + 1] if cut >= 0 else data


def _pipeline_name(stem: str) -> str:
    name = re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")
    name = re.sub(r"^[^a-z]+", "", name)
    while len(name) > 24 and "-" in name:  # drop whole words from the end
        name = name.rsplit("-", 1)[0]
    name = name[:24].strip("-")
    return name if len(name) >= 2 else "pipeline"


def _q(value: str) -> str:
    """A YAML-safe scalar (JSON strings are valid YAML)."""
    return json.dumps(value, ensure_ascii=False)


@dataclass
class _Profiled:
    detected: Detected
    header: list[str]
    sources: list[str]
    profiles: list[ColumnProfile]
    rows: int
    total_row: tuple[str, str] | None  # (source column, label)
    header_only: bool = False  # a header and no data rows: nothing to infer from


def profile(sample: Sample) -> _Profiled:
    detected = sniff(sample.data)
    text = sample.data.decode(detected.encoding, errors="replace").removeprefix("\ufeff")
    records = [
        r
        for r in csv.reader(
            io.StringIO(text, newline=""), delimiter=detected.delimiter, quotechar=detected.quote
        )
        if r
    ]
    if not records:
        raise WcpipeError(f"{sample.origin}: no CSV records found")
    from wcpipe.authoring.csvio import glue_names

    header_only = _header_only(records)
    if header_only:
        detected = replace(detected, header=True)
    width = max(len(r) for r in records)
    if detected.header:
        header = records[0] + [""] * (width - len(records[0]))
        sources, data = glue_names(header), records[1:]
    else:
        header = [""] * width
        sources, data = [f"col{i}" for i in range(width)], records
    total_row = None if sample.truncated else _trailing_total(sources, data)
    if total_row:
        data = data[:-1]
    profiles = [ColumnProfile(s) for s in sources]
    for record in data:
        for i, p in enumerate(profiles):
            p.add(record[i] if i < len(record) else "")
    return _Profiled(detected, header, sources, profiles, len(data), total_row, header_only)


def _header_only(records: list[list[str]]) -> bool:
    """One record whose values are all names (text, none a number or boolean, none repeated):
    a header with no data rows below it, not a one-row file without a header."""
    if len(records) != 1:
        return False
    named = [v for v in records[0] if v.strip()]
    return (
        bool(named)
        and len(set(named)) == len(named)
        and all(glue_type_of(v) == "string" for v in named)
    )


def _trailing_total(sources: list[str], data: list[list[str]]) -> tuple[str, str] | None:
    """A last row that labels itself a total ("Overall", "Total") in a column whose other
    values are all numbers is a summary row, not data."""
    if len(data) < 3:
        return None
    last = data[-1]
    for i, value in enumerate(last):
        if is_total_label(value):
            column = ColumnProfile(sources[i])
            for record in data[:-1]:
                column.add(record[i] if i < len(record) else "")
            if set(column.kinds) <= {"int", "decimal"} and column.kinds:
                return sources[i], value.strip()
    return None


def draft_spec(sample: Sample, *, name: str | None = None, spec_dir: Path | None = None) -> str:
    """The YAML text of a commented spec for the sampled data (`draft(...).text`)."""
    return draft(sample, name=name, spec_dir=spec_dir).text


def draft(sample: Sample, *, name: str | None = None, spec_dir: Path | None = None) -> Draft:
    """A commented spec for the sampled data, and the warnings to show with it."""
    p = profile(sample)
    if sample.s3_uri is not None and p.detected.encoding != "utf-8":
        raise UsageError(
            f"{sample.origin}: the objects are {p.detected.encoding}, not UTF-8; Glue reads CSV "
            "as UTF-8 only and data.source is read as it is: convert the objects to UTF-8, or "
            "list local copies under data.files (which upload as UTF-8)"
        )
    warnings = list(sample.warnings)
    if p.header_only:
        warnings.append(
            f"{sample.origin}: a header and no data rows, so there is nothing to infer types "
            f"from: its {len(p.sources)} column(s) are drafted as {HEADER_ONLY_TYPE}; set "
            "their types before `wcpipe up`"
        )
    d = p.detected
    stem = Path(sample.local_file or sample.origin.rstrip("/")).stem or "data"
    pipeline = name or _pipeline_name(stem)
    table = sql_name(stem, 0, set())[:60]
    out = [
        f"# wcpipe spec drafted by `wcpipe init` from {sample.origin}",
        f"# ({p.rows} data rows sampled{', a bounded sample' if sample.truncated else ''}). "
        "Review the types and the cleaning rules,",
        "# then run `wcpipe validate` and `wcpipe plan`.",
        f"name: {pipeline}",
        "# region: us-east-1          # default: your AWS configuration's region",
        "",
        "data:",
    ]
    if sample.local_file is not None:
        base = (spec_dir or Path.cwd()).resolve()
        rel = Path(_relpath(sample.local_file.resolve(), base))
        out += [
            "  files:                       # relative to this spec; uploaded when changed",
            f"    - {_q(rel.as_posix())}",
        ]
    else:
        out += [
            "  # Read where it is: crawled and loaded from this folder, never written to or",
            "  # deleted from (the bucket is not the pipeline's); the roles may read it only.",
            f"  source: {sample.origin}",
        ]
    if sample.local_file is not None:
        out.append(f"  prefix: raw/{table}/")
    out += [
        f"  # detected: {'UTF-8 with a byte order mark' if d.bom else d.encoding}, "
        f"{'CRLF' if d.line_ending == chr(13) + chr(10) else 'LF'} line endings",
        f"  csv: {{header: {str(d.header).lower()}, delimiter: {_q(d.delimiter)}, "
        f"quote: {_q(d.quote)}, encoding: {d.encoding}}}",
    ]
    if p.total_row:
        col, label = p.total_row
        out += [
            "  drop_rows:",
            f"    # The last row reads {_q(label)} in {_q(col)}, a column otherwise numeric: "
            "a totals row.",
            f"    - {{column: {_q(col)}, values: [{_q(label)}]}}",
        ]
    out += ["", "table:", "  schema: public", f"  name: {table}", "  columns:"]
    if p.header_only:
        out += [
            "    # No data rows: nothing to infer the types from. Each column is a placeholder",
            f"    # {HEADER_ONLY_TYPE}: set the types before `wcpipe up`.",
        ]
    taken: set[str] = set()
    for i, (source, prof) in enumerate(zip(p.sources, p.profiles, strict=True)):
        proposal = propose(prof)
        if p.header_only:
            proposal = replace(proposal, type=HEADER_ONLY_TYPE, clean=(), reasons=())
        col = sql_name(p.header[i] if p.header[i].strip() else source, i, taken)
        shown = p.header[i] if d.header else f"column {i + 1}"
        note = f"{_q(shown)}: {prof.count - prof.empty} value(s), {prof.empty} empty"
        if p.header[i].strip() == "" and d.header:
            note += f"; an empty header, which Glue's crawler names {source}"
        out.append(f"    # {note}")
        out += [f"    #   {r}" for r in proposal.reasons]
        fields = [
            f"name: {col}",
            f"type: {_q(proposal.type) if set(proposal.type) & set(' ,') else proposal.type}",
            f"source: {_q(source)}",
        ]
        if not proposal.nullable:
            fields.append("nullable: false")
        if proposal.clean:
            fields.append(f"clean: [{', '.join(proposal.clean)}]")
        out.append(f"    - {{{', '.join(fields)}}}")
    out += [
        "",
        "load:",
        "  mode: append                 # or truncate, or merge with keys: [column, ...]",
        "",
        "warehouse:",
        *_warehouse(sample.total_bytes),
        "",
    ]
    return Draft("\n".join(out), tuple(warnings))


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} bytes"
    value, unit = n / 1024, "KiB"
    for bigger in ("MiB", "GiB"):
        if value < 1024:
            break
        value, unit = value / 1024, bigger
    return f"{value:.1f} {unit}"


def _warehouse(total_bytes: int | None) -> list[str]:
    """The warehouse lines: Serverless for data up to SERVERLESS_MAX_BYTES (why: see it)."""
    limit = _size(SERVERLESS_MAX_BYTES)
    if total_bytes is not None and total_bytes <= SERVERLESS_MAX_BYTES:
        return [
            f"  # Serverless: the data is {_size(total_bytes)} (at most {limit}). Redshift "
            "Serverless bills compute",
            "  # per RPU-second while queries and loads run (60 s minimum) and nothing while "
            "idle; a provisioned",
            "  # cluster bills every node-hour while it exists "
            "(https://aws.amazon.com/redshift/pricing/).",
            "  type: serverless             # or provisioned (node_type / nodes)",
            f"  base_rpu: {SERVERLESS_BASE_RPU}                  # the smallest base capacity",
        ]
    seen = "its size is not known" if total_bytes is None else f"it is {_size(total_bytes)}"
    return [
        f"  # Provisioned: {seen} (Serverless is proposed for data up to {limit}).",
        "  type: provisioned            # or serverless (base_rpu / max_rpu)",
        "  node_type: ra3.large",
        "  nodes: 1",
    ]


def _relpath(target: Path, base: Path) -> str:
    import os

    return os.path.relpath(target, base)


def write_spec(text: str, path: Path, *, force: bool) -> None:
    """Write the spec, validating it first; never overwrite without `force`."""
    from wcpipe.spec.model import parse_spec

    parse_spec(text, source=str(path), base_dir=path.parent)
    if path.exists() and not force:
        raise UsageError(f"{path} exists; pass --force to overwrite it, or -o to write elsewhere")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
