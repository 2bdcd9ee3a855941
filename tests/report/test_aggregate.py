"""Aggregating run records (dlrun.report.aggregate): unknown metrics and keys are refused."""

import json

import pytest
from test_report import write_run

from dlrun.errors import InputError
from dlrun.report import build_report


@pytest.fixture
def runs(tmp_path):
    """Two models × two learning rates, one seed each."""
    for job, (model, lr) in enumerate([("a", 0.1), ("a", 0.01), ("b", 0.1), ("b", 0.01)]):
        overrides = [f"model={model}", f"optimizer.lr={lr}", "seed=0"]
        write_run(tmp_path / str(job), overrides, "completed", {"val/acc": 0.5, "val/loss": 1.0})
    return tmp_path


def test_an_unknown_metric_is_refused_naming_it_and_the_known_ones(runs):
    with pytest.raises(InputError) as error:
        build_report([runs], metrics=["val/acc", "val/nope"])
    message = str(error.value)
    assert "\n" not in message
    assert "report.metrics=val/nope" in message and "val/acc, val/loss" in message


@pytest.mark.parametrize("option", ["rows", "cols"])
def test_an_unknown_key_is_refused_naming_it_and_the_known_ones(runs, option):
    # dlrun.job' job.json: the group choices, Hydra's own among them, are keys too
    choices = {"dataset": "digits", "hydra/launcher": "basic"}
    (runs / "0" / "job.json").write_text(json.dumps({"choices": choices}))
    with pytest.raises(InputError) as error:
        build_report([runs], **{option: ["model", "nope"]})
    message = str(error.value)
    assert "\n" not in message
    assert (
        f"report.{option}=nope" in message
        and "their keys: dataset, model, optimizer.lr, seed (" in message
    )


def test_a_metric_recorded_only_by_runs_that_did_not_complete_is_known(tmp_path):
    write_run(tmp_path / "0", ["model=a"], "diverged", {"val/loss": None, "train/loss": 9.0})
    write_run(tmp_path / "1", ["model=b"], "completed", {"val/acc": 0.5})
    report = build_report([tmp_path], metrics=["train/loss"])
    assert list(report.table()["train/loss"]) == ["diverged", "—"]


def test_when_no_run_recorded_any_metric_nothing_is_refused(tmp_path):
    # a sweep whose every job failed still gets its table of failures
    write_run(tmp_path / "0", ["model=a"], "failed", {}, error="RuntimeError: boom")
    write_run(tmp_path / "1", ["model=b"], "failed", {}, error="RuntimeError: boom")
    report = build_report([tmp_path], metrics=["val/acc"])
    assert list(report.table()["val/acc"]) == ["failed", "failed"]
