"""The code wcpipe ships into AWS, built as bytes: the Glue script, the Glue library zip and the
Lambda package. No AWS calls here.

Contract: the same sources always give the same bytes. Zips are deterministic: entries sorted by
name, every timestamp 1980-01-01 00:00:00, permissions 0644, no `__pycache__` or compiled files.
So a digest of the bytes says whether an upload (or a Lambda code update) is needed. Sources are
found with `importlib.resources`, so an installed wcpipe packages itself the same way a checkout
does.
"""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import BinaryIO

# Keys inside the pipeline bucket that are not per-pipeline names (names.py has the others).
GLUE_LIBS_KEY = "wcpipe/glue/wcpipe_lib.zip"
GLUE_SCRIPT = ("wcpipe_glue", "load.py")
LAMBDA_PACKAGE = "wcpipe_lambda"
LAMBDA_HANDLER = "handler.py"
# The pure-Python modules of wcpipe that the Glue job imports (through --extra-py-files).
GLUE_LIB_MODULES = (
    "__init__.py",
    "datamap/__init__.py",
    "datamap/transform.py",
    "datamap/values.py",
    "datamap/convert.py",
    "datamap/loadsql.py",
)

_EPOCH = (1980, 1, 1, 0, 0, 0)
_FILE_MODE = 0o100644  # a regular file, rw-r--r--
_CHUNK = 1024 * 1024

# Uploaded when the Glue script is missing from this installation: the job then fails at once
# with a reason, instead of running something stale.
_MISSING_GLUE_SCRIPT = (
    b'"""Placeholder: wcpipe_glue/load.py was missing when this pipeline was deployed."""\n'
    b'raise RuntimeError("wcpipe was installed without wcpipe_glue/load.py; reinstall, run up")\n'
)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_b64(data: bytes) -> str:
    """Base64 of the raw SHA-256 digest: how Lambda reports a function's CodeSha256."""
    return base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


def file_sha256(path: Path) -> tuple[str, int]:
    """(hex digest, size) of a file, read in chunks so large files need little memory."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def stream_sha256(handle: BinaryIO) -> str:
    digest = hashlib.sha256()
    while chunk := handle.read(_CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


def deterministic_zip(entries: Iterable[tuple[str, bytes]]) -> bytes:
    """A zip of (name, content) pairs whose bytes depend only on the names and contents."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, so the mode below is honoured the same everywhere
            info.external_attr = _FILE_MODE << 16
            archive.writestr(info, content, compresslevel=9)
    return buffer.getvalue()


def _python_files(folder: Traversable) -> list[Traversable]:
    """The .py files directly in a package folder (never __pycache__ or compiled files)."""
    return sorted(
        (f for f in folder.iterdir() if f.is_file() and f.name.endswith(".py")),
        key=lambda f: f.name,
    )


@dataclass(frozen=True)
class Artifact:
    """One object to upload: where it goes and its exact bytes."""

    key: str
    body: bytes
    content_type: str

    @cached_property
    def sha256(self) -> str:
        return sha256_hex(self.body)


def glue_script() -> bytes:
    """The Glue job script, `wcpipe_glue/load.py` (a failing placeholder if not installed)."""
    package, filename = GLUE_SCRIPT
    script = resources.files(package).joinpath(filename)
    if not script.is_file():
        return _MISSING_GLUE_SCRIPT
    return script.read_bytes()


def glue_libs_zip() -> bytes:
    """`wcpipe/__init__.py` and the modules of GLUE_LIB_MODULES (those present), zipped
    for Glue's `--extra-py-files` so the job imports the same cleaning code as the CLI."""
    root = resources.files("wcpipe")
    entries = [
        (f"wcpipe/{name}", root.joinpath(name).read_bytes())
        for name in GLUE_LIB_MODULES
        if root.joinpath(name).is_file()
    ]
    return deterministic_zip(entries)


def lambda_zip() -> bytes:
    """The Lambda package: `handler.py` and the other modules of `wcpipe_lambda` at the zip root
    (`__init__.py` excluded: the handler is `handler.handler`)."""
    folder = resources.files(LAMBDA_PACKAGE)
    entries = [(f.name, f.read_bytes()) for f in _python_files(folder) if f.name != "__init__.py"]
    return deterministic_zip(entries)


def build_artifacts(glue_script_key: str, lambda_key: str) -> dict[str, Artifact]:
    """What `s3_objects.Artifacts` uploads, by role: glue_script, glue_libs, lambda_package."""
    return {
        "glue_script": Artifact(glue_script_key, glue_script(), "text/x-python"),
        "glue_libs": Artifact(GLUE_LIBS_KEY, glue_libs_zip(), "application/zip"),
        "lambda_package": Artifact(lambda_key, lambda_zip(), "application/zip"),
    }
