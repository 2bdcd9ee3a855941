"""Seconds per training step: model=mlp_numpy (numpy backprop) against the same MLP in torch.

Both get the same weights and batch; one step is loss, backward and an SGD update, as dlrun's
loop does it. Figures are printed, not asserted (the CPU is shared: rerun for stable numbers).

    python benchmarks/mlp_numpy.py [--seconds 1]
"""

import argparse
from time import perf_counter

import torch

from dlrun.build import from_schema
from dlrun.config.model import MLPConfig, MLPNumpyConfig
from dlrun.models.base import DataInfo


def seconds_per_step(model, x, y, budget: float) -> float:
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    steps, started = 0, perf_counter()
    while perf_counter() - started < budget or steps < 5:
        optimizer.zero_grad(set_to_none=True)
        model.loss(x, y).backward()
        optimizer.step()
        steps += 1
    return (perf_counter() - started) / steps


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=1.0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"{'case':<36} {'torch ms':>9} {'numpy ms':>9} {'ratio':>6}")
    for rows, features, hidden, classes in [
        (32, 64, [64], 10),
        (1437, 64, [64], 10),
        (256, 256, [256, 256], 10),
    ]:
        torch.manual_seed(0)
        data = DataInfo((features,), "multiclass", classes)
        ours = from_schema(MLPNumpyConfig, data, hidden=hidden, activation="relu")
        reference = from_schema(MLPConfig, data, hidden=hidden, activation="relu")
        reference.load_state_dict(ours.state_dict())
        x = torch.randn(rows, features)
        y = torch.randint(0, classes, (rows,))
        t_torch = seconds_per_step(reference, x, y, args.seconds)
        t_numpy = seconds_per_step(ours, x, y, args.seconds)
        case = f"{rows}x{features}, hidden {hidden}, float32"
        print(f"{case:<36} {1e3 * t_torch:9.3f} {1e3 * t_numpy:9.3f} {t_numpy / t_torch:6.2f}")


if __name__ == "__main__":
    main()
