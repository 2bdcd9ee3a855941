"""dlrun-eval: a run's checkpoint evaluated on its own splits gives summary.json's final
metrics exactly; other data gives other, finite figures; bad input is one line, exit 2."""

import argparse
import json
import math
import shutil
import sys

import pytest
import torch

from dlrun.cli import main as dlrun_cli
from dlrun.evaluate import main as eval_cli
from tests.conftest import run_tool

TINY = (
    "model=softmax",
    "dataset=synthetic_multiclass",
    "dataset.n_samples=120",
    "trainer.max_epochs=3",
    "trainer.batch_size=16",
)


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """A tiny run trained through the `dlrun` command (so it has .hydra/), kept read-only."""
    run_dir = tmp_path_factory.mktemp("eval") / "run"
    old_argv = sys.argv
    sys.argv = ["dlrun", *TINY, f"hydra.run.dir={run_dir}"]
    try:
        dlrun_cli()
    finally:
        sys.argv = old_argv
    return run_dir


@pytest.fixture
def run_copy(trained_run, tmp_path):
    """A copy of the trained run that a test may change."""
    return shutil.copytree(trained_run, tmp_path / "run")


def summary_metrics(run_dir) -> dict[str, float]:
    """The run's own final metrics (summary.json also holds the trivial predictor's,
    baseline/..., which dlrun-eval does not recompute)."""
    metrics = json.loads((run_dir / "summary.json").read_text())["metrics"]
    return {name: value for name, value in metrics.items() if not name.startswith("baseline/")}


def test_own_splits_give_summary_metrics_exactly(run_copy, capsys):
    code, out, err = run_tool(eval_cli, [str(run_copy)], capsys)
    assert code == 0, err
    result = json.loads((run_copy / "eval.json").read_text())
    assert result["checkpoint"] == "checkpoint.pt"
    expected = summary_metrics(run_copy)
    assert set(result["metrics"]) == set(expected)
    for name, value in expected.items():
        assert result["metrics"][name] == value, name  # same data and weights: bit for bit
    assert "test" in out and not list(run_copy.glob(".*.tmp"))


def test_best_checkpoint_is_preferred(run_copy, capsys):
    """best.pt (early stopping's weights) wins over checkpoint.pt: here zeroed weights, so
    the loss is that of uniform probabilities over 3 classes."""
    state = torch.load(run_copy / "checkpoint.pt", weights_only=True)
    torch.save(
        {"model": {k: torch.zeros_like(v) for k, v in state["model"].items()}}, run_copy / "best.pt"
    )
    code, _, err = run_tool(eval_cli, [str(run_copy)], capsys)
    assert code == 0, err
    result = json.loads((run_copy / "eval.json").read_text())
    assert result["checkpoint"] == "best.pt"
    assert result["metrics"]["test/loss"] == pytest.approx(math.log(3), rel=1e-6)


def test_other_data_gives_other_finite_figures(run_copy, capsys):
    code, _, err = run_tool(eval_cli, [str(run_copy), "dataset.data_seed=3"], capsys)
    assert code == 0, err
    figures = json.loads((run_copy / "eval.json").read_text())["metrics"]
    own = summary_metrics(run_copy)
    assert all(math.isfinite(value) for value in figures.values())
    assert figures["test/loss"] != own["test/loss"] and figures["train/loss"] != own["train/loss"]
    assert json.loads((run_copy / "eval.json").read_text())["overrides"] == ["dataset.data_seed=3"]


def damage(run_dir) -> None:
    data = (run_dir / "checkpoint.pt").read_bytes()
    (run_dir / "checkpoint.pt").write_bytes(data[: len(data) // 2])


def pickle_object(run_dir) -> None:
    torch.save({"model": argparse.Namespace(weights=1)}, run_dir / "checkpoint.pt")


BAD_INPUTS = {
    "no arguments": (lambda run: None, [], "no run directory given"),
    "no such directory": (lambda run: None, ["{run}/nowhere"], "no such run directory"),
    "not a run directory": (lambda run: None, ["{run}/.hydra"], "is not a dlrun run directory"),
    "no checkpoint": (lambda run: (run / "checkpoint.pt").unlink(), ["{run}"], "has no best.pt"),
    "damaged checkpoint": (damage, ["{run}"], "is damaged"),
    "pickled object": (pickle_object, ["{run}"], "argparse.Namespace"),
    "bigger model": (lambda run: None, ["{run}", "dataset.n_features=7"], "does not fit"),
    "other model": (lambda run: None, ["{run}", "model=mlp"], "does not fit"),
    "unknown dataset": (lambda run: None, ["{run}", "dataset=nope"], "Could not find"),
    "unknown key": (lambda run: None, ["{run}", "nokey=1"], "Could not override 'nokey'"),
    "value out of range": (lambda run: None, ["{run}", "dataset.n_samples=-3"], "n_samples"),
}


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_bad_input_is_one_line(case, run_copy, capsys):
    change, args, expected = BAD_INPUTS[case]
    change(run_copy)
    code, _, err = run_tool(eval_cli, [arg.format(run=run_copy) for arg in args], capsys)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and err.startswith("dlrun-eval: error: "), err
    assert expected in err and "Traceback" not in err
    assert not (run_copy / "eval.json").exists()


def test_seed_run_of_repeats_uses_its_own_seed(tmp_path, capsys):
    """repeats=2: each seed-<s> run has no .hydra/ of its own, and its splits depend on s."""
    job_dir = tmp_path / "job"
    code, _, err = run_tool(dlrun_cli, [*TINY, "repeats=2", f"hydra.run.dir={job_dir}"], capsys)
    assert code == 0, err
    for seed_dir in (job_dir / "seed-0", job_dir / "seed-1"):
        code, _, err = run_tool(eval_cli, [str(seed_dir)], capsys)
        assert code == 0, err
        assert json.loads((seed_dir / "eval.json").read_text())["metrics"] == summary_metrics(
            seed_dir
        )
