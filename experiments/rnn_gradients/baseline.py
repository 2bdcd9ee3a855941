"""Test MSE of every model against the mean predictor's on the same data, at each T.

    python experiments/rnn_gradients/baseline.py [RESULT_DIR]   (default: this folder)

Reads comparison.csv (the sweep's test/loss, mean over its seeds); the mean predictor is the
training split's mean scored on the test split of the experiment's data at each T, for each
seed the sweep ran (the seed draws the split), averaged as the table averages the runs
(dlrun.verdict.baseline_metrics), so nothing is retrained. Writes baseline.md and baseline.csv
(model, seq_len, test_mse, ratio) into RESULT_DIR.
"""

import sys
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from dlrun.build import build_data, select_device  # noqa: E402
from dlrun.config.compose import compose_config  # noqa: E402
from dlrun.report.render import frame_markdown  # noqa: E402
from dlrun.verdict import baseline_metrics  # noqa: E402


def mean_predictor_mse(seq_len: int) -> float:
    """The training mean's test MSE on the experiment's data at this T, mean over its seeds."""
    import torch

    cfg, names = compose_config("experiment=rnn_gradients", f"seq_len={seq_len}")
    values = []
    for seed in range(cfg.seed, cfg.seed + cfg.repeats):
        cfg.seed = seed
        data = build_data(cfg, names["model"], select_device("cpu"), torch.float64)
        values.append(baseline_metrics(data)["test"]["loss"])  # the squared loss: the MSE
    return sum(values) / len(values)


def main(here: Path = HERE) -> None:
    table = pd.read_csv(here / "comparison.csv")
    mse = table[table.metric == "test/loss"].pivot(index="model", columns="seq_len", values="mean")
    mse.loc["mean predictor (baseline)"] = [mean_predictor_mse(t) for t in mse.columns]
    ratio = mse / mse.loc["mean predictor (baseline)"]
    frame = mse.reset_index().rename(columns=str)
    text = "Test MSE (mean over seeds) and the mean predictor's, by T:\n\n" + frame_markdown(frame)
    text += "\nTest MSE / the mean predictor's (1 = learned nothing):\n\n"
    text += frame_markdown(
        ratio.drop(index="mean predictor (baseline)").reset_index().rename(columns=str)
    )
    (here / "baseline.md").write_text(text)
    # the same numbers for the README's check (tests/experiments/test_readme_numbers.py)
    long = mse.rename_axis(index="model", columns="seq_len").stack().rename("test_mse")
    long = long.to_frame().join(
        ratio.rename_axis(index="model", columns="seq_len").stack().rename("ratio")
    )
    long.reset_index().to_csv(here / "baseline.csv", index=False)
    print(text)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
