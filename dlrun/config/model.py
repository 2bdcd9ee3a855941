"""Schemas of the model group (conf/model/): every model option's defaults and range rules.

Each key's default is stated here once and each range rule once, in `__post_init__`; the
comment on a field says what it means and lists its allowed values. A schema's keys are its
model's constructor arguments (`Model(data, **keys)`, dlrun.models.base), which restate
neither; a conf/model/*.yaml option states only what differs from its schema.
"""

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
    # the target the GLM fits: regression (linear: identity, squared loss) | binary (logistic:
    # sigmoid, cross-entropy) | count (poisson: exp, Poisson NLL) | multiclass (softmax)
    family: Task = MISSING


@dataclass
class MLPConfig(ModelConfig):
    _target_: str = "dlrun.models.mlp.MLP"
    # the widths of the hidden layers; depth = len(hidden)
    hidden: list[int] = field(default_factory=lambda: [64])
    # sigmoid | tanh | relu
    activation: Activation = Activation.relu
    # default (PyTorch's) | xavier | kaiming | orthogonal
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
    # output channels of each conv layer; depth = len(channels)
    channels: list[int] = field(default_factory=lambda: [16, 32])
    # kernel_size, stride, padding: one integer for every layer, or a list with one per layer
    kernel_size: Any = 3
    stride: Any = 1
    padding: Any = 1
    # zeros | circular | reflect | replicate
    padding_mode: str = "zeros"
    # max | avg | none, after every conv layer, over pool_size × pool_size windows
    pool: str = "max"
    pool_size: int = 2
    # none (flatten the last maps into the head) | max | avg (one value per channel)
    global_pool: str = "none"
    # sigmoid | tanh | relu
    activation: Activation = Activation.relu

    def __post_init__(self) -> None:
        require(
            len(self.channels) > 0 and all(width >= 1 for width in self.channels),
            "channels",
            list(self.channels),
            "a non-empty list of integers >= 1",
        )
        for key, low in (("kernel_size", 1), ("stride", 1), ("padding", 0)):
            value = getattr(self, key)
            values = [value] if isinstance(value, int) else list(value)
            require(
                all(isinstance(v, int) and v >= low for v in values)
                and len(values) in (1, len(self.channels)),
                key,
                value,
                f"an integer >= {low}, or a list of one such integer per layer of channels",
            )
        require(
            self.padding_mode in ("zeros", "circular", "reflect", "replicate"),
            "padding_mode",
            self.padding_mode,
            "zeros|circular|reflect|replicate",
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
    # the number of residual blocks, each h + α·W₂ g(N(W₁ g(N(h))))
    depth: int = 8
    # the constant width: features (mlp form) or channels (conv form) of every block
    width: int = 64
    # false: the plain network of equal depth, width and parameter count (no shortcut)
    residual: bool = True
    # auto (mlp for tabular rows, conv for images, signals and sequences) | mlp | conv
    form: str = "auto"
    # none | batch | layer
    norm: str = "none"
    # residual branch scaling α: zero (W₂ starts at 0: each block the identity) |
    # sqrt_depth (1/√depth) | none
    branch_scale: str = "zero"
    # conv form: odd kernel size, padded to keep the grid's size
    kernel_size: int = 3
    # conv form: none (flatten the last maps into the head) | avg | max (one value per channel)
    global_pool: str = "none"
    # sigmoid | tanh | relu
    activation: Activation = Activation.relu
    # default (PyTorch's) | xavier | kaiming | orthogonal
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
class RecurrentConfig(ModelConfig):
    """The keys every trained recurrent model has: its width and what its head reads."""

    # the width H of the hidden state h (of each layer and direction)
    hidden_size: int = 64
    # what the head reads of h(1)…h(T): last (the final state of each direction) | none (every
    # step's state, flattened: T·H features) | avg | max (over time); a target at every step
    # (dataset=copy) allows last only (each step's state feeds the head)
    global_pool: str = "last"
    # true: a second recursion over the reversed sequence; each step's state is
    # [forward; backward] (2H features)
    bidirectional: bool = False

    def __post_init__(self) -> None:
        require(self.hidden_size >= 1, "hidden_size", self.hidden_size, "an integer >= 1")
        require(
            self.global_pool in ("last", "none", "avg", "max"),
            "global_pool",
            self.global_pool,
            "last|none|avg|max",
        )


@dataclass
class RNNConfig(RecurrentConfig):
    _target_: str = "dlrun.models.recurrent.RNN"
    # tanh | relu | linear
    activation: str = "tanh"
    # W at initialisation: gaussian | orthogonal | identity (IRNN with activation=relu),
    # scaled to spectral_radius
    init: str = "orthogonal"
    spectral_radius: float = 1.0
    # leaky units h = α h(t-1) + (1 − α) h̃ with α = leak (0: none); learn_leak learns α per unit
    leak: float = 0.0
    learn_leak: bool = False
    # skip=k adds W_k h(t-k) (null: none); remove_one_step=true keeps only the k-step connection
    skip: int | None = None
    remove_one_step: bool = False
    # weight λ of Pascanu et al.'s (2013) gradient-norm regulariser Ω (0: off)
    grad_reg: float = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
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
        # leak, skip and Ω are written for one recursion (the skip weight and learned leak are
        # the forward recursion's): bidirectional is the plain rnn's
        require(
            not self.bidirectional
            or (self.leak == 0 and not self.learn_leak and self.skip is None and not self.grad_reg),
            "bidirectional",
            self.bidirectional,
            "true only for the plain rnn (leak=0, learn_leak=false, skip=null, grad_reg=0)",
        )


@dataclass
class GatedConfig(RecurrentConfig):
    _target_: str = "dlrun.models.gated.GRU"
    # stacked layers; the head reads the top one
    num_layers: int = 1

    def __post_init__(self) -> None:
        super().__post_init__()
        require(self.num_layers >= 1, "num_layers", self.num_layers, "an integer >= 1")


@dataclass
class LSTMConfig(GatedConfig):
    _target_: str = "dlrun.models.gated.LSTM"
    # the forget gate's bias at initialisation (1: remember by default, Gers et al. 2000)
    forget_bias: float = 1.0


@dataclass
class ESNConfig(ModelConfig):
    _target_: str = "dlrun.models.esn.ESN"
    # the number of units of the fixed random reservoir
    reservoir_size: int = 200
    # the spectral radius ρ of the reservoir matrix W
    spectral_radius: float = 0.9
    # inputs U and bias b uniform in [-s, s]
    input_scaling: float = 1.0
    # fraction of zeros in W
    sparsity: float = 0.9
    # fraction of zeros in U (reservoirpy's input_connectivity is 1 − this); 0: dense
    input_sparsity: float = 0.0
    # a in h = (1 − a) h(t-1) + a tanh(...); 1: no leak
    leak_rate: float = 1.0
    # ridge: closed-form ridge regression, no SGD | sgd: train the readout with the optimizer
    readout: str = "ridge"
    # readout=ridge: the penalty λ of ‖Y − HW − b‖² + λ‖W‖² (scikit-learn's alpha, reservoirpy's
    # ridge; not scaled by the number of rows; the bias is not penalised)
    ridge: float = 1e-6
    # series datasets (mackey_glass, narma10, sunspots), readout=ridge: the reservoir runs once
    # through the series; rows ending before this step are left out of the fit. 0: every row
    # (the first has already seen seq_len steps, as a window would)
    washout: int = 0

    def __post_init__(self) -> None:
        require(self.reservoir_size >= 1, "reservoir_size", self.reservoir_size, "an integer >= 1")
        require(self.spectral_radius >= 0, "spectral_radius", self.spectral_radius, ">= 0")
        require(self.input_scaling >= 0, "input_scaling", self.input_scaling, ">= 0")
        require(0 <= self.sparsity < 1, "sparsity", self.sparsity, "0 <= x < 1")
        require(0 <= self.input_sparsity < 1, "input_sparsity", self.input_sparsity, "0 <= x < 1")
        require(0 < self.leak_rate <= 1, "leak_rate", self.leak_rate, "0 < a <= 1")
        require(self.readout in ("ridge", "sgd"), "readout", self.readout, "ridge|sgd")
        require(self.ridge >= 0, "ridge", self.ridge, "a penalty >= 0")
        require(self.washout >= 0, "washout", self.washout, "an integer >= 0")


# model=<option> YAMLs extend these through /schema.model.<name>@_here_
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
