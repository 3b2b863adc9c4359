from __future__ import annotations

from typing import Any

import fake_recorder


class DynamicFrame:
    def __init__(self, df: Any, glue_ctx: Any = None, name: str = "") -> None:
        self._df = df
        self.glue_ctx = glue_ctx
        self.name = name

    @classmethod
    def fromDF(cls, df: Any, glue_ctx: Any, name: str) -> DynamicFrame:
        fake_recorder.record("fromDF", name=name)
        return cls(df, glue_ctx, name)

    def toDF(self) -> Any:
        return self._df

    def resolveChoice(self, **kwargs: Any) -> DynamicFrame:
        fake_recorder.record("resolveChoice", **kwargs)
        return self

    def count(self) -> int:
        return self._df.count()
