"""What every schema shares: the allowed values of enumerated keys and the range-check helper."""

from enum import StrEnum
from typing import Any


class Task(StrEnum):
    regression = "regression"
    binary = "binary"
    count = "count"
    multiclass = "multiclass"


class Device(StrEnum):
    auto = "auto"
    cpu = "cpu"
    cuda = "cuda"


class DType(StrEnum):
    float32 = "float32"
    float64 = "float64"


class Activation(StrEnum):
    sigmoid = "sigmoid"
    tanh = "tanh"
    relu = "relu"


class Init(StrEnum):
    default = "default"
    xavier = "xavier"
    kaiming = "kaiming"
    orthogonal = "orthogonal"


class SearchMode(StrEnum):
    armijo = "armijo"
    grid = "grid"


def require(condition: bool, key: str, value: Any, allowed: str) -> None:
    """Raise ValueError('key=value: allowed') unless condition holds."""
    if not condition:
        raise ValueError(f"{key}={value!r} is not allowed: {allowed}")
