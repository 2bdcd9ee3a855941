"""The deep-GLM head t(φθ(x)ᵀw + b): one implementation for the GLMs and every network."""

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from dlrun import tasks
from dlrun.models.base import DataInfo


class GLMHead(nn.Module):
    """A linear layer whose output η feeds the task's transfer function and loss."""

    def __init__(self, in_features: int, task: str, n_classes: int | None = None) -> None:
        super().__init__()
        self.task = tasks.check_task(task)
        if self.task == "multiclass" and (n_classes is None or n_classes < 2):
            raise ValueError(f"n_classes={n_classes!r} is not allowed: multiclass needs >= 2")
        self.n_classes = n_classes
        self.linear = nn.Linear(in_features, n_classes if self.task == "multiclass" else 1)
        self.squeeze = self.task != "multiclass"
        self.loss_function = tasks.LOSSES[self.task]

    def forward(self, features: Tensor) -> Tensor:
        """η = featuresᵀw + b: (..., D) -> (...) or (..., C) for multiclass."""
        # F.linear rather than self.linear(...): a module call costs as much as a small layer
        eta = F.linear(features, self.linear.weight, self.linear.bias)
        return eta.squeeze(-1) if self.squeeze else eta

    def loss(self, eta: Tensor, y: Tensor) -> Tensor:
        return self.loss_function(eta, y)

    def predict(self, eta: Tensor) -> Tensor:
        """The mean prediction t(η)."""
        return tasks.transfer(self.task, eta)


class DeepGLM(nn.Module):
    """A feature map φθ (the body) followed by a GLM head; GLMs have φ = identity.

    Subclasses take `(data: DataInfo, **options)`, build `body` and pass its output width.
    The capabilities below are declared here once and overridden where a model differs; each is
    read in one place: dlrun.build (data kinds and targets, second derivatives), dlrun.loop.fit
    (closed form, through series), dlrun.analyses (recurrent).
    """

    # the kinds of data (dlrun.data.base.KINDS) this model can take
    accepts: tuple[str, ...] = ("tabular", "image")
    # whether it predicts a target at each step (DataInfo.target_shape (T',)), not one per row
    per_step_targets: bool = False
    # whether autograd can differentiate its gradient (Newton's steps, the Hessian analysis)
    second_derivatives: bool = True
    # whether it computes on the CPU only (numpy inside): dlrun.build refuses another device
    cpu_only: bool = False
    # whether training is one solve, `fit_closed_form`, rather than optimizer steps
    closed_form: bool = False
    # whether its closed-form fit runs once through a dataset's one long series (Data.series,
    # the forecasting sets) instead of restarting in every window: `fit_series`, then
    # `series_eta` for each split's rows (the ESN's ridge readout)
    through_series: bool = False
    # whether it writes out its recursion, `hidden_states(x, probes)` (∂L/∂h⁽ᵗ⁾ diagnostics)
    recurrent: bool = False

    def __init__(self, body: nn.Module, features: int, data: DataInfo) -> None:
        super().__init__()
        self.body = body
        self.head = GLMHead(features, data.task, data.n_classes)

    @property
    def task(self) -> str:
        return self.head.task

    def check_data(self, data) -> None:
        """Refuse, before training, data this model is built for but cannot be fitted on (a
        rule that needs the rows, not only DataInfo's sizes); raises InputError."""

    def forward(self, x: Tensor) -> Tensor:
        return self.head.forward(self.body(x))  # .forward: no hooks on the head, less overhead

    def loss(self, x: Tensor, y: Tensor) -> Tensor:
        """The training objective on a batch (subclasses may add regularisers)."""
        # forward() directly, not self(x): module-call overhead is a measurable share of a
        # small model's step (benchmarks/loop_overhead.py)
        return self.head.loss(self.forward(x), y)

    @torch.no_grad()
    def predict(self, x: Tensor) -> Tensor:
        return self.head.predict(self(x))

    def fit_closed_form(self, x: Tensor, y: Tensor) -> None:
        """Fit the parameters in one solve (models with `closed_form` true)."""
        raise NotImplementedError(f"{type(self).__name__} has no closed-form fit")

    def fit_series(self, series: Tensor, steps: Tensor, y: Tensor) -> None:
        """Fit in one run through `series` (S, F) on the training rows at `steps` (models with
        `through_series` true), keeping what `series_eta` needs."""
        raise NotImplementedError(f"{type(self).__name__} does not run through a series")

    def series_eta(self, steps: Tensor) -> Tensor:
        """η of the rows that end at `steps` of the series that `fit_series` ran through."""
        raise NotImplementedError(f"{type(self).__name__} does not run through a series")
