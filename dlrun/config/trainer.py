"""Schemas of the trainer and logger groups (conf/trainer/, conf/logger/)."""

from dataclasses import dataclass

from dlrun.config.rules import require


@dataclass
class TrainerConfig:
    max_epochs: int = 20
    max_steps: int | None = None
    batch_size: int | None = 32
    eval_every: int = 1
    shuffle: bool = True
    clip_grad_norm: float | None = None
    checkpoint: bool = True

    def __post_init__(self) -> None:
        require(self.max_epochs >= 1, "max_epochs", self.max_epochs, "an integer >= 1")
        if self.max_steps is not None:
            require(self.max_steps >= 1, "max_steps", self.max_steps, "null or an integer >= 1")
        if self.batch_size is not None:
            require(self.batch_size >= 1, "batch_size", self.batch_size, "null or an integer >= 1")
        require(self.eval_every >= 1, "eval_every", self.eval_every, "an integer >= 1")
        if self.clip_grad_norm is not None:
            require(self.clip_grad_norm > 0, "clip_grad_norm", self.clip_grad_norm, "null or > 0")


@dataclass
class LoggerConfig:
    """logger=csv: the run record's CSV files only (dlrun.logger)."""

    _target_: str = "dlrun.logger.CsvLogger"


@dataclass
class TensorBoardConfig(LoggerConfig):
    _target_: str = "dlrun.logger.TensorBoardLogger"
    # the event files' folder inside the run directory
    subdir: str = "tensorboard"

    def __post_init__(self) -> None:
        require(bool(self.subdir), "subdir", self.subdir, "a folder name")


# trainer=<option> YAMLs extend these through /schema/trainer/<name>@_here_
TRAINER_SCHEMAS: dict[str, type] = {"trainer": TrainerConfig}


# logger=<option> YAMLs extend these through /schema/logger/<name>@_here_
LOGGER_SCHEMAS: dict[str, type] = {"csv": LoggerConfig, "tensorboard": TensorBoardConfig}
