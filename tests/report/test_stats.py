"""dlrun.report.stats against scipy.stats and statsmodels on fixed data: ties, n = 1 and
identical runs (zero spread) included."""

import math

import numpy as np
import pytest
from scipy import stats as scipy_stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import TTestIndPower

from dlrun.report import stats

# five seeds of two cells; the second set has ties among the differences
A = np.array([0.912, 0.905, 0.921, 0.899, 0.915])
B = np.array([0.901, 0.903, 0.909, 0.897, 0.904])
TIED = np.array(
    [0.910, 0.906, 0.920, 0.900, 0.911]
)  # A - TIED: 0.002, -0.001, 0.001, -0.001, 0.004


@pytest.mark.parametrize("values,reference", [(A, B), (B, A), (A, TIED)])
def test_paired_t_equals_scipy_ttest_rel(values, reference):
    ours = stats.paired(values, reference)
    theirs = scipy_stats.ttest_rel(values, reference)
    interval = theirs.confidence_interval(0.95)
    assert ours.test == "paired t" and ours.n == len(values)
    assert ours.p == pytest.approx(theirs.pvalue, rel=1e-10)
    assert ours.difference == pytest.approx(np.mean(values - reference), rel=1e-12)
    assert (ours.low, ours.high) == pytest.approx((interval.low, interval.high), rel=1e-10)


def test_welch_equals_scipy_ttest_ind_unequal_variances():
    values, reference = A, np.array([0.89, 0.93, 0.87])
    ours = stats.welch(values, reference)
    theirs = scipy_stats.ttest_ind(values, reference, equal_var=False)
    interval = theirs.confidence_interval(0.95)
    assert ours.test == "Welch t"
    assert ours.p == pytest.approx(theirs.pvalue, rel=1e-10)
    assert (ours.low, ours.high) == pytest.approx((interval.low, interval.high), rel=1e-10)


@pytest.mark.parametrize("values,reference", [(A, B), (A, TIED)])
def test_wilcoxon_equals_scipy(values, reference):
    ours = stats.paired(values, reference, test="wilcoxon")
    assert ours.test == "Wilcoxon"
    assert ours.p == pytest.approx(scipy_stats.wilcoxon(values - reference).pvalue, rel=1e-12)


def test_compare_pairs_by_seed_only_when_the_seeds_match():
    same = stats.compare({0: 1.0, 1: 2.0, 2: 3.5}, {2: 3.0, 0: 1.1, 1: 1.9})
    assert same.test == "paired t"
    assert same.p == pytest.approx(scipy_stats.ttest_rel([1, 2, 3.5], [1.1, 1.9, 3]).pvalue)
    other = stats.compare({0: 1.0, 1: 2.0, 2: 3.5}, {0: 1.1, 1: 1.9, 5: 3.0})
    assert other.test == "Welch t"


def test_holm_equals_statsmodels_with_ties_and_nan():
    pvalues = [0.01, 0.04, 0.03, 0.04, 0.2, 0.005]
    expected = multipletests(pvalues, method="holm")[1]
    assert stats.holm(pvalues) == pytest.approx(list(expected), rel=1e-12)
    with_gap = stats.holm([0.01, math.nan, 0.04])
    assert math.isnan(with_gap[1])
    assert [with_gap[0], with_gap[2]] == pytest.approx(
        list(multipletests([0.01, 0.04], method="holm")[1])
    )


def test_one_seed_has_no_interval_and_says_so():
    difference = stats.compare({0: 0.9}, {0: 0.8})
    assert difference.test == "" and math.isnan(difference.p)
    assert stats.verdict(difference, "val/acc") == "no interval at n = 1 seed"
    assert math.isnan(stats.t_half_width(0.0, 1))
    assert stats.format_estimate("val/acc", 0.9, math.nan) == "90.00%"


def test_identical_runs_zero_spread():
    same = stats.paired([0.5, 0.5, 0.5], [0.5, 0.5, 0.5])
    assert same.p == 1.0 and (same.low, same.high) == (0.0, 0.0)
    assert stats.verdict(same, "val/loss") == "no evidence at n = 3 seeds"
    shifted = stats.paired([0.4, 0.4, 0.4], [0.5, 0.5, 0.5])
    assert shifted.p == scipy_stats.ttest_rel([0.4] * 3, [0.5] * 3).pvalue == 0.0
    assert stats.verdict(shifted, "val/loss") == "better"  # a lower loss
    assert stats.format_estimate("val/loss", 0.5, 0.0) == "0.5000 ± 0"
    assert math.isnan(stats.detectable_difference(0.0, 3))


def test_verdict_direction_depends_on_the_metric():
    lower = stats.Difference(-0.1, -0.2, -0.05, 0.001, "paired t", 5, p_holm=0.003)
    assert stats.verdict(lower, "test/loss") == "better"
    assert stats.verdict(lower, "val/acc") == "worse"
    assert stats.verdict(lower, "test/r2") == "worse"
    corrected_away = stats.Difference(-0.1, -0.2, -0.05, 0.01, "paired t", 5, p_holm=0.06)
    assert stats.verdict(corrected_away, "test/loss") == "no evidence at n = 5 seeds"


def test_t_interval_half_width():
    half = stats.t_half_width(float(np.std(A, ddof=1)), len(A))
    low, high = scipy_stats.t.interval(0.95, len(A) - 1, loc=A.mean(), scale=scipy_stats.sem(A))
    assert (A.mean() - half, A.mean() + half) == pytest.approx((low, high), rel=1e-12)


@pytest.mark.parametrize("n", [2, 3, 5, 20])
def test_seed_advisor_equals_statsmodels_power(n):
    std = 0.02
    effect = TTestIndPower().solve_power(nobs1=n, alpha=0.05, power=0.8, ratio=1.0)
    assert stats.detectable_difference(std, n) == pytest.approx(effect * std, rel=1e-6)
    difference = stats.detectable_difference(std, n) / 3
    needed = TTestIndPower().solve_power(effect_size=difference / std, alpha=0.05, power=0.8)
    assert stats.seeds_needed(difference, std) == math.ceil(needed)


def test_precision_follows_the_interval():
    assert stats.format_estimate("val/loss", 0.17223, 0.0001491) == "0.1722 ± 0.0001"
    assert stats.format_estimate("val/acc", 0.93571, 0.0082) == "93.6% ± 0.8%"
    assert stats.format_estimate("val/loss", 12.345, 3.2) == "12 ± 3"
    assert stats.decimals(0.0001491) == 4
