"""The experiments' README numbers agree with their committed data files, at the printed precision.

Two kinds of check, both reading files only (no training):
- every generated table block (<!-- generated: NAME -->) equals what experiments/readme_tables.py
  renders from the experiment's CSVs now;
- every prose claim listed in CLAIMS: its sentence, with the numbers formatted from the data,
  appears in the README verbatim; a claim about a range or an inequality is checked as such.
A number that moves in the data (a rerun, a regenerated CSV) fails here until the README follows.
"""

import math
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
EXPERIMENTS = ROOT / "experiments"
sys.path.insert(0, str(EXPERIMENTS))

import readme_tables  # noqa: E402
from readme_tables import significant  # noqa: E402

NUMBER = re.compile(r"(?<![\w.])[−-]?\d[\d,]*(?:\.\d+)?(?:e[−-]?\d+)?%?")


def read(experiment: str, name: str, **options) -> pd.DataFrame:
    return pd.read_csv(EXPERIMENTS / experiment / name, **options)


def cell(experiment: str, name: str, metric: str, **where) -> pd.Series:
    """The row (mean, std, ...) of a dlrun-report CSV for one metric and the given keys."""
    frame = read(experiment, name)
    rows = frame[frame.metric == metric]
    for key, value in where.items():
        rows = rows[rows[key] == value]
    assert len(rows) == 1, (experiment, name, metric, where, len(rows))
    return rows.iloc[0]


def mean(experiment: str, name: str, metric: str, **where) -> float:
    return float(cell(experiment, name, metric, **where)["mean"])


def pct(value: float, decimals: int = 1) -> str:
    return f"{100 * value:.{decimals}f}%"


def fixed(value: float, decimals: int) -> str:
    return f"{value:.{decimals}f}".replace("-", "−")


# --- data accessors, one per experiment -----------------------------------------------------


def comparison_acc(data: str, model: str) -> float:
    return mean("model_comparison", f"{data}.csv", "test/acc", model=model)


def comparison_std(data: str, model: str) -> float:
    return float(cell("model_comparison", f"{data}.csv", "test/acc", model=model)["std"])


def comparison_value(data: str, model: str, metric: str) -> float:
    return mean("model_comparison", f"{data}.csv", metric, model=model)


def convexity_row(dataset: str, model: str) -> pd.Series:
    frame = read("convexity", "convexity.csv")
    return frame[(frame.dataset == dataset) & (frame.model == model)].iloc[0]


def iterations(model: str, optimizer: str, lr: float) -> str:
    frame = read("glm_optimizers", "iterations.csv", dtype=str)
    row = frame[(frame.model == model) & (frame.optimizer == optimizer)]
    row = row[row.lr.astype(float) == lr]
    return row.iloc[0]["iterations to loss − loss* < 1e-08"]


def glm_row(model: str, optimizer: str, lr: float) -> pd.Series:
    frame = read("glm_optimizers", "iterations.csv")
    rows = frame[(frame.model == model) & (frame.optimizer == optimizer) & (frame.lr == lr)]
    return rows.iloc[0]


def glm_ms(optimizer: str) -> list[float]:
    """ms per iteration of every run of one optimizer, both models."""
    frame = read("glm_optimizers", "iterations.csv")
    return frame[frame.optimizer == optimizer]["ms per iteration"].tolist()


def min_max_values(values: list[float]) -> tuple[float, float]:
    return min(values), max(values)


def min_max(values: list[float], digits: int) -> tuple[str, str]:
    return significant(min(values), digits), significant(max(values), digits)


def logistic_eigs() -> tuple[float, float]:
    row = convexity_row("synthetic_binary", "logistic")
    return row["fitted/min_eig"], row["fitted/max_eig"]


PLAIN = (False, "zero", "none")
PLAIN_BN = (False, "zero", "batch")
UNSCALED = (True, "none", "none")
ZERO_INIT = (True, "zero", "none")
ZERO_INIT_BN = (True, "zero", "batch")
SCALED = (ZERO_INIT, (True, "sqrt_depth", "none"))
RESIDUAL_BN = ((True, "none", "batch"), (True, "sqrt_depth", "batch"), ZERO_INIT_BN)
DEPTHS = (2, 4, 8, 16, 32, 64)
RESNET_KEYS = ["model.residual", "model.branch_scale", "model.norm", "model.depth", "metric"]


def resnet_row(name: str, key: tuple, depth: int, metric: str) -> pd.Series:
    frame = read("resnet_depth", name).set_index(RESNET_KEYS).sort_index()
    return frame.loc[(*key, depth, metric)]


def init_grad(key: tuple, depth: int) -> float:
    return float(resnet_row("init.csv", key, depth, "grad/first_layer_init")["mean"])


def trained(key: tuple, depth: int, metric: str) -> pd.Series:
    return resnet_row("training.csv", key, depth, metric)


def sci(value: float) -> str:
    """2 significant digits in the READMEs' short scientific form: 9.1e-4, 1.3e9."""
    mantissa, power = f"{value:.1e}".split("e")
    return f"{mantissa}e{int(power)}"


def esn_grid(value: str = "mean") -> pd.DataFrame:
    """Test NRMSE (mean or std over the reservoirs): rows reservoir size, columns ρ."""
    frame = read("esn_mackey_glass", "comparison.csv")
    frame = frame[frame.metric == "test/nrmse"]
    return frame.pivot(index="model.reservoir_size", columns="model.spectral_radius", values=value)


