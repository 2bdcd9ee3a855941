"""dlrun's training loop against the plainest hand-written PyTorch loop: steps per second.

Same data (dlrun's own splits), same model shape, same optimizer, same number of steps, same
thread count. dlrun's time is the whole of `loop.fit` (per-step loss and gradient-norm
bookkeeping, the one final evaluation, metrics, steps and checkpoint files included). Both are
timed in CPU time of this thread as well as in wall time: on a shared machine the CPU-time ratio
is the steadier figure, since another process's load stretches wall time unevenly.
Figures are printed, not asserted.

    python benchmarks/loop_overhead.py [--repeats 5] [--threads 1]
"""

import argparse
import statistics
import tempfile
from pathlib import Path
from time import perf_counter, thread_time

import torch
import torch.nn.functional as F
from torch import nn

from dlrun.build import build
from dlrun.config.compose import compose_config
from dlrun.console import RunConsole
from dlrun.loop import fit
from dlrun.record.files import RunRecord


def mlp() -> nn.Module:
    """dlrun's model=mlp on digits (hidden [64], ReLU), as a user writes it."""
    return nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))


MLP_ON_DIGITS = ["model=mlp", "dataset=digits", "trainer.batch_size=32", "trainer.max_epochs=60"]
CASES = {
    "mlp on digits, mini-batch 32, SGD": (
        [*MLP_ON_DIGITS, "optimizer=sgd", "trainer.eval_every=60"],
        mlp,
        F.cross_entropy,
    ),
    "mlp on digits, mini-batch 32, SGD momentum 0.9": (
        [*MLP_ON_DIGITS, "optimizer=sgd", "optimizer.momentum=0.9", "trainer.eval_every=60"],
        mlp,
        F.cross_entropy,
    ),
    "mlp on digits, mini-batch 32, SGD, gradient norm clipped to 1": (
        [*MLP_ON_DIGITS, "optimizer=sgd", "trainer.clip_grad_norm=1", "trainer.eval_every=60"],
        mlp,
        F.cross_entropy,
    ),
    "logistic on breast_cancer, full batch, SGD": (
        [
            "model=logistic",
            "dataset=breast_cancer",
            "optimizer=sgd",
            "trainer=full_batch",
            "trainer.max_epochs=5000",
            "trainer.eval_every=5000",
        ],
        lambda: nn.Linear(30, 1),
        lambda eta, y: F.binary_cross_entropy_with_logits(eta.squeeze(-1), y),
    ),
}


def plain_loop(make_model, loss_fn, X, y, trainer_cfg, optimizer_cfg, seed):
    """The textbook loop: shuffle, index, zero_grad, forward, loss, backward, (clip,) step, as a
    user writes it (torch's defaults, nothing recorded). Returns (wall, CPU seconds, steps)."""
    torch.manual_seed(seed)
    model = make_model()
    optimizer = torch.optim.SGD(
        model.parameters(), lr=optimizer_cfg.lr, momentum=optimizer_cfg.momentum
    )
    generator = torch.Generator().manual_seed(seed)
    n, steps, batch_size = len(X), 0, trainer_cfg.batch_size
    wall, cpu = perf_counter(), thread_time()
    for _ in range(trainer_cfg.max_epochs):
        if batch_size is None:
            batches = [(X, y)]
        else:
            order = torch.randperm(n, generator=generator)
            batches = (
                (X[order[i : i + batch_size]], y[order[i : i + batch_size]])
                for i in range(0, n, batch_size)
            )
        for xb, yb in batches:
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            if trainer_cfg.clip_grad_norm is not None:
                torch.nn.utils.clip_grad_norm_(model.parameters(), trainer_cfg.clip_grad_norm)
            optimizer.step()
            steps += 1
    return perf_counter() - wall, thread_time() - cpu, steps


def dlrun_fit(cfg, names) -> tuple[float, float, int]:
    """dlrun's own fit on the built experiment: (wall seconds, CPU seconds, steps)."""
    experiment = build(cfg, names)
    with tempfile.TemporaryDirectory() as run_dir:
        wall, cpu = perf_counter(), thread_time()
        result = fit(
            experiment.model,
            experiment.data,
            experiment.optimizer,
            experiment.trainer,
            experiment.generator,
            RunRecord(Path(run_dir)),
            RunConsole(False),
        )
        return perf_counter() - wall, thread_time() - cpu, result.steps


def compare(cfg, names, make_model, loss_fn, repeats: int, threads: int) -> tuple[dict, int]:
    """Median steps per second of dlrun's fit and of the plain loop, CPU and wall time."""
    data = build(cfg, names).data  # the same splits dlrun trains on
    rates = {"dlrun wall": [], "plain wall": [], "dlrun cpu": [], "plain cpu": []}
    for repeat in range(repeats):
        wall, cpu, steps = dlrun_fit(cfg, names)
        rates["dlrun wall"].append(steps / wall)
        rates["dlrun cpu"].append(steps / cpu)
        torch.set_num_threads(threads)
        wall, cpu, steps = plain_loop(
            make_model,
            loss_fn,
            data.train.X,
            data.train.y,
            cfg.trainer,
            cfg.optimizer,
            repeat,
        )
        rates["plain wall"].append(steps / wall)
        rates["plain cpu"].append(steps / cpu)
    return {key: statistics.median(values) for key, values in rates.items()}, steps


def print_rates(title: str, median: dict) -> None:
    print(title)
    for clock in ("cpu", "wall"):
        dlrun_rate, plain_rate = median[f"dlrun {clock}"], median[f"plain {clock}"]
        print(
            f"  {clock:4}: dlrun {dlrun_rate:,.0f} steps/s, plain PyTorch {plain_rate:,.0f} "
            f"steps/s, ratio {dlrun_rate / plain_rate:.2f}x"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    print(f"torch {torch.__version__}, threads={args.threads}, median of {args.repeats} runs")
    for name, (overrides, make_model, loss_fn) in CASES.items():
        cfg, names = compose_config(*overrides, f"threads={args.threads}")
        median, steps = compare(cfg, names, make_model, loss_fn, args.repeats, args.threads)
        print_rates(f"{name} ({steps} steps):", median)


if __name__ == "__main__":
    main()
