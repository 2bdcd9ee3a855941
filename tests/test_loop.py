"""The training loop: batching, divergence as a result, metrics against references."""

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.metrics import mean_squared_error, r2_score

from dlrun import tasks
from dlrun.build import build
from dlrun.config.compose import compose_config
from dlrun.console import RunConsole
from dlrun.data.splits import Split
from dlrun.loop import fit
from dlrun.optim import LineSearch, Newton
from dlrun.record.files import RunRecord
from dlrun.steps import Batches


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


def reference_steps(experiment) -> pd.DataFrame:
    """What steps.csv should hold, from the loop a user would write: the loss before each step,
    the global gradient norm before clipping (torch's own, as clip_grad_norm_ returns it, and
    exactly, in float64, over all gradients flattened) and the step size. dlrun's model,
    optimizer and batching rule (a full batch is never shuffled); nothing of dlrun.loop."""
    model, optimizer, trainer = experiment.model, experiment.optimizer, experiment.trainer
    X, y, generator = experiment.data.train.X, experiment.data.train.y, experiment.generator
    params, n = list(model.parameters()), len(X)
    size = n if trainer.batch_size is None else min(trainer.batch_size, n)
    rows = []
    for epoch in range(1, trainer.max_epochs + 1):
        order = torch.randperm(n, generator=generator) if trainer.shuffle and size < n else None
        for start in range(0, n, size):
            index = slice(start, start + size) if order is None else order[start : start + size]
            row = {"step": len(rows) + 1, "epoch": epoch}

            def closure(backward=True, xb=X[index], yb=y[index], row=row):
                if not backward:
                    return model.loss(xb, yb)
                optimizer.zero_grad()
                loss = model.loss(xb, yb)
                loss.backward()
                grads = [p.grad for p in params if p.grad is not None]
                flat = torch.cat([grad.flatten() for grad in grads]).double()
                row.setdefault("loss", loss.item())  # the first evaluation: before the step
                row.setdefault("grad_norm", torch.nn.utils.get_total_norm(grads).item())
                row.setdefault("exact_norm", torch.linalg.vector_norm(flat).item())
                if trainer.clip_grad_norm is not None:
                    torch.nn.utils.clip_grad_norm_(params, trainer.clip_grad_norm)
                return loss

            if isinstance(optimizer, (LineSearch, Newton)):
                optimizer.step(closure)
            else:
                closure()
                optimizer.step()
            row["lr"] = getattr(optimizer, "last_eta", optimizer.param_groups[0]["lr"])
            rows.append(row)
            if len(rows) == trainer.max_steps:
                return pd.DataFrame(rows)
    return pd.DataFrame(rows)


def ulps_apart(a, b) -> np.ndarray:
    """Distance in float32 units in the last place between non-negative numbers."""
    bits = [np.asarray(v, dtype=np.float32).view(np.int32).astype(np.int64) for v in (a, b)]
    return np.abs(bits[0] - bits[1])


TRAINING = {
    "sgd": ["model=mlp", "dataset=digits", "trainer.max_epochs=3", "trainer.eval_every=2"],
    "sgd momentum": [
        "model=mlp",
        "dataset=digits",
        "optimizer.momentum=0.9",
        "trainer.max_steps=70",
    ],
    "adam": ["model=mlp", "dataset=digits", "optimizer=adam", "trainer.max_epochs=2"],
    "clipped": [
        "model=mlp",
        "dataset=digits",
        "trainer.clip_grad_norm=0.5",
        "trainer.max_epochs=2",
    ],
    "line_search": ["model=logistic", "dataset=breast_cancer", "optimizer=line_search"],
    "newton": ["model=logistic", "dataset=breast_cancer", "optimizer=newton", "dtype=float64"],
    "unshuffled": [
        "model=linear",
        "dataset=diabetes",
        "trainer.shuffle=false",
        "optimizer.lr=0.01",
    ],
}
FULL_BATCH = ["trainer=full_batch", "trainer.max_epochs=12", "trainer.eval_every=5"]


@pytest.mark.parametrize("name", TRAINING)
def test_steps_csv_records_what_a_plain_loop_computes(name, tmp_path):
    """steps.csv holds, bit for bit, the plain loop's losses, step sizes and torch's global
    gradient norms; those are within a few float32 ulps of the exact norm (float32 sums of
    squares in another order)."""
    full_batch = FULL_BATCH if "dataset=breast_cancer" in TRAINING[name] else []
    cfg, names = compose_config(*TRAINING[name], *full_batch, "trainer.checkpoint=false")
    experiment = build(cfg, names)
    fit(
        experiment.model,
        experiment.data,
        experiment.optimizer,
        experiment.trainer,
        experiment.generator,
        RunRecord(tmp_path),
        RunConsole(False),
    )
    recorded, reference = pd.read_csv(tmp_path / "steps.csv"), reference_steps(build(cfg, names))
    assert len(recorded) == len(reference) > 10
    pd.testing.assert_frame_equal(recorded, reference[recorded.columns], check_exact=True)
    assert ulps_apart(recorded["grad_norm"], reference["exact_norm"]).max() <= 8
