"""Schemas of the model group (conf/model/): every model option's defaults and range rules."""

from dataclasses import dataclass, field
from typing import Any

from omegaconf import MISSING

from dlrun.config.rules import Activation, Init, Task, require


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


# model=<option> YAMLs extend these through /schema/model/<name>@_here_
SCHEMAS: dict[str, type] = {
    "glm": GLMConfig,
    "mlp": MLPConfig,
    "mlp_numpy": MLPNumpyConfig,
    "cnn": CNNConfig,
    "resnet": ResNetConfig,
    "rnn": RNNConfig,
    "gru": GatedConfig,
    "lstm": LSTMConfig,
    "esn": ESNConfig,
}
