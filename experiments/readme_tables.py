"""The result tables of the experiments' READMEs, generated from their committed data files.

    python experiments/readme_tables.py          # rewrite every generated block in place
    python experiments/readme_tables.py --check  # exit 1 if a README block differs from its data

A README marks each generated table as

    <!-- generated: NAME -->
    ...
    <!-- /generated -->

and TABLES[(experiment, NAME)] renders it from experiments/<experiment>/'s CSVs (the files
run.sh writes), so no table number is typed by hand. tests/experiments/test_readme_numbers.py
checks every block against its data on every test run.
"""

import argparse
import math
import re
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
MINUS = "−"  # the READMEs' minus sign
BLOCK = re.compile(r"(<!-- generated: (\S+) -->\n)(.*?)(<!-- /generated -->)", re.DOTALL)


def significant(value: float, digits: int = 3) -> str:
    """value to `digits` significant digits: fixed point from 1e-4 to 1e5, else 1.3e−16."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if value == 0:
        return "0"
    exponent = math.floor(math.log10(abs(value)))
    if -4 <= exponent < 5:
        # round first: 0.0999 to 2 digits is 0.10, whose exponent is one higher
        rounded = float(f"{value:.{digits - 1}e}")
        exponent = math.floor(math.log10(abs(rounded)))
        text = f"{rounded:.{max(0, digits - 1 - exponent)}f}"
    else:
        mantissa, power = f"{value:.{digits - 1}e}".split("e")
        text = f"{mantissa}e{int(power)}"
    return text.replace("-", MINUS)


def percent(value: float, decimals: int = 2) -> str:
    """A fraction as a percentage: 0.9508 -> 95.08%."""
    return f"{100 * value:.{decimals}f}%"


def markdown(header: list[str], rows: list[list[str]], align: str = "---:") -> str:
    """A Markdown table; the first column left-aligned, the others `align`."""
    lines = ["| " + " | ".join(header) + " |"]
    lines.append("|---|" + "|".join([align] * (len(header) - 1)) + "|")
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def metric(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """The rows of a dlrun-report CSV (long format) for one metric."""
    return frame[frame.metric == name]


# model_comparison ------------------------------------------------------------------------------

COMPARISON_MODELS = {
    "digits": {
        "softmax": "softmax (GLM)",
        "mlp": "MLP",
        "cnn": "CNN",
        "resnet": "ResNet (conv, 4 blocks × 16)",
        "lstm": "LSTM (on seq_digits)",
    },
    "waveforms": {
        "softmax": "softmax (GLM)",
        "mlp": "MLP",
        "cnn": "CNN (1-D)",
        "resnet": "ResNet (1-D conv, 4 blocks × 16)",
        "lstm": "LSTM",
    },
}


def model_comparison(data: str) -> Callable[[Path], str]:
    """Test accuracy, parameters and training time per model, mean ± std over the seeds."""

    def render(folder: Path) -> str:
        frame = pd.read_csv(folder / f"{data}.csv").set_index(["model", "metric"]).sort_index()
        rows = []
        for model, label in COMPARISON_MODELS[data].items():
            acc = frame.loc[(model, "test/acc")]
            rows.append(
                [
                    label,
                    f"{percent(acc['mean'])} ± {percent(acc['std'])}",
                    f"{frame.loc[(model, 'n_params'), 'mean']:,.0f}",
                    significant(frame.loc[(model, "train_time_s"), "mean"]),
                ]
            )
        header = [data, "test acc", "parameters", "training time (s)"]
        return markdown(header, rows)

    return render


# convexity -------------------------------------------------------------------------------------


def convexity(folder: Path) -> str:
    """Loss and Hessian extremes at the fitted and at random weights, per data set and model."""
    frame = pd.read_csv(folder / "convexity.csv")
    columns = ["train/loss", "fitted/min_eig", "fitted/max_eig", "random/min_eig", "random/max_eig"]
    rows = [
        [row.dataset, row.model, str(row.n_params)]
        + [significant(row[c]) for c in columns]
        + ["yes" if row.psd_at_both else "no"]
        for _, row in frame.iterrows()
    ]
    header = ["dataset", "model", "params", "train loss", "fitted λmin", "fitted λmax"]
    header += ["random λmin", "random λmax", "PSD at both"]
    return markdown(header, rows, align="---")


# glm_optimizers --------------------------------------------------------------------------------

OPTIMIZER_NAMES = {"sgd": "SGD", "line_search": "line search", "newton": "**Newton**"}
ITERATIONS = "iterations to loss − loss* < 1e-08"


def glm_iterations(folder: Path) -> str:
    """Iterations to the optimum, final gap and time per iteration, per model and optimizer."""
    frame = pd.read_csv(folder / "iterations.csv", dtype={ITERATIONS: str})
    rows = []
    for _, row in frame.iterrows():
        iterations = row[ITERATIONS]
        completed = row.status == "completed"
        rows.append(
            [
                row.model,
                OPTIMIZER_NAMES[row.optimizer],
                f"{row.lr:g}",
                row.status,
                f"**{iterations}**" if row.optimizer == "newton" else iterations,
                significant(row["final loss − loss*"], 2) if completed else "—",
                significant(row["ms per iteration"], 2) if completed else "—",
            ]
        )
    header = ["model", "optimizer", "lr", "status", "iterations to loss − loss* < 1e-8"]
    header += ["final loss − loss*", "ms per iteration"]
    return markdown(header, rows, align="---")


# adding_task -----------------------------------------------------------------------------------

SOLVED = 0.01  # the adding source's criterion: test MSE < 0.01


def adding_mse(folder: Path) -> str:
    """Test MSE per model and T (bold: solved), and the mean predictor's on the same data."""
    mse = metric(pd.read_csv(folder / "comparison.csv"), "test/loss")
    mse = mse.pivot(index="model", columns="seq_len", values="mean")
    baselines = pd.read_csv(folder / "baselines.csv", index_col="seq_len")["mean predictor"]
    rows = [
        [model] + [f"**{significant(v, 2)}**" if v < SOLVED else significant(v) for v in values]
        for model, values in mse.iterrows()
    ]
    rows.append(["*mean predictor (baseline)*"] + [f"*{significant(v)}*" for v in baselines])
    return markdown(["model \\ T"] + [str(t) for t in mse.columns], rows)


