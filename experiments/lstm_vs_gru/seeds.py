"""Per-seed record of the lstm_vs_gru sweep: seeds.csv, one row per run.

    python experiments/lstm_vs_gru/seeds.py SWEEP_DIR OUT_DIR

The sweep's comparison.csv keeps means over the seeds; the README also quotes each seed's steps
to solve and how long a run sat on the plateau, which only the run records hold: from each run's
summary.json its model, seed, why it stopped, the epoch (= evaluation) and optimizer step it
stopped at, its test MSE and the mean predictor's; from its metrics.csv `longest_wait`, the most
evaluations in a row without a new best validation loss (what early stopping's patience counts),
and `wait_from`, the epoch of the best they waited on.
"""

import json
import sys
from pathlib import Path

import pandas as pd


def longest_wait(metrics: pd.DataFrame) -> tuple[int, int]:
    """The most evaluations in a row without a lower validation loss, and the best's epoch."""
    val = metrics[metrics.split == "val"].sort_values("epoch")
    best, best_epoch, longest, longest_from = float("inf"), 0, 0, 0
    for epoch, loss in zip(val.epoch, val.loss):
        if loss < best:
            best, best_epoch = loss, epoch
        elif epoch - best_epoch > longest:
            longest, longest_from = epoch - best_epoch, best_epoch
    return longest, longest_from


def seed_row(run: Path) -> dict:
    """One run's row of seeds.csv."""
    summary = json.loads((run / "summary.json").read_text())
    wait, wait_from = longest_wait(pd.read_csv(run / "metrics.csv"))
    return {
        "model": summary["model"],
        "seed": summary["seed"],
        "stopped": summary["stopped"],
        "solved": summary["solved"],
        "epochs": summary["epochs"],
        "steps": summary["steps"],
        "test/loss": summary["metrics"]["test/loss"],
        "baseline/test/loss": summary["metrics"]["baseline/test/loss"],
        "longest_wait": wait,
        "wait_from": wait_from,
    }


def main(sweep: Path, out: Path) -> None:
    rows = [seed_row(path.parent) for path in sorted(sweep.glob("*/seed-*/summary.json"))]
    frame = pd.DataFrame(rows).sort_values(["model", "seed"])
    frame.to_csv(out / "seeds.csv", index=False)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
