"""The trivial predictor of each task against brute-force numpy on the same splits, MAE against
numpy, and the verdict a run's result gets (beats the baseline, solved)."""

import numpy as np
import pytest
import torch

from dlrun import tasks
from dlrun.build import build
from dlrun.data.base import Criterion
from dlrun.data.sequences import Adding
from dlrun.verdict import Verdict
from tests.conftest import compose_config


def brute_force_baseline(task: str, y_train: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """The constant predictor fitted on y_train, scored on y, in numpy."""
    if task == "regression":
        mean = y_train.mean()
        return {"loss": np.mean((y - mean) ** 2), "mae": np.mean(np.abs(y - mean))}
    if task == "count":
        rate = y_train.mean()
        deviance = 2 * np.mean(
            np.where(y > 0, y * np.log(np.where(y > 0, y, 1) / rate), 0) - y + rate
        )
        return {"loss": np.mean(rate - y * np.log(rate)), "deviance": deviance}
    labels, counts = np.unique(y_train, return_counts=True)
    frequency = dict(zip(labels.tolist(), (counts / counts.sum()).tolist(), strict=True))
    majority = labels[np.argmax(counts)]
    return {
        "loss": -np.mean([np.log(frequency[label]) for label in y.tolist()]),
        "acc": np.mean(y == majority),
    }


@pytest.mark.parametrize(
    "overrides",
    [
        ("model=linear", "dataset=diabetes"),
        ("model=logistic", "dataset=breast_cancer"),
        ("model=softmax", "dataset=wine"),
        ("model=poisson", "dataset=synthetic_count"),
    ],
    ids=["regression", "binary", "multiclass", "count"],
)
def test_the_baseline_in_the_summary_is_the_brute_force_one_on_each_split(run_dlrun, overrides):
    summary, _ = run_dlrun(*overrides, "trainer.max_epochs=1")
    cfg, names = compose_config(*overrides, "trainer.max_epochs=1")
    data = build(cfg, names).data  # the same splits: the data and the split are seeded
    y_train = data.train.y.double().numpy()
    for split in ("train", "val", "test"):
        y = data.splits[split].y.double().numpy()
        for name, expected in brute_force_baseline(data.task, y_train, y).items():
            found = summary["metrics"][f"baseline/{split}/{name}"]
            assert found == pytest.approx(expected, rel=1e-5), f"{split}/{name}"
    assert summary["baseline"] == tasks.BASELINE_NAMES[data.task]


def test_the_majority_class_of_per_step_targets_counts_every_step():
    y_train = torch.tensor([[0, 0, 2], [0, 1, 2]])  # class 0 at 3 of 6 steps
    eta = tasks.baseline_eta("multiclass", y_train, 3)
    torch.testing.assert_close(eta.exp(), torch.tensor([3 / 6, 1 / 6, 2 / 6], dtype=torch.float64))
    values = tasks.baseline_metrics("multiclass", eta, torch.tensor([[0, 2], [1, 0]]))
    assert values["acc"] == 0.5
    assert values["loss"] == pytest.approx(-np.mean(np.log([3 / 6, 2 / 6, 1 / 6, 3 / 6])))


def test_a_class_unseen_in_training_gives_a_finite_baseline_loss():
    eta = tasks.baseline_eta("multiclass", torch.tensor([0, 0, 1]), 3)
    values = tasks.baseline_metrics("multiclass", eta, torch.tensor([2]))
    assert np.isfinite(values["loss"]) and values["acc"] == 0.0


def test_mae_is_numpys():
    generator = torch.Generator().manual_seed(1)
    y, eta = torch.randn(40, generator=generator), torch.randn(40, generator=generator)
    expected = np.mean(np.abs(eta.numpy() - y.numpy()))
    assert tasks.metrics("regression", eta, y)["mae"] == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("task", tasks.TASKS)
def test_metric_names_are_what_metrics_returns(task):
    y = torch.tensor([0, 1, 2, 1]) if task == "multiclass" else torch.tensor([0.0, 1.0, 1.0, 0.0])
    eta = torch.zeros(4, 3) if task == "multiclass" else torch.zeros(4)
    assert tuple(tasks.metrics(task, eta, y)) == tasks.METRIC_NAMES[task]


ADDING = Adding.criterion
MEAN = {"loss": 0.167, "mae": 0.33}


@pytest.mark.parametrize(
    "metrics, beats, solved, line",
    [
        (
            {"loss": 0.0021, "mae": 0.03},
            True,
            True,
            "test mse 0.0021 (mean predictor 0.167): solved",
        ),
        (
            {"loss": 0.05, "mae": 0.1},
            True,
            False,
            "test mse 0.05 (mean predictor 0.167): not solved (test mse < 0.01)",
        ),
        (
            {"loss": 0.151, "mae": 0.32},  # 10 % below the mean predictor is not learning
            False,
            False,
            "test mse 0.151 (mean predictor 0.167): no better than the mean predictor; "
            "not solved (test mse < 0.01)",
        ),
    ],
)
def test_the_verdict_says_solved_or_what_it_falls_short_of(metrics, beats, solved, line):
    verdict = Verdict("regression", "test", metrics, MEAN, ADDING)
    assert (verdict.beats_baseline, verdict.solved, verdict.line()) == (beats, solved, line)
    assert verdict.summary() == {
        "baseline": "mean predictor",
        "beats_baseline": beats,
        "criterion": "test mse < 0.01",
        "solved": solved,
        "verdict": line,
    }


def test_a_dataset_without_a_criterion_is_neither_solved_nor_unsolved():
    verdict = Verdict(
        "multiclass", "test", {"loss": 0.3, "acc": 0.9}, {"loss": 2.3, "acc": 0.1}, None
    )
    assert verdict.solved is None and verdict.beats_baseline
    assert (
        verdict.line() == "test acc 90.00% (majority class 10.00%): better than the majority class"
    )
    near = Verdict("binary", "val", {"loss": 0.6, "acc": 0.62}, {"loss": 0.67, "acc": 0.6}, None)
    assert not near.beats_baseline  # 38 % errors against 40 %: less than a tenth fewer
    assert near.line().endswith("no better than the majority class")


def test_the_adding_criterion_is_test_mse_below_a_hundredth():
    assert ADDING == Criterion(metric="loss", threshold=0.01, label="mse")
    assert ADDING.met({"loss": 0.0099}) and not ADDING.met({"loss": 0.01})
    assert not ADDING.met({"loss": float("nan")})
