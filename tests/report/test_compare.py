"""The table's comparisons: each cell against the reference row (paired by seed) and against
the baseline, Holm-corrected across the table, checked against scipy and statsmodels."""

import numpy as np
import pytest
from scipy import stats as scipy_stats
from statsmodels.stats.multitest import multipletests
from test_report import write_run

from dlrun.errors import InputError
from dlrun.report import build_report
from dlrun.report.render import markdown_report

ACCS = {
    "gru": [0.91, 0.93, 0.92],
    "lstm": [0.80, 0.82, 0.79],
    "rnn": [0.80, 0.84, 0.78],
}
BASELINE = [0.5, 0.52, 0.51]


@pytest.fixture
def sweep(tmp_path):
    job = 0
    for model, accs in ACCS.items():
        for seed, (acc, base) in enumerate(zip(accs, BASELINE)):
            metrics = {"val/acc": acc, "baseline/val/acc": base}
            write_run(
                tmp_path / str(job),
                [f"model={model}", f"seed={seed}"],
                "completed",
                metrics,
                seed=seed,
                baseline="majority class",
            )
            job += 1
    return tmp_path


def test_cells_against_the_reference_equal_scipy_and_holm(sweep):
    report = build_report([sweep], metrics=["val/acc"], reference="model=lstm")
    cells = report.cells.set_index("row_label")
    assert report.reference == "model=lstm"
    others = ["gru", "rnn"]
    pvalues = [scipy_stats.ttest_rel(ACCS[m], ACCS["lstm"]).pvalue for m in others]
    holm = multipletests(pvalues, method="holm")[1]
    for model, p, p_holm in zip(others, pvalues, holm):
        assert cells.loc[model, "test"] == "paired t"
        assert cells.loc[model, "p"] == pytest.approx(p, rel=1e-9)
        assert cells.loc[model, "p_holm"] == pytest.approx(p_holm, rel=1e-9)
    assert cells.loc["gru", "verdict"] == "better"
    assert cells.loc["rnn", "verdict"] == "no evidence at n = 3 seeds"
    assert cells.loc["lstm", "verdict"] == ""  # the reference itself
    low, high = scipy_stats.t.interval(
        0.95, 2, loc=np.mean(ACCS["gru"]), scale=scipy_stats.sem(ACCS["gru"])
    )
    assert (cells.loc["gru", "ci_low"], cells.loc["gru", "ci_high"]) == pytest.approx((low, high))


def test_the_first_row_is_the_default_reference_and_the_baseline_row_is_shown(sweep):
    report = build_report([sweep], metrics=["val/acc"])
    assert report.reference == "model=gru"
    table = report.table("val/acc")
    assert "majority class (baseline)" in table.index
    cells = report.cells.set_index("row_label")
    assert (cells.baseline_verdict == "better").all()
    text = markdown_report(report)
    assert "95% t interval" in text and "Seed advisor: n = 3 resolves" in text


def test_a_reference_that_names_no_cell_is_refused(sweep):
    with pytest.raises(InputError, match="report.reference=model=cnn"):
        build_report([sweep], metrics=["val/acc"], reference="model=cnn")
    with pytest.raises(InputError, match="key=value pairs"):
        build_report([sweep], metrics=["val/acc"], reference="lstm")
