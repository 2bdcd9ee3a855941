"""How many intra-op threads a training step should use, by the size of the step.

Plain PyTorch loops (no dlrun code) at 1 thread and at torch's default, on a quiet machine and
with another process busy on one core. The work of a step is estimated as dlrun does
(parameters × rows per step × sequence length); dlrun's `threads=null` uses one thread below
dlrun.build.SMALL_STEP_WORK. Figures are printed, not asserted.

    python benchmarks/threads.py [--seconds 2]
"""

import argparse
import multiprocessing
from time import perf_counter

import torch
import torch.nn.functional as F
from torch import nn

from dlrun.build import SMALL_STEP_WORK, TORCH_DEFAULT_THREADS


class LastStep(nn.Module):
    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.lstm = nn.LSTM(1, hidden, batch_first=True)
        self.out = nn.Linear(hidden, 1)

    def forward(self, x):
        return self.out(self.lstm(x)[0][:, -1])


def cases():
    """(name, model, X, y, sequence length) of increasing step size."""
    generator = torch.Generator().manual_seed(0)
    yield (
        "logistic, full batch 455x30",
        nn.Linear(30, 1),
        torch.randn(455, 30, generator=generator),
        torch.randn(455, 1, generator=generator),
        1,
    )
    yield (
        "mlp [64] on 64 features, batch 32",
        nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10)),
        torch.randn(32, 64, generator=generator),
        torch.randn(32, 10, generator=generator),
        1,
    )
    yield (
        "mlp [256,256], batch 256",
        nn.Sequential(
            nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10)
        ),
        torch.randn(256, 64, generator=generator),
        torch.randn(256, 10, generator=generator),
        1,
    )
    yield (
        "lstm 64 units, T=200, batch 32",
        LastStep(64),
        torch.randn(32, 200, 1, generator=generator),
        torch.randn(32, 1, generator=generator),
        200,
    )


def steps_per_second(model, X, y, threads: int, seconds: float) -> float:
    torch.set_num_threads(threads)
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3)
    steps, start = 0, perf_counter()
    while perf_counter() - start < seconds:
        optimizer.zero_grad()
        F.mse_loss(model(X), y).backward()
        optimizer.step()
        steps += 1
    return steps / (perf_counter() - start)


def busy() -> None:
    while True:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()
    default = TORCH_DEFAULT_THREADS
    print(
        f"torch {torch.__version__}; torch's default threads here: {default}; "
        f"dlrun's small-step threshold: {SMALL_STEP_WORK:.0e}"
    )
    print(
        "case | work per step | machine | 1 thread steps/s | "
        f"{default} threads steps/s | 1 thread / {default} threads"
    )
    for name, model, X, y, seq_len in cases():
        work = sum(p.numel() for p in model.parameters()) * len(X) * seq_len
        for load in ("quiet", "one core busy"):
            hog = None
            if load != "quiet":
                hog = multiprocessing.Process(target=busy, daemon=True)
                hog.start()
            one = steps_per_second(model, X, y, 1, args.seconds)
            many = steps_per_second(model, X, y, default, args.seconds)
            if hog is not None:
                hog.terminate()
            print(f"{name} | {work:.1e} | {load} | {one:,.0f} | {many:,.0f} | {one / many:.2f}")


if __name__ == "__main__":
    main()
