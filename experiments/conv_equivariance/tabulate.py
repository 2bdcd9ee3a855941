"""Per-shift tables of the conv_equivariance sweep, from its runs' equivariance.csv files.

    python experiments/conv_equivariance/tabulate.py SWEEP_DIR OUT_DIR

Rows: representation (the CNN's detector map, its max/avg-pooled versions, the MLP's hidden
layer); columns: shift k; cells: mean over seeds. Writes shifts.csv, shifts.md, shifts.png.
"""

import json
import sys
from pathlib import Path

import pandas as pd

from dlrun.analyses.equivariance import plot

MEASURES = {
    "equivariance": "equivariance error ‖f(S_k x) − S_k f(x)‖ / ‖f(x)‖, interior",
    "equivariance_full": "equivariance error over the whole map (border included)",
    "invariance": "invariance error ‖r(S_k x) − r(x)‖ / ‖r(x)‖",
    "changed": "fraction of (non-silent) values that change",
}


def load(sweep: Path) -> pd.DataFrame:
    frames = []
    for path in sorted(sweep.rglob("equivariance.csv")):
        summary = json.loads((path.parent / "summary.json").read_text())
        frames.append(pd.read_csv(path).assign(model=summary["model"], seed=summary["seed"]))
    return pd.concat(frames, ignore_index=True)


def main(sweep: Path, out: Path) -> None:
    runs = load(sweep)
    runs["representation"] = runs.model + ": " + runs.layer
    order = list(dict.fromkeys(runs.representation))
    means = runs.groupby(["representation", "shift"], sort=False).mean(numeric_only=True)
    means = means.drop(columns="seed").reset_index()
    means.to_csv(out / "shifts.csv", index=False)
    lines = [f"Mean over {runs.seed.nunique()} seeds; shift k in pixels along the width.\n"]
    for measure, title in MEASURES.items():
        table = means.pivot(index="representation", columns="shift", values=measure)
        table = table.reindex([r for r in order if table.loc[r].notna().any()])
        lines += [
            f"## {title}\n",
            "| representation | " + " | ".join(f"k={k}" for k in table.columns) + " |",
            "|---|" + "---:|" * len(table.columns),
        ]
        lines += [
            f"| {name} | " + " | ".join(f"{v:.3g}" for v in row) + " |"
            for name, row in table.iterrows()
        ]
        lines.append("")
    (out / "shifts.md").write_text("\n".join(lines))
    columns = ["layer", "shift", "equivariance", "equivariance_full", "invariance", "changed"]
    plot(means.rename(columns={"representation": "layer"})[columns]).savefig(out / "shifts.png")
    print(f"wrote {out / 'shifts.csv'}, shifts.md, shifts.png")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
