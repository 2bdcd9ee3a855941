"""One optimizer step and one epoch of them: batches, the train step's closure, the step log.

One closure computes the loss and its gradients, so torch's optimizers, the line search, Newton
and L-BFGS share one code path. Data stay on their device and are batched by tensor indexing.
torch is called through its public API only: `loss.backward()`, `optimizer.zero_grad()`,
`optimizer.step()`, `clip_grad_norm_` (benchmarks/loop_overhead.py measures what that costs).
"""

import math
from dataclasses import dataclass, field
from itertools import islice, repeat

import torch
from torch import Tensor

from dlrun.data.splits import Split
from dlrun.models.head import DeepGLM
from dlrun.optim import LineSearch, Newton


class Batches:
    """Mini-batches of an in-memory split; `batch_size=None` gives the full batch."""

    def __init__(
        self, split: Split, batch_size: int | None, shuffle: bool, generator: torch.Generator
    ) -> None:
        self.split, self.shuffle, self.generator = split, shuffle, generator
        self.batch_size = len(split) if batch_size is None else min(batch_size, len(split))

    def __len__(self) -> int:
        return math.ceil(len(self.split) / self.batch_size)

    def __iter__(self):
        X, y = self.split.X, self.split.y
        if self.batch_size == len(X):
            yield X, y
            return
        if not self.shuffle:
            yield from zip(X.split(self.batch_size), y.split(self.batch_size))
            return
        order = torch.randperm(len(X), generator=self.generator, device=X.device)
        for index in order.split(self.batch_size):
            # the rows X[index] holds, in a new tensor as X[index] makes, with less Python
            yield X.index_select(0, index), y.index_select(0, index)


def current_lr(optimizer: torch.optim.Optimizer) -> float:
    """The step size of the last step: the line search's accepted η, else the group's lr."""
    return getattr(optimizer, "last_eta", optimizer.param_groups[0]["lr"])


def step_size_varies(optimizer: torch.optim.Optimizer) -> bool:
    """Whether each step picks its own step size (the line search's η), so it is read per step;
    any other optimizer's lr is read once per epoch."""
    return isinstance(optimizer, LineSearch)


def needs_closure(optimizer: torch.optim.Optimizer) -> bool:
    """Whether the optimizer re-evaluates the loss within a step (line search, Newton, L-BFGS)."""
    return isinstance(optimizer, (LineSearch, Newton, torch.optim.LBFGS))


class TrainStep:
    """One optimizer step on a batch: `loss, norm = step(x, y)`.

    Every optimizer steps with the same gradient computation (loss, backward, gradient norm).
    Optimizers that evaluate the loss once get it before `optimizer.step()` rather than
    through a closure.
    """

    def __init__(
        self, model: DeepGLM, optimizer: torch.optim.Optimizer, clip_grad_norm: float | None = None
    ) -> None:
        self.model, self.optimizer, self.clip_grad_norm = model, optimizer, clip_grad_norm
        self.params = [p for p in model.parameters() if p.requires_grad]
        self.with_closure = needs_closure(optimizer)

    def __call__(self, x: Tensor, y: Tensor) -> tuple[Tensor, Tensor | list[Tensor]]:
        """The loss before the step and the gradient's norm: the global norm when clipping,
        else the per-parameter norms (one foreach kernel; `global_norms` combines them later,
        so the hot loop pays for a single op)."""
        if not self.with_closure:
            loss, norm = self.gradient(x, y)
            self.optimizer.step()
            return loss.detach(), norm
        norms: list = []

        def closure(backward: bool = True) -> Tensor:
            if not backward:  # the line search's trial points need the loss only
                return self.model.loss(x, y)
            loss, norm = self.gradient(x, y)
            norms.append(norm)
            return loss

        return self.optimizer.step(closure).detach(), norms[0]

    def gradient(self, x: Tensor, y: Tensor) -> tuple[Tensor, Tensor | list[Tensor]]:
        """The loss on the batch, its gradients in `.grad` (clipped if asked) and their norm."""
        self.optimizer.zero_grad(set_to_none=True)
        loss = self.model.loss(x, y)
        loss.backward()
        if self.clip_grad_norm is not None:
            return loss, torch.nn.utils.clip_grad_norm_(self.params, self.clip_grad_norm)
        return loss, torch._foreach_norm([p.grad for p in self.params if p.grad is not None])


def global_norms(norms: list[Tensor | list[Tensor]]) -> Tensor:
    """Per-step global gradient norms from what train_step returned, in a few ops."""
    if all(isinstance(norm, Tensor) for norm in norms):
        return torch.stack(norms)
    flat = torch.stack([part for norm in norms for part in norm])
    return torch.linalg.vector_norm(flat.view(len(norms), -1), dim=1)


@dataclass
class StepLog:
    """Per-step epoch, loss, gradient norm and step size, kept until the next evaluation."""

    epochs: list[int] = field(default_factory=list)
    losses: list[Tensor] = field(default_factory=list)
    grad_norms: list = field(default_factory=list)
    lrs: list[float] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.losses)

    def tensors(self) -> tuple[Tensor, Tensor]:
        """(losses, global gradient norms) on the CPU."""
        return torch.stack(self.losses).cpu(), global_norms(self.grad_norms).cpu()


def train_one_epoch(
    step: TrainStep, batches: Batches, log: StepLog, epoch: int, max_steps: int | None = None
) -> int:
    """Train on every batch once (or `max_steps` batches), appending to `log`; returns steps."""
    losses, grad_norms, lrs = log.losses, log.grad_norms, log.lrs
    optimizer, steps_before = step.optimizer, len(log)
    per_step_lr = step_size_varies(optimizer)
    for x, y in islice(batches, max_steps):
        loss, norm = step(x, y)
        losses.append(loss)
        grad_norms.append(norm)
        if per_step_lr:
            lrs.append(current_lr(optimizer))
    steps = len(log) - steps_before
    log.epochs.extend(repeat(epoch, steps))
    if not per_step_lr:
        lrs.extend(repeat(current_lr(optimizer), steps))
    return steps
