"""Line search and Newton, the optimizers torch lacks; closure-based like torch.optim.LBFGS.

The line search moves along the steepest-descent direction d = −∇f(x) by a step size η chosen
either by backtracking until the Armijo condition f(x + ηd) ≤ f(x) − c1·η·‖∇f(x)‖² holds
(`mode="armijo"`, starting from `lr`), or, as in the lecture, by trying every η of a grid
and keeping the one with the lowest loss (`mode="grid"`). Newton backtracks the same way along
the Newton direction, so neither ever takes a step that raises the loss.
"""

from collections.abc import Callable, Sequence

import torch
from torch import Tensor

from dlrun.hessian import flat_hessian

# rounding allowance of the Armijo test, in units of the loss's machine epsilon: near the
# optimum a step's true decrease is below what the loss's last bits resolve, and refusing it
# would freeze Newton's quadratic phase one step short
ROUNDING_ULPS = 4


def backtrack(
    loss_at: Callable[[float], float],
    f0: float,
    slope: float,
    group: dict,
    eps: float,
) -> float:
    """The first step size t = lr, lr·shrink, lr·shrink², … with
    L(w + t·d) ≤ L(w) + c1·t·∇Lᵀd (Armijo), where `slope` = ∇Lᵀd < 0 and `loss_at(t)` moves
    the parameters to w + t·d and returns the loss there; 0 when none within max_backtracks
    (the caller then restores w)."""
    t, slack = group["lr"], ROUNDING_ULPS * eps * abs(f0)
    for _ in range(group["max_backtracks"]):
        if loss_at(t) <= f0 + group["c1"] * t * slope + slack:
            return t
        t *= group["shrink"]
    return 0.0


class LineSearch(torch.optim.Optimizer):
    """Steepest descent with an Armijo backtracking or grid line search."""

    def __init__(
        self,
        params,
        *,
        lr: float,
        mode: str,
        c1: float,
        shrink: float,
        max_backtracks: int,
        etas: Sequence[float],
    ) -> None:
        # defaults and range rules: dlrun.config.optimizer.LineSearchConfig
        # the mode as plain text: an enum in the optimizer state would make checkpoint.pt
        # unloadable with torch.load(weights_only=True), and so the run unresumable
        mode = str(mode)
        defaults = dict(lr=lr, mode=mode, c1=c1, shrink=shrink, max_backtracks=max_backtracks)
        super().__init__(params, defaults)
        self.etas = [float(eta) for eta in etas]
        self.last_eta = 0.0  # the step size the last step took (0: no step was accepted)

    def _params(self) -> list[Tensor]:
        return [p for group in self.param_groups for p in group["params"] if p.grad is not None]

    @torch.no_grad()
    def step(self, closure: Callable[..., Tensor]) -> Tensor:
        """One line-search step; `closure(backward=False)` must return the loss only."""
        if closure is None:
            raise ValueError("LineSearch needs a closure that recomputes the loss")
        with torch.enable_grad():
            loss = closure()
        params = self._params()
        grads = [p.grad for p in params]
        start = [p.detach().clone() for p in params]
        f0 = float(loss.detach())

        def loss_at(eta: float) -> float:
            torch._foreach_copy_(params, start)
            torch._foreach_add_(params, grads, alpha=-eta)
            return float(closure(backward=False))

        group = self.param_groups[0]
        if group["mode"] == "grid":
            losses = [loss_at(eta) for eta in self.etas]
            best = min(range(len(losses)), key=lambda i: (losses[i] != losses[i], losses[i]))
            self.last_eta = self.etas[best]
            loss_at(self.last_eta)
            return loss

        squared_norm = float(sum((g * g).sum() for g in grads))
        eps = torch.finfo(loss.dtype).eps
        self.last_eta = backtrack(loss_at, f0, -squared_norm, group, eps)
        if self.last_eta == 0.0:
            torch._foreach_copy_(params, start)  # no step size satisfied Armijo: stay put
        return loss


