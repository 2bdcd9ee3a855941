"""dlrun's CNN and ResNet against the same networks written as plain PyTorch: steps per second.

Same data (dlrun's own splits), same layer sizes, same optimizer and steps, one thread.
dlrun's time is the whole of its `loop.fit` and the plain side the textbook loop around an
nn.Sequential, both from loop_overhead.py, in CPU time of this thread (the steadier figure on a
shared machine) and in wall time. Figures are printed, not asserted.

    python benchmarks/conv_models.py [--repeats 3] [--threads 1]
"""

import argparse

import torch
import torch.nn.functional as F
from loop_overhead import compare, print_rates
from torch import nn

from dlrun.build import build
from dlrun.config.compose import compose_config

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
        median, steps = compare(cfg, names, make_model, F.cross_entropy, args.repeats, args.threads)
        print_rates(f"{name} ({dlrun_params:,} parameters, {steps} steps):", median)


if __name__ == "__main__":
    main()