def adding_rates(folder: Path) -> str:
    """The fitted factor per step back in time of ‖∂L/∂h_t‖, at init and after training."""
    frame = pd.read_csv(folder / "gradients" / "comparison.csv")
    rows = []
    for phase in ("init", "end"):
        rates = metric(frame, f"{phase}/grad_rate").pivot(
            index="model", columns="seq_len", values="mean"
        )
        rows += [
            [f"{model}, {phase}"] + [fixed3(v) for v in values]
            for model, values in rates.iterrows()
        ]
        lengths = rates.columns
    return markdown(["factor per step \\ T"] + [str(t) for t in lengths], rows)


def adding_times(folder: Path) -> str:
    """Seconds of training (the ESN: its ridge fit) per model and T, one thread."""
    times = metric(pd.read_csv(folder / "comparison.csv"), "train_time_s")
    times = times.pivot(index="model", columns="seq_len", values="mean")
    rows = [[model] + [significant(v, 2) for v in values] for model, values in times.iterrows()]
    return markdown(["training time (s) \\ T"] + [str(t) for t in times.columns], rows)


def fixed3(value: float) -> str:
    """A rate per step to 3 decimals (0.977, 0.044); — where the model has none."""
    return "—" if math.isnan(value) else f"{value:.3f}"


# rnn_gradients ---------------------------------------------------------------------------------

RNN_MODELS = ("rnn", "leaky_rnn", "skip_rnn", "lstm", "gru", "esn")


def with_spread(mean: float, std: float) -> str:
    """mean, and ± std where the seeds disagree by more than a tenth of the mean."""
    text = significant(mean)
    return f"{text} ± {significant(std)}" if std > 0.1 * abs(mean) else text


