"""Fake pyspark (tests only): accumulators, RDDs as lists, two partitions per RDD."""

from __future__ import annotations

from typing import Any


class AccumulatorParam:
    def zero(self, value: Any) -> Any:
        raise NotImplementedError

    def addInPlace(self, a: Any, b: Any) -> Any:
        raise NotImplementedError


class _AddParam(AccumulatorParam):
    def zero(self, value: Any) -> Any:
        return 0

    def addInPlace(self, a: Any, b: Any) -> Any:
        return a + b


class Accumulator:
    def __init__(self, value: Any, param: Any) -> None:
        self.value = value
        self.param = param

    def add(self, term: Any) -> None:
        self.value = self.param.addInPlace(self.value, term)
