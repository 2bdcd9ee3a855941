"""What every data source returns (a Table) and the options every source shares."""

from dataclasses import dataclass, field

import numpy as np

KINDS = ("tabular", "image", "sequence")


@dataclass
class Series:
    """The one long series a forecasting source cuts its windows from, in time order.

    Row i of X ends at step `steps[i]`: its window is inputs[steps[i] − T + 1 : steps[i] + 1]
    and its target y[i] = targets[steps[i]], the value to predict at that step; `test_steps`
    likewise for X_test. A model may run once through `inputs` instead of restarting in every
    window (the ESN's series mode); the steps between the splits' rows are run through unused.
    """

    inputs: np.ndarray  # (S, F): the input at every step
    targets: np.ndarray  # (S,): the target at every step, NaN where it lies beyond the series
    steps: np.ndarray  # (N,) int: the step of each row of X
    test_steps: np.ndarray | None = None  # (N_test,) int: the step of each row of X_test


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
    X_test: np.ndarray | None = None
    y_test: np.ndarray | None = None
    true_coefficients: dict[str, np.ndarray] | None = None
    class_names: list[str] | None = field(default=None)
    # tabular rows that are flattened images (digits' 64 pixels): their (H, W) or (C, H, W),
    # so that convolutional models can see the grid while the others keep named features
    image_shape: tuple[int, ...] | None = None
    # sources that cut one long series into windows (forecasting): the series, in time order;
    # None for independent rows or sequences (adding, copy, seq_digits)
    series: Series | None = None


@dataclass(frozen=True)
class Criterion:
    """When a dataset counts as solved: `metric` (a name of dlrun.tasks.metrics) below
    `threshold` on the test split (on validation, for trainer.early_stopping.stop_when_solved)."""

    metric: str
    threshold: float
    # how the metric is printed ("mse" for a regression loss)
    label: str

    def met(self, values: dict[str, float], margin: float = 1.0) -> bool:
        """Whether a split's metrics meet the criterion, tightened to `margin` × threshold
        (NaN never does)."""
        return values[self.metric] < margin * self.threshold

    def __str__(self) -> str:
        return f"{self.label} < {self.threshold:g}"


class Source:
    """Options common to every dataset; subclasses implement `load(seed) -> Table`.

    Defaults and range rules of every source's arguments: dlrun/config/dataset.py.
    A source whose task defines "solved" declares it as `criterion`; one whose targets are
    always of one task declares it as `own_task`.
    """

    kind = "tabular"
    criterion: Criterion | None = None
    # the task its targets always are (the adding problem's sums: regression); None: its
    # target decides (a user's file). Known without loading: a sweep checks report.metrics
    # against it before any job runs (dlrun.sweeps.plan).
    own_task: str | None = None

    def __init__(
        self, *, task: str | None, val_fraction: float, test_fraction: float, standardize: bool
    ) -> None:
        self.task = None if task is None else str(task)  # the schema's Task enum, as text
        self.val_fraction = val_fraction
        self.test_fraction = test_fraction
        self.standardize = standardize

    def load(self, seed: int) -> Table:
        raise NotImplementedError
