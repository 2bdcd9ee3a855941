"""Statistics over seeds: each cell's 95% t interval, its difference from a reference cell
(paired t-test by seed when both ran the same seeds, Welch's t-test otherwise, Wilcoxon's
signed-rank test as an option), Holm's correction across a table, a three-way verdict, and the
seed advisor (the smallest difference n seeds resolve at α = 0.05 and 80% power).

The t statistics and intervals are computed here from their formulas with scipy's t
distribution; tests/report/test_stats.py checks them against scipy.stats.ttest_rel,
ttest_ind(equal_var=False), wilcoxon and statsmodels' multipletests(method="holm").
"""

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as scipy_stats

ALPHA = 0.05
POWER = 0.8
TESTS = ("t", "wilcoxon")  # report.test: the paired test; unpaired cells always get Welch's
# metric names (their last part) where a larger value is better; every other metric is a loss
# or an error (loss, mae, rmse, nrmse, deviance, mse), where smaller is better
HIGHER_IS_BETTER = ("acc", "r2")
BETTER, WORSE = "better", "worse"


def higher_is_better(metric: str) -> bool:
    """Whether a larger value of `metric` is better: accuracy and R², not losses."""
    return metric.rsplit("/", 1)[-1] in HIGHER_IS_BETTER


def t_half_width(std: float, n: int, confidence: float = 1 - ALPHA) -> float:
    """Half the width of the t interval of a mean: t_{1-α/2, n-1} · s / √n; NaN when n < 2."""
    if n < 2 or not math.isfinite(std):
        return math.nan
    return float(scipy_stats.t.ppf(0.5 + confidence / 2, n - 1) * std / math.sqrt(n))


@dataclass
class Difference:
    """A cell against its reference: the difference of means (cell − reference), its 95%
    interval, the test and its p-value (p_holm once the table is corrected)."""

    difference: float
    low: float
    high: float
    p: float
    test: str  # "paired t", "Wilcoxon", "Welch t", or "" when there is no test (n < 2)
    n: int  # seeds behind the comparison (pairs, or the smaller of the two cells)
    p_holm: float = math.nan


def paired(values: np.ndarray, reference: np.ndarray, test: str = "t") -> Difference:
    """The paired comparison of two cells by seed (values[i] and reference[i] share seed i)."""
    differences = np.asarray(values, float) - np.asarray(reference, float)
    n = len(differences)
    mean = float(differences.mean()) if n else math.nan
    if n < 2:
        return Difference(mean, math.nan, math.nan, math.nan, "", n)
    std = float(differences.std(ddof=1))
    half = t_half_width(std, n)
    if test == "wilcoxon":
        p = wilcoxon_p(differences)
        return Difference(mean, mean - half, mean + half, p, "Wilcoxon", n)
    return Difference(
        mean, mean - half, mean + half, t_p(mean, std / math.sqrt(n), n - 1), "paired t", n
    )


def welch(values: np.ndarray, reference: np.ndarray) -> Difference:
    """Welch's unpaired comparison (unequal variances, Welch–Satterthwaite degrees of freedom)."""
    a, b = np.asarray(values, float), np.asarray(reference, float)
    n = min(len(a), len(b))
    mean = float(a.mean() - b.mean()) if len(a) and len(b) else math.nan
    if n < 2:
        return Difference(mean, math.nan, math.nan, math.nan, "", n)
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1)) if se > 0 else math.inf
    half = float(scipy_stats.t.ppf(1 - ALPHA / 2, df) * se) if se > 0 else 0.0
    return Difference(mean, mean - half, mean + half, t_p(mean, se, df), "Welch t", n)


def t_p(mean: float, standard_error: float, df: float) -> float:
    """Two-sided p-value of t = mean / se; with no spread, 1 for no difference, 0 for any."""
    if standard_error == 0:
        return 1.0 if mean == 0 else 0.0
    return float(2 * scipy_stats.t.sf(abs(mean / standard_error), df))


def wilcoxon_p(differences: np.ndarray) -> float:
    """Wilcoxon's signed-rank p-value (scipy's, zeros dropped as Wilcoxon did); 1 when every
    difference is zero."""
    if not np.any(differences != 0):
        return 1.0
    return float(scipy_stats.wilcoxon(differences, zero_method="wilcox").pvalue)


def compare(values: dict[int, float], reference: dict[int, float], test: str = "t") -> Difference:
    """A cell (values by seed) against the reference cell: paired by seed when both ran the
    same seeds, Welch's test otherwise."""
    if set(values) == set(reference):
        seeds = sorted(values)
        return paired([values[s] for s in seeds], [reference[s] for s in seeds], test)
    return welch(list(values.values()), list(reference.values()))


