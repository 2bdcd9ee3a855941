"""What a run shows on a terminal: log lines above the live bar, steps within an epoch, lines
that fit 80 columns, and the run directory named at the start and the end."""

import io
import logging
import re

import pandas as pd
import pytest
from conftest import run_dirs
from rich.console import Console

from dlrun import console as console_module
from dlrun.console import RunConsole, TerminalHandler, evaluation_line

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@pytest.fixture
def terminal(monkeypatch):
    """An 80-column terminal whose output is kept: the run's console draws on it."""
    screen = io.StringIO()
    fake = Console(file=screen, force_terminal=True, width=80, highlight=False)
    monkeypatch.setattr(console_module, "TERMINAL", fake)
    return screen


def test_log_lines_print_above_the_live_bar_not_on_its_row(terminal):
    run_console = RunConsole(interactive=True)
    run_console.start(total_epochs=2, steps_per_epoch=10)
    logger = logging.getLogger("dlrun.test_console")
    handler = TerminalHandler()
    logger.addHandler(handler)
    try:
        run_console.progress.refresh()  # the bar is on screen
        logger.warning("epoch 1 | train loss 0.5")
        run_console.progress.refresh()
    finally:
        logger.removeHandler(handler)
        run_console.stop()
    # each redraw starts with a carriage return and erases its rows; what stays is what the
    # terminal shows: rows as the last write to each left them
    rows = [ANSI.sub("", row).split("\r")[-1] for row in terminal.getvalue().split("\n")]
    assert "warning: epoch 1 | train loss 0.5" in rows
    assert not [row for row in rows if "steps" in row and "epoch 1 |" in row]


def test_the_bar_counts_steps_within_an_epoch_from_the_counter(terminal):
    run_console = RunConsole(interactive=True)
    run_console.start(total_epochs=3, steps_per_epoch=40, max_steps=100)
    progress = run_console.progress
    task = progress.tasks[0]
    assert task.total == 100  # max_steps ends the run before 3 epochs of 40
    taken = []  # the loop's step log, appended to as steps go
    run_console.epoch_started(2, steps_done=40, steps_taken=taken.__len__)
    taken.extend([0] * 7)
    list(progress.get_renderables())  # what rich's refresh thread does 5 times a second
    assert task.completed == 47 and task.fields["epoch"] == 2
    run_console.advance(80)
    taken.extend([0] * 3)  # the log keeps growing (eval_every > 1): the bar holds
    list(progress.get_renderables())
    assert task.completed == 80
    run_console.stop()


def shown_rows(screen: io.StringIO) -> list[str]:
    """The rows a terminal shows: each as the last write to it left them."""
    return [ANSI.sub("", row).split("\r")[-1] for row in screen.getvalue().split("\n")]


@pytest.mark.parametrize(
    "max_epochs, max_steps, shown",
    [(100000, 5000, "epoch 3/228"), (5, 5000, "epoch 3/5"), (5, None, "epoch 3/5")],
)
def test_the_bar_names_the_epoch_bound_that_applies(terminal, max_epochs, max_steps, shown):
    run_console = RunConsole(interactive=True)
    run_console.start(total_epochs=max_epochs, steps_per_epoch=22, max_steps=max_steps)
    run_console.epoch_started(3, steps_done=44, steps_taken=lambda: 0)
    run_console.progress.refresh()
    run_console.stop()
    assert [row for row in shown_rows(terminal) if row.startswith(f"{shown} ")]


VERDICT = (
    "test mse 0.1652 (mean predictor 0.1667): no better than the mean predictor; "
    "not solved (test mse < 0.01)"
)


@pytest.mark.parametrize("width", [60, 80, 100, 200])
def test_a_verdict_stays_on_one_line_where_it_fits_else_breaks_between_phrases(
    monkeypatch, capsys, width
):
    monkeypatch.setenv("COLUMNS", str(width))
    console_module.print_table("title", console_module.result_table({}), VERDICT)
    out = capsys.readouterr().out.splitlines()
    start = next(i for i, line in enumerate(out) if line.startswith("test mse"))
    verdict = out[start:]
    phrases = ["test mse 0.1652 (mean predictor 0.1667):", "no better than the mean predictor;"]
    phrases.append("not solved (test mse < 0.01)")
    if len(VERDICT) <= width:
        assert verdict == [VERDICT]
    else:
        assert all(len(line) <= width for line in verdict)
        for phrase in phrases:  # each phrase whole on one line
            assert any(phrase in line for line in verdict)


def test_regression_line_fits_80_columns_and_keeps_the_main_metric():
    metrics = {
        split: {"loss": 31660.5, "rmse": 177.9, "r2": -0.2355, "nrmse": 1.112}
        for split in ("train", "val", "test")
    }
    line = evaluation_line(120, metrics, grad_norm=20215.0)
    expected = "epoch 120 | train loss 3.166e4 | val loss 3.166e4 | val r2 -0.2355 | grad 2.02e4"
    assert line == expected
    assert len(line) <= 80


def test_classification_line_shows_accuracy_and_no_gradient_for_a_solve():
    metrics = {"train": {"loss": 0.41, "acc": 0.9}, "val": {"loss": 0.44, "acc": 0.872}}
    line = evaluation_line(0, metrics, grad_norm=float("nan"))
    assert line == "epoch 0 | train loss 0.41 | val loss 0.44 | val acc 87.20%"


def test_a_run_names_its_directory_first_and_last_in_80_columns(dlrun_main, tmp_path):
    code, out, _ = dlrun_main("model=linear", "dataset=diabetes", "trainer.max_epochs=3")
    assert code == 0
    (run_dir,) = run_dirs(tmp_path / "outputs")
    shown = run_dir.relative_to(tmp_path).as_posix()
    lines = out.strip().splitlines()
    assert lines[0] == f"run directory: {shown}" and lines[-1] == f"results in {shown}"
    epoch_lines = [line for line in lines if line.startswith("epoch ")]
    assert len(epoch_lines) == 3 and all(len(line) <= 80 for line in epoch_lines)
    assert all("val r2" in line for line in epoch_lines)
    # the line is short; the record is whole
    columns = set(pd.read_csv(run_dir / "metrics.csv").columns)
    assert {"loss", "rmse", "r2", "nrmse"} <= columns
    log_file = (run_dir / "dlrun.log").read_text()
    assert re.search(r"\]\[dlrun\]\[INFO\] - epoch 3 \| train loss", log_file)


def test_a_sweep_job_does_not_print_run_directory_lines(dlrun_main, tmp_path):
    sweep = tmp_path / "sweep"
    code, out, _ = dlrun_main(
        "-m",
        "model=linear",
        "dataset=diabetes",
        "trainer.max_epochs=1",
        "seed=0,1",
        f"hydra.sweep.dir={sweep}",
    )
    assert code == 0 and "run directory:" not in out and "results in" not in out
