"""GLM fits against an independent maximum-likelihood solve written here (closed form, IRLS)."""

import numpy as np
import pandas as pd
import pytest

from dlrun.data.synthetic import draw_glm

FULL_BATCH_LINE_SEARCH = (
    "optimizer=line_search",
    "trainer=full_batch",
    "trainer.max_epochs=400",
    "trainer.eval_every=400",
    "dataset.test_fraction=0",
    "dataset.val_fraction=0",
    "dtype=float64",
)


def irls(X: np.ndarray, y: np.ndarray, family: str, iterations: int = 50) -> np.ndarray:
    """Newton / iteratively reweighted least squares for a canonical-link GLM with intercept."""
    design = np.column_stack([np.ones(len(X)), X])
    if family == "regression":
        return np.linalg.lstsq(design, y, rcond=None)[0]
    beta = np.zeros(design.shape[1])
    for _ in range(iterations):
        eta = design @ beta
        mu = 1 / (1 + np.exp(-eta)) if family == "binary" else np.exp(eta)
        weight = mu * (1 - mu) if family == "binary" else mu
        gradient = design.T @ (y - mu)
        hessian = design.T @ (design * weight[:, None])
        beta = beta + np.linalg.solve(hessian, gradient)
    return beta


@pytest.mark.parametrize(
    "model,task", [("linear", "regression"), ("logistic", "binary"), ("poisson", "count")]
)
def test_line_search_fit_matches_maximum_likelihood(run_dlrun, model, task):
    summary, run_dir = run_dlrun(
        f"model={model}", f"dataset=synthetic_{task}", "dataset.noise=0.5", *FULL_BATCH_LINE_SEARCH
    )
    assert summary["status"] == "completed"
    fitted = pd.read_csv(run_dir / "coefficients.csv")
    assert list(fitted["term"]) == ["intercept", "x0", "x1", "x2", "x3", "x4"]
    X, y, _ = draw_glm(task, 500, 5, 3, 0.5, seed=0)
    reference = irls(X, y.astype(float), task)
    np.testing.assert_allclose(fitted["estimate"].to_numpy(), reference, rtol=1e-4, atol=1e-8)


@pytest.mark.parametrize(
    "model,task",
    [
        ("linear", "regression"),
        ("logistic", "binary"),
        ("poisson", "count"),
        ("softmax", "multiclass"),
    ],
)
def test_glm_recovers_true_weights(run_dlrun, model, task):
    summary, run_dir = run_dlrun(
        f"model={model}",
        f"dataset=synthetic_{task}",
        "dataset.n_samples=4000",
        "dataset.noise=0",
        "optimizer=line_search",
        "trainer=full_batch",
        "trainer.max_epochs=200",
    )
    fitted = pd.read_csv(run_dir / "coefficients.csv")
    estimate, truth = fitted["estimate"].to_numpy(), fitted["true"].to_numpy()
    if task == "multiclass":
        # softmax weights are identified only up to a shift shared by all classes
        estimate = estimate.reshape(3, -1) - estimate.reshape(3, -1).mean(axis=0)
        truth = truth.reshape(3, -1) - truth.reshape(3, -1).mean(axis=0)
    tolerance = 0.02 if task == "regression" else 0.25
    np.testing.assert_allclose(estimate, truth, atol=tolerance)
    assert summary["status"] == "completed"


def test_coefficients_name_the_input_columns(run_dlrun):
    _, run_dir = run_dlrun(
        "model=logistic",
        "dataset=breast_cancer",
        "optimizer=line_search",
        "trainer=full_batch",
        "trainer.max_epochs=5",
    )
    terms = pd.read_csv(run_dir / "coefficients.csv")["term"].tolist()
    assert terms[:3] == ["intercept", "mean radius", "mean texture"] and len(terms) == 31
