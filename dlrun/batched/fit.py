"""repeats=K as one batched model: the K seeds of a small model trained in one computation.

Each seed is built as its own run builds it (dlrun.build.build with its seed: its initial
weights, data splits and batch-order generator). Their parameters are stacked on a leading seed
dimension (torch.func.stack_module_state); a step runs the model's forward for every seed at once
(torch.vmap of torch.func.functional_call), takes each seed's mean loss, one backward, and
applies torch.optim's SGD or Adam update to the stacked tensors with the formulas of torch's
single-tensor code, so each seed's numbers equal its sequential run's to float32 rounding
(tests/test_batched.py). Seeds stay independent: nothing mixes them, and a seed that diverges is
recorded as its own run would be and dropped from the stack. dlrun.batched.run writes each
seed's run record as dlrun.run does.
"""

import copy
from functools import partial
from time import perf_counter

import torch
import torch.nn.functional as F
from hydra.utils import get_class
from omegaconf import DictConfig
from torch import Tensor
from torch.func import functional_call, stack_module_state

from dlrun.batched.optim import adam_step, clip_, seed_norms, sgd_step, torch_state
from dlrun.build import Experiment
from dlrun.config.options import option_target
from dlrun.console import RunConsole, evaluation_line
from dlrun.data.splits import Split
from dlrun.loop import FitResult, budget_spent, evaluate, is_finite
from dlrun.paths import config_dir
from dlrun.record import RunRecord
from dlrun.selection import EarlyStopping
from dlrun.steps import Batches, StepLog

# the optimizers with a batched step, by their _target_
OPTIMIZERS = {"torch.optim.SGD": "sgd", "torch.optim.Adam": "adam"}
# each row's loss of dlrun.tasks.LOSSES (which average these): reduction="none" keeps the seeds
ROW_LOSSES = {
    "regression": F.mse_loss,
    "binary": F.binary_cross_entropy_with_logits,
    "count": partial(F.poisson_nll_loss, log_input=True, full=False),
}


def batchable_models() -> list[str]:
    """The model options (conf/model/*.yaml) whose class declares `batchable`."""
    paths = sorted((config_dir() / "model").glob("*.yaml"))
    return [p.stem for p in paths if get_class(option_target("model", p)).batchable]


def refusal(cfg: DictConfig, names: dict[str, str]) -> str | None:
    """Why this job's seeds cannot train as one batched model; None when they can."""
    if not get_class(cfg.model._target_).batchable:
        return (
            f"model={names['model']} has no batched training (the models without batch norm, "
            f"dropout, numpy backprop, closed-form fit or recurrence have it); allowed with "
            f"model={'|'.join(batchable_models())}"
        )
    if cfg.optimizer._target_ not in OPTIMIZERS:
        return (
            f"optimizer={names['optimizer']} has no batched step (a line search or Newton step "
            "evaluates the loss several times per step); allowed with optimizer=sgd|adam"
        )
    if cfg.trainer.early_stopping.enabled or cfg.trainer.early_stopping.stop_when_solved:
        return (
            "trainer.early_stopping selects or stops each seed on its own, which batched seeds "
            "do not track; allowed with trainer.early_stopping.enabled=false and "
            "stop_when_solved=false"
        )
    if cfg.device == "cuda" or (cfg.device == "auto" and torch.cuda.is_available()):
        return f"device={cfg.device} trains on CUDA; batched repeats run on the CPU: device=cpu"
    return None


def seed_losses(task: str, eta: Tensor, y: Tensor) -> Tensor:
    """Each seed's mean loss (K,) at η (K, B[, C]) and y (K, B): dlrun.tasks.loss per seed."""
    if task == "multiclass":
        rows = F.cross_entropy(eta.flatten(0, 1), y.flatten(), reduction="none")
    else:
        rows = ROW_LOSSES[task](eta, y, reduction="none")
    return rows.view(len(eta), -1).mean(dim=1)


def epoch_order(batches: Batches) -> Tensor:
    """The rows of one epoch in the order `batches` yields them, drawn from its generator as
    Batches draws them (tests/test_batched.py compares the two)."""
    rows = batches.split.X
    if not batches.shuffle:
        return rows
    return rows[torch.randperm(len(rows), generator=batches.generator, device=rows.device)]


