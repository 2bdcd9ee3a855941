"""Rendering a comparison (dlrun.report.render): formatters, Markdown, and rich tables that fit
the terminal."""

import numpy as np
import pytest
from test_report import write_run

from dlrun.report import build_report, print_report
from dlrun.report.render import format_metric, format_percent, markdown_table, pivot_markdown

SEQ_LENS = (5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)


@pytest.fixture
def wide_sweep(tmp_path):
    """Two models × ten sequence lengths × two seeds: ten metric columns."""
    rng = np.random.default_rng(0)
    job = 0
    for model in ("lstm", "rnn"):
        for seq_len in SEQ_LENS:
            for seed in (0, 1):
                acc = float(rng.uniform(0.5, 1.0))
                overrides = [f"model={model}", f"seq_len={seq_len}", f"seed={seed}"]
                write_run(tmp_path / str(job), overrides, "completed", {"val/acc": acc})
                job += 1
    return tmp_path


def test_formatters():
    assert format_percent(0.872) == "87.20%" and format_percent(1) == "100.00%"
    assert format_metric("val/acc", 0.5) == "50.00%" and format_metric("acc", 0.25) == "25.00%"
    assert format_metric("val/loss", 0.123456) == "0.1235" and format_metric("n", 1e6) == "1e+06"


def test_markdown_table():
    text = markdown_table(["a", "b", "c"], [[1, "x", 2.5], ["y", None, ""]], align="lr")
    assert text == "| a | b | c |\n|---|---:|---|\n| 1 | x | 2.5 |\n| y | None |  |"


@pytest.mark.parametrize("width", [60, 80, 120, 250])
def test_tables_fit_the_terminal_and_keep_every_cell_whole(wide_sweep, capsys, monkeypatch, width):
    monkeypatch.setenv("COLUMNS", str(width))
    report = build_report([wide_sweep], metrics=["val/acc"])
    print_report(report)
    lines = capsys.readouterr().out.splitlines()
    assert max(map(len, lines)) <= width
    text = "\n".join(lines)
    pivot = report.table("val/acc")
    for cell in pivot.to_numpy().ravel():
        assert cell in text
    # each part of a split table repeats the row labels
    parts = sum("model \\ seq_len" in line for line in lines)
    pivots = text.split(" against ")[0]  # the comparison table below names lstm too
    assert pivots.count("lstm") == parts and (parts > 1) == (width < 200)


def test_markdown_is_one_table_whatever_the_width(wide_sweep, monkeypatch):
    monkeypatch.setenv("COLUMNS", "40")
    report = build_report([wide_sweep])
    header = pivot_markdown(report.table()).splitlines()[0]
    assert header == "| model \\ seq_len | " + " | ".join(map(str, SEQ_LENS)) + " |"
