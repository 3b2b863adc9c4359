"""Where the repository's files are: every test names them through these."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SPEC_PATH = ROOT / "config" / "pipeline.yaml"
"""The shipped spec: the FIFA pipeline."""
FIFA_CSV = ROOT / "data" / "FIFA World Cup Attendance.csv"
"""The FIFA data file the shipped spec loads."""
EVENTS_DIR = ROOT / "tests" / "fixtures" / "glue-events"
"""Glue events as EventBridge delivers them (see its README)."""