KS = (1, 2, 3, 4)


def shift(representation: str, k: int, column: str) -> float:
    frame = read("conv_equivariance", "shifts.csv")
    row = frame[(frame.representation == representation) & (frame["shift"] == k)]
    return float(row.iloc[0][column])


def conv_acc(model: str, column: str) -> float:
    return float(cell("conv_equivariance", "comparison.csv", "test/acc", model=model)[column])


ADDING_T = (50, 100, 200, 400)
ADDING_MODELS = ("rnn", "leaky_rnn", "lstm", "gru", "esn")


def adding_mse(model: str, seq_len: int) -> float:
    return mean("adding_task", "comparison.csv", "test/loss", model=model, seq_len=seq_len)


def adding_baseline(seq_len: int) -> float:
    frame = read("adding_task", "baselines.csv", index_col="seq_len")
    return float(frame.loc[seq_len, "mean predictor"])


def solved_runs() -> set[tuple[str, int]]:
    return {(m, t) for m in ADDING_MODELS for t in ADDING_T if adding_mse(m, t) < 0.01}


def unsolved_mse() -> list[float]:
    solved = solved_runs()
    return [adding_mse(m, t) for m in ADDING_MODELS for t in ADDING_T if (m, t) not in solved]


def unsolved_ratios() -> list[float]:
    solved = solved_runs()
    return [
        adding_mse(m, t) / adding_baseline(t)
        for m in ADDING_MODELS
        for t in ADDING_T
        if (m, t) not in solved
    ]


def adding_rate(model: str, seq_len: int, phase: str = "end") -> float:
    name = "gradients/comparison.csv"
    return mean("adding_task", name, f"{phase}/grad_rate", model=model, seq_len=seq_len)


def adding_end_log10(model: str, seq_len: int) -> float:
    name = "gradients/comparison.csv"
    return mean("adding_task", name, "end/log10_grad_h1", model=model, seq_len=seq_len)


def floor3(value: float) -> str:
    """A lower bound printed to 3 decimals: rounded down, so that it stays a bound."""
    return f"{math.floor(value * 1000) / 1000:.3f}"


def ceil3(value: float) -> str:
    """An upper bound printed to 3 decimals: rounded up."""
    return f"{math.ceil(value * 1000) / 1000:.3f}"


