"""‖∂L/∂h_t‖ against t for every model at one sequence length, from the runs' grad_norms.csv.

python experiments/rnn_gradients/plot_through_time.py outputs/rnn_gradients 200 [RESULT_DIR]
(RESULT_DIR: where through_time.png goes; default this folder)
"""

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402


def main(sweep: Path, seq_len: int, out: Path) -> None:
    figure, panels = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for summary_file in sorted(sweep.glob("*/seed-0/summary.json")):
        summary = json.loads(summary_file.read_text())
        norms = pd.read_csv(summary_file.parent / "grad_norms.csv")
        if norms.t.max() != seq_len:
            continue
        for axes, phase in zip(panels, ("init", "end")):
            rows = norms[(norms.phase == phase) & (norms.norm > 0)]
            axes.plot(rows.t, rows.norm, label=summary["model"])
    for axes, phase in zip(panels, ("at initialisation", "after training")):
        axes.set_yscale("log")
        axes.set_xlabel("t")
        axes.set_title(f"‖∂L/∂h_t‖, T = {seq_len}, {phase} (seed 0)")
    panels[0].set_ylabel("‖∂L/∂h_t‖ (float64)")
    panels[1].legend()
    figure.tight_layout()
    figure.savefig(out, dpi=100)
    print(f"wrote {out}")


if __name__ == "__main__":
    here = Path(sys.argv[3]) if len(sys.argv) > 3 else Path(__file__).parent
    main(Path(sys.argv[1]), int(sys.argv[2]), here / "through_time.png")