def by_model_metric_length(folder: Path) -> tuple[pd.DataFrame, list[int]]:
    """comparison.csv indexed by (model, metric, seq_len), and its sequence lengths."""
    frame = (
        pd.read_csv(folder / "comparison.csv")
        .set_index(["model", "metric", "seq_len"])
        .sort_index()
    )
    return frame, sorted(frame.index.get_level_values("seq_len").unique())


def rnn_gradient_norms(folder: Path) -> str:
    """log10 ‖∂L/∂h_1‖ at init and after training, per model and T (mean over the seeds)."""
    frame, lengths = by_model_metric_length(folder)
    rows = []
    for model in RNN_MODELS:
        for phase in ("init", "end"):
            cells = frame.loc[(model, f"{phase}/log10_grad_h1")]
            rows.append(
                [f"{model}, {phase}"] + [significant(cells.loc[t, "mean"]) for t in lengths]
            )
    return markdown(["model \\ T"] + [str(t) for t in lengths], rows)


def rnn_test_mse(folder: Path) -> str:
    """Test MSE (mean ± std over seeds) per model and T."""
    frame, lengths = by_model_metric_length(folder)
    rows = []
    for model in RNN_MODELS:
        cells = frame.loc[(model, "test/loss")]
        rows.append(
            [model] + [with_spread(cells.loc[t, "mean"], cells.loc[t, "std"]) for t in lengths]
        )
    return markdown(["test MSE \\ T"] + [str(t) for t in lengths], rows)


# backprop_check --------------------------------------------------------------------------------

BACKPROP_COLUMNS = {
    "numpy_vs_autograd": "numpy vs autograd",
    "numpy_vs_fd": "numpy vs fd",
    "autograd_vs_fd": "autograd vs fd",
}


def backprop_errors(folder: Path) -> str:
    """The worst and the median relative error over every layer's W and b, per comparison."""
    frame = pd.read_csv(folder / "backprop_check.csv")[list(BACKPROP_COLUMNS)]
    rows = [
        [f"worst of {len(frame)} rows"] + [significant(v, 2) for v in frame.max()],
        ["median"] + [significant(v, 2) for v in frame.median()],
    ]
    return markdown([""] + list(BACKPROP_COLUMNS.values()), rows, align="---")


# resnet_depth ----------------------------------------------------------------------------------

RESNET_ROWS = {  # (residual, branch_scale, norm) -> the README's row label
    (False, "zero", "none"): "plain, none",
    (False, "zero", "batch"): "plain, batch",
    (True, "none", "none"): "residual, unscaled, none",
    (True, "none", "batch"): "residual, unscaled, batch",
    (True, "sqrt_depth", "none"): "residual, 1/√depth, none",
    (True, "sqrt_depth", "batch"): "residual, 1/√depth, batch",
    (True, "zero", "none"): "residual, zero-init, none",
    (True, "zero", "batch"): "residual, zero-init, batch",
}
RESNET_KEYS = ["model.residual", "model.branch_scale", "model.norm"]


def resnet_grid(folder: Path, name: str) -> tuple[pd.DataFrame, list[int]]:
    frame = pd.read_csv(folder / name).set_index(RESNET_KEYS + ["model.depth", "metric"])
    depths = sorted(frame.index.get_level_values("model.depth").unique())
    return frame.sort_index(), depths


def resnet_init(folder: Path) -> str:
    """‖∂L/∂W₁‖ at initialisation per variant and depth (one seed)."""
    frame, depths = resnet_grid(folder, "init.csv")
    rows = [
        [label]
        + [significant(frame.loc[(*key, d, "grad/first_layer_init"), "mean"]) for d in depths]
        for key, label in RESNET_ROWS.items()
    ]
    return markdown(["residual, branch_scale, norm \\ depth"] + [str(d) for d in depths], rows)


def accuracy(value: float) -> str:
    """Train accuracy as the README writes it: 100% when every row is right, else 1 decimal."""
    return "100%" if value == 1 else f"{100 * value:.1f}%"


