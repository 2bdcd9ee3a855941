"""Model selection on validation: which evaluation's weights are the result, and when training
stops before its budget (trainer.early_stopping, dlrun.config.trainer.EarlyStoppingConfig).

The state is a few numbers, saved in checkpoint.pt, so a resumed run continues it exactly; the
best weights themselves are in best.pt (dlrun.record).
"""

import math
from dataclasses import asdict, dataclass

from dlrun import tasks
from dlrun.config.trainer import EarlyStoppingConfig, Mode
from dlrun.data.base import Criterion
from dlrun.data.splits import Data
from dlrun.errors import InputError


@dataclass
class SelectionState:
    """The best monitored value so far, where it was, evaluations since, and a stop reason."""

    best: float | None = None
    epoch: int | None = None
    step: int | None = None
    waited: int = 0
    stopped: str | None = None


class EarlyStopping:
    """`update(epoch, step, metrics)` after each evaluation: whether these weights are the new
    best (then best.pt is written), and `state.stopped` once training should stop."""

    def __init__(
        self, config: EarlyStoppingConfig, criterion: Criterion | None, state: dict | None
    ) -> None:
        self.config, self.criterion = config, criterion
        self.split, _, self.metric = config.monitor.partition("/")
        self.state = SelectionState(**state) if state else SelectionState()

    @property
    def selects(self) -> bool:
        """Whether the best evaluation's weights (not the last) are the result."""
        return self.config.enabled

    def improves(self, value: float) -> bool:
        """Better than the best so far by more than min_delta (NaN never is)."""
        if not math.isfinite(value):
            return False
        if self.state.best is None:
            return True
        if self.config.mode == Mode.min:
            return value < self.state.best - self.config.min_delta
        return value > self.state.best + self.config.min_delta

    def update(self, epoch: int, step: int, metrics: dict[str, dict[str, float]]) -> bool:
        """Take one evaluation; returns whether it is the new best (to be kept in best.pt)."""
        improved = False
        if self.selects:
            value = metrics[self.split][self.metric]
            improved = self.improves(value)
            if improved:
                self.state.best, self.state.epoch, self.state.step = value, epoch, step
                self.state.waited = 0
            else:
                self.state.waited += 1
            patience = self.config.patience
            if patience is not None and self.state.waited >= patience:
                self.state.stopped = "early_stopping"
        if self.config.stop_when_solved and self.solved(metrics):
            self.state.stopped = "solved"
        return improved

    def solved(self, metrics: dict[str, dict[str, float]]) -> bool:
        """Whether the dataset's success criterion holds on the validation split, with the
        configured margin."""
        if self.criterion is None or "val" not in metrics:
            return False
        return self.criterion.met(metrics["val"], self.config.solved_margin)

    def restore_selected(self, model, record, epoch: int, steps: int) -> tuple[int, int]:
        """Load best.pt into model when an earlier evaluation is selected; the selected
        evaluation's (epoch, step): the last, (epoch, steps), unless early stopping selects."""
        best = self.state
        if not self.selects or best.epoch is None:  # no finite evaluation to choose from
            return epoch, steps
        if best.epoch != epoch:
            record.load_best(model, best.epoch)
        return best.epoch, best.step

    def state_dict(self) -> dict:
        """Plain numbers and text: loadable from a checkpoint with weights_only=True."""
        return asdict(self.state)


def check_early_stopping(config: EarlyStoppingConfig, data: Data) -> None:
    """Refuse a monitored split the data lack, or a metric the task does not compute."""
    key = "trainer.early_stopping"
    watches_solved = config.stop_when_solved and data.criterion is not None
    if config.enabled:
        split, _, metric = config.monitor.partition("/")
        if split not in data.splits:
            off = f"{key}.enabled=false" + (f" {key}.stop_when_solved=false" * watches_solved)
            raise InputError(
                f"{key}.monitor={config.monitor} needs a {split} split, and this dataset has "
                f"none; allowed: dataset.val_fraction > 0, or {off}"
            )
        names = tasks.METRIC_NAMES[data.task]
        if metric not in names:
            allowed = ", ".join(f"{split}/{name}" for name in names)
            raise InputError(
                f"{key}.monitor={config.monitor} is not a metric of this {data.task} task; "
                f"allowed: {allowed}"
            )
    if watches_solved and "val" not in data.splits:
        raise InputError(
            f"{key}.stop_when_solved=true needs a val split, and this dataset has none; "
            f"allowed: dataset.val_fraction > 0, or {key}.stop_when_solved=false"
        )
