"""Packaging the code that runs in AWS: deterministic bytes, the right entries, honest digests."""

from __future__ import annotations

import base64
import hashlib
import io
import shutil
import zipfile
from pathlib import Path

import pytest
from support.paths import ROOT

from wcpipe.core.errors import WcpipeError
from wcpipe.provision import artifacts as packaging


def _names(data: bytes) -> list[str]:
    return zipfile.ZipFile(io.BytesIO(data)).namelist()


def test_same_sources_give_the_same_bytes():
    assert packaging.lambda_zip() == packaging.lambda_zip()
    assert packaging.glue_libs_zip() == packaging.glue_libs_zip()
    assert packaging.glue_script() == packaging.glue_script()


def test_zip_entries_are_sorted_with_fixed_time_and_mode_whatever_the_input_order():
    a = packaging.deterministic_zip([("b.py", b"2"), ("a.py", b"1")])
    b = packaging.deterministic_zip([("a.py", b"1"), ("b.py", b"2")])
    assert a == b
    infos = zipfile.ZipFile(io.BytesIO(a)).infolist()
    assert [i.filename for i in infos] == ["a.py", "b.py"]
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {i.external_attr >> 16 for i in infos} == {0o100644}


def test_lambda_zip_has_its_modules_at_the_root_without_init_or_caches():
    names = _names(packaging.lambda_zip())
    assert "__init__.py" not in names
    assert all("/" not in n and n.endswith(".py") for n in names)
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)
    from importlib import resources

    present = resources.files("wcpipe_lambda").joinpath("handler.py").is_file()
    assert ("handler.py" in names) == present


def test_glue_libs_zip_holds_the_whole_datamap_package_and_nothing_else():
    names = _names(packaging.glue_libs_zip())
    package = ROOT / "src" / "wcpipe" / "datamap"
    expected = ["wcpipe/__init__.py", *(f"wcpipe/datamap/{p.name}" for p in package.glob("*.py"))]
    assert names == sorted(expected)
    assert {"wcpipe/datamap/transform.py", "wcpipe/datamap/loadsql.py"} <= set(names)
    archive = zipfile.ZipFile(io.BytesIO(packaging.glue_libs_zip()))
    for name in names:  # each entry is the source file, byte for byte
        assert archive.read(name) == (ROOT / "src" / name).read_bytes(), name


def _copy_of_wcpipe(tmp_path: Path) -> Path:
    """The files the Glue library zip is built from, copied: a root to take one away from."""
    root = tmp_path / "wcpipe"
    (root / "datamap").mkdir(parents=True)
    shutil.copy(ROOT / "src" / "wcpipe" / "__init__.py", root / "__init__.py")
    for source in (ROOT / "src" / "wcpipe" / "datamap").glob("*.py"):
        shutil.copy(source, root / "datamap" / source.name)
    return root


def test_glue_libs_zip_from_a_copy_is_the_same_zip(tmp_path: Path) -> None:
    assert packaging.glue_libs_zip(_copy_of_wcpipe(tmp_path)) == packaging.glue_libs_zip()


def test_glue_libs_zip_refuses_a_module_the_shipped_code_imports_but_is_missing(
    tmp_path: Path,
) -> None:
    root = _copy_of_wcpipe(tmp_path)
    (root / "datamap" / "convert.py").unlink()  # transform.Mapper imports it inside a method
    with pytest.raises(WcpipeError, match=r"transform\.py imports wcpipe\.datamap\.convert"):
        packaging.glue_libs_zip(root)


@pytest.mark.parametrize("missing", ["__init__.py", "datamap/__init__.py"])
def test_glue_libs_zip_refuses_a_missing_package_init(tmp_path: Path, missing: str) -> None:
    root = _copy_of_wcpipe(tmp_path)
    (root / missing).unlink()
    with pytest.raises(WcpipeError, match=f"wcpipe/{missing} missing"):
        packaging.glue_libs_zip(root)


def test_type_checking_imports_are_not_shipped_imports() -> None:
    source = b"""
from typing import TYPE_CHECKING
import wcpipe.datamap.values
if TYPE_CHECKING:
    from wcpipe.spec.model import Spec
def f():
    from wcpipe.datamap import convert
"""
    imports = packaging._wcpipe_imports(source)
    assert imports == {"wcpipe.datamap.values", "wcpipe.datamap"}


def test_digests_match_the_bytes():
    data = packaging.lambda_zip()
    assert packaging.sha256_hex(data) == hashlib.sha256(data).hexdigest()
    assert base64.b64decode(packaging.sha256_b64(data)) == hashlib.sha256(data).digest()
    arts = packaging.build_artifacts("wcpipe/glue/load.py", "wcpipe/lambda/start_job.zip")
    assert arts["lambda_package"].sha256 == hashlib.sha256(data).hexdigest()
    assert arts["glue_libs"].key == packaging.GLUE_LIBS_KEY


def test_file_sha256_streams_large_files(tmp_path):
    path = tmp_path / "big.csv"
    data = b"0123456789" * 300_000  # 3 MB: several read chunks
    path.write_bytes(data)
    assert packaging.file_sha256(path) == (hashlib.sha256(data).hexdigest(), len(data))


def test_the_demo_spec_and_its_data_ship_inside_the_package() -> None:
    """`wcpipe demo` from a wheel reads wcpipe/bundled/ (links to config/ and data/ in the
    checkout, packaged as files by pyproject's package-data)."""
    from importlib import resources

    from wcpipe.cli.sandbox_cmd import bundled_spec

    bundled = resources.files("wcpipe").joinpath("bundled")
    spec = bundled.joinpath("config", "pipeline.yaml")
    assert spec.is_file() and bundled_spec().samefile(str(spec))
    assert bundled.joinpath("data", "FIFA World Cup Attendance.csv").is_file()


def test_the_boto3_floor_has_create_bucket_tags() -> None:
    """pyproject's boto3 floor (1.39.2, whose botocore floor is the same) is where S3's model
    gained CreateBucketConfiguration.Tags, which the bucket's create sends; the installed
    botocore, at or above it, has the member."""
    import tomllib

    import botocore.session

    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert "boto3>=1.39.2" in deps
    model = botocore.session.get_session().get_service_model("s3")
    assert "Tags" in model.shape_for("CreateBucketConfiguration").members