class StackedSeeds:
    """The active seeds' parameters, optimizer state and training data, stacked on dim 0."""

    def __init__(self, experiments: list[Experiment]) -> None:
        self.experiments = experiments
        self.active = list(range(len(experiments)))  # positions in `experiments`
        models = [e.model for e in experiments]
        self.base = copy.deepcopy(models[0])  # the module functional_call runs
        params, buffers = stack_module_state(models)
        assert not buffers, "a batchable model holds no buffers"
        self.names, self.params = list(params), list(params.values())
        optimizer = experiments[0].optimizer
        self.group = optimizer.param_groups[0]
        assert not self.group.get("nesterov") and not self.group.get("maximize")
        assert not self.group.get("amsgrad") and not self.group.get("decoupled_weight_decay")
        self.kind = "adam" if isinstance(optimizer, torch.optim.Adam) else "sgd"
        self.update = adam_step if self.kind == "adam" else sgd_step
        self.state: dict = {}
        self.X = torch.stack([e.data.train.X for e in experiments])
        self.y = torch.stack([e.data.train.y for e in experiments])
        trainer, n = experiments[0].trainer, self.X.shape[1]
        rows = torch.arange(n, device=self.X.device)
        index = Split(rows, rows)  # Batches of row numbers: each seed's order
        self.batches = [
            Batches(index, trainer.batch_size, trainer.shuffle, e.generator) for e in experiments
        ]
        self.forward = torch.vmap(self.forward_one)

    def forward_one(self, params: list[Tensor], x: Tensor) -> Tensor:
        return functional_call(self.base, dict(zip(self.names, params)), (x,))

    def epoch_batches(self):
        """Each step's (x, y) of the active seeds, (K, B, ...), each in its run's order."""
        size = self.batches[0].batch_size
        if size == self.X.shape[1]:  # the full batch: no order, as Batches yields it
            yield self.X, self.y
            return
        order = torch.stack([epoch_order(self.batches[k]) for k in self.active])
        seeds = torch.arange(len(order)).unsqueeze(1)
        for start in range(0, order.shape[1], size):
            rows = order[:, start : start + size]
            yield self.X[seeds, rows], self.y[seeds, rows]

    def step(self, x: Tensor, y: Tensor, clip: float | None) -> tuple[Tensor, Tensor]:
        """One optimizer step of every active seed: (losses, gradient norms), each (K,)."""
        losses = seed_losses(self.base.task, self.forward(self.params, x), y)
        grads = list(torch.autograd.grad(losses.sum(), self.params))
        norms = seed_norms(grads)
        if clip is not None:
            clip_(grads, norms, clip)
        with torch.no_grad():
            self.update(self.params, grads, self.state, self.group)
        return losses.detach(), norms

    def load_into(self, position: int) -> Experiment:
        """The experiment of the active seed at `position`, its model and optimizer holding
        that seed's current weights and state."""
        experiment = self.experiments[self.active[position]]
        optimizer = experiment.optimizer
        params = optimizer.param_groups[0]["params"]
        states = torch_state(self.kind, self.state, position, self.group) if self.state else []
        with torch.no_grad():
            for i, (param, stacked) in enumerate(zip(experiment.model.parameters(), self.params)):
                param.copy_(stacked[position])
                if states:
                    optimizer.state[params[i]] = states[i]
        return experiment

    def keep(self, positions: list[int]) -> None:
        """Continue with the active seeds at these positions only."""
        index = torch.tensor(positions, dtype=torch.long)
        self.params = [p.detach()[index].requires_grad_() for p in self.params]
        for key, value in self.state.items():
            if isinstance(value, list):
                self.state[key] = [t[index] for t in value]
        self.X, self.y = self.X[index], self.y[index]
        self.active = [self.active[i] for i in positions]


def train_epoch(stack: StackedSeeds, log: StepLog, epoch: int, max_steps: int | None) -> int:
    """Train every active seed on each of its batches once (or `max_steps`); returns steps."""
    steps, clip, lr = 0, stack.experiments[0].trainer.clip_grad_norm, stack.group["lr"]
    for x, y in stack.epoch_batches():
        loss, norm = stack.step(x, y, clip)
        log.epochs.append(epoch)
        log.losses.append(loss)
        log.grad_norms.append(norm)
        log.lrs.append(lr)
        steps += 1
        if max_steps is not None and steps >= max_steps:
            break
    return steps


