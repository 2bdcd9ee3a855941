"""The four GLM tasks: each has a transfer function t, a loss l(t(η), y) and its metrics.

η is the linear predictor φ(x)ᵀw + b. Losses take η, not t(η), so that each is computed in
its numerically stable form (log-sum-exp, softplus), as torch's functional losses do.
"""

import torch
import torch.nn.functional as F
from torch import Tensor

TASKS = ("regression", "binary", "count", "multiclass")
TRANSFER = {"regression": "identity", "binary": "sigmoid", "count": "exp", "multiclass": "softmax"}
CLASSIFICATION = ("binary", "multiclass")


def check_task(task: str) -> str:
    """Return task unchanged, or raise ValueError naming the allowed tasks."""
    if task not in TASKS:
        raise ValueError(f"task={task!r} is not allowed: one of {'|'.join(TASKS)}")
    return str(task)


def transfer(task: str, eta: Tensor) -> Tensor:
    """The mean prediction t(η): identity, sigmoid, exp or softmax."""
    if task == "regression":
        return eta
    if task == "binary":
        return torch.sigmoid(eta)
    if task == "count":
        return torch.exp(eta)
    return torch.softmax(eta, dim=-1)


def _flatten_classes(eta: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
    # sequence-to-sequence outputs (B, T, C) become rows (B*T, C)
    return eta.reshape(-1, eta.shape[-1]), y.reshape(-1)


def _multiclass_loss(eta: Tensor, y: Tensor) -> Tensor:
    return F.cross_entropy(eta, y) if eta.dim() == 2 else F.cross_entropy(*_flatten_classes(eta, y))


def _poisson_loss(eta: Tensor, y: Tensor) -> Tensor:
    # exp(η) − yη, the Poisson negative log-likelihood without the log(y!) constant
    return F.poisson_nll_loss(eta, y, log_input=True, full=False)


# Mean loss of each task's GLM, as a function of η: squared error, cross-entropy, Poisson NLL,
# softmax cross-entropy. A lookup table rather than a branch: it sits in the hot loop.
LOSSES = {
    "regression": F.mse_loss,
    "binary": F.binary_cross_entropy_with_logits,
    "count": _poisson_loss,
    "multiclass": _multiclass_loss,
}


def loss(task: str, eta: Tensor, y: Tensor) -> Tensor:
    """Mean loss of the task's GLM at the linear predictor η."""
    return LOSSES[task](eta, y)


@torch.no_grad()
def metrics(task: str, eta: Tensor, y: Tensor) -> dict[str, float]:
    """Loss always; accuracy for classification; RMSE and R² for regression; deviance for counts."""
    values = {"loss": loss(task, eta, y)}
    if task == "binary":
        values["acc"] = ((eta > 0).to(y.dtype) == y).float().mean()
    elif task == "multiclass":
        flat_eta, flat_y = _flatten_classes(eta, y)
        values["acc"] = (flat_eta.argmax(dim=-1) == flat_y).float().mean()
    elif task == "regression":
        mse = F.mse_loss(eta, y)
        values["rmse"] = mse.sqrt()
        variance = y.var(unbiased=False)
        # R² is undefined for a constant target (NaN, reported as null), not −mse/tiny
        relative = mse / torch.where(variance > 0, variance, torch.nan)
        values["r2"] = 1 - relative
        # RMSE over the target's std, = sqrt(1 − R²): the forecasting literature's NRMSE; from
        # the ratio, not from R², whose float32 rounding (1e-7) would floor it near 3e-4
        values["nrmse"] = relative.sqrt()
    else:
        mu = torch.exp(eta)
        values["deviance"] = 2 * (torch.xlogy(y, y) - y * eta - y + mu).mean()
    return {name: float(value) for name, value in values.items()}
