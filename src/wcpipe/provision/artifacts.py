"""The code wcpipe ships into AWS, built as bytes: the Glue script, the Glue library zip and the
Lambda package. No AWS calls here.

Contract: the same sources always give the same bytes. Zips are deterministic: entries sorted by
name, every timestamp 1980-01-01 00:00:00, permissions 0644, no `__pycache__` or compiled files.
So a digest of the bytes says whether an upload (or a Lambda code update) is needed. Sources are
found with `importlib.resources`, so an installed wcpipe packages itself the same way a checkout
does.

The Glue library zip is the `wcpipe.datamap` package whole (every .py file in it) with
`wcpipe/__init__.py`: no hand-kept list to forget a module in. A shipped module that imports a
`wcpipe` module the zip would not hold (at any level, `TYPE_CHECKING` blocks aside), or a missing
package `__init__.py`, is an error when the zip is built, not an ImportError on Glue.
"""

from __future__ import annotations

import ast
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
from typing import Any, BinaryIO

from wcpipe.core.errors import WcpipeError
from wcpipe.spec.files import UndecodableFile, utf8_chunks

# Keys inside the pipeline bucket that are not per-pipeline names (names.py has the others).
GLUE_LIBS_KEY = "wcpipe/glue/wcpipe_lib.zip"
GLUE_SCRIPT = ("wcpipe_glue", "load.py")
LAMBDA_PACKAGE = "wcpipe_lambda"
# The package of wcpipe that the Glue job imports (through --extra-py-files), shipped whole, and
# the package files its import needs (paths inside `wcpipe`).
GLUE_LIB_PACKAGE = "datamap"
GLUE_LIB_REQUIRED = ("__init__.py", f"{GLUE_LIB_PACKAGE}/__init__.py")

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


__all__ = ["UndecodableFile", "Utf8Reader", "data_file_sha256", "utf8_chunks"]


class Utf8Reader(io.RawIOBase):
    """`spec.files.utf8_chunks` (what a data file uploads as) as a binary file object, for
    `upload_fileobj` (which streams it, switching to a multipart upload for large files)."""

    def __init__(self, path: Path, encoding: str) -> None:
        super().__init__()
        self._chunks = utf8_chunks(path, encoding)
        self._pending = b""
        self._at = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while self._at >= len(self._pending):
            try:
                self._pending, self._at = next(self._chunks), 0
            except StopIteration:
                return 0
        size = min(len(buffer), len(self._pending) - self._at)
        buffer[:size] = self._pending[self._at : self._at + size]
        self._at += size
        return size


def data_file_sha256(path: Path, encoding: str) -> tuple[str, int]:
    """(hex digest, size) of the bytes a data file uploads as (`utf8_chunks`): what content
    addressing compares with the object's `sha256` metadata."""
    digest = hashlib.sha256()
    size = 0
    for chunk in utf8_chunks(path, encoding):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


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


def glue_lib_modules(root: Traversable | None = None) -> list[str]:
    """The paths inside `wcpipe` that the Glue library zip holds: `__init__.py` and every .py
    file of the `wcpipe.datamap` package, sorted. `root` is the `wcpipe` package folder."""
    root = root or resources.files("wcpipe")
    missing = [name for name in GLUE_LIB_REQUIRED if not root.joinpath(name).is_file()]
    if missing:
        raise WcpipeError(
            f"cannot build the Glue library zip: wcpipe/{', wcpipe/'.join(missing)} missing",
            hint="reinstall wcpipe",
        )
    package = root.joinpath(GLUE_LIB_PACKAGE)
    return ["__init__.py", *(f"{GLUE_LIB_PACKAGE}/{f.name}" for f in _python_files(package))]


def glue_libs_zip(root: Traversable | None = None) -> bytes:
    """`wcpipe/__init__.py` and the `wcpipe.datamap` package (`glue_lib_modules`), zipped for
    Glue's `--extra-py-files` so the job imports the same cleaning code as the CLI. Raises
    WcpipeError when a shipped module imports a wcpipe module the zip does not hold."""
    root = root or resources.files("wcpipe")
    entries = {
        f"wcpipe/{name}": root.joinpath(name).read_bytes() for name in glue_lib_modules(root)
    }
    shipped = {_module_name(name) for name in entries}
    for name, source in sorted(entries.items()):
        absent = sorted(m for m in _wcpipe_imports(source) if m not in shipped)
        if absent:
            raise WcpipeError(
                f"cannot build the Glue library zip: {name} imports {', '.join(absent)}, "
                "which the zip would not hold",
                hint="reinstall wcpipe (the Glue job would fail with an ImportError)",
            )
    return deterministic_zip(entries.items())


def _module_name(path: str) -> str:
    """'wcpipe/datamap/values.py' -> 'wcpipe.datamap.values'; a package's __init__ -> its name."""
    return path.removesuffix(".py").removesuffix("/__init__").replace("/", ".")


def _wcpipe_imports(source: bytes) -> set[str]:
    """The wcpipe modules a module imports anywhere but under `if TYPE_CHECKING:`."""
    found: set[str] = set()

    def visit(nodes: Iterable[ast.AST]) -> None:
        for node in nodes:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                visit(node.orelse)
                continue
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module)
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            visit(ast.iter_child_nodes(node))

    visit(ast.parse(source).body)
    return {m for m in found if m == "wcpipe" or m.startswith("wcpipe.")}


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
