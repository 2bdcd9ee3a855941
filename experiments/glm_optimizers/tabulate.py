"""Iterations to the optimum per optimizer, from the runs' steps.csv: iterations.csv, .md, .png.

Usage: python experiments/glm_optimizers/tabulate.py OUTPUTS_DIR RESULT_DIR
(writes iterations.csv, .md, .png and newton_gaps.csv: loss − loss* after each Newton step)

steps.csv holds the loss *before* each step, so row k is L(w_{k-1}); the loss after the last
step is summary.json's train/loss (the same full training split). loss* is the lowest loss any
run of the same model reached (Newton's, to rounding).
"""

import math
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from dlrun.report import load_runs  # noqa: E402
from dlrun.report.render import frame_markdown  # noqa: E402

TOLERANCE = 1e-8
FLOOR = 1e-16  # float64 rounding of a loss near 1: gaps below it are drawn at it


def loss_path(run) -> np.ndarray:
    """L(w_0), L(w_1), ..., L(w_n) for a run of n full-batch steps (NaN once it diverged)."""
    steps = pd.read_csv(run.directory / "steps.csv")
    final = (run.summary.get("metrics") or {}).get("train/loss")
    final = math.nan if final is None else final
    return np.append(steps["loss"].to_numpy(dtype=float), final)


def label(optimizer: str, lr) -> str:
    name = {"sgd": "SGD", "line_search": "line search (Armijo)", "newton": "Newton"}[optimizer]
    if optimizer == "newton":
        return name
    return f"{name}, {'lr' if optimizer == 'sgd' else 'first trial step'} {lr:g}"


def collect(outputs: Path) -> tuple[pd.DataFrame, dict]:
    """The table (one row per run) and each run's loss − loss* per iteration, by model."""
    runs = [run for run in load_runs([outputs]) if (run.directory / "steps.csv").is_file()]
    paths = {id(run): loss_path(run) for run in runs}
    optimum = {}
    for run in runs:
        model = run.summary["model"]
        optimum[model] = min(optimum.get(model, math.inf), float(np.nanmin(paths[id(run)])))
    rows, gaps = [], {}
    for run in runs:
        model, optimizer = run.summary["model"], run.summary["optimizer"]
        lr = float(run.value("optimizer.lr"))
        gap = paths[id(run)] - optimum[model]
        reached = np.flatnonzero(gap < TOLERANCE)  # NaN compares False: diverged never reaches
        n_steps = len(gap) - 1
        rows.append(
            {
                "model": model,
                "dataset": run.summary["dataset"],
                "optimizer": optimizer,
                "lr": lr,
                "status": run.status,
                f"iterations to loss − loss* < {TOLERANCE:g}": (
                    int(reached[0])
                    if len(reached)
                    else f"diverged at step {n_steps}"
                    if run.status == "diverged"
                    else f"not within {n_steps}"
                ),
                "final loss − loss*": float(gap[-1]),
                "ms per iteration": 1000 * run.summary["train_time_s"] / n_steps,
            }
        )
        gaps.setdefault(model, []).append((label(optimizer, lr), optimizer, lr, gap))
    order = {"sgd": 0, "line_search": 1, "newton": 2}
    table = pd.DataFrame(rows)
    table["rank"] = table["optimizer"].map(order)
    table = table.sort_values(["model", "rank", "lr"], ignore_index=True).drop(columns="rank")
    return table, gaps


COLORS = {0.1: "tab:blue", 1.0: "tab:orange", 10.0: "tab:green"}
# markers at iterations spread evenly over the symlog axis, so a marked line stays readable
MARKED = [0, 1, 2, 4, 7, 10, 20, 40, 70, 100, 200, 400]


def line_style(optimizer: str, lr: float, n_points: int) -> dict:
    """Newton thick black; line search a wide pale band, SGD a thin dashed line with hollow
    markers on top of it, one colour per step size: where SGD and a line search that accepts
    its first trial step draw the same curve, the dashed line runs inside the band."""
    if optimizer == "newton":
        return {"linewidth": 2.5, "color": "k", "zorder": 4}
    marked = [i for i in MARKED if i < n_points]
    if optimizer == "sgd":
        return {
            "linestyle": "--",
            "linewidth": 1.2,
            "color": COLORS.get(lr),
            "marker": "o",
            "markerfacecolor": "white",
            "markersize": 5,
            "markevery": marked,
            "zorder": 3,
        }
    return {"linewidth": 5, "alpha": 0.45, "color": COLORS.get(lr), "zorder": 2}


def plot(gaps: dict, path: Path) -> None:
    """loss − loss* against iteration, log scale, one line per optimizer; a panel per model,
    one legend for both, beside them."""
    models = sorted(gaps)
    fig, axes = plt.subplots(1, len(models), figsize=(5.6 * len(models), 4.5), squeeze=False)
    for axis, model in zip(axes[0], models, strict=True):
        start = max(float(gap[0]) for _, _, _, gap in gaps[model])
        for name, optimizer, lr, gap in sorted(gaps[model], key=lambda line: line[:3]):
            style = line_style(optimizer, lr, len(gap))
            axis.plot(np.arange(len(gap)), np.clip(gap, FLOOR, None), label=name, **style)
        axis.axhline(TOLERANCE, color="grey", linestyle=":", linewidth=1)
        axis.set_xscale("symlog", linthresh=10)
        axis.set_xlim(0, max(len(gap) for *_, gap in gaps[model]) - 1)
        axis.set_yscale("log")
        axis.set_ylim(FLOOR / 2, 100 * start)  # a diverging run leaves through the top
        axis.set_xlabel("iteration (full-batch steps; linear to 10, log beyond)")
        axis.set_ylabel("training loss − loss*")
        axis.set_title(f"{model}: loss − loss* (dotted: {TOLERANCE:g})")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)


def newton_gaps(gaps: dict) -> pd.DataFrame:
    """loss − loss* at the start and after each Newton step, until it is rounding (< 10·FLOOR):
    the quadratic phase the README quotes."""
    rows = []
    for model in sorted(gaps):
        for _, optimizer, _, gap in gaps[model]:
            if optimizer != "newton":
                continue
            for iteration, value in enumerate(gap):
                rows.append({"model": model, "iteration": iteration, "gap": float(value)})
                if value < 10 * FLOOR:
                    break
    return pd.DataFrame(rows, columns=["model", "iteration", "gap"])


def main(outputs: str, result_dir: str) -> None:
    table, gaps = collect(Path(outputs))
    result = Path(result_dir)
    table.to_csv(result / "iterations.csv", index=False)
    (result / "iterations.md").write_text(frame_markdown(table))
    plot(gaps, result / "iterations.png")
    newton_gaps(gaps).to_csv(result / "newton_gaps.csv", index=False)
    print(frame_markdown(table))


if __name__ == "__main__":
    main(*sys.argv[1:3])
