"""Packaging the code that runs in AWS: deterministic bytes, the right entries, honest digests."""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile

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


def test_glue_libs_zip_holds_the_shared_pure_python_modules():
    names = _names(packaging.glue_libs_zip())
    assert "wcpipe/__init__.py" in names
    assert "wcpipe/datamap/transform.py" in names
    assert "wcpipe/datamap/values.py" in names  # transform and convert import it
    assert "wcpipe/datamap/convert.py" in names  # transform.Mapper imports it
    assert set(names) <= {
        "wcpipe/__init__.py",
        "wcpipe/datamap/__init__.py",
        "wcpipe/datamap/transform.py",
        "wcpipe/datamap/values.py",
        "wcpipe/datamap/convert.py",
        "wcpipe/datamap/loadsql.py",
    }
    content = zipfile.ZipFile(io.BytesIO(packaging.glue_libs_zip())).read(
        "wcpipe/datamap/transform.py"
    )
    from importlib import resources

    assert content == resources.files("wcpipe").joinpath("datamap/transform.py").read_bytes()


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
