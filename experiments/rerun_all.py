"""Rerun every experiment into a temporary folder and compare its data with the committed files.

    python experiments/rerun_all.py                      # all of them, cheapest first
    python experiments/rerun_all.py convexity adding_task
    python experiments/rerun_all.py --update rnn_gradients   # also copy the new files here

Each experiment's run.sh writes its runs under $DLRUN_OUTPUTS and its result files under
$DLRUN_RESULTS (both in a temporary folder here); then every CSV it wrote is compared, cell by
cell, with the committed CSV of the same name in experiments/<name>/. Timing cells (a column or a
metric whose name says time or ms) are left out: they change from run to run. The report lists,
per experiment, its run time and either "identical" or each cell that moved, old -> new; the exit
status is 1 if anything moved or failed. --update copies every regenerated file into
experiments/<name>/ (what regenerating a stale experiment means).
"""

import argparse
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
HERE = ROOT / "experiments"
# cheapest first (minutes on the shared 2-core machine, from each README): a broken one shows early
ORDER = (
    "backprop_check",
    "conv_equivariance",
    "glm_optimizers",
    "convexity",
    "model_comparison",
    "esn_mackey_glass",
    "resnet_depth",
    "lstm_vs_gru",
    "adding_task",
    "rnn_gradients",
)
TIMING_WORDS = ("time", "ms per")
# zero to rounding in float64 (softmax's flat Hessian direction: ±1e-16)
ATOL = 1e-14


def is_timing(name: str) -> bool:
    """A column or metric that measures time: not reproducible, not compared."""
    return any(word in str(name) for word in TIMING_WORDS)


def number(cell: str) -> float | None:
    """The cell as a number, or None for text."""
    try:
        return float(cell)
    except ValueError:
        return None


def same(old: str, new: str, rtol: float) -> bool:
    """Equal cells: equal text, or numbers within rtol of each other or both within ATOL of 0
    (NaN equal to NaN)."""
    if old == new:
        return True
    a, b = number(old), number(new)
    if a is None or b is None:
        return False
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=rtol, abs_tol=ATOL)


def spread_noise(old_row: pd.Series, new_row: pd.Series, rtol: float) -> bool:
    """Two stds that differ by float rounding: a std of nearly equal values is a difference, so
    its rounding error scales with the mean, not with itself."""
    a, b, scale = number(old_row["std"]), number(new_row["std"]), number(old_row["mean"])
    if a is None or b is None or scale is None or math.isnan(scale):
        return False
    return abs(a - b) <= rtol * abs(scale)


def row_name(row: pd.Series) -> str:
    """How a moved cell's row is named in the report."""
    if "metric" in row.index and "row_label" in row.index:
        return f"{row['row_label']} | {row.get('col_label', '')} | {row['metric']}"
    labels = []
    for value in row:
        if number(value) is not None and labels:
            break
        labels.append(str(value))
    return " | ".join(labels)


def compare_csv(old_path: Path, new_path: Path, rtol: float) -> tuple[list[str], int]:
    """Every non-timing cell that differs beyond rtol between two CSVs ('row / column: old ->
    new'), and how many more differ only within rtol (float noise: BLAS summation order)."""
    old = pd.read_csv(old_path, dtype=str, keep_default_na=False)
    new = pd.read_csv(new_path, dtype=str, keep_default_na=False)
    if list(old.columns) != list(new.columns) or len(old) != len(new):
        shape = f"shape: {list(old.columns)} x {len(old)} -> {list(new.columns)} x {len(new)}"
        return [shape], 0
    moved, noise = [], 0
    for (_, old_row), (_, new_row) in zip(old.iterrows(), new.iterrows()):
        if "metric" in old.columns and is_timing(old_row["metric"]):
            continue
        for column in old.columns:
            old_cell, new_cell = old_row[column], new_row[column]
            if is_timing(column) or old_cell == new_cell:
                continue
            if column == "std" and "mean" in old.columns and spread_noise(old_row, new_row, rtol):
                noise += 1
                continue
            if column != "cell" and same(old_cell, new_cell, rtol):
                noise += 1
                continue
            if column == "cell" and all(  # the printed cell of numbers that stayed within rtol
                same(old_row[c], new_row[c], rtol)
                or (c == "std" and spread_noise(old_row, new_row, rtol))
                for c in ("mean", "std")
                if c in old.columns
            ):
                noise += 1
                continue
            moved.append(f"{row_name(old_row)} / {column}: {old_row[column]} -> {new_row[column]}")
    return moved, noise