def newton_direction(gradient: Tensor, hessian: Tensor, damping: float) -> tuple[Tensor, str]:
    """d solving (H + damping·I) d = ∇L, in float64, and the solver that gave it.

    Cholesky when H + damping·I is positive definite (a GLM with full-rank design); else least
    squares, whose minimum-norm solution handles a singular H (softmax: the loss is flat along
    adding one vector to every class's weights) and an indefinite one.
    """
    system = hessian.double() + damping * torch.eye(
        len(gradient), dtype=torch.float64, device=hessian.device
    )
    rhs = gradient.double().unsqueeze(1)
    factor, info = torch.linalg.cholesky_ex(system)
    if int(info) == 0:
        return torch.cholesky_solve(rhs, factor).squeeze(1), "cholesky"
    driver = "gelsd" if system.device.type == "cpu" else None
    return torch.linalg.lstsq(system, rhs, driver=driver).solution.squeeze(1), "lstsq"


class Newton(torch.optim.Optimizer):
    """Newton's method w ← w + t·d, d = −(H + damping·I)⁻¹ ∇L, on the whole loss the closure
    returns, with t the first of lr, lr·shrink, … that satisfies Armijo's condition.

    H is the Hessian of the mean training loss in all parameters. For a GLM with canonical
    link, H = (1/m) X̃ᵀ diag(t′(η)) X̃, and the Newton step is iteratively reweighted least
    squares (IRLS); for the linear model one step from any start lands on the least-squares
    solution. Far from the optimum the full step (t = 1) can overshoot (Poisson's exp: from a
    random start it raised the loss twentyfold), so it is halved until the loss falls enough
    (Armijo); near the optimum t = 1 is accepted and convergence is quadratic. Where d is no
    descent direction (an indefinite H) the step goes along −∇L instead. Building H costs P
    backward passes and O(P²) memory, so it is for full-batch training of small models: more
    than `max_params` parameters are refused.
    """

    needs_second_derivatives = True

    def __init__(
        self,
        params,
        *,
        lr: float,
        damping: float,
        c1: float,
        shrink: float,
        max_backtracks: int,
        max_params: int,
    ) -> None:
        # defaults and range rules: dlrun.config.optimizer.NewtonConfig; the parameter count
        # is known only here
        params = list(params)
        options = dict(lr=lr, damping=damping, c1=c1, shrink=shrink, max_backtracks=max_backtracks)
        super().__init__(params, options | dict(max_params=max_params))
        n_params = sum(p.numel() for group in self.param_groups for p in group["params"])
        if n_params > max_params:
            raise ValueError(
                f"optimizer=newton solves with the {n_params}×{n_params} Hessian, but "
                f"optimizer.max_params={max_params}: allowed are models with at most "
                f"max_params parameters; raise optimizer.max_params, or use a smaller model "
                f"or optimizer=line_search"
            )
        # cholesky | lstsq | steepest (d was no descent direction) | skipped (non-finite)
        self.last_solve = ""
        self.last_eta = 0.0  # the step size the last step took (0: no step was accepted)

    @torch.no_grad()
    def step(self, closure: Callable[..., Tensor]) -> Tensor:
        """One Newton step; `closure(backward=False)` must return the loss with its graph."""
        if closure is None:
            raise ValueError("Newton needs a closure that recomputes the loss")
        with torch.enable_grad():
            loss = closure()  # the gradient the loop logs (its norm), and the loss before
            params = [p for group in self.param_groups for p in group["params"] if p.requires_grad]
            gradient, hessian = flat_hessian(closure(backward=False), params)
        if not (torch.isfinite(gradient).all() and torch.isfinite(hessian).all()):
            self.last_solve = "skipped"  # the loop sees the non-finite loss: status diverged
            self.last_eta = 0.0
            return loss
        group = self.param_groups[0]
        solution, self.last_solve = newton_direction(gradient, hessian, group["damping"])
        direction = -solution
        slope = float(gradient.double() @ direction)
        if not slope < 0:  # H + damping·I not positive definite: d may point uphill
            direction, slope = -gradient.double(), -float(gradient.double() @ gradient.double())
            self.last_solve = "steepest"
        pieces = [
            piece.view_as(p).to(p.dtype)
            for piece, p in zip(direction.split([p.numel() for p in params]), params, strict=True)
        ]
        start = [p.detach().clone() for p in params]

        def loss_at(t: float) -> float:
            torch._foreach_copy_(params, start)
            torch._foreach_add_(params, pieces, alpha=t)
            return float(closure(backward=False))

        eps = torch.finfo(loss.dtype).eps
        self.last_eta = backtrack(loss_at, float(loss.detach()), slope, group, eps)
        if self.last_eta == 0.0:
            torch._foreach_copy_(params, start)  # no step size satisfied Armijo: stay put
        return loss
