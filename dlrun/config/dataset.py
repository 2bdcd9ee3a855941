"""Schemas of the dataset group (conf/dataset/): every data source's defaults and range rules."""

from dataclasses import dataclass

from omegaconf import MISSING

from dlrun.config.rules import Task, require


@dataclass
class DatasetConfig:
    _target_: str = MISSING
    task: Task | None = None
    val_fraction: float = 0.1
    test_fraction: float = 0.2
    standardize: bool = True

    def __post_init__(self) -> None:
        require(0 <= self.val_fraction < 1, "val_fraction", self.val_fraction, "0 <= x < 1")
        require(0 <= self.test_fraction < 1, "test_fraction", self.test_fraction, "0 <= x < 1")
        total = self.val_fraction + self.test_fraction
        require(total < 1, "val_fraction", self.val_fraction, "val_fraction + test_fraction < 1")


@dataclass
class BundledConfig(DatasetConfig):
    _target_: str = "dlrun.data.bundled.Bundled"
    name: str = MISSING


@dataclass
class SyntheticConfig(DatasetConfig):
    _target_: str = "dlrun.data.synthetic.SyntheticGLM"
    n_samples: int = 500
    n_features: int = 5
    n_classes: int = 3
    noise: float = 0.1
    data_seed: int = 0

    def __post_init__(self) -> None:
        super().__post_init__()
        require(
            self.task is not None, "task", self.task, "one of regression|binary|count|multiclass"
        )
        require(self.n_samples >= 4, "n_samples", self.n_samples, "an integer >= 4")
        require(self.n_features >= 1, "n_features", self.n_features, "an integer >= 1")
        require(self.n_classes >= 2, "n_classes", self.n_classes, "an integer >= 2")
        require(self.noise >= 0, "noise", self.noise, "a number >= 0")
        require(self.data_seed >= 0, "data_seed", self.data_seed, "an integer >= 0")


@dataclass
class CsvConfig(DatasetConfig):
    _target_: str = "dlrun.data.files.CsvFile"
    path: str = MISSING
    target: str = MISSING
    features: list[str] | None = None


@dataclass
class NpzConfig(DatasetConfig):
    _target_: str = "dlrun.data.files.NpzFile"
    path: str = MISSING
    layout: str = "auto"

    def __post_init__(self) -> None:
        super().__post_init__()
        require(
            self.layout in ("auto", "image", "signal"), "layout", self.layout, "auto|image|signal"
        )


@dataclass
class ShapesConfig(DatasetConfig):
    _target_: str = "dlrun.data.images.Shapes"
    n_samples: int = 1000
    size: int = 16
    n_classes: int = 4
    noise: float = 0.1
    data_seed: int = 0

    def __post_init__(self) -> None:
        super().__post_init__()
        require(self.n_samples >= 4, "n_samples", self.n_samples, "an integer >= 4")
        require(self.size >= 5, "size", self.size, "an integer >= 5 (the patterns are 5×5)")
        require(2 <= self.n_classes <= 6, "n_classes", self.n_classes, "2..6")
        require(self.noise >= 0, "noise", self.noise, "a number >= 0")
        require(self.data_seed >= 0, "data_seed", self.data_seed, "an integer >= 0")


@dataclass
class WaveformsConfig(DatasetConfig):
    _target_: str = "dlrun.data.images.Waveforms"
    n_samples: int = 1000
    length: int = 50
    width: int = 10
    noise: float = 0.2
    data_seed: int = 0
    sequence: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        require(self.n_samples >= 4, "n_samples", self.n_samples, "an integer >= 4")
        require(self.width >= 4, "width", self.width, "an integer >= 4")
        require(self.length >= self.width, "length", self.length, f">= width ({self.width})")
        require(self.noise >= 0, "noise", self.noise, "a number >= 0")
        require(self.data_seed >= 0, "data_seed", self.data_seed, "an integer >= 0")


@dataclass
class SequenceConfig(DatasetConfig):
    _target_: str = "dlrun.data.sequences.Adding"
    n_samples: int = 2000
    seq_len: int = 50
    data_seed: int = 0

    def __post_init__(self) -> None:
        super().__post_init__()
        require(self.n_samples >= 4, "n_samples", self.n_samples, "an integer >= 4")
        require(self.seq_len >= 1, "seq_len", self.seq_len, "an integer >= 1")
        require(self.data_seed >= 0, "data_seed", self.data_seed, "an integer >= 0")


@dataclass
class CopyConfig(SequenceConfig):
    _target_: str = "dlrun.data.sequences.Copy"
    n_symbols: int = 8
    length: int = 10

    def __post_init__(self) -> None:
        super().__post_init__()
        require(self.n_symbols >= 1, "n_symbols", self.n_symbols, "an integer >= 1")
        require(self.length >= 1, "length", self.length, "an integer >= 1")


@dataclass
class MackeyGlassConfig(SequenceConfig):
    _target_: str = "dlrun.data.sequences.MackeyGlass"
    horizon: int = 1
    tau: float = 17.0
    step: float = 1.0

    def __post_init__(self) -> None:
        super().__post_init__()
        require(self.horizon >= 1, "horizon", self.horizon, "an integer >= 1")
        require(self.tau > 0, "tau", self.tau, "a delay > 0")
        require(self.step > 0, "step", self.step, "a sampling interval > 0")


@dataclass
class SeqDigitsConfig(DatasetConfig):
    _target_: str = "dlrun.data.sequences.SeqDigits"
    pixel_by_pixel: bool = False


@dataclass
class SunspotsConfig(DatasetConfig):
    _target_: str = "dlrun.data.sequences.Sunspots"
    seq_len: int = 20
    horizon: int = 1

    def __post_init__(self) -> None:
        super().__post_init__()
        require(self.seq_len >= 1, "seq_len", self.seq_len, "an integer >= 1")
        require(self.horizon >= 1, "horizon", self.horizon, "an integer >= 1")


# dataset=<option> YAMLs extend these through /schema/dataset/<name>@_here_
SCHEMAS: dict[str, type] = {
    "bundled": BundledConfig,
    "synthetic": SyntheticConfig,
    "csv": CsvConfig,
    "npz": NpzConfig,
    "shapes": ShapesConfig,
    "waveforms": WaveformsConfig,
    "sequence": SequenceConfig,
    "copy": CopyConfig,
    "mackey_glass": MackeyGlassConfig,
    "seq_digits": SeqDigitsConfig,
    "sunspots": SunspotsConfig,
}
