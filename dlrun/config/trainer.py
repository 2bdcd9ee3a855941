"""Schemas of the trainer and logger groups (conf/trainer/, conf/logger/)."""

from dataclasses import dataclass, field
from enum import StrEnum

from dlrun.config.rules import require

SPLITS = ("train", "val")  # what can be monitored: the test split is evaluated once, at the end


class Mode(StrEnum):
    min = "min"
    max = "max"


@dataclass
class EarlyStoppingConfig:
    """Model selection on a monitored metric (trainer.early_stopping; dlrun.selection).

    enabled: the best weights so far are kept in best.pt and restored before the final
    evaluation, and training stops after `patience` evaluations without improvement.
    stop_when_solved stops at the first evaluation where the dataset's success criterion
    (e.g. the adding problem's MSE < 0.01) holds on the validation split.
    """

    enabled: bool = False
    # <split>/<metric>, split train|val; the metrics are the task's (dlrun.tasks.METRIC_NAMES)
    monitor: str = "val/loss"
    # min: lower is better (losses); max: higher is better (acc, r2)
    mode: Mode = Mode.min
    # evaluations without improvement before stopping; null: never stop, only select the best
    patience: int | None = 10
    # an improvement is a change of more than this in the better direction
    min_delta: float = 0.0
    # a dataset without a success criterion never stops for this
    stop_when_solved: bool = False
    # stop once the validation metric is below this fraction of the criterion's threshold: the
    # test split, scored once at the end, is other data, and a run stopped at the first
    # validation value under the threshold often lands just above it on test
    solved_margin: float = 0.5

    def __post_init__(self) -> None:
        split, _, metric = str(self.monitor).partition("/")
        require(
            split in SPLITS and metric != "",
            "early_stopping.monitor",
            self.monitor,
            "<split>/<metric> with split train or val, e.g. val/loss, val/acc",
        )
        if self.patience is not None:
            require(self.patience >= 1, "early_stopping.patience", self.patience, "null or >= 1")
        require(self.min_delta >= 0, "early_stopping.min_delta", self.min_delta, ">= 0")
        margin = self.solved_margin
        require(0 < margin <= 1, "early_stopping.solved_margin", margin, "0 < x <= 1")


@dataclass
class TrainerConfig:
    """Mini-batch training (trainer=default); batch_size: null trains on the full batch."""

    max_epochs: int = 20
    # stop after this many optimizer steps (null: no limit)
    max_steps: int | None = None
    batch_size: int | None = 32
    # evaluate (and checkpoint) every N epochs, and always at the end
    eval_every: int = 1
    shuffle: bool = True
    # clip the global gradient norm to this value (null: no clipping)
    clip_grad_norm: float | None = None
    # write checkpoint.pt at every evaluation (what resume=... continues from)
    checkpoint: bool = True
    # stop once the full-batch gradient norm ‖∇L‖ ≤ tol·max(1, |L|) (null: off). It applies to
    # full-batch training with the optimizers that search along a direction (line_search,
    # newton, lbfgs), whose steps shrink to nothing at the optimum; SGD and Adam take the
    # steps they are given, and a mini-batch's gradient does not tell convergence.
    # In float32 Newton gets there; a line search or L-BFGS may stall near 1e-5 and then run
    # its budget (converged false). On a near-singular problem a small ‖∇L‖ is no proof of
    # being near the optimum (distance ≤ ‖∇L‖/λmin): standardise, or use newton.
    tol: float | None = 1e-6
    early_stopping: EarlyStoppingConfig = field(default_factory=EarlyStoppingConfig)

    def __post_init__(self) -> None:
        require(self.max_epochs >= 1, "max_epochs", self.max_epochs, "an integer >= 1")
        if self.max_steps is not None:
            require(self.max_steps >= 1, "max_steps", self.max_steps, "null or an integer >= 1")
        if self.batch_size is not None:
            require(self.batch_size >= 1, "batch_size", self.batch_size, "null or an integer >= 1")
        require(self.eval_every >= 1, "eval_every", self.eval_every, "an integer >= 1")
        if self.clip_grad_norm is not None:
            require(self.clip_grad_norm > 0, "clip_grad_norm", self.clip_grad_norm, "null or > 0")
        if self.tol is not None:
            require(self.tol > 0, "tol", self.tol, "null or a number > 0")


@dataclass
class LoggerConfig:
    """logger=csv: the run record's CSV files only (dlrun.record.logger)."""

    _target_: str = "dlrun.record.logger.CsvLogger"


def check_subdir(subdir: str) -> None:
    """A logger's folder is one name inside the run directory."""
    name = str(subdir)
    require(
        name not in ("", ".", "..") and "/" not in name and "\\" not in name,
        "subdir",
        subdir,
        "a folder name inside the run directory (no '/', not '.' or '..')",
    )


@dataclass
class TensorBoardConfig(LoggerConfig):
    _target_: str = "dlrun.record.logger.TensorBoardLogger"
    # the event files' folder inside the run directory
    subdir: str = "tensorboard"

    def __post_init__(self) -> None:
        check_subdir(self.subdir)


@dataclass
class MlflowConfig(LoggerConfig):
    _target_: str = "dlrun.record.logger.MlflowLogger"
    # null: a file store in <run dir>/<subdir>, one per run; or an MLflow tracking URI that
    # runs share (sqlite:///mlflow.db with sqlalchemy installed, http://host:5000)
    tracking_uri: str | None = None
    subdir: str = "mlruns"
    # the MLflow experiment the runs go into
    experiment: str = "dlrun"

    def __post_init__(self) -> None:
        check_subdir(self.subdir)
        require(str(self.experiment).strip() != "", "experiment", self.experiment, "a name")
        if self.tracking_uri is not None:
            require(
                str(self.tracking_uri).strip() != "",
                "tracking_uri",
                self.tracking_uri,
                "null (a file store in the run directory) or an MLflow tracking URI",
            )


# trainer=<option> YAMLs extend these through /schema.trainer.<name>@_here_
TRAINER_SCHEMAS: dict[str, type] = {"trainer": TrainerConfig}


# logger=<option> YAMLs extend these through /schema.logger.<name>@_here_
LOGGER_SCHEMAS: dict[str, type] = {
    "csv": LoggerConfig,
    "tensorboard": TensorBoardConfig,
    "mlflow": MlflowConfig,
}
