"""Test MSE of each model against the sequence length T, with the mean predictor's test MSE on
the same splits and the "solved" threshold (test MSE < 0.01, the adding source's criterion).

    python experiments/adding_task/plot.py [RESULT_DIR]   (default: this folder)

Reads comparison.csv (written by run.sh's sweep); the mean predictor is computed here from the
same data (the experiment's dataset settings at each T, its training mean scored on its test
split: dlrun.verdict.baseline_metrics), so no model is retrained. Writes solved.png and
baselines.csv beside this file.
"""

import sys
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from dlrun.build import build_data, select_device  # noqa: E402
from dlrun.config.compose import compose_config  # noqa: E402
from dlrun.verdict import baseline_metrics  # noqa: E402

SEQ_LENS = (50, 100, 200, 400)
THRESHOLD = 0.01


def mean_predictor_mse(seq_len: int) -> float:
    """The training mean's test MSE on the experiment's data at this T."""
    cfg, names = compose_config("experiment=adding_task", f"seq_len={seq_len}")
    import torch

    data = build_data(cfg, names["model"], select_device("cpu"), torch.float32)
    return baseline_metrics(data)["test"]["loss"]  # the squared loss: the MSE


def main(here: Path = HERE) -> None:
    table = pd.read_csv(here / "comparison.csv")
    mse = table[table.metric == "test/loss"].pivot(index="seq_len", columns="model", values="mean")
    baselines = pd.Series({t: mean_predictor_mse(t) for t in SEQ_LENS}, name="mean predictor")
    baselines.rename_axis("seq_len").to_csv(here / "baselines.csv")
    figure = Figure(figsize=(7.5, 4.5))
    axes = figure.subplots()
    for model in mse.columns:
        axes.plot(mse.index, mse[model], marker="o", label=model)
    axes.plot(baselines.index, baselines, "k--", label="mean predictor (baseline)")
    axes.axhline(THRESHOLD, color="tab:green", linestyle=":", label="solved: test MSE < 0.01")
    axes.set_xscale("log", base=2)
    axes.set_yscale("log")
    axes.set_xticks(SEQ_LENS, [str(t) for t in SEQ_LENS])
    axes.set_xlabel("sequence length T")
    axes.set_ylabel("test MSE (log scale)")
    axes.set_title("The adding problem: 1000 Adam steps, clipped at norm 1")
    axes.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), frameon=False)
    figure.tight_layout()
    figure.savefig(here / "solved.png", dpi=120)
    print(baselines.to_string())


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