def holm(pvalues: list[float]) -> list[float]:
    """Holm's step-down adjusted p-values (NaN stays NaN and is not counted)."""
    order = sorted((p, i) for i, p in enumerate(pvalues) if not math.isnan(p))
    adjusted = [math.nan] * len(pvalues)
    running = 0.0
    for rank, (p, index) in enumerate(order):
        running = max(running, min(1.0, (len(order) - rank) * p))
        adjusted[index] = running
    return adjusted


def verdict(difference: Difference, metric: str, alpha: float = ALPHA) -> str:
    """'better', 'worse', or 'no evidence at n = K seeds' (the Holm-corrected p-value when
    there is one); 'no interval at n = 1 seed' when a cell has a single run."""
    if difference.n < 2:
        return f"no interval at n = {difference.n} seed{'s' if difference.n != 1 else ''}"
    p = difference.p_holm if not math.isnan(difference.p_holm) else difference.p
    if p < alpha and difference.difference != 0:
        return BETTER if (difference.difference > 0) == higher_is_better(metric) else WORSE
    return f"no evidence at n = {difference.n} seeds"


def two_sample_power(difference: float, std: float, n: float, alpha: float = ALPHA) -> float:
    """Power of the two-sided two-sample t-test with n runs per cell (noncentral t)."""
    df = 2 * n - 2
    noncentrality = difference / (std * math.sqrt(2 / n))
    critical = scipy_stats.t.ppf(1 - alpha / 2, df)
    return float(
        scipy_stats.nct.sf(critical, df, noncentrality)
        + scipy_stats.nct.cdf(-critical, df, noncentrality)
    )


def detectable_difference(std: float, n: int, power: float = POWER) -> float:
    """The smallest difference of means that n seeds per cell resolve at α = 0.05 with the
    given power, for runs spread by `std` (two-sample t-test; NaN when n < 2 or no spread)."""
    if n < 2 or not std > 0:
        return math.nan
    from scipy.optimize import brentq

    upper = std
    while two_sample_power(upper, std, n) < power:
        upper *= 2
    return float(brentq(lambda d: two_sample_power(d, std, n) - power, 0, upper, xtol=std * 1e-9))


def seeds_needed(difference: float, std: float, power: float = POWER, limit: int = 100_000) -> int:
    """The fewest seeds per cell that resolve `difference` with the given power."""
    if not std > 0:
        return 2
    low, high = 2, 2
    while two_sample_power(difference, std, high) < power:
        low, high = high, high * 2
        if high > limit:
            return limit
    while low < high:  # power grows with n: bisect for the first n that reaches it
        middle = (low + high) // 2
        if two_sample_power(difference, std, middle) >= power:
            high = middle
        else:
            low = middle + 1
    return high


def pooled_std(stds: list[float], ns: list[int]) -> float:
    """The spread of runs within a cell, pooled over cells: √(Σ (n_i − 1) s_i² / Σ (n_i − 1))."""
    pairs = [(s, n) for s, n in zip(stds, ns) if n > 1 and math.isfinite(s)]
    dof = sum(n - 1 for _, n in pairs)
    return math.sqrt(sum((n - 1) * s * s for s, n in pairs) / dof) if dof else math.nan


def decimals(half_width: float, scale: float = 1.0) -> int:
    """Decimal places the interval supports: its half-width to one significant digit
    (0.0001491 -> 4, so 0.1722 ± 0.0001)."""
    value = abs(half_width * scale)
    if not math.isfinite(value) or value == 0:
        return 4
    return max(0, -math.floor(math.log10(value)))


def format_estimate(metric: str, mean: float, half_width: float) -> str:
    """'0.1722 ± 0.0001', '93.6% ± 0.8%' (accuracies in percent); the mean alone without an
    interval, and '± 0' when the runs are identical."""
    percent = metric.endswith("acc")
    scale, unit = (100.0, "%") if percent else (1.0, "")
    if not math.isfinite(half_width):
        return f"{100 * mean:.2f}%" if percent else f"{mean:.4g}"
    places = decimals(half_width, scale)
    if half_width == 0:
        return f"{mean * scale:.{places}f}{unit} ± 0"
    return f"{mean * scale:.{places}f}{unit} ± {half_width * scale:.{places}f}{unit}"


def format_difference(metric: str, difference: Difference) -> str:
    """'+1.2 points [0.3, 2.1]' for accuracies, '-0.013 [-0.020, -0.006]' otherwise."""
    scale, unit = (100.0, " points") if metric.endswith("acc") else (1.0, "")
    if not math.isfinite(difference.low):
        return f"{difference.difference * scale:+.4g}{unit}"
    places = decimals((difference.high - difference.low) / 2, scale)
    low, high = difference.low * scale, difference.high * scale
    return (
        f"{difference.difference * scale:+.{places}f}{unit} [{low:.{places}f}, {high:.{places}f}]"
    )


def format_p(p: float) -> str:
    """'0.003', '<0.001', '—' without a test."""
    if math.isnan(p):
        return "—"
    return "<0.001" if p < 0.001 else f"{p:.3f}"
