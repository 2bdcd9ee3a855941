"""A comparison of many metrics (experiment=conv_equivariance lists eleven): one table that
fits the terminal, and one figure of panels in rows, of a size a screen shows."""

import matplotlib.image
import pytest
from test_report import write_run

from dlrun.report import build_report, print_report, write_report
from dlrun.report.plot import DPI, report_figure
from dlrun.report.render import markdown_report

METRICS = [f"invariance/layer{i}" for i in range(10)] + ["test/acc"]


@pytest.fixture
def many_metrics(tmp_path):
    """cnn and mlp, two seeds each; the mlp records only test/acc (as in conv_equivariance)."""
    for job, (model, seed) in enumerate([(m, s) for m in ("cnn", "mlp") for s in (0, 1)]):
        values = {"test/acc": 0.5 + 0.1 * seed}
        if model == "cnn":
            values |= {name: 0.25 * (i + 1) + seed for i, name in enumerate(METRICS[:-1])}
        write_run(tmp_path / str(job), [f"model={model}", f"seed={seed}"], "completed", values)
    return build_report([tmp_path], rows=["model"], metrics=METRICS)


@pytest.mark.parametrize("n_metrics", [1, 2, 3, 4, 11])
def test_one_panel_per_metric_in_rows_of_three_at_most_1600_pixels_wide(many_metrics, n_metrics):
    many_metrics.metrics = METRICS[:n_metrics]
    figure = report_figure(many_metrics)
    assert [axes.get_title() for axes in figure.axes] == METRICS[:n_metrics]
    width, height = figure.get_size_inches() * DPI
    rows = -(-n_metrics // 3)
    assert width <= 1600 and height <= 420 * rows + 60
    columns = {round(axes.get_position().x0, 3) for axes in figure.axes}
    assert len(columns) == min(n_metrics, 3)


def test_the_written_figure_has_that_size(many_metrics, tmp_path):
    write_report(many_metrics, tmp_path / "out")
    height, width, _ = matplotlib.image.imread(tmp_path / "out" / "comparison.png").shape
    assert width <= 1600 and height <= 4 * 420 + 60


def test_metrics_of_a_report_without_columns_are_one_table(many_metrics, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    print_report(many_metrics)
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert max(map(len, lines)) <= 80
    assert sum("mean ± 95% t interval over seeds" in line for line in lines) == 1  # one table
    # metrics down the rows, the models across: the cnn's value of every metric is shown
    assert "metric \\ model" in out
    for name in METRICS:
        assert sum(line.lstrip("│ ").startswith(name) for line in lines) == 1
    # layer0: 0.25 and 1.25 over the two seeds, t interval 0.75 ± 12.71 · 0.7071 / √2 = 6.35
    assert "│ invariance/layer0 │     1 ± 6 │" in out  # the interval supports no decimals
    text = markdown_report(many_metrics)
    assert (
        text.count("\n## ") + text.startswith("## ") == 1
        and "| metric \\ model | cnn | mlp |" in text
    )


def test_the_missing_mark_is_explained_only_when_a_cell_lacks_a_value(many_metrics):
    many_metrics.metrics = METRICS[:1]  # the mlp records no invariance: one cell without value
    assert "red ×" in report_figure(many_metrics).get_suptitle()
    many_metrics.metrics = METRICS[-1:]  # test/acc: every cell has a value
    assert "red ×" not in report_figure(many_metrics).get_suptitle()
