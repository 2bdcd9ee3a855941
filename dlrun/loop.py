"""The training loop as plain functions: train_step, train_one_epoch, evaluate, fit.

One closure computes the loss and its gradients, so torch's optimizers and the line search
share one code path. Data stay on their device and are batched by tensor indexing.
"""

import math
from dataclasses import dataclass, field
from time import perf_counter

import torch
from torch import Tensor

from dlrun import tasks
from dlrun.data.splits import Data, Split
from dlrun.models.head import DeepGLM
from dlrun.schema import TrainerConfig

EVAL_CHUNK_ROWS = 8192


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
        n = len(X)
        order = (
            torch.randperm(n, generator=self.generator, device=X.device) if self.shuffle else None
        )
        for start in range(0, n, self.batch_size):
            if order is None:
                yield X[start : start + self.batch_size], y[start : start + self.batch_size]
            else:
                index = order[start : start + self.batch_size]
                yield X[index], y[index]


def current_lr(optimizer: torch.optim.Optimizer) -> float:
    """The step size of the last step: the line search's accepted η, else the group's lr."""
    return getattr(optimizer, "last_eta", optimizer.param_groups[0]["lr"])


def train_step(
    model: DeepGLM,
    x: Tensor,
    y: Tensor,
    optimizer: torch.optim.Optimizer,
    clip_grad_norm: float | None = None,
) -> tuple[Tensor, Tensor]:
    """One optimizer step on a batch; returns (loss, global gradient norm) before the step."""
    params = [p for p in model.parameters() if p.requires_grad]
    norm: list[Tensor] = []

    def closure(backward: bool = True) -> Tensor:
        if not backward:  # the line search's trial points need the loss only
            return model.loss(x, y)
        optimizer.zero_grad(set_to_none=True)
        loss = model.loss(x, y)
        loss.backward()
        grads = [p.grad for p in params if p.grad is not None]
        if clip_grad_norm is None:
            norm.append(torch.nn.utils.get_total_norm(grads))
        else:
            norm.append(torch.nn.utils.clip_grad_norm_(params, clip_grad_norm))
        return loss

    loss = optimizer.step(closure)
    return loss.detach(), norm[0].detach()


@dataclass
class EpochLog:
    """Per-step loss, gradient norm and step size of one epoch."""

    losses: list[Tensor] = field(default_factory=list)
    grad_norms: list[Tensor] = field(default_factory=list)
    lrs: list[float] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.losses)


def train_one_epoch(
    model: DeepGLM,
    batches: Batches,
    optimizer: torch.optim.Optimizer,
    clip_grad_norm: float | None = None,
    max_steps: int | None = None,
) -> EpochLog:
    """Train on every batch once (or `max_steps` batches)."""
    model.train()
    log = EpochLog()
    for x, y in batches:
        loss, norm = train_step(model, x, y, optimizer, clip_grad_norm)
        log.losses.append(loss)
        log.grad_norms.append(norm)
        log.lrs.append(current_lr(optimizer))
        if max_steps is not None and len(log) >= max_steps:
            break
    return log


@torch.no_grad()
def evaluate(model: DeepGLM, splits: dict[str, Split]) -> dict[str, dict[str, float]]:
    """Loss and task metrics of every split, e.g. {'val': {'loss': .., 'acc': ..}}."""
    model.eval()
    results = {}
    for name, split in splits.items():
        eta = torch.cat(
            [model(split.X[i : i + EVAL_CHUNK_ROWS]) for i in range(0, len(split), EVAL_CHUNK_ROWS)]
        )
        results[name] = tasks.metrics(model.task, eta, split.y)
    return results


@dataclass
class FitResult:
    status: str  # completed | diverged
    epochs: int
    steps: int
    train_time_s: float
    metrics: dict[str, dict[str, float]]


def is_finite(metrics: dict[str, dict[str, float]]) -> bool:
    return all(math.isfinite(split["loss"]) for split in metrics.values())


def fit(
    model: DeepGLM,
    data: Data,
    optimizer: torch.optim.Optimizer,
    trainer: TrainerConfig,
    generator: torch.Generator,
    record,
    console,
) -> FitResult:
    """Train until max_epochs or max_steps, evaluating every `eval_every` epochs.

    A non-finite loss or gradient ends the run with status 'diverged': a result, not an error.
    `record` (dlrun.record.RunRecord) keeps the metrics; `console` shows progress.
    """
    batches = Batches(data.train, trainer.batch_size, trainer.shuffle, generator)
    steps, train_time, status, metrics = 0, 0.0, "completed", {}
    started = perf_counter()
    console.start(trainer.max_epochs)
    for epoch in range(1, trainer.max_epochs + 1):
        steps_left = None if trainer.max_steps is None else trainer.max_steps - steps
        tick = perf_counter()
        log = train_one_epoch(model, batches, optimizer, trainer.clip_grad_norm, steps_left)
        losses, grad_norms = torch.stack(log.losses).cpu(), torch.stack(log.grad_norms).cpu()
        train_time += perf_counter() - tick
        record.add_steps(steps, epoch, losses, grad_norms, log.lrs)
        steps += len(log)
        diverged = not (torch.isfinite(losses).all() and torch.isfinite(grad_norms).all())
        done = epoch == trainer.max_epochs or (trainer.max_steps is not None and steps >= trainer.max_steps)
        if diverged or done or epoch % trainer.eval_every == 0:
            metrics = evaluate(model, data.splits)
            diverged = diverged or not is_finite(metrics)
            grad_norm, lr = float(grad_norms.mean()), log.lrs[-1]
            record.add_evaluation(epoch, steps, metrics, grad_norm, lr, perf_counter() - started)
            console.evaluation(epoch, metrics, grad_norm)
            if not diverged:
                record.save_checkpoint(model, optimizer, epoch, steps)
        console.advance()
        if diverged:
            status = "diverged"
            console.line(f"diverged at epoch {epoch}, step {steps}: non-finite loss or gradient")
            break
        if done:
            break
    console.stop()
    return FitResult(status, epoch, steps, train_time, metrics)
