"""The mapping half of a sandbox job run: S3 objects -> csvio -> Mapper -> COPY into staging,
in this process or on worker processes (the sandbox's stand-in for Glue's executors).

Contract:
- `ObjectReader(key)` reads a moto key's content a chunk at a time under the key's lock (moto
  internals `FakeKey._value_buffer` and `FakeKey.lock`, pinned by tests/sandbox/test_moto_pins.py):
  memory is one chunk whatever the object's size (moto's `key.value` copies the whole object).
- `copy_records(copy, config, dialect, stream, mapper, index)` streams one object's records
  through the Mapper a batch at a time and writes them to an open COPY in text format
  (`copy_text`: one write per batch). Both paths below use it.
- `copy_in_workers(dsn, config_json, staging, dialect, header, objects, workers)` maps objects on
  `workers` processes, each with its own connection and one COPY into the staging table, which
  must exist and be committed already (a COPY on another connection cannot see it otherwise).
  Objects are handed out in order as workers free up; their bytes go to the worker through a
  pipe, chunk by chunk (the worker cannot read moto's memory). A worker's COPY commits only when
  every object has been mapped; the caller drops the staging table if anything failed.
  Returns each object's counts and rejects (in the objects' order, so reject samples are the
  ones a run in one process would keep); raises `WorkerFailed` with the worker's error.
- Workers come from a forkserver that preloads this module (which imports neither moto nor the
  sandbox): starting one costs a fork, not an interpreter start, after the first run.
"""

from __future__ import annotations

import io
import itertools
import multiprocessing
import operator
import re
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from wcpipe.authoring import csvio
from wcpipe.datamap import loadsql
from wcpipe.datamap.config import ColumnConfig, JobConfig
from wcpipe.datamap.transform import BATCH_ROWS, Mapper, Rejects
from wcpipe.datamap.values import TEXT_FAMILIES

CHUNK = 1 << 20  # bytes read from an object (and sent to a worker) at a time


class ObjectReader(io.RawIOBase):
    """A moto S3 key's content as a raw binary stream, read under the key's lock."""

    def __init__(self, key: Any) -> None:
        super().__init__()
        self._key, self._position = key, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        with self._key.lock:  # a concurrent PutObject rewrites the buffer under this lock
            stored = self._key._value_buffer
            stored.seek(self._position)
            data = stored.read(len(buffer))
        buffer[: len(data)] = data
        self._position += len(data)
        return len(data)


def open_object(key: Any) -> io.BufferedReader:
    return io.BufferedReader(ObjectReader(key), CHUNK)


# ---------------------------------------------------------------------------------------------
# Records -> COPY text


def copy_statement(config: JobConfig, staging: str) -> str:
    table = f"{loadsql.ident(config.target_schema)}.{loadsql.ident(staging)}"
    columns = ", ".join(loadsql.ident(c) for c in config.column_names)
    return f"COPY {table} ({columns}) FROM STDIN (FORMAT text, ENCODING 'UTF8')"


def copy_records(
    copy: Any,
    config: JobConfig,
    dialect: csvio.Dialect,
    stream: Any,
    mapper: Mapper,
    index: dict[str, int],
) -> None:
    """One object's records, mapped a batch at a time, written to `copy` (see the docstring)."""
    records = csvio.iter_records(
        stream,
        delimiter=dialect.delimiter,
        quote=dialect.quote,
        encoding=dialect.encoding,
        header=dialect.header,
    )
    columns = config.columns
    while batch := list(itertools.islice(records, BATCH_ROWS)):
        count, values = mapper.map_columns(index, batch)
        if count:
            copy.write(copy_columns_text(columns, values).encode("utf-8"))


_NULL = "\\N"
_COPY_SPECIAL = re.compile(r"[\\\t\n\r]")
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_text(columns: Sequence[ColumnConfig], rows: Sequence[tuple[object, ...]]) -> str:
    """Mapped rows in PostgreSQL's COPY text format: a tab between values, a newline after each
    row, NULL as \\N; in text, backslash, tab, newline and carriage return are escaped.
    Booleans are t/f; other values are written with str() (ints, Decimals, floats' shortest
    round-trip repr, ISO dates and timestamps), which PostgreSQL's input functions read back
    exactly. Built column by column with C-level loops."""
    if not rows:
        return ""
    return copy_columns_text(columns, list(zip(*rows, strict=True)))


def copy_columns_text(columns: Sequence[ColumnConfig], values: Sequence[Sequence[Any]]) -> str:
    """`copy_text` of the rows whose columns are `values` (as `Mapper.map_columns` gives)."""
    if not values or not values[0]:
        return ""
    texts = [_column_text(c.family, v) for c, v in zip(columns, values, strict=True)]
    return "\n".join(map("\t".join, zip(*texts, strict=True))) + "\n"


def _column_text(family: str, values: Sequence[Any]) -> Sequence[str]:
    # Not `None in values`: Decimal == None asks numbers.Rational's ABC, twice per value.
    has_null = any(map(operator.is_, values, itertools.repeat(None)))
    if family in TEXT_FAMILIES:
        present = [v for v in values if v is not None] if has_null else values
        if _COPY_SPECIAL.search("".join(present)):
            values = tuple(v if v is None else v.translate(_COPY_ESCAPES) for v in values)
        return [_NULL if v is None else v for v in values] if has_null else values
    if family == "boolean":
        return [_NULL if v is None else "t" if v else "f" for v in values]
    if family == "date":  # few distinct days in a batch: each written once
        texts = {v: _NULL if v is None else str(v) for v in set(values)}
        return list(map(texts.__getitem__, values))
    if has_null:
        return [_NULL if v is None else str(v) for v in values]
    return list(map(str, values))


