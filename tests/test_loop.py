"""The training loop: batching, divergence as a result, metrics against references."""

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.metrics import mean_squared_error, r2_score

from dlrun import tasks
from dlrun.data.splits import Split
from dlrun.loop import Batches


def test_batches_visit_every_row_once_per_epoch():
    X = torch.arange(103.0).unsqueeze(1)
    batches = Batches(Split(X, X.squeeze(1)), 10, True, torch.Generator().manual_seed(0))
    seen = torch.cat([x for x, _ in batches]).squeeze(1)
    assert len(batches) == 11 and sorted(seen.tolist()) == list(range(103))
    assert not torch.equal(seen, X.squeeze(1))  # shuffled
    (full,) = list(Batches(Split(X, X.squeeze(1)), None, True, torch.Generator()))
    assert full[0] is X


def test_a_diverging_run_is_a_result(run_dlrun):
    summary, run_dir = run_dlrun(
        "model=linear", "dataset=diabetes", "optimizer.lr=5", "trainer.max_epochs=50"
    )
    assert summary["status"] == "diverged"
    assert summary["epochs"] < 50
    metrics = pd.read_csv(run_dir / "metrics.csv")
    assert not np.isfinite(metrics["loss"].iloc[-1]) or metrics["loss"].iloc[-1] > 1e30


def test_regression_metrics_match_scikit_learn():
    generator = torch.Generator().manual_seed(0)
    y, eta = torch.randn(50, generator=generator), torch.randn(50, generator=generator)
    values = tasks.metrics("regression", eta, y)
    assert values["rmse"] == pytest.approx(mean_squared_error(y, eta) ** 0.5, rel=1e-5)
    assert values["r2"] == pytest.approx(r2_score(y, eta), rel=1e-5)


def test_r2_of_a_constant_target_is_undefined_not_huge():
    # R² = 1 − SSE/SST has no value when SST = 0 (a split whose targets are all equal)
    y, eta = torch.full((5,), 2.0), torch.tensor([1.0, 2.0, 3.0, 2.5, 2.0])
    values = tasks.metrics("regression", eta, y)
    assert np.isnan(values["r2"]) and np.isnan(values["nrmse"])
    assert values["rmse"] == pytest.approx(mean_squared_error(y, eta) ** 0.5, rel=1e-6)


def test_count_deviance_and_loss_match_the_poisson_formulas():
    y = torch.tensor([0.0, 1.0, 3.0, 7.0], dtype=torch.float64)
    eta = torch.tensor([0.1, -0.2, 1.0, 2.5], dtype=torch.float64)
    mu = eta.exp().numpy()
    yn = y.numpy()
    values = tasks.metrics("count", eta, y)
    terms = np.where(yn > 0, yn * np.log(np.where(yn > 0, yn, 1) / mu), 0.0) - (yn - mu)
    assert values["deviance"] == pytest.approx(2 * terms.mean())
    assert values["loss"] == pytest.approx(np.mean(mu - yn * eta.numpy()))


def test_classification_accuracy_and_transfer_functions():
    eta = torch.tensor([[2.0, 0.0, 0.0], [0.0, 0.0, 3.0]])
    assert tasks.metrics("multiclass", eta, torch.tensor([0, 1]))["acc"] == 0.5
    assert (
        tasks.metrics("binary", torch.tensor([-1.0, 2.0]), torch.tensor([0.0, 1.0]))["acc"] == 1.0
    )
    torch.testing.assert_close(tasks.transfer("binary", torch.tensor([0.0])), torch.tensor([0.5]))
    torch.testing.assert_close(tasks.transfer("multiclass", eta).sum(-1), torch.ones(2))