def compare(name: str, results: Path, rtol: float) -> tuple[list[str], int]:
    """Differences between experiments/<name>/ and the regenerated folder, CSV by CSV, and the
    number of cells that differ only within rtol."""
    differences, noise = [], 0
    committed = sorted(path.relative_to(HERE / name) for path in (HERE / name).rglob("*.csv"))
    regenerated = sorted(path.relative_to(results) for path in results.rglob("*.csv"))
    for missing in sorted(set(committed) - set(regenerated)):
        differences.append(f"{missing}: committed, not regenerated")
    for extra in sorted(set(regenerated) - set(committed)):
        differences.append(f"{extra}: regenerated, not committed")
    for relative in sorted(set(committed) & set(regenerated)):
        moved, within = compare_csv(HERE / name / relative, results / relative, rtol)
        differences += [f"{relative}: {line}" for line in moved]
        noise += within
    return differences, noise


def rerun(name: str, scratch: Path) -> tuple[float, int, str]:
    """Run experiments/<name>/run.sh into scratch; its seconds, exit status and output's tail."""
    environment = {
        **os.environ,
        "DLRUN_OUTPUTS": str(scratch / "outputs"),
        "DLRUN_RESULTS": str(scratch / "results"),
    }
    start = time.perf_counter()
    done = subprocess.run(
        ["bash", str(HERE / name / "run.sh")],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - start
    (scratch / f"{name}.log").write_text(done.stdout + done.stderr)
    return seconds, done.returncode, (done.stdout + done.stderr)[-2000:]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", help="experiments to rerun (default: all)")
    parser.add_argument("--update", action="store_true", help="copy regenerated files here")
    parser.add_argument(
        "--rtol", type=float, default=1e-6, help="numbers this close count as equal (1e-6)"
    )
    parser.add_argument("--keep", type=Path, help="keep the temporary folder at this path")
    arguments = parser.parse_args()
    names = arguments.names or list(ORDER)
    for name in names:
        if not (HERE / name / "run.sh").is_file():
            parser.error(f"no experiments/{name}/run.sh; choose from {', '.join(ORDER)}")
    scratch = arguments.keep or Path(tempfile.mkdtemp(prefix="dlrun-rerun-"))
    scratch.mkdir(parents=True, exist_ok=True)
    total, failures = 0.0, 0
    for name in names:
        seconds, status, tail = rerun(name, scratch)
        total += seconds
        results = scratch / "results" / name
        print(f"## {name}: {seconds:.0f} s", flush=True)
        if status != 0:
            failures += 1
            print(f"run.sh failed (exit {status}); log: {scratch / (name + '.log')}\n{tail}")
            continue
        differences, noise = compare(name, results, arguments.rtol)
        failures += bool(differences)
        if noise:
            print(f"({noise} cells differ only within rtol {arguments.rtol:g})")
        print("identical (every non-timing cell)" if not differences else "\n".join(differences))
        if arguments.update:
            shutil.copytree(results, HERE / name, dirs_exist_ok=True)
            print(f"copied {results} -> experiments/{name}/")
        print(flush=True)
    minutes, seconds = divmod(round(total), 60)
    print(f"total: {minutes} min {seconds} s, {len(names)} experiments, {failures} moved or failed")
    if not arguments.keep:
        shutil.rmtree(scratch, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
