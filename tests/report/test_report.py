"""Comparison tables from run records on disk (dlrun.report), against numpy's mean and std."""

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from scipy import stats as scipy_stats

from dlrun.report import build_report, write_report
from dlrun.report.stats import format_estimate

MODELS, SEQ_LENS, SEEDS = ("lstm", "rnn"), (10, 100), (0, 1, 2)


def write_run(directory: Path, overrides: list[str], status: str, metrics: dict, **extra) -> None:
    (directory / ".hydra").mkdir(parents=True)
    (directory / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(overrides))
    summary = {"status": status, "metrics": metrics, **extra}
    (directory / "summary.json").write_text(json.dumps(summary))


def write_sweep(directory: Path) -> dict[tuple, list[float]]:
    """A fake sweep in `directory`: models × seq_len × seeds; rnn at 100 diverged once, lstm at
    100 failed. Returns the accuracies of the completed runs by (model, seq_len)."""
    rng = np.random.default_rng(0)
    values, job = {}, 0
    for model in MODELS:
        for seq_len in SEQ_LENS:
            for seed in SEEDS:
                acc = float(rng.uniform(0.5, 1.0))
                status = "completed"
                if (model, seq_len, seed) == ("rnn", 100, 1):
                    status, acc = "diverged", None
                if model == "lstm" and seq_len == 100:
                    status, acc = "failed", None
                overrides = [f"model={model}", f"seq_len={seq_len}", f"seed={seed}"]
                metrics = {} if acc is None else {"val/acc": acc, "val/loss": 1 - acc}
                error = "RuntimeError: out of memory" if status == "failed" else None
                write_run(directory / str(job), overrides, status, metrics, seed=seed, error=error)
                if acc is not None:
                    values.setdefault((model, seq_len), []).append(acc)
                job += 1
    return values


@pytest.fixture
def sweep(tmp_path):
    """The fake sweep's directory and its accuracies by (model, seq_len)."""
    return tmp_path, write_sweep(tmp_path)


def test_cells_are_mean_and_std_over_seeds(sweep):
    sweep_dir, values = sweep
    report = build_report([sweep_dir])
    assert report.rows == ["model"] and report.cols == ["seq_len"]
    assert report.metrics == ["val/acc"]
    cells = report.cells.set_index(["model", "seq_len"])
    for (model, seq_len), accs in values.items():
        assert cells.loc[(model, seq_len), "mean"] == pytest.approx(np.mean(accs))
        assert cells.loc[(model, seq_len), "std"] == pytest.approx(np.std(accs, ddof=1))
        assert cells.loc[(model, seq_len), "n"] == len(accs)


def test_failed_and_diverged_cells_are_marked_not_dropped(sweep):
    sweep_dir, _ = sweep
    report = build_report([sweep_dir])
    table = report.table()
    assert list(table.index) == ["lstm", "rnn"] and list(table.columns) == ["10", "100"]
    assert table.loc["lstm", "100"] == "failed"
    assert table.loc["rnn", "100"].endswith("[1 diverged]")
    assert {run.status for run in report.failures} == {"failed", "diverged"}
    assert len(report.failures) == 4  # three failed seeds and one diverged


def test_rows_and_cols_can_be_swapped_and_metrics_chosen(sweep):
    sweep_dir, values = sweep
    report = build_report([sweep_dir], rows=["seq_len"], cols=["model"], metrics=["val/loss"])
    table = report.table()
    assert list(table.index) == ["10", "100"] and list(table.columns) == ["lstm", "rnn"]
    loss = 1 - np.array(values[("rnn", 10)])
    half = scipy_stats.t.ppf(0.975, len(loss) - 1) * loss.std(ddof=1) / np.sqrt(len(loss))
    assert table.loc["10", "rnn"] == format_estimate("val/loss", loss.mean(), half)


def test_written_files_and_partial_sweeps(sweep, tmp_path_factory):
    sweep_dir, values = sweep
    out = tmp_path_factory.mktemp("out")
    # a partial sweep: only the first three jobs' directories
    report = build_report([sweep_dir / "0", sweep_dir / "1", sweep_dir / "2"])
    assert report.rows == [] and len(report.cells) == 1
    assert report.cells["n"].iloc[0] == 3
    paths = write_report(build_report([sweep_dir]), out)
    assert [p.name for p in paths] == ["comparison.csv", "comparison.md", "comparison.png"]
    text = (out / "comparison.md").read_text()
    assert "| model \\ seq_len | 10 | 100 |" in text and "failed" in text
    assert (out / "comparison.png").read_bytes()[:4] == b"\x89PNG"


def test_top_level_summary_numbers_such_as_n_params_can_be_tabulated(tmp_path):
    for job, (model, n_params) in enumerate((("cnn", 1234), ("mlp", 4170))):
        write_run(
            tmp_path / str(job),
            [f"model={model}"],
            "completed",
            {"val/acc": 0.5},
            n_params=n_params,
            train_time_s=0.25 * (job + 1),
        )
    report = build_report([tmp_path], rows=["model"], metrics=["n_params", "train_time_s"])
    cells = report.cells.set_index(["model", "metric"])
    assert cells.loc[("cnn", "n_params"), "mean"] == 1234
    assert cells.loc[("mlp", "train_time_s"), "mean"] == 0.5


def test_a_numeric_column_key_some_runs_did_not_set_still_plots(tmp_path):
    # runs gathered from different sweeps: model=a never set seq_len, model=b spans 4..2000
    write_run(tmp_path / "0", ["model=a"], "failed", {}, error="RuntimeError: boom")
    write_run(tmp_path / "1", ["model=b", "seq_len=4"], "completed", {"val/acc": 0.5})
    write_run(tmp_path / "2", ["model=b", "seq_len=2000"], "completed", {"val/acc": 0.7})
    write_run(tmp_path / "3", ["model=c", "seq_len=4"], "diverged", {"val/loss": None})
    for metric in ("val/acc", "val/loss"):  # val/loss: no completed run recorded it
        report = build_report([tmp_path], rows=[], cols=["seq_len"], metrics=[metric])
        write_report(report, tmp_path / "out")
        assert (tmp_path / "out" / "comparison.png").read_bytes()[:4] == b"\x89PNG"
        text = (tmp_path / "out" / "comparison.md").read_text()
        assert "failed" in text and ("70.00%" in text) == (metric == "val/acc")
