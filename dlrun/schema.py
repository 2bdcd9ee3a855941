"""Typed schemas behind the YAML configs, registered in Hydra's ConfigStore.

A wrong type fails at composition with Hydra's own message; a value out of range fails in
`__post_init__`, which `dlrun.build.check_config` runs before any work starts.
Each YAML option extends its schema through its defaults list (`/schema/<group>/<name>@_here_`).
"""

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING


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


# ---------------------------------------------------------------- model


@dataclass
class ModelConfig:
    _target_: str = MISSING


@dataclass
class GLMConfig(ModelConfig):
    _target_: str = "dlrun.models.glm.GLM"
    family: Task = MISSING


@dataclass
class MLPConfig(ModelConfig):
    _target_: str = "dlrun.models.mlp.MLP"
    hidden: list[int] = field(default_factory=lambda: [64])
    activation: Activation = Activation.relu
    init: Init = Init.default

    def __post_init__(self) -> None:
        require(len(self.hidden) > 0, "hidden", list(self.hidden), "a non-empty list of widths")
        for width in self.hidden:
            require(width > 0, "hidden", list(self.hidden), "every width must be > 0")


@dataclass
class MLPNumpyConfig(MLPConfig):
    _target_: str = "dlrun.models.mlp_numpy.MLPNumpy"

    def __post_init__(self) -> None:
        for width in self.hidden:  # hidden: [] is allowed: a GLM computed in numpy
            require(width > 0, "hidden", list(self.hidden), "every width must be > 0")


@dataclass
class CNNConfig(ModelConfig):
    _target_: str = "dlrun.models.cnn.CNN"
    channels: list[int] = field(default_factory=lambda: [16, 32])
    # an integer for every layer, or a list with one per layer of channels
    kernel_size: Any = 3
    stride: Any = 1
    padding: Any = 1
    padding_mode: str = "zeros"
    pool: str = "max"
    pool_size: int = 2
    global_pool: str = "none"
    activation: Activation = Activation.relu

    def __post_init__(self) -> None:
        require(len(self.channels) > 0, "channels", list(self.channels), "a non-empty list")
        for key in ("kernel_size", "stride", "padding"):
            value = getattr(self, key)
            values = [value] if isinstance(value, int) else list(value)
            require(
                all(isinstance(v, int) for v in values) and len(values) in (1, len(self.channels)),
                key,
                value,
                "an integer, or a list of one integer per layer of channels",
            )
        require(self.pool in ("max", "avg", "none"), "pool", self.pool, "max|avg|none")
        require(
            self.global_pool in ("max", "avg", "none"),
            "global_pool",
            self.global_pool,
            "max|avg|none",
        )
        require(self.pool_size >= 1, "pool_size", self.pool_size, "an integer >= 1")


@dataclass
class ResNetConfig(ModelConfig):
    _target_: str = "dlrun.models.resnet.ResNet"
    depth: int = 8
    width: int = 64
    residual: bool = True
    form: str = "auto"
    norm: str = "none"
    branch_scale: str = "zero"
    kernel_size: int = 3
    global_pool: str = "none"
    activation: Activation = Activation.relu
    init: Init = Init.kaiming

    def __post_init__(self) -> None:
        require(self.depth >= 1, "depth", self.depth, "an integer >= 1")
        require(self.width >= 1, "width", self.width, "an integer >= 1")
        require(self.form in ("auto", "mlp", "conv"), "form", self.form, "auto|mlp|conv")
        require(self.norm in ("none", "batch", "layer"), "norm", self.norm, "none|batch|layer")
        require(
            self.branch_scale in ("zero", "sqrt_depth", "none"),
            "branch_scale",
            self.branch_scale,
            "zero|sqrt_depth|none",
        )
        require(
            self.kernel_size >= 1 and self.kernel_size % 2 == 1,
            "kernel_size",
            self.kernel_size,
            "an odd integer >= 1",
        )
        require(
            self.global_pool in ("none", "avg", "max"),
            "global_pool",
            self.global_pool,
            "none|avg|max",
        )


