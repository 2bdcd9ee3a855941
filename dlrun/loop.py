"""The training loop as plain functions: evaluate, fit (until a budget, convergence, early
stopping or divergence ends it) and solve (a closed-form fit). The steps themselves are
dlrun.steps: Batches, TrainStep, StepLog, train_one_epoch."""

import math
from dataclasses import dataclass
from time import perf_counter

import torch
from torch import Tensor

from dlrun import tasks
from dlrun.config.trainer import TrainerConfig
from dlrun.data.splits import Data, Split
from dlrun.models.head import DeepGLM
from dlrun.record.files import resume_state
from dlrun.selection import EarlyStopping
from dlrun.steps import Batches, StepLog, TrainStep, global_norms, needs_closure, train_one_epoch

EVAL_CHUNK_ROWS = 8192


def chunk_rows(X: Tensor) -> int:
    """Rows per evaluation chunk: EVAL_CHUNK_ROWS, or for (N, T, F) inputs EVAL_CHUNK_ROWS
    time steps; a recurrent model's activations grow with T, and chunks of many long sequences
    cost a page fault per 4 kB of fresh memory (T = 200: a third less CPU per evaluation)."""
    return max(1, EVAL_CHUNK_ROWS // X.shape[1]) if X.dim() == 3 else EVAL_CHUNK_ROWS


@torch.no_grad()
def evaluate(model: DeepGLM, splits: dict[str, Split]) -> dict[str, dict[str, float]]:
    """Loss and task metrics of every split, e.g. {'val': {'loss': .., 'acc': ..}}."""
    model.eval()
    results = {}
    for name, split in splits.items():
        if model.through_series and split.steps is not None:  # from the one run, not windows
            eta = model.series_eta(split.steps)
        else:
            rows = chunk_rows(split.X)
            eta = torch.cat([model(split.X[i : i + rows]) for i in range(0, len(split), rows)])
        results[name] = tasks.metrics(model.task, eta, split.y)
    model.train()
    return results


@dataclass
class FitResult:
    status: str  # completed | diverged
    epochs: int
    steps: int
    train_time_s: float
    # every split's metrics at the selected weights: the test split is evaluated here only
    metrics: dict[str, dict[str, float]]
    # the evaluation whose weights are the result (the last, unless early stopping selects)
    selected_epoch: int
    selected_step: int
    # max_epochs | max_steps | converged | early_stopping | solved | diverged | closed_form
    stopped: str
    # whether ‖∇L‖ fell below trainer.tol (None: no tolerance applied), and the steps it took
    converged: bool | None = None
    iterations: int | None = None


def tolerance(trainer: TrainerConfig, batches: Batches, optimizer) -> float | None:
    """trainer.tol where it applies, else None: full-batch training with an optimizer that
    searches along a direction (line search, Newton, L-BFGS), whose steps vanish at the
    optimum; a mini-batch's gradient norm does not tell convergence."""
    full_batch = batches.batch_size == len(batches.split)
    return trainer.tol if full_batch and needs_closure(optimizer) else None


def gradient_below(log: StepLog, tol: float | None) -> bool:
    """Whether the last step started where ‖∇L‖ ≤ tol·max(1, |L|) on the full batch: the point
    reached one step earlier had converged (the last step only polished it). Relative to a
    loss above 1, as the rounding floor of its gradient is (a regression on raw targets)."""
    if tol is None:
        return False
    scale = max(1.0, abs(log.losses[-1].item()))
    return bool(global_norms(log.grad_norms[-1:])[0] <= tol * scale)


def convergence(tol: float | None, converged: bool, steps: int, console) -> tuple:
    """FitResult's (converged, iterations): (None, None) without a tolerance; the iterations
    to the converged point exclude the step that found its gradient below tol."""
    if tol is None:
        return None, None
    if converged:
        console.line(f"converged: gradient norm below trainer.tol={tol} after {steps - 1} steps")
    return converged, steps - 1 if converged else steps


def is_finite(metrics: dict[str, dict[str, float]]) -> bool:
    return all(math.isfinite(split["loss"]) for split in metrics.values())


def budget_spent(trainer: TrainerConfig, epoch: int, steps: int) -> str | None:
    """'max_epochs' or 'max_steps' once that budget is used up, else None."""
    if trainer.max_steps is not None and steps >= trainer.max_steps:
        return "max_steps"
    return "max_epochs" if epoch >= trainer.max_epochs else None


def fit(
    model: DeepGLM,
    data: Data,
    optimizer: torch.optim.Optimizer,
    trainer: TrainerConfig,
    generator: torch.Generator,
    record,
    console,
    start=None,
) -> FitResult:
    """Train until a budget (max_epochs, max_steps) is spent or early stopping ends training,
    evaluating train and val every `eval_every` epochs; then restore the selected weights and
    evaluate every split, test included, once.

    A non-finite loss or gradient ends the run with status 'diverged': a result, not an error.
    `record` (dlrun.record.RunRecord) keeps the metrics; `console` shows progress.
    train_time_s counts the training epochs, not evaluations or file writes. A model whose
    training is one solve (`closed_form`, the ESN's ridge readout) is fitted by its own
    `fit_closed_form` instead: epoch 0, no steps (a resumed run solves again: it is deterministic).
    """
    if model.closed_form:
        return solve(model, data, optimizer, trainer, record, console)
    batches = Batches(data.train, trainer.batch_size, trainer.shuffle, generator)
    step = TrainStep(model, optimizer, trainer.clip_grad_norm)
    selection = None if start is None else start.selection
    stopping = EarlyStopping(trainer.early_stopping, data.criterion, selection)
    watched = {name: split for name, split in data.splits.items() if name != "test"}
    epoch, steps, train_time, stopped = 0, 0, 0.0, None
    if start is not None:  # dlrun.record.resume.Start: continue after a checkpoint's epoch
        epoch, steps, train_time = start.epoch, start.steps, start.train_time_s
        stopped = stopping.state.stopped or budget_spent(trainer, epoch, steps)
    log, tol, converged = StepLog(), tolerance(trainer, batches, optimizer), False
    started = perf_counter()
    console.start(trainer.max_epochs, len(batches), trainer.max_steps, epoch, steps)
    model.train()
    while stopped is None:
        epoch += 1
        steps_left = None if trainer.max_steps is None else trainer.max_steps - steps
        console.epoch_started(epoch, steps, log.__len__)  # the bar reads the log's length
        tick = perf_counter()
        steps += train_one_epoch(step, batches, log, epoch, steps_left)
        # NaN spreads to every later step, so the epoch's last loss tells divergence
        diverged = not math.isfinite(log.losses[-1].item())
        train_time += perf_counter() - tick
        converged = not diverged and gradient_below(log, tol)
        budget = "converged" if converged else budget_spent(trainer, epoch, steps)
        if diverged or budget or epoch % trainer.eval_every == 0:
            metrics, finite = evaluate_and_record(
                model, watched, log, record, console, epoch, steps, started
            )
            log = StepLog()
            diverged = diverged or not finite
            if not diverged and stopping.update(epoch, steps, metrics):
                record.save_best(model, optimizer, epoch, steps)  # before the checkpoint: resume
            if not diverged and trainer.checkpoint:
                state = resume_state(generator) | {"selection": stopping.state_dict()}
                record.save_checkpoint(
                    model, optimizer, epoch, steps, train_time_s=train_time, **state
                )
            stopped = "diverged" if diverged else stopping.state.stopped or budget
        console.advance(steps)
    console.stop()
    if stopped == "diverged":
        console.line(f"diverged at epoch {epoch}, step {steps}: non-finite loss or gradient")
    selected_epoch, selected_step = stopping.restore_selected(model, record, epoch, steps)
    status = "diverged" if stopped == "diverged" else "completed"
    metrics = evaluate(model, data.splits)
    if "test" in metrics:
        record.add_test(steps, metrics["test"])
    ending = convergence(tol, converged, steps, console)
    return FitResult(
        status, epoch, steps, train_time, metrics, selected_epoch, selected_step, stopped, *ending
    )


def evaluate_and_record(
    model: DeepGLM,
    splits: dict[str, Split],
    log: StepLog,
    record,
    console,
    epoch: int,
    steps: int,
    started: float,
) -> tuple[dict[str, dict[str, float]], bool]:
    """Record the steps since the last evaluation, evaluate `splits` (train and val) into the
    record and the console; returns the metrics and whether every loss and gradient was finite."""
    losses, grad_norms = log.tensors()
    finite = bool(grad_norms.isfinite().all() & losses.isfinite().all())
    record.add_steps(steps - len(log), log.epochs, losses, grad_norms, log.lrs)
    metrics = evaluate(model, splits)
    grad_norm, lr = float(grad_norms[losses.isfinite()].mean()), record.last_lr
    record.add_evaluation(epoch, steps, metrics, grad_norm, lr, perf_counter() - started)
    console.evaluation(epoch, metrics, grad_norm)
    return metrics, finite and is_finite(metrics)


def solve(
    model: DeepGLM,
    data: Data,
    optimizer: torch.optim.Optimizer,
    trainer: TrainerConfig,
    record,
    console,
) -> FitResult:
    """Fit in the model's one solve on the training split (in one run through the series where
    the data are one and the model can); record train and val as epoch 0, then evaluate every
    split."""
    started = perf_counter()
    if model.through_series and data.series is not None:
        model.fit_series(data.series, data.train.steps, data.train.y)
    else:
        model.fit_closed_form(data.train.X, data.train.y)
    train_time = perf_counter() - started
    metrics = evaluate(model, data.splits)
    status = "completed" if is_finite(metrics) else "diverged"
    watched = {name: values for name, values in metrics.items() if name != "test"}
    record.add_evaluation(0, 0, watched, math.nan, 0.0, perf_counter() - started)
    if "test" in metrics:
        record.add_test(0, metrics["test"])
    console.evaluation(0, watched, math.nan)
    if status == "completed" and trainer.checkpoint:
        record.save_checkpoint(model, optimizer, 0, 0)
    stopped = "closed_form" if status == "completed" else "diverged"
    return FitResult(status, 0, 0, train_time, metrics, 0, 0, stopped)
