"""Multi-layer perceptron: φθ(x) = g(W_L … g(W_1 x + b_1) … + b_L), then the GLM head."""

from math import prod

from torch import nn

from dlrun.models.head import DeepGLM

ACTIVATIONS = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU}


def initialize(layer: nn.Linear, init: str, activation: str) -> None:
    """Re-initialise a linear layer's weight; 'default' keeps PyTorch's own scheme."""
    if init == "default":
        return
    if init == "xavier":
        gain = nn.init.calculate_gain(activation)
        nn.init.xavier_uniform_(layer.weight, gain=gain)
    elif init == "kaiming":
        nonlinearity = "relu" if activation == "relu" else "linear"
        nn.init.kaiming_normal_(layer.weight, nonlinearity=nonlinearity)
    elif init == "orthogonal":
        nn.init.orthogonal_(layer.weight, gain=nn.init.calculate_gain(activation))
    else:
        raise ValueError(f"init={init!r} is not allowed: default|xavier|kaiming|orthogonal")
    nn.init.zeros_(layer.bias)


class MLP(DeepGLM):
    """An MLP body of widths `hidden` with one activation, ending in the deep-GLM head."""

    def __init__(
        self,
        input_shape: tuple[int, ...],
        task: str,
        n_classes: int | None,
        hidden: list[int] = (64,),
        activation: str = "relu",
        init: str = "default",
    ) -> None:
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation={activation!r} is not allowed: sigmoid|tanh|relu")
        layers: list[nn.Module] = [] if len(input_shape) == 1 else [nn.Flatten()]
        width = prod(input_shape)
        for out in hidden:
            linear = nn.Linear(width, out)
            initialize(linear, init, activation)
            layers += [linear, ACTIVATIONS[activation]()]
            width = out
        super().__init__(nn.Sequential(*layers), width, task, n_classes)
