"""The four GLM tasks: each has a transfer function t, a loss l(t(η), y) and its metrics.

η is the linear predictor φ(x)ᵀw + b. Losses take η, not t(η), so that each is computed in
its numerically stable form (log-sum-exp, softplus), as torch's functional losses do.
"""

import torch
import torch.nn.functional as F
from torch import Tensor

TASKS = ("regression", "binary", "count", "multiclass")
# what `metrics` returns for each task, in its order (a monitored metric must be one of these)
METRIC_NAMES = {
    "regression": ("loss", "mae", "rmse", "r2", "nrmse"),
    "binary": ("loss", "acc"),
    "count": ("loss", "deviance"),
    "multiclass": ("loss", "acc"),
}
# the splits a run's metrics are recorded for (summary.json: val/acc, baseline/test/loss)
SPLITS = ("train", "val", "test")
TRANSFER = {"regression": "identity", "binary": "sigmoid", "count": "exp", "multiclass": "softmax"}
CLASSIFICATION = ("binary", "multiclass")


def recorded_names(task: str) -> list[str]:
    """The task's metrics as a run records them: train/loss, ..., and the trivial predictor's
    beside them, baseline/train/loss, ..."""
    names = [f"{split}/{name}" for split in SPLITS for name in METRIC_NAMES[task]]
    return names + [f"baseline/{name}" for name in names]


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
    """Loss always; accuracy for classification; MAE, RMSE, R² and NRMSE for regression;
    deviance for counts (the names of METRIC_NAMES)."""
    values = {"loss": loss(task, eta, y)}
    if task == "binary":
        values["acc"] = ((eta > 0).to(y.dtype) == y).float().mean()
    elif task == "multiclass":
        flat_eta, flat_y = _flatten_classes(eta, y)
        values["acc"] = (flat_eta.argmax(dim=-1) == flat_y).float().mean()
    elif task == "regression":
        mse = F.mse_loss(eta, y)
        values["mae"] = F.l1_loss(eta, y)
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


# The trivial predictor of each task: one constant η for every row, fitted on the training
# split (the mean for regression, the class frequencies for classification, whose arg max is
# the majority class, the mean rate for counts). A run is judged against it.
BASELINE_NAMES = {
    "regression": "mean predictor",
    "binary": "majority class",
    "multiclass": "majority class",
    "count": "constant rate",
}
# a class or count never seen in training gets this frequency, not 0: η = log(0) = −∞ would
# make the baseline's loss infinite (or NaN) on a split where it occurs
MIN_FREQUENCY = 1e-12


@torch.no_grad()
def baseline_eta(task: str, y_train: Tensor, n_classes: int | None) -> Tensor:
    """The trivial predictor's constant η, fitted on the training targets: a scalar, or (K,)
    log class frequencies for multiclass."""
    if task == "regression":
        return y_train.mean()
    if task == "count":
        return y_train.mean().clamp_min(MIN_FREQUENCY).log()
    if task == "binary":
        p = y_train.mean().clamp(MIN_FREQUENCY, 1 - MIN_FREQUENCY)
        return torch.log(p) - torch.log1p(-p)  # logit: η > 0 exactly when 1 is the majority
    counts = torch.bincount(y_train.reshape(-1), minlength=n_classes).to(torch.float64)
    return (counts / counts.sum()).clamp_min(MIN_FREQUENCY).log()


def baseline_metrics(task: str, eta: Tensor, y: Tensor) -> dict[str, float]:
    """`metrics` of the constant predictor η (from baseline_eta) on targets y."""
    shape = (*y.shape, eta.shape[-1]) if task == "multiclass" else y.shape
    dtype = torch.float64 if task == "multiclass" else y.dtype
    return metrics(task, eta.to(device=y.device, dtype=dtype).expand(shape), y)


# The metric a run is judged by against its trivial predictor, as it is printed; accuracy is
# compared as its error rate (1 − acc), so that lower is better for every task
HEADLINE_METRICS = {"regression": "loss", "binary": "acc", "multiclass": "acc", "count": "deviance"}
HEADLINE_LABELS = {"regression": "mse", "binary": "acc", "multiclass": "acc", "count": "deviance"}
# beating the trivial predictor means removing at least this share of its error: a loss a few
# per cent below the mean predictor's is noise or a shifted mean, not learning
MIN_IMPROVEMENT = 0.1


def headline_error(task: str, values: dict[str, float]) -> float:
    """The headline metric as an error (lower is better): the loss, deviance, or 1 − accuracy."""
    value = values[HEADLINE_METRICS[task]]
    return 1 - value if HEADLINE_METRICS[task] == "acc" else value


def beats_baseline(task: str, values: dict[str, float], baseline: dict[str, float]) -> bool:
    """Whether a split's metrics remove at least MIN_IMPROVEMENT of the baseline's error."""
    return headline_error(task, values) < (1 - MIN_IMPROVEMENT) * headline_error(task, baseline)
