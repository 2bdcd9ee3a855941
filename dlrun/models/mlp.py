"""Multi-layer perceptron: φθ(x) = g(W_L … g(W_1 x + b_1) … + b_L), then the GLM head."""

from math import prod

from torch import Tensor, nn

from dlrun.models.base import DataInfo
from dlrun.models.head import DeepGLM

ACTIVATIONS = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU}


def _xavier(weight: Tensor, activation: str) -> None:
    nn.init.xavier_uniform_(weight, gain=nn.init.calculate_gain(activation))


def _kaiming(weight: Tensor, activation: str) -> None:
    nn.init.kaiming_normal_(weight, nonlinearity="relu" if activation == "relu" else "linear")


def _orthogonal(weight: Tensor, activation: str) -> None:
    nn.init.orthogonal_(weight, gain=nn.init.calculate_gain(activation))


# the `init` options but PyTorch's own ("default"): dlrun.config.rules.Init lists them all
INITIALIZERS = {"xavier": _xavier, "kaiming": _kaiming, "orthogonal": _orthogonal}


def initialize(layer: nn.Module, init: str, activation: str) -> None:
    """Re-initialise a layer's weight (and zero its bias); 'default' keeps PyTorch's own scheme."""
    if init == "default":
        return
    INITIALIZERS[init](layer.weight, activation)
    nn.init.zeros_(layer.bias)


class MLP(DeepGLM):
    """An MLP body of widths `hidden` with one activation, ending in the deep-GLM head."""

    def __init__(self, data: DataInfo, *, hidden: list[int], activation: str, init: str) -> None:
        layers: list[nn.Module] = [] if len(data.input_shape) == 1 else [nn.Flatten()]
        width = prod(data.input_shape)
        for out in hidden:
            linear = nn.Linear(width, out)
            initialize(linear, init, activation)
            layers += [linear, ACTIVATIONS[activation]()]
            width = out
        super().__init__(nn.Sequential(*layers), width, data)
