"""The comparison figure: one legend outside the panels, tick labels that name only what
differs, accuracies in percent as the tables show them."""

import pytest
from test_report import write_run

from dlrun.report import build_report
from dlrun.report.plot import report_figure

# runs of two sweeps read together: the cnn's sweep set no learning rate, every run is on digits
CONFIGS = [
    ["model=cnn", "dataset=digits"],
    ["model=mlp", "dataset=digits", "optimizer.lr=0.1"],
    ["model=mlp", "dataset=digits", "optimizer.lr=0.01"],
]


@pytest.fixture
def mixed_sweeps(tmp_path):
    job = 0
    for config in CONFIGS:
        for optimizer in ("sgd", "adam"):
            for seed in (0, 1):
                acc = 0.9 + 0.01 * seed
                metrics = {"val/acc": acc, "val/loss": 1 - acc}
                overrides = [*config, f"optimizer={optimizer}", f"seed={seed}"]
                write_run(tmp_path / str(job), overrides, "completed", metrics, seed=seed)
                job += 1
    rows = ["model", "dataset", "optimizer.lr"]
    return build_report([tmp_path], rows=rows, cols=["optimizer"], metrics=["val/acc", "val/loss"])


def test_one_legend_outside_the_panels(mixed_sweeps):
    figure = report_figure(mixed_sweeps)
    assert all(axes.get_legend() is None for axes in figure.axes)
    (legend,) = figure.legends
    assert [text.get_text() for text in legend.get_texts()] == ["adam", "sgd"]
    assert legend.get_title().get_text() == "optimizer"
    figure.canvas.draw()  # where the legend lands: right of every panel
    right = max(axes.get_window_extent().x1 for axes in figure.axes)
    assert legend.get_window_extent().x0 >= right


def test_tick_labels_name_only_what_differs(mixed_sweeps):
    figure = report_figure(mixed_sweeps)
    for axes in figure.axes:
        ticks = [label.get_text() for label in axes.get_xticklabels()]
        assert ticks == ["cnn, –", "mlp, 0.01", "mlp, 0.1"]  # not "cnn, digits, None"
        assert axes.get_xlabel() == "model, optimizer.lr"


def test_accuracy_is_plotted_in_percent(mixed_sweeps):
    accuracy, loss = report_figure(mixed_sweeps).axes
    assert accuracy.get_ylabel() == "%" and loss.get_ylabel() == ""
    heights = [bar.get_height() for bar in accuracy.patches]
    assert heights and all(heights[i] == pytest.approx(90.5) for i in range(len(heights)))
    assert all(bar.get_height() == pytest.approx(0.095) for bar in loss.patches)