SUPERSCRIPT = str.maketrans("-0123456789.", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹·")


def superscript(text: str) -> str:
    return text.translate(SUPERSCRIPT)


RNN_MODELS = ("rnn", "leaky_rnn", "skip_rnn", "lstm", "gru", "esn")


def rnn_rate(model: str, name: str, seq_len: int = 400) -> float:
    return mean("rnn_gradients", "rates/comparison.csv", name, model=model, seq_len=seq_len)


def rnn_log10(model: str, phase: str, seq_len: int) -> float:
    name = f"{phase}/log10_grad_h1"
    return mean("rnn_gradients", "comparison.csv", name, model=model, seq_len=seq_len)


TRAINED = ("rnn", "leaky_rnn", "skip_rnn", "lstm", "gru")


def baseline_cell(model: str, seq_len: int, column: str) -> float:
    frame = read("rnn_gradients", "baseline.csv")
    row = frame[(frame.model == model) & (frame.seq_len == seq_len)]
    return float(row.iloc[0][column])


def trained_at_length(column: str) -> list[float]:
    """The gradient-trained models' column at T ≥ 25, skip_rnn at T = 400 left out."""
    return [
        baseline_cell(m, t, column)
        for m in TRAINED
        for t in (25, 50, 100, 200, 400)
        if (m, t) != ("skip_rnn", 400)
    ]


def esn_from_50(column: str) -> list[float]:
    return [baseline_cell("esn", t, column) for t in (50, 100, 200, 400)]


def rnn_mse(model: str, seq_len: int, column: str) -> float:
    row = cell("rnn_gradients", "comparison.csv", "test/loss", model=model, seq_len=seq_len)
    return float(row[column])


def newton_gaps(model: str) -> list[float]:
    frame = read("glm_optimizers", "newton_gaps.csv")
    return frame[frame.model == model].sort_values("iteration").gap.tolist()


def gap_text(gap: float) -> str:
    """A loss gap as the README writes it: 2.05, 0.20, 6.5e-3."""
    if gap >= 1:
        return f"{gap:.3g}"
    if gap >= 0.1:
        return f"{gap:.2f}"
    mantissa, power = f"{gap:.1e}".split("e")
    return f"{mantissa}e{int(power)}"


# lstm_vs_gru: comparison.csv (means over seeds, paired differences) and seeds.csv (each run)


def lvg_line(model: str, metric: str) -> pd.Series:
    return cell("lstm_vs_gru", "comparison.csv", metric, model=model)


def lvg_seeds(model: str) -> pd.DataFrame:
    frame = read("lstm_vs_gru", "seeds.csv")
    return frame[frame.model == model].sort_values("seed")


def lvg_steps(model: str) -> list[int]:
    return lvg_seeds(model).steps.tolist()


def spoken_list(values: list) -> str:
    """'1, 2 and 3'."""
    return ", ".join(str(v) for v in values[:-1]) + f" and {values[-1]}"


def lvg_longest_wait() -> pd.Series:
    """The LSTM run that went longest without a new best validation loss."""
    seeds = lvg_seeds("lstm")
    return seeds.loc[seeds.longest_wait.idxmax()]


def lvg_difference(metric: str) -> str:
    """'−1087 [−1622, −551]', as comparison.md and the README's table print it."""
    from dlrun.report.stats import Difference, format_difference

    line = lvg_line("gru", metric)
    difference = Difference(line.difference, line.diff_low, line.diff_high, 0.0, line.test, 0)
    return format_difference(metric, difference).replace("-", "−")


def lvg_resolvable_steps() -> float:
    """The seed advisor's smallest difference in steps that n seeds resolve (comparison.md)."""
    from dlrun.report.stats import detectable_difference, pooled_std

    lines = [lvg_line(model, "steps") for model in ("lstm", "gru")]
    std = pooled_std([line["std"] for line in lines], [int(line.n) for line in lines])
    return detectable_difference(std, min(int(line.n) for line in lines))


def lvg_all_solved() -> bool:
    seeds = read("lstm_vs_gru", "seeds.csv")
    return bool(seeds.solved.all() and (seeds["test/loss"] < 0.01).all()) and all(
        lvg_line(model, "test/loss").baseline_verdict == "better" for model in ("lstm", "gru")
    )


# --- the claims -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """A README sentence whose numbers come from the data: `text` with {} filled by `values`
    must appear in `readme` verbatim. `holds`, if given, checks a range or inequality the
    sentence states (its numbers then typed in `text`, checked against the data by `holds`)."""

    readme: str
    text: str
    values: Callable[[], tuple] = lambda: ()
    holds: Callable[[], bool] | None = None

    def sentence(self) -> str:
        return self.text.format(*self.values())

    @property
    def name(self) -> str:
        folder = self.readme.split("/")[-2] if "/" in self.readme else "README"
        return f"{folder}: {self.text}".replace("\n", " ")


MC = "experiments/model_comparison/README.md"
CV = "experiments/convexity/README.md"
GO = "experiments/glm_optimizers/README.md"
BP = "experiments/backprop_check/README.md"
RD = "experiments/resnet_depth/README.md"
EM = "experiments/esn_mackey_glass/README.md"
CE = "experiments/conv_equivariance/README.md"
AT = "experiments/adding_task/README.md"
RG = "experiments/rnn_gradients/README.md"
LG = "experiments/lstm_vs_gru/README.md"
MAIN = "README.md"


def digits_ratio(model: str, other: str, metric: str) -> float:
    return comparison_value("digits", model, metric) / comparison_value("digits", other, metric)


def digits_accs() -> list[float]:
    return [comparison_acc("digits", m) for m in ("softmax", "mlp", "cnn", "resnet", "lstm")]


CLAIMS = [
    # model_comparison
    Claim(
        MC,
        "On digits every model is within 3 points",
        holds=lambda: max(digits_accs()) - min(digits_accs()) < 0.03,
    ),
    Claim(
        MC,
        "even the linear softmax GLM reaches {}",
        lambda: (pct(comparison_acc("digits", "softmax")),),
    ),
    Claim(
        MC,
        "The CNN is best\n({}) with about as many parameters as the MLP ({:,.0f} vs {:,.0f})",
        lambda: (
            pct(comparison_acc("digits", "cnn")),
            comparison_value("digits", "cnn", "n_params"),
            comparison_value("digits", "mlp", "n_params"),
        ),
        holds=lambda: comparison_acc("digits", "cnn") == max(digits_accs()),
    ),
    Claim(
        MC,
        "the ResNet ({}) and the LSTM ({})",
        lambda: (pct(comparison_acc("digits", "resnet")), pct(comparison_acc("digits", "lstm"))),
    ),
    Claim(
        MC,
        "convolutional models reach {} (CNN, with fewer parameters than the MLP: "
        "{:,.0f} vs {:,.0f}) and\n{} (ResNet)",
        lambda: (
            pct(comparison_acc("waveforms", "cnn")),
            comparison_value("waveforms", "cnn", "n_params"),
            comparison_value("waveforms", "mlp", "n_params"),
            pct(comparison_acc("waveforms", "resnet")),
        ),
    ),
    Claim(MC, "while the MLP gets {}", lambda: (pct(comparison_acc("waveforms", "mlp")),)),
    Claim(
        MC, "and the linear GLM only\n{}", lambda: (pct(comparison_acc("waveforms", "softmax")),)
    ),
    Claim(
        MC,
        "reaches {} but varies most between\nseeds (± {} points)",
        lambda: (
            pct(comparison_acc("waveforms", "lstm")),
            fixed(100 * comparison_std("waveforms", "lstm"), 1),
        ),
        holds=lambda: (
            comparison_std("waveforms", "lstm")
            == max(
                comparison_std("waveforms", m) for m in ("softmax", "mlp", "cnn", "resnet", "lstm")
            )
        ),
    ),
    Claim(
        MC,
        "at {}× the MLP's training time;\nthe ResNet ({}) and the LSTM ({}), "
        "with {}–{}× more parameters",
        lambda: (
            f"{digits_ratio('cnn', 'mlp', 'train_time_s'):.0f}",
            pct(comparison_acc("digits", "resnet")),
            pct(comparison_acc("digits", "lstm")),
            *(f"{digits_ratio(m, 'cnn', 'n_params'):.0f}" for m in ("lstm", "resnet")),
        ),
        holds=lambda: (
            comparison_acc("digits", "resnet") < comparison_acc("digits", "cnn")
            and comparison_acc("digits", "lstm") < comparison_acc("digits", "cnn")
        ),
    ),
    Claim(
        MC,
        "ResNet ({} s vs {} s)",
        lambda: tuple(
            f"{comparison_value('waveforms', m, 'train_time_s'):.2f}" for m in ("lstm", "resnet")
        ),
        holds=lambda: (
            comparison_value("waveforms", "lstm", "train_time_s")
            >= comparison_value("waveforms", "resnet", "train_time_s")
        ),
    ),
    # convexity
    Claim(
        CV,
        "(λmin {}…{})",
        lambda: (
            significant(min(strict_glm_min_eigs()), 2),
            significant(max(strict_glm_min_eigs()), 2),
        ),
        holds=lambda: all(
            min(convexity_row(d, m)["fitted/min_eig"], convexity_row(d, m)["random/min_eig"]) > 0
            for d, m in STRICT_GLMS
        ),
    ),
    Claim(
        CV,
        "Softmax's λmin is\n0 to rounding ({})",
        lambda: (
            significant(convexity_row("synthetic_multiclass", "softmax")["fitted/min_eig"], 2),
        ),
    ),
    Claim(
        CV,
        "All four GLMs have smallest Hessian eigenvalue ≥ −1e-8 at both points",
        holds=lambda: all(
            min(convexity_row(d, m)["fitted/min_eig"], convexity_row(d, m)["random/min_eig"])
            >= -1e-8
            for d, m in GLMS
        ),
    ),
    Claim(
        CV,
        "at random weights λmin = {} … {}",
        lambda: (
            significant(max(convexity_row(d, "mlp")["random/min_eig"] for d, _ in GLMS), 2),
            significant(min(convexity_row(d, "mlp")["random/min_eig"] for d, _ in GLMS), 3),
        ),
    ),
    Claim(
        CV,
        "{}–{} % of λmax in magnitude",
        lambda: (
            round(100 * min(mlp_ratio(d, "random") for d, _ in GLMS)),
            round(100 * max(mlp_ratio(d, "random") for d, _ in GLMS)),
        ),
    ),
    Claim(
        CV,
        "at the fitted weights {} … {}, {}–{} % of λmax",
        lambda: (
            significant(max(convexity_row(d, "mlp")["fitted/min_eig"] for d, _ in GLMS), 2),
            significant(min(convexity_row(d, "mlp")["fitted/min_eig"] for d, _ in GLMS), 2),
            f"{100 * min(mlp_ratio(d, 'fitted') for d, _ in GLMS):.1f}",
            f"{100 * max(mlp_ratio(d, 'fitted') for d, _ in GLMS):.1f}",
        ),
    ),
    # glm_optimizers
    Claim(
        GO,
        "Newton needs the fewest iterations on both models: {} for logistic and {} for Poisson, "
        "against\n{} and {} for the best line search and {} and {} for the best fixed SGD step "
        "we tried",
        lambda: (
            iterations("logistic", "newton", 1.0),
            iterations("poisson", "newton", 1.0),
            iterations("logistic", "line_search", 10.0),
            iterations("poisson", "line_search", 1.0),
            iterations("logistic", "sgd", 1.0),
            iterations("poisson", "sgd", 0.1),
        ),
    ),
    Claim(
        GO,
        "- logistic: {}",
        lambda: (", ".join(gap_text(g) for g in newton_gaps("logistic")),),
    ),
    Claim(
        GO,
        "- poisson: {}",
        lambda: (", ".join(gap_text(g) for g in newton_gaps("poisson")),),
    ),
    Claim(
        GO,
        "(logistic: {} → {} →\n{})",
        lambda: tuple(gap_text(g) for g in newton_gaps("logistic")[1:4]),
    ),
    Claim(
        GO,
        "at the optimum lie in {}–{} (logistic) and {}–{} (Poisson)",
        lambda: (
            significant(convexity_row("synthetic_binary", "logistic")["fitted/min_eig"], 2),
            significant(convexity_row("synthetic_binary", "logistic")["fitted/max_eig"], 2),
            significant(convexity_row("synthetic_count", "poisson")["fitted/min_eig"], 2),
            significant(convexity_row("synthetic_count", "poisson")["fitted/max_eig"], 2),
        ),
    ),
    Claim(
        GO,
        "near 2/(λmin + λmax) ≈ {})\ncomes within a factor 2 of Newton",
        lambda: (f"{2 / sum(logistic_eigs()):.0f}",),
        holds=lambda: all(
            int(iterations(model, "line_search", lr)) <= 2 * int(iterations(model, "newton", 1.0))
            for model, lr in (("logistic", 10.0), ("poisson", 1.0))
        ),
    ),
    Claim(
        GO,
        "is above 2/λmax ≈ {} for logistic and oscillates at loss − loss* ≈ {}",
        lambda: (
            f"{2 / logistic_eigs()[1]:.0f}",
            significant(glm_row("logistic", "sgd", 10.0)["final loss − loss*"], 2),
        ),
        holds=lambda: 10 > 2 / logistic_eigs()[1],
    ),
    Claim(
        GO,
        "makes lr = 1 and 10 diverge within {} steps",
        lambda: (max(int(iterations("poisson", "sgd", lr).split()[-1]) for lr in (1.0, 10.0)),),
    ),
    Claim(
        GO,
        "Per iteration Newton cost\n{}–{} ms against {}–{} ms for SGD in this rerun",
        lambda: (
            *min_max(glm_ms("newton"), 2),
            *min_max(glm_ms("sgd"), 2),
        ),
    ),
    # resnet_depth
    Claim(
        RD,
        "vanishes with depth — {} at 2 blocks, {} at 32, {} at 64 ({}× smaller)",
        lambda: (
            significant(init_grad(PLAIN, 2), 2),
            significant(init_grad(PLAIN, 32), 2),
            sci(init_grad(PLAIN, 64)),
            significant(init_grad(PLAIN, 2) / init_grad(PLAIN, 64), 2),
        ),
    ),
    Claim(
        RD,
        "from 8 blocks on they do not train in the budget (≤ 35% train accuracy, or diverged)",
        holds=lambda: all(
            trained(PLAIN, d, "train/acc")["n"] == 0
            or trained(PLAIN, d, "train/acc")["mean"] <= 0.35
            for d in (8, 16, 32, 64)
        ),
    ),
    Claim(
        RD,
        "the gradient explodes ({} at 8 blocks, {} at 64); from 16 blocks every run\ndiverges",
        lambda: (significant(init_grad(UNSCALED, 8), 2), sci(init_grad(UNSCALED, 64))),
        holds=lambda: all(trained(UNSCALED, d, "train/acc")["n"] == 0 for d in (16, 32, 64)),
    ),
    Claim(
        RD,
        "gradient stays at {}–{} at every depth",
        lambda: min_max([init_grad(key, d) for key in SCALED for d in DEPTHS], 2),
    ),
    Claim(
        RD,
        "trains to {}\ntrain accuracy, while the plain one of the same size stays at {}",
        lambda: (
            pct(trained(ZERO_INIT, 64, "train/acc")["mean"]),
            pct(trained(PLAIN, 64, "train/acc")["mean"], 0),
        ),
    ),
    Claim(
        RD,
        "the gradient is moderate ({}–{})",
        lambda: min_max([init_grad(PLAIN_BN, d) for d in (2, 4, 8)], 2),
    ),
    Claim(
        RD,
        "(train loss {} vs {} at 8\nblocks)",
        lambda: (
            significant(trained(PLAIN_BN, 8, "train/loss")["mean"], 2),
            significant(trained(ZERO_INIT_BN, 8, "train/loss")["mean"], 2),
        ),
    ),
    Claim(
        RD,
        "({} at 16 blocks,\n{} at 64;",
        lambda: (f"{init_grad(PLAIN_BN, 16):.0f}", sci(init_grad(PLAIN_BN, 64))),
    ),
    Claim(
        RD,
        "({}, {}, {} at 16, 32, 64 blocks)",
        lambda: tuple(pct(trained(PLAIN_BN, d, "train/acc")["mean"], 0) for d in (16, 32, 64)),
    ),
    Claim(
        RD,
        "with a flat gradient ({}–{}) even with unscaled branches",
        lambda: min_max([init_grad(key, d) for key in RESIDUAL_BN for d in DEPTHS], 2),
    ),
    # esn_mackey_glass
    Claim(
        EM,
        "at the best ρ the NRMSE falls from {} (50\n  units) to {} (400 units), "
        "roughly ×{} per doubling",
        lambda: (
            significant(esn_grid().loc[50].min(), 2),
            significant(esn_grid().loc[400].min(), 2),
            significant((esn_grid().loc[400].min() / esn_grid().loc[50].min()) ** (1 / 3), 2),
        ),
        holds=lambda: all(esn_grid()[r].is_monotonic_decreasing for r in esn_grid().columns),
    ),
    Claim(
        EM,
        "ρ ≈ 0.7 at 50 units,\n  0.9–1.1 at 100, 1.1 at 200 and 400",
        holds=lambda: (
            esn_grid().loc[50].idxmin() == 0.7
            and esn_grid().loc[100].idxmin() in (0.9, 1.1)
            and esn_grid().loc[200].idxmin() == esn_grid().loc[400].idxmin() == 1.1
        ),
    ),
    Claim(
        EM,
        "(ρ = 0.5 is\n  {}× worse than the optimum at 400 units)",
        lambda: (f"{esn_grid().loc[400, 0.5] / esn_grid().loc[400].min():.0f}",),
    ),
    Claim(
        EM,
        "(std {} at 50 units for\n  ρ = 1.5)",
        lambda: (significant(esn_grid("std").loc[50, 1.5], 2),),
        holds=lambda: esn_grid("std").loc[50, 1.5] == esn_grid("std").loc[50].max(),
    ),
    # conv_equivariance
    Claim(
        CE,
        "**0 in the interior for every k** (float32: the shifted\nmaps agree exactly), "
        "{}, {}, {}, {} over the whole map for k = 1…4",
        lambda: tuple(significant(shift("cnn: detector", k, "equivariance_full")) for k in KS),
        holds=lambda: all(shift("cnn: detector", k, "equivariance") == 0 for k in (0, *KS)),
    ),
    Claim(
        CE,
        "Test accuracy (`comparison.md`): CNN {} ± {}, MLP {} ± {}",
        lambda: tuple(
            pct(conv_acc(model, column), 2)
            for model in ("cnn", "mlp")
            for column in ("mean", "std")
        ),
    ),
    Claim(
        CE,
        "({}–{}% of\nthe map's norm",
        lambda: tuple(
            f"{100 * shift('cnn: detector', k, 'equivariance_full'):.0f}" for k in (1, KS[-1])
        ),
    ),
    Claim(
        CE,
        "by as much as the map's own norm ({})",
        lambda: (significant(shift("cnn: detector", 1, "invariance"), 2),),
    ),
    Claim(
        CE,
        "from {} (no pooling) to {} (2×2), {} (4×4, max) and {} (global)",
        lambda: (
            significant(shift("cnn: detector", 1, "invariance"), 2),
            significant(shift("cnn: max_pool2", 1, "invariance"), 2),
            significant(shift("cnn: max_pool4", 1, "invariance"), 2),
            significant(shift("cnn: max_pool_global", 1, "invariance"), 1),
        ),
    ),
    Claim(
        CE,
        "{}% of 2×2 and {}% of 4×4 max-pooled values do\nnot move at k = 1",
        lambda: tuple(
            f"{100 * (1 - shift(name, 1, 'changed')):.0f}"
            for name in ("cnn: max_pool2", "cnn: max_pool4")
        ),
    ),
    Claim(
        CE,
        "by as much as their norm ({}), at every k, and it generalises to new positions far "
        "worse ({}\ntest accuracy vs {})",
        lambda: (
            f"{shift('mlp: mlp_hidden', 1, 'invariance'):.2f}",
            pct(conv_acc("mlp", "mean")),
            pct(conv_acc("cnn", "mean"), 2),
        ),
    ),
    # adding_task
    Claim(
        AT,
        "Solved (test MSE < 0.01): GRU at every T, LSTM up to T = 100; every other model is within "
        "{}%\nof the mean predictor",
        lambda: (f"{100 * max(abs(r - 1) for r in unsolved_ratios()):.1f}",),
        holds=lambda: (
            solved_runs() == {("gru", t) for t in ADDING_T} | {("lstm", 50), ("lstm", 100)}
        ),
    ),
    Claim(
        AT,
        "every solved run ends with a decay factor ≥ {} per\n  step (the gradient from the loss "
        "reaches the first marker at T = 400 as {}⁴⁰⁰ ≈ {} of its\n  size), while the failed rnn "
        "and ESN runs end at ≤ {} (the trained rnn's {} at T = 100\n  means 10{} across 100 "
        "steps; measured log10 ‖∂L/∂h_1‖ = {})",
        lambda: (
            floor3(min(adding_rate(m, t) for m, t in solved_runs())),
            fixed(adding_rate("gru", 400), 3),
            f"{adding_rate('gru', 400) ** 400:.1f}",
            ceil3(max(adding_rate(m, t) for m in ("rnn", "esn") for t in ADDING_T)),
            fixed(adding_rate("rnn", 100), 3),
            superscript(f"{100 * math.log10(adding_rate('rnn', 100)):.1f}"),
            fixed(adding_end_log10("rnn", 100), 1),
        ),
    ),
    Claim(
        AT,
        "the failed leaky RNN ends at {}–{} and the failed LSTM runs at\n  {}–{}",
        lambda: (
            *(fixed(v, 3) for v in sorted(adding_rate("leaky_rnn", t) for t in ADDING_T)[::3]),
            *(fixed(v, 3) for v in sorted(adding_rate("lstm", t) for t in (200, 400))),
        ),
    ),
    Claim(
        AT,
        "stay at the mean predictor's error\n  ({} – {}) at every T",
        lambda: (
            significant(min(unsolved_mse()), 2),
            significant(max(unsolved_mse()), 2),
        ),
    ),
    Claim(
        AT,
        "(forget bias 1 gives {} per step at initialisation, the GRU starts at {}",
        lambda: (
            fixed(adding_rate("lstm", 400, "init"), 3),
            fixed(adding_rate("gru", 400, "init"), 3),
        ),
    ),
    Claim(
        AT,
        "keeps gradients longest at initialisation ({} at T = 400)",
        lambda: (fixed(adding_rate("leaky_rnn", 400, "init"), 3),),
        holds=lambda: (
            adding_rate("leaky_rnn", 400, "init")
            == max(adding_rate(m, 400, "init") for m in ADDING_MODELS)
        ),
    ),
    Claim(
        AT,
        "The ESN's fading memory ({}–{} per step)",
        lambda: tuple(
            fixed(v, 2) for v in min_max_values([adding_rate("esn", t) for t in ADDING_T])
        ),
    ),
    # rnn_gradients
    Claim(
        RG,
        "After training the rnn's rate falls to {} while the spectral radius of its W *grows* "
        "from\n{} to {}.",
        lambda: (
            fixed(rnn_rate("rnn", "end/grad_rate"), 3),
            fixed(rnn_rate("rnn", "init/spectral_radius"), 3),
            fixed(rnn_rate("rnn", "end/spectral_radius"), 3),
        ),
    ),
    Claim(
        RG,
        "(rate {} per step at ρ = 1,\n  where tanh′ < 1 does the shrinking). After training it "
        "vanishes much faster (rate {})\n  although ρ(W) rose to {}:",
        lambda: (
            fixed(rnn_rate("rnn", "init/grad_rate"), 3),
            fixed(rnn_rate("rnn", "end/grad_rate"), 2),
            fixed(rnn_rate("rnn", "end/spectral_radius"), 2),
        ),
    ),
    Claim(
        RG,
        "rate {} at init, the\n  slowest decay of all",
        lambda: (fixed(rnn_rate("leaky_rnn", "init/grad_rate"), 3),),
        holds=lambda: (
            rnn_rate("leaky_rnn", "init/grad_rate")
            == max(rnn_rate(m, "init/grad_rate") for m in RNN_MODELS if m != "skip_rnn")
        ),
    ),
    Claim(
        RG,
        "the gain per step exceeds 1 ({}) and the\n  gradient *grows* with T (10^{} at T = 400)",
        lambda: (
            fixed(rnn_rate("skip_rnn", "init/grad_rate"), 3),
            fixed(rnn_log10("skip_rnn", "init", 400), 1),
        ),
    ),
    Claim(
        RG,
        "σ(1) ≈ 0.73 → {} per step; GRU update gate ≈ 0.5 → {})",
        lambda: (
            fixed(rnn_rate("lstm", "init/grad_rate"), 3),
            fixed(rnn_rate("gru", "init/grad_rate"), 3),
        ),
    ),
    Claim(
        RG,
        "(the LSTM's rate stays {})",
        lambda: (fixed(rnn_rate("lstm", "end/grad_rate"), 2),),
    ),
    Claim(
        RG,
        "has the fastest decay, {} per step",
        lambda: (fixed(rnn_rate("esn", "init/grad_rate"), 3),),
        holds=lambda: (
            rnn_rate("esn", "init/grad_rate")
            == min(rnn_rate(m, "init/grad_rate") for m in RNN_MODELS)
        ),
    ),
    Claim(
        MAIN,
        "tabulates the four GLMs (smallest eigenvalue ≥ −1e-8 everywhere:\nconvex) against an MLP "
        "on the same data (negative eigenvalues at fitted and random weights)",
        holds=lambda: all(
            min(convexity_row(d, m)["fitted/min_eig"], convexity_row(d, m)["random/min_eig"])
            >= -1e-8
            and max(convexity_row(d, "mlp")[f"{point}/min_eig"] for point in POINTS) < 0
            for d, m in GLMS
        ),
    ),
    Claim(
        RG,
        "For the gradient-trained models\nthe ratio of the two is {}–{} at every T ≥ 25 except "
        "skip_rnn at T = 400 ({}): their\ntest MSE stays at the trivial predictor's level ({}–{})",
        lambda: (
            *(significant(v, 3) for v in min_max_values(trained_at_length("ratio"))),
            significant(baseline_cell("skip_rnn", 400, "ratio"), 3),
            *(significant(v, 3) for v in min_max_values(trained_at_length("test_mse"))),
        ),
    ),
    Claim(
        RG,
        "at\nT = 10 they remove {}–{}% of the baseline's error. skip_rnn at T = 400 ({} ± {})",
        lambda: (
            f"{100 * (1 - max(baseline_cell(m, 10, 'ratio') for m in TRAINED)):.1f}",
            f"{100 * (1 - min(baseline_cell(m, 10, 'ratio') for m in TRAINED)):.0f}",
            significant(rnn_mse("skip_rnn", 400, "mean"), 3),
            significant(rnn_mse("skip_rnn", 400, "std"), 3),
        ),
        holds=lambda: all(baseline_cell(m, 10, "ratio") < 1 for m in TRAINED),
    ),
    Claim(
        RG,
        "The ESN is {} of the baseline at T = 10, {} at T = 25 and\nworse from T = 50 on "
        "({}–{} times its MSE, {}–{},",
        lambda: (
            significant(baseline_cell("esn", 10, "ratio"), 3),
            significant(baseline_cell("esn", 25, "ratio"), 3),
            *(significant(v, 3) for v in min_max_values(esn_from_50("ratio"))),
            *(significant(v, 3) for v in min_max_values(esn_from_50("test_mse"))),
        ),
        holds=lambda: min(esn_from_50("ratio")) > 1,
    ),
    Claim(
        MAIN,
        "logistic / Poisson: Newton {} / {}",
        lambda: (iterations("logistic", "newton", 1.0), iterations("poisson", "newton", 1.0)),
    ),
    Claim(
        MAIN,
        "Armijo line search {} / {} (first trial step 10 and 1), SGD\n{} / {} (lr 1 and 0.1",
        lambda: (
            iterations("logistic", "line_search", 10.0),
            iterations("poisson", "line_search", 1.0),
            iterations("logistic", "sgd", 1.0),
            iterations("poisson", "sgd", 0.1),
        ),
    ),
    # lstm_vs_gru
    Claim(
        LG,
        "Every run solved (test MSE < 0.01; both models **better** than the mean predictor)",
        holds=lvg_all_solved,
    ),
    Claim(
        LG,
        "The LSTM\nsolved at steps {} (seeds 0-4), the GRU at {}.",
        lambda: (spoken_list(lvg_steps("lstm")), spoken_list(lvg_steps("gru"))),
        holds=lambda: lvg_seeds("lstm").seed.tolist() == [0, 1, 2, 3, 4],
    ),
    Claim(
        LG,
        "the GRU learns the adding problem about four times sooner than the LSTM ({} against\n"
        "{} steps) and with far less spread between seeds; the difference is resolved at n = 5",
        lambda: tuple(f"{lvg_line(m, 'steps')['mean']:.0f}" for m in ("gru", "lstm")),
        holds=lambda: (
            round(lvg_line("lstm", "steps")["mean"] / lvg_line("gru", "steps")["mean"]) == 4
            and lvg_line("gru", "steps")["std"] < lvg_line("lstm", "steps")["std"]
            and lvg_line("gru", "steps").verdict == "better"
            and int(lvg_line("gru", "steps").n) == 5
        ),
    ),
    Claim(
        LG,
        "resolves at about {} steps",
        lambda: (f"{round(lvg_resolvable_steps(), -1):.0f}",),
    ),
    Claim(
        LG,
        "The LSTM needs {}–{} steps",
        lambda: (min(lvg_steps("lstm")), max(lvg_steps("lstm"))),
    ),
    Claim(
        LG,
        "one seed ({}) kept\nepoch {}'s validation loss as its best for {} evaluations before it "
        "solved at epoch {}",
        lambda: tuple(
            int(lvg_longest_wait()[k]) for k in ("seed", "wait_from", "longest_wait", "epochs")
        ),
        holds=lambda: lvg_longest_wait().stopped == "solved",
    ),
    Claim(
        LG,
        "With a patience of 60\nthat seed stops unsolved at epoch {}",
        lambda: (int(lvg_longest_wait().wait_from) + 60,),
        holds=lambda: lvg_longest_wait().longest_wait >= 60,
    ),
    Claim(
        MAIN,
        "Over 5 seeds the GRU needs {}\nsteps against the LSTM's {} (95% intervals; paired "
        "difference {},\np = {}: {})",
        lambda: (
            lvg_line("gru", "steps").cell,
            lvg_line("lstm", "steps").cell,
            lvg_difference("steps"),
            f"{lvg_line('gru', 'steps').p_holm:.3f}",
            lvg_line("gru", "steps").verdict,
        ),
    ),
    Claim(
        MAIN,
        "solved at epoch {} (step {:,}), test MSE {} against the mean\npredictor's {}; the GRU "
        "solves at step {}",
        lambda: (
            int(lvg_seeds("lstm").iloc[0].epochs),
            int(lvg_seeds("lstm").iloc[0].steps),
            significant(lvg_seeds("lstm").iloc[0]["test/loss"], 2),
            significant(lvg_seeds("lstm").iloc[0]["baseline/test/loss"]),
            int(lvg_seeds("gru").iloc[0].steps),
        ),
    ),
    Claim(
        MAIN,
        "the LSTM went up to {}\nevaluations without a new best before it solved (seed {}, at "
        "epoch {}; a patience of 60 cut it\nshort)",
        lambda: tuple(int(lvg_longest_wait()[k]) for k in ("longest_wait", "seed", "epochs")),
        holds=lambda: lvg_longest_wait().longest_wait >= 60,
    ),
]

GLMS = (
    ("synthetic_binary", "logistic"),
    ("synthetic_count", "poisson"),
    ("synthetic_multiclass", "softmax"),
    ("synthetic_regression", "linear"),
)
STRICT_GLMS = tuple(pair for pair in GLMS if pair[1] != "softmax")


def strict_glm_min_eigs() -> list[float]:
    """λmin of linear, logistic and Poisson at the fitted and at the random weights."""
    return [convexity_row(d, m)[f"{p}/min_eig"] for d, m in STRICT_GLMS for p in POINTS]


POINTS = ("fitted", "random")


def mlp_ratio(dataset: str, point: str) -> float:
    row = convexity_row(dataset, "mlp")
    return abs(row[f"{point}/min_eig"]) / row[f"{point}/max_eig"]


def readme_text(path: str) -> str:
    return (ROOT / path).read_text()


def numbers(text: str) -> list[str]:
    return NUMBER.findall(text)


@pytest.mark.parametrize(
    ("experiment", "name"), sorted(readme_tables.TABLES), ids=lambda value: str(value)
)
def test_generated_table_matches_its_data(experiment: str, name: str) -> None:
    blocks = readme_tables.blocks(readme_text(f"experiments/{experiment}/README.md"))
    assert name in blocks, f"experiments/{experiment}/README.md has no generated block {name}"
    rendered = readme_tables.TABLES[(experiment, name)](EXPERIMENTS / experiment)
    assert blocks[name] == rendered, (
        f"stale table {name}: run python experiments/readme_tables.py\n{rendered}"
    )


@pytest.mark.parametrize("claim", CLAIMS, ids=lambda claim: claim.name[:60])
def test_readme_sentence_matches_its_data(claim: Claim) -> None:
    sentence = claim.sentence()
    assert sentence in readme_text(claim.readme), f"{claim.readme} should say: {sentence!r}"
    if claim.holds is not None:
        assert claim.holds(), f"the data contradict {claim.readme}: {sentence!r}"


def test_the_check_can_fail(tmp_path: Path) -> None:
    """A table rendered from a CSV with one moved number differs from the committed block."""
    frame = read("convexity", "convexity.csv")
    frame.loc[0, "fitted/max_eig"] *= 1.01
    frame.to_csv(tmp_path / "convexity.csv", index=False)
    committed = readme_tables.blocks(readme_text("experiments/convexity/README.md"))["convexity"]
    assert readme_tables.convexity(tmp_path) != committed


def count_checked_numbers() -> int:
    """How many numbers the README checks cover: in generated blocks and in claimed sentences."""
    total = 0
    for experiment, name in readme_tables.TABLES:
        block = readme_tables.blocks(readme_text(f"experiments/{experiment}/README.md"))[name]
        body = "\n".join(block.splitlines()[2:])  # not the header row's column names
        total += sum(len(numbers(line.split("|", 2)[-1])) for line in body.splitlines())
    total += sum(len(numbers(claim.sentence())) for claim in CLAIMS)
    return total


def test_count_is_reported() -> None:
    """The number count stays positive (printed with -s; quoted in the issue's report)."""
    count = count_checked_numbers()
    print(f"README numbers checked against data: {count}")
    assert count > 0 and not math.isnan(count)
