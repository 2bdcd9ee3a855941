"""init.png and training.png from the comparison tables init.csv and training.csv, with the
series named as the README names them ("plain, batch", "residual, zero-init, none").

Usage: python experiments/resnet_depth/plot.py [RESULT_DIR]   (default: this folder)

dlrun-report's own figure labels a series by its raw key values ("False, zero, batch"); this
one names it, keeps one colour per kind of network and one line style per normalisation, and
marks with a × a depth at which every run diverged.
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

# (residual, branch_scale) -> name and colour; plain networks ignore branch_scale
KINDS = {
    (False, None): ("plain", "tab:gray"),
    (True, "none"): ("residual, unscaled", "tab:red"),
    (True, "sqrt_depth"): ("residual, 1/√depth", "tab:orange"),
    (True, "zero"): ("residual, zero-init", "tab:blue"),
}
NORMS = {"none": ("-", "o"), "batch": ("--", "s")}
TITLES = {
    "grad/first_layer_init": "‖∂L/∂W₁‖ at initialisation",
    "train/loss": "train loss after 200 steps (mean of 2 seeds)",
    "train/acc": "train accuracy after 200 steps (mean ± std, 2 seeds)",
}


def series_name(residual: bool, branch_scale: str, norm: str) -> tuple[str, str, str, str]:
    """(label, colour, line style, marker) of a row of the comparison."""
    name, colour = KINDS[(residual, branch_scale if residual else None)]
    style, marker = NORMS[norm]
    return f"{name}, {norm}", colour, style, marker


def draw(axes, cells: pd.DataFrame, metric: str) -> None:
    """One line per network and normalisation over depth (the README's row order), a × at the
    top where every run diverged. Log axes get no error bars: a std as large as the mean (two
    seeds, one of them stuck) would reach below zero; the stds are in the .md tables."""
    keys = ["model.residual", "model.branch_scale", "model.norm"]
    log_scale = metric != "train/acc"
    kinds, norms = list(KINDS), list(NORMS)
    order = sorted(
        cells.groupby(keys).groups,
        key=lambda k: (kinds.index((k[0], k[1] if k[0] else None)), norms.index(k[2])),
    )
    lost = []
    for key in order:
        group = cells[(cells[keys] == pd.Series(key, index=keys)).all(axis=1)]
        group = group[group.metric == metric].sort_values("model.depth")
        label, colour, style, marker = series_name(*key)
        done = group[group.n > 0]
        axes.errorbar(
            done["model.depth"],
            done["mean"],
            yerr=None if log_scale else done["std"].fillna(0),
            color=colour,
            linestyle=style,
            marker=marker,
            capsize=2,
            label=label,
        )
        lost += [(depth, colour) for depth in group[group.n == 0]["model.depth"]]
    if log_scale:
        axes.set_yscale("log")
    top = axes.get_ylim()[1]
    for depth, colour in lost:
        axes.plot([depth], [top], "x", color=colour, markersize=8, clip_on=False)
    axes.set_xscale("log", base=2)
    depths = sorted(cells["model.depth"].unique())
    axes.set_xticks(depths, [str(d) for d in depths])
    axes.set_xlabel("depth (blocks of two linear layers)")
    axes.set_title(TITLES.get(metric, metric), fontsize=10)
    axes.grid(alpha=0.3)


def plot(table: Path, metrics: list[str], out: Path) -> None:
    """A figure of one panel per metric, the legend to the right of the panels."""
    cells = pd.read_csv(table)
    figure, panels = plt.subplots(
        1, len(metrics), figsize=(4.6 * len(metrics) + 2.4, 3.8), squeeze=False
    )
    for axes, metric in zip(panels[0], metrics, strict=True):
        draw(axes, cells, metric)
    handles, labels = panels[0][0].get_legend_handles_labels()
    if (cells.n == 0).any():
        handles.append(plt.Line2D([], [], color="black", marker="x", linestyle="none"))
        labels.append("every run diverged")
    figure.legend(handles, labels, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8)
    figure.tight_layout()
    figure.savefig(out, dpi=120, bbox_inches="tight")
    plt.close(figure)


def main(result_dir: Path) -> None:
    plot(result_dir / "init.csv", ["grad/first_layer_init"], result_dir / "init.png")
    plot(result_dir / "training.csv", ["train/acc", "train/loss"], result_dir / "training.png")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent)
