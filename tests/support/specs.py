"""Spec files written for a test: the FIFA spec under another name, and changes to a written one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from support.paths import FIFA_CSV, SPEC_PATH


def write_spec(
    directory: Path,
    name: str,
    vpc_id: str,
    subnet_id: str,
    database: str,
    warehouse: str = "provisioned",
) -> Path:
    """The FIFA spec under another name, in its own VPC and warehouse database (of type
    `warehouse`), with alerts to one address, with a copy of the FIFA data beside it:
    `directory/pipeline.yaml`, `directory/data/`."""
    raw = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    data_dir = directory / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / FIFA_CSV.name).write_bytes(FIFA_CSV.read_bytes())
    raw["name"] = name
    raw["data"]["files"] = [f"data/{FIFA_CSV.name}"]
    raw["network"] = {"vpc_id": vpc_id, "subnet_id": subnet_id}
    raw["warehouse"]["database"] = database
    raw["warehouse"]["type"] = warehouse
    raw["alerts"] = {"email": [f"ops@{name}.example.com"]}  # the alert resources too
    path = directory / "pipeline.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


def rewrite_spec(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    """Apply `change` to the spec at `path` (as YAML data) and write it back."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(raw)
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
