"""Schemas of the optimizer group (conf/optimizer/): defaults and range rules."""

from dataclasses import dataclass, field

from omegaconf import MISSING

from dlrun.config.rules import SearchMode, require


@dataclass
class OptimizerConfig:
    _target_: str = MISSING
    _partial_: bool = True
    lr: float = 0.1

    def __post_init__(self) -> None:
        require(self.lr > 0, "lr", self.lr, "a number > 0")


@dataclass
class SGDConfig(OptimizerConfig):
    """Stochastic gradient descent: w ← w − lr·∇L (with optional momentum and weight decay)."""

    _target_: str = "torch.optim.SGD"
    momentum: float = 0.0
    weight_decay: float = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        require(0 <= self.momentum < 1, "momentum", self.momentum, "0 <= x < 1")
        require(self.weight_decay >= 0, "weight_decay", self.weight_decay, "a number >= 0")


@dataclass
class AdamConfig(OptimizerConfig):
    """Adam (Kingma & Ba, 2015)."""

    _target_: str = "torch.optim.Adam"
    lr: float = 1e-3
    weight_decay: float = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        require(self.weight_decay >= 0, "weight_decay", self.weight_decay, "a number >= 0")


@dataclass
class LineSearchConfig(OptimizerConfig):
    """Steepest descent with a line search along −∇L.

    mode=armijo: start at lr, shrink until L(w − η∇L) ≤ L(w) − c1·η·‖∇L‖².
    mode=grid: the lecture's loop, try every η in etas and keep the one with the lowest loss.
    """

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
    """Newton's method (IRLS for GLMs): w ← w − lr·(H + damping·I)⁻¹∇L, H the Hessian of the
    mean training loss in all parameters. Meant for full-batch training (trainer=full_batch) of
    small models: building H costs one backward pass per parameter, so more than max_params
    are refused."""

    _target_: str = "dlrun.optim.Newton"
    # 1 is the full Newton step
    lr: float = 1.0
    # added to H's diagonal (Levenberg-style): > 0 shortens steps where curvature is small
    damping: float = 0.0
    max_params: int = 2000

    def __post_init__(self) -> None:
        super().__post_init__()
        require(self.damping >= 0, "damping", self.damping, "a number >= 0")
        require(self.max_params >= 1, "max_params", self.max_params, "an integer >= 1")


# optimizer=<option> YAMLs extend these through /schema.optimizer.<name>@_here_
SCHEMAS: dict[str, type] = {
    "sgd": SGDConfig,
    "adam": AdamConfig,
    "line_search": LineSearchConfig,
    "newton": NewtonConfig,
}
