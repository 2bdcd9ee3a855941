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
class BacktrackingConfig(OptimizerConfig):
    """What line search and Newton share: Armijo backtracking from lr along a descent
    direction d, t = lr, lr·shrink, … until L(w + t·d) ≤ L(w) + c1·t·∇Lᵀd."""

    # 1: the full step first (Newton's own step; the line search's first trial)
    lr: float = 1.0
    c1: float = 1e-4
    shrink: float = 0.5
    max_backtracks: int = 30

    def __post_init__(self) -> None:
        super().__post_init__()
        require(0 < self.c1 < 1, "c1", self.c1, "0 < x < 1")
        require(0 < self.shrink < 1, "shrink", self.shrink, "0 < x < 1")
        require(self.max_backtracks >= 1, "max_backtracks", self.max_backtracks, "an integer >= 1")


@dataclass
class LineSearchConfig(BacktrackingConfig):
    """Steepest descent with a line search along −∇L.

    mode=armijo: start at lr, shrink until L(w − η∇L) ≤ L(w) − c1·η·‖∇L‖².
    mode=grid: the lecture's loop, try every η in etas and keep the one with the lowest loss.
    """

    _target_: str = "dlrun.optim.LineSearch"
    mode: SearchMode = SearchMode.armijo
    etas: list[float] = field(default_factory=lambda: [1.0, 0.3, 0.1, 0.03, 0.01, 0.003])

    def __post_init__(self) -> None:
        super().__post_init__()
        require(len(self.etas) > 0, "etas", list(self.etas), "a non-empty list of step sizes > 0")
        for eta in self.etas:
            require(eta > 0, "etas", list(self.etas), "every step size must be > 0")


@dataclass
class NewtonConfig(BacktrackingConfig):
    """Newton's method (IRLS for GLMs): d = −(H + damping·I)⁻¹∇L, H the Hessian of the mean
    training loss in all parameters, with Armijo backtracking from the full step (lr = 1) so
    the loss never rises. Meant for full-batch training (trainer=full_batch) of small models:
    building H costs one backward pass per parameter, so more than max_params are refused."""

    _target_: str = "dlrun.optim.Newton"
    # added to H's diagonal (Levenberg-style): > 0 shortens steps where curvature is small
    damping: float = 0.0
    max_params: int = 2000

    def __post_init__(self) -> None:
        super().__post_init__()
        require(self.damping >= 0, "damping", self.damping, "a number >= 0")
        require(self.max_params >= 1, "max_params", self.max_params, "an integer >= 1")


@dataclass
class LBFGSConfig(OptimizerConfig):
    """L-BFGS (torch.optim.LBFGS): a quasi-Newton method that builds a curvature estimate from
    the last history_size gradient differences, with a strong-Wolfe line search. Full-batch
    training (trainer=full_batch); unlike steepest descent its steps do not slow down with the
    Hessian's condition number, and unlike Newton it needs no Hessian."""

    _target_: str = "torch.optim.LBFGS"
    # 1 is the quasi-Newton step, the line search's first trial
    lr: float = 1.0
    # L-BFGS iterations per optimizer step: 1, so that steps count iterations and every
    # iteration's loss and gradient norm reach steps.csv and trainer.tol (its history of
    # gradient differences carries over from step to step)
    max_iter: int = 1
    # loss evaluations per step, the line search's included (torch's default, max_iter·5/4,
    # would leave the line search none at max_iter = 1)
    max_eval: int = 25
    history_size: int = 100
    # strong_wolfe, or null: fixed steps of size lr (no safeguard)
    line_search_fn: str | None = "strong_wolfe"
    # torch's own stopping tests, off: trainer.tol decides when to stop, and torch's defaults
    # (max |∂L/∂w| ≤ 1e-7, ∇Lᵀd > −1e-9) freeze the iterate before it on ill-conditioned problems
    tolerance_grad: float = 0.0
    tolerance_change: float = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        require(self.max_iter >= 1, "max_iter", self.max_iter, "an integer >= 1")
        require(self.max_eval >= 2, "max_eval", self.max_eval, "an integer >= 2")
        require(self.history_size >= 1, "history_size", self.history_size, "an integer >= 1")
        require(
            self.line_search_fn in ("strong_wolfe", None),
            "line_search_fn",
            self.line_search_fn,
            "strong_wolfe or null",
        )
        require(self.tolerance_grad >= 0, "tolerance_grad", self.tolerance_grad, "a number >= 0")
        require(
            self.tolerance_change >= 0, "tolerance_change", self.tolerance_change, "a number >= 0"
        )


# optimizer=<option> YAMLs extend these through /schema.optimizer.<name>@_here_
SCHEMAS: dict[str, type] = {
    "sgd": SGDConfig,
    "adam": AdamConfig,
    "line_search": LineSearchConfig,
    "newton": NewtonConfig,
    "lbfgs": LBFGSConfig,
}