# ---------------------------------------------------------------------------------------------
# Worker processes


class WorkerFailed(Exception):
    """A worker could not map or COPY its objects; the message says why."""


@dataclass(frozen=True)
class ObjectResult:
    name: str
    counts: dict[str, int]
    rejects: Rejects


_END = b""  # an empty chunk ends an object


class _PipeReader(io.RawIOBase):
    """One object's bytes as they arrive on the pipe, up to the empty chunk that ends them."""

    def __init__(self, pipe: Connection) -> None:
        super().__init__()
        self._pipe, self._pending, self._ended = pipe, memoryview(b""), False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if not self._pending and not self._ended:
            chunk = self._pipe.recv_bytes()
            self._ended = chunk == _END
            self._pending = memoryview(chunk)
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n


def _worker(
    pipe: Connection,
    dsn: str,
    config_json: str,
    staging: str,
    dialect: csvio.Dialect,
    header: list[str],
) -> None:
    """A worker process: map each object the pipe brings into one COPY; commit when told."""
    import psycopg

    try:
        config = JobConfig.from_json(config_json)
        with (
            psycopg.connect(dsn, autocommit=True) as conn,
            conn.cursor() as cur,
            cur.copy(copy_statement(config, staging)) as copy,
        ):
            while pipe.recv() is not None:  # the object's name, then its chunks
                mapper = Mapper(config)
                index = mapper.index(header)
                stream = io.BufferedReader(_PipeReader(pipe), CHUNK)
                copy_records(copy, config, dialect, stream, mapper, index)
                pipe.send((mapper.counts(), mapper.rejects))
        pipe.send(("committed", None))
    except BaseException as exc:  # everything goes back to the run, as text
        pipe.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        pipe.close()


_context_lock = threading.Lock()
_context: Any = None


def _mp_context() -> Any:
    """A forkserver that preloads this module (spawn where there is no forkserver)."""
    global _context
    with _context_lock:
        if _context is None:
            if "forkserver" in multiprocessing.get_all_start_methods():
                _context = multiprocessing.get_context("forkserver")
                # The children re-import the parent's __main__ (multiprocessing's rule) unless the
                # forkserver has it already: preload it once, with this module.
                _context.set_forkserver_preload(["__main__", __name__])
            else:
                _context = multiprocessing.get_context("spawn")
        return _context


def copy_in_workers(
    dsn: str,
    config_json: str,
    staging: str,
    dialect: csvio.Dialect,
    header: list[str],
    objects: Sequence[tuple[str, Any]],
    workers: int,
) -> list[ObjectResult]:
    """Map `objects` ((name, moto key) pairs) on `workers` processes (see the docstring)."""
    ctx = _mp_context()
    queue: Iterator[tuple[str, Any]] = iter(list(objects))
    queue_lock = threading.Lock()
    results: dict[str, ObjectResult] = {}
    errors: list[str] = []

    def next_object() -> tuple[str, Any] | None:
        with queue_lock:
            return None if errors else next(queue, None)

    def feed(pipe: Connection) -> None:
        try:
            while (item := next_object()) is not None:
                name, key = item
                pipe.send(name)
                with open_object(key) as stream:
                    while chunk := stream.read(CHUNK):
                        pipe.send_bytes(chunk)
                pipe.send_bytes(_END)
                counts, rejects = pipe.recv()
                if counts == "error":
                    raise WorkerFailed(rejects)
                results[name] = ObjectResult(name, counts, rejects)
            pipe.send(None)
            status, message = pipe.recv()
            if status != "committed":
                raise WorkerFailed(message)
        except (BrokenPipeError, EOFError, ConnectionResetError):
            errors.append(_last_word(pipe) or "a job worker process exited unexpectedly")
        except WorkerFailed as exc:
            errors.append(str(exc))

    started: list[tuple[Any, Connection, threading.Thread]] = []
    try:
        for _ in range(max(1, min(workers, len(objects)))):
            mine, theirs = ctx.Pipe()
            process = ctx.Process(
                target=_worker,
                args=(theirs, dsn, config_json, staging, dialect, header),
                daemon=True,
            )
            process.start()
            theirs.close()
            thread = threading.Thread(target=feed, args=(mine,), daemon=True)
            thread.start()
            started.append((process, mine, thread))
        for _, _, thread in started:
            thread.join()
    finally:
        for process, pipe, _ in started:
            process.join(timeout=0 if errors else 30)
            if process.is_alive():
                process.terminate()
                process.join()
            pipe.close()
    if errors:
        raise WorkerFailed(errors[0])
    return [results[name] for name, _ in objects]


def _last_word(pipe: Connection) -> str | None:
    """The error a worker sent before it went away, if it did."""
    try:
        while pipe.poll(1):
            status, message = pipe.recv()
            if status == "error":
                return str(message)
    except (EOFError, OSError, ValueError):
        pass
    return None
