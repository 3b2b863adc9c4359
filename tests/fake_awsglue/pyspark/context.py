from __future__ import annotations

from typing import Any

from pyspark import Accumulator, _AddParam


class SparkContext:
    _active: SparkContext | None = None

    @classmethod
    def getOrCreate(cls) -> SparkContext:
        cls._active = cls._active or cls()
        return cls._active

    def accumulator(self, value: Any, accum_param: Any = None) -> Accumulator:
        return Accumulator(value, accum_param or _AddParam())
