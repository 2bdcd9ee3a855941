"""Line search, the optimizer torch lacks; closure-based like torch.optim.LBFGS.

Each step moves along the steepest-descent direction d = −∇f(x) by a step size η chosen
either by backtracking until the Armijo condition f(x + ηd) ≤ f(x) − c1·η·‖∇f(x)‖² holds
(`mode="armijo"`, starting from `lr`), or, as in the lecture, by trying every η of a grid
and keeping the one with the lowest loss (`mode="grid"`).
"""

from collections.abc import Callable, Sequence

import torch
from torch import Tensor


class LineSearch(torch.optim.Optimizer):
    """Steepest descent with an Armijo backtracking or grid line search."""

    def __init__(
        self,
        params,
        lr: float = 1.0,
        mode: str = "armijo",
        c1: float = 1e-4,
        shrink: float = 0.5,
        max_backtracks: int = 30,
        etas: Sequence[float] = (1.0, 0.3, 0.1, 0.03, 0.01, 0.003),
    ) -> None:
        if mode not in ("armijo", "grid"):
            raise ValueError(f"mode={mode!r} is not allowed: armijo|grid")
        if lr <= 0 or not 0 < c1 < 1 or not 0 < shrink < 1 or max_backtracks < 1 or not etas:
            raise ValueError("line search needs lr > 0, 0 < c1 < 1, 0 < shrink < 1, etas")
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
        eta = group["lr"]
        for _ in range(group["max_backtracks"]):
            if loss_at(eta) <= f0 - group["c1"] * eta * squared_norm:
                self.last_eta = eta
                return loss
            eta *= group["shrink"]
        torch._foreach_copy_(params, start)  # no step size satisfied Armijo: stay put
        self.last_eta = 0.0
        return loss
