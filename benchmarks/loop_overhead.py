"""dlrun's training loop against the plainest hand-written PyTorch loop: steps per second.

Same data (dlrun's own splits), same model shape, same optimizer, same number of steps, same
thread count. dlrun's time is its training time (summary.json train_time_s: the epochs'
train steps, per-step loss and gradient-norm bookkeeping included; the final evaluation and
file writes excluded). Figures are printed, not asserted.

    python benchmarks/loop_overhead.py [--repeats 5] [--threads 1]
"""

import argparse
import statistics
import tempfile
from pathlib import Path
from time import perf_counter

import torch
import torch.nn.functional as F
from torch import nn

from dlrun.build import build
from dlrun.compose import compose_config
from dlrun.console import RunConsole
from dlrun.run import run_experiment

CASES = {
    "mlp on digits, mini-batch 32": (
        [
            "model=mlp",
            "dataset=digits",
            "optimizer=sgd",
            "trainer.batch_size=32",
            "trainer.max_epochs=30",
            "trainer.eval_every=30",
        ],
        lambda: nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10)),
        F.cross_entropy,
    ),
    "logistic on breast_cancer, full batch": (
        [
            "model=logistic",
            "dataset=breast_cancer",
            "optimizer=sgd",
            "trainer=full_batch",
            "trainer.max_epochs=3000",
            "trainer.eval_every=3000",
        ],
        lambda: nn.Linear(30, 1),
        lambda eta, y: F.binary_cross_entropy_with_logits(eta.squeeze(-1), y),
    ),
}


def plain_loop(make_model, loss_fn, X, y, batch_size, epochs, lr, seed) -> tuple[float, int]:
    """The textbook loop: shuffle, index, zero_grad, forward, loss, backward, step."""
    torch.manual_seed(seed)
    model = make_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(seed)
    n, steps = len(X), 0
    start = perf_counter()
    for _ in range(epochs):
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
            optimizer.step()
            steps += 1
    return perf_counter() - start, steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    print(f"torch {torch.__version__}, threads={args.threads}, median of {args.repeats} runs")
    for name, (overrides, make_model, loss_fn) in CASES.items():
        overrides = [*overrides, f"threads={args.threads}"]
        cfg, names = compose_config(*overrides)
        data = build(cfg, names).data  # the same splits dlrun trains on
        batch_size = cfg.trainer.batch_size
        dlrun_rates, plain_rates = [], []
        for repeat in range(args.repeats):
            with tempfile.TemporaryDirectory() as run_dir:
                summary = run_experiment(cfg, Path(run_dir), names, "benchmark", RunConsole(False))
            dlrun_rates.append(summary["steps"] / summary["train_time_s"])
            torch.set_num_threads(args.threads)
            seconds, steps = plain_loop(
                make_model,
                loss_fn,
                data.train.X,
                data.train.y,
                batch_size,
                cfg.trainer.max_epochs,
                cfg.optimizer.lr,
                repeat,
            )
            plain_rates.append(steps / seconds)
        dlrun_rate, plain_rate = statistics.median(dlrun_rates), statistics.median(plain_rates)
        print(
            f"{name}: dlrun {dlrun_rate:,.0f} steps/s, plain loop {plain_rate:,.0f} steps/s, "
            f"ratio {dlrun_rate / plain_rate:.2f}x  (steps per run: {summary['steps']})"
        )


if __name__ == "__main__":
    main()
