"""The one model contract, `Model(data: DataInfo, **options)`: what a model learns of its data.

`options` are the keys of the model's schema (dlrun.config.model), which holds every default
and range rule; constructors restate neither. dlrun.build makes the DataInfo from the prepared
data and calls `instantiate(cfg.model, data=info)`; scripts and tests use `from_schema`.
"""

from dataclasses import dataclass
from enum import Enum
from typing import Any


@dataclass(frozen=True)
class DataInfo:
    """The data a model is sized for: a row's shape and kind, the task and the target's shape."""

    # one row as the model receives it: (F,) tabular, (T, F) sequence, (H, W) or (C, H, W) image
    input_shape: tuple[int, ...]
    # regression | binary | count | multiclass (dlrun.tasks)
    task: str
    # the number of classes of a multiclass task, None otherwise
    n_classes: int | None = None
    # tabular | image | sequence (dlrun.data.base.KINDS)
    kind: str = "tabular"
    # the shape of one row's target: () one target per row, (T',) one per step (the copy task)
    target_shape: tuple[int, ...] = ()
    # tabular rows that are flattened images (digits' 64 pixels): their (H, W) or (C, H, W)
    image_shape: tuple[int, ...] | None = None

    def grid(self) -> tuple[tuple[int, ...], str]:
        """(shape, kind) of a row as grid models (CNN, ResNet) see it: flat images as images."""
        if self.image_shape is not None:
            return self.image_shape, "image"
        return self.input_shape, self.kind


def plain(value: Any) -> Any:
    """A schema value as instantiate passes it: enums as their strings, lists copied."""
    if isinstance(value, Enum):
        return value.value
    return list(value) if isinstance(value, (list, tuple)) else value