def resnet_training(folder: Path) -> str:
    """Train accuracy (train loss) after 200 steps, mean over the seeds that did not diverge."""
    frame, depths = resnet_grid(folder, "training.csv")
    rows = []
    for key, label in RESNET_ROWS.items():
        if key == (True, "sqrt_depth", "none") or key == (True, "sqrt_depth", "batch"):
            continue  # the training sweeps run zero-init and unscaled branches only
        cells = []
        for depth in depths:
            acc = frame.loc[(*key, depth, "train/acc")]
            loss = frame.loc[(*key, depth, "train/loss")]
            if acc["n"] == 0:
                cells.append("diverged")
                continue
            digits = 3 if loss["mean"] >= 1 else 2
            text = f"{accuracy(acc['mean'])} ({significant(loss['mean'], digits)})"
            if acc["n_diverged"]:
                text += f" [{acc['n_diverged']} diverged]"
            cells.append(text)
        rows.append([label] + cells)
    return markdown(["residual, branch_scale, norm \\ depth"] + [str(d) for d in depths], rows)


# esn_mackey_glass ------------------------------------------------------------------------------


def esn_nrmse(folder: Path) -> str:
    """Test NRMSE, mean ± std over the reservoirs, per size and ρ; bold: each size's best ρ."""
    frame = metric(pd.read_csv(folder / "comparison.csv"), "test/nrmse")
    means = frame.pivot(
        index="model.reservoir_size", columns="model.spectral_radius", values="mean"
    )
    stds = frame.pivot(index="model.reservoir_size", columns="model.spectral_radius", values="std")
    rows = []
    for size, values in means.iterrows():
        best = values.idxmin()
        cells = []
        for radius, value in values.items():
            text = f"{significant(value, 2)} ± {significant(stds.loc[size, radius], 2)}"
            cells.append(f"**{text}**" if radius == best else text)
        rows.append([str(size)] + cells)
    return markdown(["size \\ ρ"] + [f"{radius:g}" for radius in means.columns], rows)


# conv_equivariance -----------------------------------------------------------------------------

REPRESENTATIONS = {
    "cnn: detector": "cnn: detector map",
    "cnn: max_pool2": "cnn: max pool 2×2",
    "cnn: avg_pool2": "cnn: avg pool 2×2",
    "cnn: max_pool4": "cnn: max pool 4×4",
    "cnn: avg_pool4": "cnn: avg pool 4×4",
    "cnn: max_pool_global": "cnn: global max pool",
    "cnn: avg_pool_global": "cnn: global avg pool",
    "mlp: mlp_hidden": "mlp: hidden layer",
}


def changed(value: float) -> str:
    """A fraction of changed values: 100% when all, else 1 decimal."""
    return "100%" if value == 1 else f"{100 * value:.1f}%"


def conv_invariance(folder: Path) -> str:
    """Invariance error per representation and shift k = 1…4, and the values changed at k = 1."""
    frame = pd.read_csv(folder / "shifts.csv").set_index(["representation", "shift"])
    shifts = [k for k in sorted(frame.index.get_level_values("shift").unique()) if k > 0]
    rows = [
        [label]
        + [significant(frame.loc[(name, k), "invariance"]) for k in shifts]
        + [changed(frame.loc[(name, 1), "changed"])]
        for name, label in REPRESENTATIONS.items()
    ]
    header = ["invariance error \\ shift"] + [f"k={k}" for k in shifts]
    return markdown(header + ["values changed at k=1"], rows)


def rnn_rates(folder: Path) -> str:
    """At the longest T: the factor per step of ‖∂L/∂h_t‖ and the spectral radius of W, at
    initialisation and after training (mean over the seeds)."""
    frame = pd.read_csv(folder / "rates" / "comparison.csv")
    longest = frame.seq_len.max()
    frame = frame[frame.seq_len == longest].set_index(["model", "metric"])
    columns = {
        "init/grad_rate": "factor per step, init",
        "end/grad_rate": "factor per step, end",
        "init/spectral_radius": "ρ(W), init",
        "end/spectral_radius": "ρ(W), end",
    }
    rows = [
        [model] + [fixed3(frame.loc[(model, name), "mean"]) for name in columns]
        for model in RNN_MODELS
    ]
    return markdown([f"T = {longest}"] + list(columns.values()), rows)