@dataclass
class RNNConfig(ModelConfig):
    _target_: str = "dlrun.models.recurrent.RNN"
    hidden_size: int = 64
    # tanh | relu | linear
    activation: str = "tanh"
    # gaussian | orthogonal | identity, scaled to spectral_radius
    init: str = "orthogonal"
    spectral_radius: float = 1.0
    leak: float = 0.0
    learn_leak: bool = False
    skip: int | None = None
    remove_one_step: bool = False
    grad_reg: float = 0.0

    def __post_init__(self) -> None:
        require(self.hidden_size >= 1, "hidden_size", self.hidden_size, "an integer >= 1")
        require(
            self.activation in ("tanh", "relu", "linear"),
            "activation",
            self.activation,
            "tanh|relu|linear",
        )
        require(
            self.init in ("gaussian", "orthogonal", "identity"),
            "init",
            self.init,
            "gaussian|orthogonal|identity",
        )
        require(self.spectral_radius >= 0, "spectral_radius", self.spectral_radius, ">= 0")
        require(0 <= self.leak < 1, "leak", self.leak, "0 <= α < 1")
        require(self.skip is None or self.skip >= 2, "skip", self.skip, "null or an integer >= 2")
        require(
            not self.remove_one_step or self.skip is not None,
            "remove_one_step",
            self.remove_one_step,
            "true only with skip=k (the k-step connection that stays)",
        )
        require(self.grad_reg >= 0, "grad_reg", self.grad_reg, "a weight >= 0")


@dataclass
class GatedConfig(ModelConfig):
    _target_: str = "dlrun.models.recurrent.GRU"
    hidden_size: int = 64
    num_layers: int = 1

    def __post_init__(self) -> None:
        require(self.hidden_size >= 1, "hidden_size", self.hidden_size, "an integer >= 1")
        require(self.num_layers >= 1, "num_layers", self.num_layers, "an integer >= 1")


@dataclass
class LSTMConfig(GatedConfig):
    _target_: str = "dlrun.models.recurrent.LSTM"
    forget_bias: float = 1.0


@dataclass
class ESNConfig(ModelConfig):
    _target_: str = "dlrun.models.esn.ESN"
    reservoir_size: int = 200
    spectral_radius: float = 0.9
    input_scaling: float = 1.0
    sparsity: float = 0.9
    leak_rate: float = 1.0
    # ridge (closed form) | sgd (the configured optimizer)
    readout: str = "ridge"
    ridge: float = 1e-6

    def __post_init__(self) -> None:
        require(self.reservoir_size >= 1, "reservoir_size", self.reservoir_size, "an integer >= 1")
        require(self.spectral_radius >= 0, "spectral_radius", self.spectral_radius, ">= 0")
        require(self.input_scaling >= 0, "input_scaling", self.input_scaling, ">= 0")
        require(0 <= self.sparsity < 1, "sparsity", self.sparsity, "0 <= x < 1")
        require(0 < self.leak_rate <= 1, "leak_rate", self.leak_rate, "0 < a <= 1")
        require(self.readout in ("ridge", "sgd"), "readout", self.readout, "ridge|sgd")
        require(self.ridge >= 0, "ridge", self.ridge, "a penalty >= 0")


# ---------------------------------------------------------------- dataset


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


# ---------------------------------------------------------------- optimizer


@dataclass
class OptimizerConfig:
    _target_: str = MISSING
    _partial_: bool = True
    lr: float = 0.1

    def __post_init__(self) -> None:
        require(self.lr > 0, "lr", self.lr, "a number > 0")


@dataclass
class SGDConfig(OptimizerConfig):
    _target_: str = "torch.optim.SGD"
    momentum: float = 0.0
    weight_decay: float = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        require(0 <= self.momentum < 1, "momentum", self.momentum, "0 <= x < 1")
        require(self.weight_decay >= 0, "weight_decay", self.weight_decay, "a number >= 0")


@dataclass
class AdamConfig(OptimizerConfig):
    _target_: str = "torch.optim.Adam"
    lr: float = 1e-3
    weight_decay: float = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        require(self.weight_decay >= 0, "weight_decay", self.weight_decay, "a number >= 0")


@dataclass
class LineSearchConfig(OptimizerConfig):
    _target_: str = "dlrun.optim.LineSearch"
    lr: float = 1.0
    mode: SearchMode = SearchMode.armijo
    c1: float = 1e-4
    shrink: float = 0.5
    max_backtracks: int = 30
    etas: list[float] = field(default_factory=lambda: [1.0, 0.3, 0.1, 0.03, 0.01, 0.003])

    def __post_init__(self) -> None:
        super().__post_init__()
        require(0 < self.c1 < 1, "c1", self.c1, "0 < x < 1")
        require(0 < self.shrink < 1, "shrink", self.shrink, "0 < x < 1")
        require(self.max_backtracks >= 1, "max_backtracks", self.max_backtracks, "an integer >= 1")
        require(len(self.etas) > 0, "etas", list(self.etas), "a non-empty list of step sizes > 0")
        for eta in self.etas:
            require(eta > 0, "etas", list(self.etas), "every step size must be > 0")


