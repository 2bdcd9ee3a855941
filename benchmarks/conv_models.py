"""dlrun's CNN and ResNet against the same networks written as plain PyTorch: steps per second.

Same data (dlrun's own splits), same layer sizes, same optimizer and steps, one thread.
dlrun's time is its training time (summary.json train_time_s: its train steps with per-step loss
and gradient-norm bookkeeping); the plain side is the textbook loop of loop_overhead.py around
an nn.Sequential. Figures are printed, not asserted; the machine is shared.

    python benchmarks/conv_models.py [--repeats 3] [--threads 1]
"""

import argparse
import statistics
import tempfile
from pathlib import Path

import torch
import torch.nn.functional as F
from loop_overhead import plain_loop
from torch import nn

from dlrun.build import build
from dlrun.compose import compose_config
from dlrun.console import RunConsole
from dlrun.run import run_experiment

TRAINER = [
    "optimizer=sgd",
    "trainer.batch_size=64",
    "trainer.max_epochs=10",
    "trainer.eval_every=10",
    "trainer.checkpoint=false",
]


class PlainResidual(nn.Module):
    """h + W₂ relu(W₁ relu(h)), written directly."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.first, self.second = nn.Linear(width, width), nn.Linear(width, width)

    def forward(self, h):
        return h + self.second(F.relu(self.first(F.relu(h))))


def plain_cnn_2d():
    return nn.Sequential(
        nn.Unflatten(1, (1, 8, 8)),
        nn.Conv2d(1, 16, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(32 * 2 * 2, 10),
    )


def plain_cnn_1d():
    return nn.Sequential(
        nn.Unflatten(1, (1, 50)),
        nn.Conv1d(1, 16, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool1d(2),
        nn.Conv1d(16, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool1d(2),
        nn.Flatten(),
        nn.Linear(32 * 12, 4),
    )


def plain_resnet(depth: int = 16, width: int = 32):
    return nn.Sequential(
        nn.Linear(64, width),
        *[PlainResidual(width) for _ in range(depth)],
        nn.ReLU(),
        nn.Linear(width, 10),
    )


CASES = {
    "cnn 2-D on digits (8×8)": (["model=cnn", "dataset=digits"], plain_cnn_2d),
    "cnn 1-D on waveforms (T=50)": (
        ["model=cnn", "dataset=waveforms", "dataset.sequence=false"],
        plain_cnn_1d,
    ),
    "resnet mlp-form, 16 blocks × 32, on digits": (
        ["model=resnet", "model.form=mlp", "model.depth=16", "model.width=32", "dataset=digits"],
        plain_resnet,
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    print(f"torch {torch.__version__}, threads={args.threads}, median of {args.repeats} runs")
    for name, (overrides, make_model) in CASES.items():
        cfg, names = compose_config(*overrides, *TRAINER, f"threads={args.threads}")
        experiment = build(cfg, names)
        dlrun_params = sum(p.numel() for p in experiment.model.parameters())
        plain_params = sum(p.numel() for p in make_model().parameters())
        assert dlrun_params == plain_params, (name, dlrun_params, plain_params)
        data = experiment.data
        dlrun_rates, plain_rates = [], []
        for repeat in range(args.repeats):
            with tempfile.TemporaryDirectory() as run_dir:
                summary = run_experiment(cfg, Path(run_dir), names, "benchmark", RunConsole(False))
            dlrun_rates.append(summary["steps"] / summary["train_time_s"])
            torch.set_num_threads(args.threads)
            seconds, steps = plain_loop(
                make_model,
                F.cross_entropy,
                data.train.X,
                data.train.y,
                cfg.trainer.batch_size,
                cfg.trainer.max_epochs,
                cfg.optimizer.lr,
                repeat,
            )
            plain_rates.append(steps / seconds)
        dlrun_rate, plain_rate = statistics.median(dlrun_rates), statistics.median(plain_rates)
        print(
            f"{name}: dlrun {dlrun_rate:,.0f} steps/s, plain PyTorch {plain_rate:,.0f} steps/s, "
            f"ratio {dlrun_rate / plain_rate:.2f}x  ({dlrun_params:,} parameters, "
            f"{summary['steps']} steps per run)"
        )


if __name__ == "__main__":
    main()