# lstm_vs_gru -----------------------------------------------------------------------------------

LSTM_VS_GRU = {"steps": "steps to solve", "test/loss": "test MSE", "train_time_s": "train time (s)"}


def lstm_vs_gru(folder: Path) -> str:
    """Mean ± 95% half-width per model, the GRU's paired difference from the LSTM with its
    Holm-corrected p and verdict, and the mean predictor's test MSE over every run (seeds.csv),
    each formatted as dlrun-report formats comparison.md."""
    from dlrun.report.stats import (
        Difference,
        format_difference,
        format_estimate,
        format_p,
        t_half_width,
    )

    frame = pd.read_csv(folder / "comparison.csv", keep_default_na=False)
    frame = frame.set_index(["model", "metric"])
    rows = [
        [f"{model} (reference)" if model == "lstm" else model]
        + [frame.loc[(model, name), "cell"] for name in LSTM_VS_GRU]
        for model in ("lstm", "gru")
    ]
    differences = []
    for name in LSTM_VS_GRU:
        line = frame.loc[("gru", name)]
        difference = Difference(
            float(line.difference), float(line.diff_low), float(line.diff_high), 0.0, line.test, 0
        )
        text = f"{format_difference(name, difference)}, p = {format_p(float(line.p_holm))}"
        differences.append(f"{text}: **{line.verdict}**".replace("-", MINUS))
    rows.append(["gru − lstm [95% CI]"] + differences)
    baseline = pd.read_csv(folder / "seeds.csv")["baseline/test/loss"]
    half = t_half_width(float(baseline.std(ddof=1)), len(baseline))
    rows.append(["mean predictor", "—", format_estimate("test/loss", baseline.mean(), half), "—"])
    return markdown(["model"] + list(LSTM_VS_GRU.values()), rows)


TABLES: dict[tuple[str, str], Callable[[Path], str]] = {
    ("rnn_gradients", "rates"): rnn_rates,
    ("conv_equivariance", "invariance"): conv_invariance,
    ("esn_mackey_glass", "nrmse"): esn_nrmse,
    ("resnet_depth", "init"): resnet_init,
    ("resnet_depth", "training"): resnet_training,
    ("backprop_check", "errors"): backprop_errors,
    ("model_comparison", "digits"): model_comparison("digits"),
    ("model_comparison", "waveforms"): model_comparison("waveforms"),
    ("convexity", "convexity"): convexity,
    ("glm_optimizers", "iterations"): glm_iterations,
    ("adding_task", "test_mse"): adding_mse,
    ("adding_task", "grad_rates"): adding_rates,
    ("adding_task", "train_time"): adding_times,
    ("rnn_gradients", "log10_grad_h1"): rnn_gradient_norms,
    ("rnn_gradients", "test_mse"): rnn_test_mse,
    ("lstm_vs_gru", "comparison"): lstm_vs_gru,
}


def blocks(text: str) -> dict[str, str]:
    """The generated blocks of a README: name -> content."""
    return {match.group(2): match.group(3) for match in BLOCK.finditer(text)}


def rewrite(experiment: str, folder: Path | None = None) -> str:
    """The experiment's README with every generated block rendered from its data files."""
    folder = folder or HERE / experiment
    text = (HERE / experiment / "README.md").read_text()

    def render(match: re.Match) -> str:
        table = TABLES[(experiment, match.group(2))](folder)
        return match.group(1) + table + match.group(4)

    return BLOCK.sub(render, text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="report stale blocks, write nothing")
    arguments = parser.parse_args()
    stale = []
    for experiment in sorted({experiment for experiment, _ in TABLES}):
        readme = HERE / experiment / "README.md"
        new = rewrite(experiment)
        if new != readme.read_text():
            stale.append(experiment)
            if not arguments.check:
                readme.write_text(new)
    verb = "stale" if arguments.check else "rewrote"
    print(f"{verb}: {', '.join(stale)}" if stale else "every generated block matches its data")
    return 1 if stale and arguments.check else 0


if __name__ == "__main__":
    sys.exit(main())
