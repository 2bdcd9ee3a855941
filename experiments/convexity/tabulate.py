"""Collect the convexity runs' Hessian eigenvalues into convexity.csv, .md and .png.

Usage: python experiments/convexity/tabulate.py OUTPUTS_DIR RESULT_DIR
"""

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from dlrun.report.render import frame_markdown  # noqa: E402

PSD_TOLERANCE = 1e-8


def collect(outputs: Path) -> pd.DataFrame:
    rows = []
    for path in sorted(outputs.glob("**/summary.json")):
        summary = json.loads(path.read_text())
        hessian = summary.get("hessian")
        if not hessian or "skipped" in hessian:
            continue
        smallest = min(hessian["fitted/min_eig"], hessian["random/min_eig"])
        rows.append(
            {
                "dataset": summary["dataset"],
                "model": summary["model"],
                "n_params": hessian["n_params"],
                "train/loss": summary["metrics"]["train/loss"],
                "fitted/min_eig": hessian["fitted/min_eig"],
                "fitted/max_eig": hessian["fitted/max_eig"],
                "random/min_eig": hessian["random/min_eig"],
                "random/max_eig": hessian["random/max_eig"],
                "psd_at_both": bool(smallest >= -PSD_TOLERANCE),
            }
        )
    table = pd.DataFrame(rows)
    table["network"] = table["model"] == "mlp"  # each GLM first, then the MLP on its data
    table = table.sort_values(["dataset", "network"], ignore_index=True)
    return table.drop(columns="network")


def plot(table: pd.DataFrame, path: Path) -> None:
    """Smallest eigenvalue over largest, per run: below zero means negative curvature."""
    fig, axis = plt.subplots(figsize=(8, 4), constrained_layout=True)
    labels = [f"{m}\n{d.removeprefix('synthetic_')}" for m, d in zip(table.model, table.dataset)]
    x = range(len(table))
    for offset, point, marker in ((-0.15, "fitted", "o"), (0.15, "random", "s")):
        ratio = table[f"{point}/min_eig"] / table[f"{point}/max_eig"]
        axis.scatter([i + offset for i in x], ratio, marker=marker, label=f"{point} weights")
    axis.axhline(0, color="k", lw=0.8)
    axis.set_yscale("symlog", linthresh=1e-3)
    axis.set_xticks(list(x), labels, fontsize=8)
    axis.set_ylabel("λ_min / λ_max of the Hessian")
    axis.set_title("Hessian of the mean training loss: GLMs ≥ 0 (convex), MLPs < 0")
    axis.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(outputs: str, result_dir: str) -> None:
    table = collect(Path(outputs))
    result = Path(result_dir)
    table.to_csv(result / "convexity.csv", index=False)
    (result / "convexity.md").write_text(frame_markdown(table))
    plot(table, result / "convexity.png")
    print(frame_markdown(table))


if __name__ == "__main__":
    main(*sys.argv[1:3])
