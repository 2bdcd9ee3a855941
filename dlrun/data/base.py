"""What every data source returns (a Table) and the options every source shares."""

from dataclasses import dataclass, field

import numpy as np

from dlrun import tasks

KINDS = ("tabular", "image", "sequence")


@dataclass
class Table:
    """Raw arrays of one data source, before splitting and scaling.

    X is (N, F) for tabular data, (N, T, F) for sequences and (N, [C,] H, W) for images;
    `kind` tells which. `X_test`/`y_test` are a fixed test split when the source has one.
    """

    X: np.ndarray
    y: np.ndarray
    feature_names: list[str]
    kind: str = "tabular"
    task: str | None = None
    X_test: np.ndarray | None = None
    y_test: np.ndarray | None = None
    true_coefficients: dict[str, np.ndarray] | None = None
    class_names: list[str] | None = field(default=None)
    # tabular rows that are flattened images (digits' 64 pixels): their (H, W) or (C, H, W),
    # so that convolutional models can see the grid while the others keep named features
    image_shape: tuple[int, ...] | None = None


class Source:
    """Options common to every dataset; subclasses implement `load(seed) -> Table`."""

    kind = "tabular"

    def __init__(
        self,
        task: str | None = None,
        val_fraction: float = 0.1,
        test_fraction: float = 0.2,
        standardize: bool = True,
    ) -> None:
        self.task = None if task is None else tasks.check_task(task)
        for name, value in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
            if not 0 <= value < 1:
                raise ValueError(f"{name}={value!r} is not allowed: 0 <= x < 1")
        if val_fraction + test_fraction >= 1:
            raise ValueError("val_fraction + test_fraction must be < 1: no rows would be left")
        self.val_fraction = val_fraction
        self.test_fraction = test_fraction
        self.standardize = standardize

    def load(self, seed: int) -> Table:
        raise NotImplementedError
