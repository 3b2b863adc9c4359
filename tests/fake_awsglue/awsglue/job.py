from __future__ import annotations

from typing import Any

import fake_recorder


class Job:
    def __init__(self, glue_ctx: Any) -> None:
        self.glue_ctx = glue_ctx

    def init(self, name: str, args: dict[str, str]) -> None:
        fake_recorder.record("job.init", name=name, args=dict(args))

    def commit(self) -> None:
        fake_recorder.record("job.commit")
