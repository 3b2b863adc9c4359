"""Write the latest figures into benchmarks/README.md, between its results markers."""

from __future__ import annotations

import datetime
from pathlib import Path

START = "<!-- results:start -->"
END = "<!-- results:end -->"


def update(path: Path, table: str, machine: str, day: datetime.date, command: str) -> None:
    text = path.read_text()
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    block = (
        f"{START}\n"
        f"Machine: {machine}. Date: {day.isoformat()}. Command: `{command}`.\n\n"
        f"{table}\n"
        f"{END}"
    )
    path.write_text(head + block + tail)