@dataclass
class NewtonConfig(OptimizerConfig):
    _target_: str = "dlrun.optim.Newton"
    lr: float = 1.0
    damping: float = 0.0
    max_params: int = 2000

    def __post_init__(self) -> None:
        super().__post_init__()
        require(self.damping >= 0, "damping", self.damping, "a number >= 0")
        require(self.max_params >= 1, "max_params", self.max_params, "an integer >= 1")


# ---------------------------------------------------------------- trainer


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


# ---------------------------------------------------------------- logger


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


# ---------------------------------------------------------------- top level


@dataclass
class ReportConfig:
    """The comparison table at the end of a sweep (dlrun.report); null = from the swept keys."""

    rows: list[str] | None = None
    cols: list[str] | None = None
    metrics: list[str] | None = None


@dataclass
class AnalyzeConfig:
    """Analyses after training (dlrun.analyze): their results go into summary.json."""

    # extreme eigenvalues of the mean training loss's Hessian, at the fitted and random weights
    hessian: bool = False
    # exact Hessian up to this many parameters; Lanczos on Hessian-vector products above
    hessian_exact_max_params: int = 2000
    lanczos_steps: int = 60
    # numpy backprop vs torch autograd vs finite differences for every activation × head
    backprop_check: bool = False
    # a cnn's conv/pooled features or an mlp's hidden layer under input shifts (equivariance.csv)
    equivariance: bool = False
    # ‖∂L/∂W‖ of every layer at initialisation and at the end (layer_gradients.csv)
    layer_gradients: bool = False

    def __post_init__(self) -> None:
        require(
            self.hessian_exact_max_params >= 0,
            "analyze.hessian_exact_max_params",
            self.hessian_exact_max_params,
            "an integer >= 0",
        )
        require(
            self.lanczos_steps >= 2, "analyze.lanczos_steps", self.lanczos_steps, "an integer >= 2"
        )


ON_ERROR = ("continue", "fail_fast")


@dataclass
class DlrunConfig:
    model: Any = MISSING
    dataset: Any = MISSING
    optimizer: Any = MISSING
    trainer: Any = MISSING
    logger: Any = MISSING
    seed: int = 0
    device: Device = Device.auto
    threads: int | None = None
    dtype: DType = DType.float32
    seq_len: int = 50
    analyze: AnalyzeConfig = field(default_factory=AnalyzeConfig)
    report: ReportConfig = field(default_factory=ReportConfig)
    on_error: str = "continue"
    # null | true (continue in hydra.run.dir / hydra.sweep.dir) | a run or sweep directory
    resume: Any = None
    repeats: int = 1

    def __post_init__(self) -> None:
        if self.threads is not None:
            require(self.threads >= 1, "threads", self.threads, "null (auto) or an integer >= 1")
        require(self.seed >= 0, "seed", self.seed, "an integer >= 0")
        require(self.seq_len >= 1, "seq_len", self.seq_len, "an integer >= 1")
        require(self.on_error in ON_ERROR, "on_error", self.on_error, "continue | fail_fast")
        require(self.repeats >= 1, "repeats", self.repeats, "an integer >= 1")
        require(
            self.resume is None or isinstance(self.resume, bool | str),
            "resume",
            self.resume,
            "null, true, or a run or sweep directory",
        )


SCHEMAS: dict[str, dict[str, type]] = {
    "model": {
        "glm": GLMConfig,
        "mlp": MLPConfig,
        "mlp_numpy": MLPNumpyConfig,
        "cnn": CNNConfig,
        "resnet": ResNetConfig,
        "rnn": RNNConfig,
        "gru": GatedConfig,
        "lstm": LSTMConfig,
        "esn": ESNConfig,
    },
    "dataset": {
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
    },
    "optimizer": {
        "sgd": SGDConfig,
        "adam": AdamConfig,
        "line_search": LineSearchConfig,
        "newton": NewtonConfig,
    },
    "trainer": {"trainer": TrainerConfig},
    "logger": {"csv": LoggerConfig, "tensorboard": TensorBoardConfig},
}


def register_schemas() -> None:
    """Put every schema into Hydra's ConfigStore under schema/<group>/<name>."""
    from dlrun.resolvers import register_resolvers

    register_resolvers()
    store = ConfigStore.instance()
    store.store(name="dlrun_schema", node=DlrunConfig)
    for group, schemas in SCHEMAS.items():
        for name, node in schemas.items():
            store.store(group=f"schema/{group}", name=name, node=node)