class BatchedFit:
    """dlrun.loop.fit for the seeds of a StackedSeeds: the same evaluations, records,
    checkpoints and divergence rule for each seed as its own fit would have."""

    def __init__(
        self,
        stack: StackedSeeds,
        records: list[RunRecord],
        torch_rngs: list[Tensor],
        seeds: list[int],
        console: RunConsole,
    ) -> None:
        self.stack, self.records, self.torch_rngs = stack, records, torch_rngs
        self.seeds, self.console = seeds, console
        self.results: dict[int, FitResult] = {}
        self.steps, self.train_time, self.started = 0, 0.0, perf_counter()

    def run(self) -> list[FitResult]:
        """Train until max_epochs or max_steps, evaluating every `eval_every` epochs."""
        trainer = self.stack.experiments[0].trainer
        log = StepLog()
        self.console.start(trainer.max_epochs, len(self.stack.batches[0]), trainer.max_steps)
        for epoch in range(1, trainer.max_epochs + 1):
            steps_left = None if trainer.max_steps is None else trainer.max_steps - self.steps
            tick = perf_counter()
            self.steps += train_epoch(self.stack, log, epoch, steps_left)
            # NaN spreads to every later step, so the epoch's last loss tells divergence
            diverged = (~log.losses[-1].isfinite()).tolist()
            self.train_time += perf_counter() - tick
            done = epoch == trainer.max_epochs or (
                trainer.max_steps is not None and self.steps >= trainer.max_steps
            )
            scheduled = done or epoch % trainer.eval_every == 0
            if scheduled or any(diverged):
                log = self.evaluate(log, epoch, diverged, scheduled)
            self.console.advance(self.steps)
            if done or not self.stack.active:
                break
        self.console.stop()
        for k, result in self.results.items():  # the test split, once, as fit records it
            if "test" in result.metrics:
                self.records[k].add_test(result.steps, result.metrics["test"])
        return [self.results[k] for k in range(len(self.seeds))]

    def evaluate(self, log: StepLog, epoch: int, diverged: list[bool], scheduled: bool) -> StepLog:
        """Record and evaluate the seeds due (all when scheduled, else the diverged ones), drop
        the diverged ones; returns the step log the others continue."""
        losses, grad_norms = log.tensors()
        bad_steps = (~(losses.isfinite() & grad_norms.isfinite()).all(dim=0)).tolist()
        kept = []
        for position in range(len(self.stack.active)):
            if not (scheduled or diverged[position]):
                kept.append(position)
                continue
            if not self.evaluate_seed(
                position, log, losses, grad_norms, epoch, diverged[position] or bad_steps[position]
            ):
                kept.append(position)
        if scheduled:
            log = StepLog()
        elif len(kept) < len(self.stack.active):
            log.losses = [t[kept] for t in log.losses]
            log.grad_norms = [t[kept] for t in log.grad_norms]
        if len(kept) < len(self.stack.active):
            self.stack.keep(kept)
        return log

    def evaluate_seed(
        self,
        position: int,
        log: StepLog,
        losses: Tensor,
        grad_norms: Tensor,
        epoch: int,
        diverged: bool,
    ) -> bool:
        """One seed's steps, evaluation and checkpoint as fit records them; whether it ended."""
        k = self.stack.active[position]
        record, experiment = self.records[k], self.stack.load_into(position)
        seed_losses, seed_grad_norms = losses[:, position], grad_norms[:, position]
        record.add_steps(self.steps - len(log), log.epochs, seed_losses, seed_grad_norms, log.lrs)
        # every split for the result (test too: these weights are the seed's last, as fit's
        # final evaluation sees them); train and val into metrics.csv, as fit records them
        metrics = evaluate(experiment.model, experiment.data.splits)
        watched = {name: values for name, values in metrics.items() if name != "test"}
        diverged = diverged or not is_finite(metrics)
        grad_norm = float(seed_grad_norms[seed_losses.isfinite()].mean())
        elapsed = perf_counter() - self.started
        record.add_evaluation(epoch, self.steps, watched, grad_norm, record.last_lr, elapsed)
        self.console.line(f"seed {self.seeds[k]}: {evaluation_line(epoch, watched, grad_norm)}")
        if not diverged and experiment.trainer.checkpoint:
            state = {
                "generator": experiment.generator.get_state(),
                "torch_rng": self.torch_rngs[k],
                "threads": torch.get_num_threads(),
                # early stopping is off for batched seeds (refusal): its state never moves
                "selection": EarlyStopping(
                    experiment.trainer.early_stopping, experiment.data.criterion, None
                ).state_dict(),
            }
            record.save_checkpoint(
                experiment.model,
                experiment.optimizer,
                epoch,
                self.steps,
                train_time_s=self.train_time,
                **state,
            )
        status = "diverged" if diverged else "completed"
        stopped = "diverged" if diverged else budget_spent(experiment.trainer, epoch, self.steps)
        self.results[k] = FitResult(
            status, epoch, self.steps, self.train_time, metrics, epoch, self.steps, stopped
        )
        if diverged:
            self.console.line(
                f"seed {self.seeds[k]} diverged at epoch {epoch}, step "
                f"{self.steps}: non-finite loss or gradient"
            )
        return diverged
