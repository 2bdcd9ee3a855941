"""Hessians of the mean loss (dlrun.hessian, dlrun.analyses.hessian): finite differences,
closed forms, Lanczos, convexity claims."""

import copy

import pytest
import torch
from torch.nn.utils import parameters_to_vector, vector_to_parameters

from dlrun.analyses.hessian import (
    exact_hessian,
    extreme_eigenvalues,
    hessian_vector_product,
    lanczos_extremes,
)
from dlrun.build import from_schema
from dlrun.config.model import GLMConfig, MLPConfig
from dlrun.hessian import flat_hessian
from dlrun.models.base import DataInfo

GLM_DATA = {
    "linear": "synthetic_regression",
    "logistic": "synthetic_binary",
    "poisson": "synthetic_count",
    "softmax": "synthetic_multiclass",
}


def batch(task: str, n=40, features=3, classes=3, seed=0):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, features, generator=generator, dtype=torch.float64)
    if task == "multiclass":
        return x, torch.randint(0, classes, (n,), generator=generator)
    if task == "binary":
        return x, torch.randint(0, 2, (n,), generator=generator).double()
    if task == "count":
        return x, torch.poisson(torch.full((n,), 2.0, dtype=torch.float64), generator=generator)
    return x, torch.randn(n, generator=generator, dtype=torch.float64)


def gradient_differences(model, x, y, step=1e-5) -> torch.Tensor:
    """Central differences of the autograd gradient: column i ≈ (g(θ + h eᵢ) − g(θ − h eᵢ)) / 2h."""
    model = copy.deepcopy(model)
    params = list(model.parameters())
    theta = parameters_to_vector(params).detach()

    def gradient(flat):
        with torch.no_grad():
            vector_to_parameters(flat, params)
        return parameters_to_vector(torch.autograd.grad(model.loss(x, y), params))

    columns = []
    for i in range(theta.numel()):
        e = torch.zeros_like(theta)
        e[i] = step
        columns.append((gradient(theta + e) - gradient(theta - e)) / (2 * step))
    return torch.stack(columns, dim=1)


@pytest.mark.parametrize("task", ["regression", "binary", "count", "multiclass"])
def test_glm_hessian_matches_finite_differences(task):
    torch.manual_seed(0)
    model = from_schema(GLMConfig, DataInfo((3,), task, 3), family=task).double()
    x, y = batch(task)
    H = exact_hessian(model, x, y)
    assert torch.allclose(H, H.T, atol=1e-12)
    assert torch.allclose(H, gradient_differences(model, x, y), rtol=1e-6, atol=1e-8)


def test_flat_hessian_of_a_quadratic_with_a_parameter_the_loss_skips():
    """L = ½ aᵀ A a + bᵀ a with a second parameter c unused: ∇L = A a + b, ∇²L = [[A, 0], [0, 0]]
    (the Hessian optimizer=newton solves with)."""
    generator = torch.Generator().manual_seed(0)
    root = torch.randn(3, 3, generator=generator, dtype=torch.float64)
    A, b = root @ root.T, torch.randn(3, generator=generator, dtype=torch.float64)
    a = torch.randn(3, dtype=torch.float64, generator=generator, requires_grad=True)
    c = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    gradient, hessian = flat_hessian(0.5 * a @ A @ a + b @ a, [a, c])
    expected = torch.zeros(5, 5, dtype=torch.float64)
    expected[:3, :3] = A
    torch.testing.assert_close(hessian, expected, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(gradient, torch.cat([A @ a.detach() + b, torch.zeros(2)]).double())


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_mlp_hessian_matches_finite_differences(activation):
    torch.manual_seed(1)
    data = DataInfo((3,), "multiclass", 3)
    model = from_schema(MLPConfig, data, hidden=[4], activation=activation).double()
    x, y = batch("multiclass")
    H = exact_hessian(model, x, y)
    assert torch.allclose(H, gradient_differences(model, x, y), rtol=1e-5, atol=1e-8)


def test_linear_regression_hessian_is_the_closed_form():
    """Mean (η − y)² has Hessian (2/m) X̃ᵀX̃ with X̃ = [X 1], whatever the weights."""
    torch.manual_seed(0)
    model = from_schema(GLMConfig, DataInfo((3,), "regression"), family="regression").double()
    x, y = batch("regression")
    design = torch.cat([x, torch.ones(len(x), 1, dtype=x.dtype)], dim=1)
    assert torch.allclose(exact_hessian(model, x, y), 2 / len(x) * design.T @ design, atol=1e-12)


def test_hessian_vector_product_equals_the_matrix():
    torch.manual_seed(2)
    model = from_schema(MLPConfig, DataInfo((3,), "binary"), hidden=[5], activation="tanh").double()
    x, y = batch("binary")
    H = exact_hessian(model, x, y)
    product, n = hessian_vector_product(model, x, y)
    v = torch.randn(n, dtype=torch.float64)
    assert torch.allclose(product(v), H @ v, rtol=1e-10, atol=1e-12)


def test_lanczos_finds_the_extreme_eigenvalues():
    torch.manual_seed(3)
    data = DataInfo((4,), "multiclass", 3)
    model = from_schema(MLPConfig, data, hidden=[8], activation="tanh").double()  # 67 parameters
    x, y = batch("multiclass", features=4)
    eigenvalues = torch.linalg.eigvalsh(exact_hessian(model, x, y))
    product, n = hessian_vector_product(model, x, y)
    generator = torch.Generator().manual_seed(0)
    smallest, largest = lanczos_extremes(product, n, 40, generator, torch.float64)
    scale = float(eigenvalues.abs().max())
    assert smallest == pytest.approx(float(eigenvalues[0]), abs=1e-6 * scale)
    assert largest == pytest.approx(float(eigenvalues[-1]), abs=1e-6 * scale)
    assert eigenvalues[0] < 0  # the case has negative curvature for Lanczos to find


def test_extreme_eigenvalues_switches_to_lanczos_above_the_limit():
    torch.manual_seed(4)
    data = DataInfo((4,), "regression")
    model = from_schema(
        MLPConfig, data, hidden=[6], activation="sigmoid"
    )  # float32 in, float64 inside
    x, y = batch("regression", features=4)
    exact = extreme_eigenvalues(model, x.float(), y.float(), 10_000, 30, seed=0)
    estimate = extreme_eigenvalues(model, x.float(), y.float(), 0, 37, seed=0)
    assert exact["method"] == "exact" and estimate["method"].startswith("lanczos")
    assert estimate["min_eig"] == pytest.approx(exact["min_eig"], abs=1e-8)
    assert estimate["max_eig"] == pytest.approx(exact["max_eig"], rel=1e-8)


@pytest.mark.parametrize("model", list(GLM_DATA))
def test_glm_losses_are_convex_and_the_mlp_is_not(run_dlrun, model):
    common = (
        f"dataset={GLM_DATA[model]}",
        "optimizer=line_search",
        "trainer=full_batch",
        "trainer.max_epochs=30",
        "analyze.hessian=true",
        "trainer.checkpoint=false",
    )
    glm, _ = run_dlrun(f"model={model}", *common)
    hessian = glm["hessian"]
    assert hessian["method"] == "exact"
    assert hessian["fitted/min_eig"] >= -1e-8 and hessian["random/min_eig"] >= -1e-8
    assert hessian["fitted/max_eig"] > 0
    mlp, _ = run_dlrun("model=mlp", "model.hidden=[8]", *common)
    curvature = min(mlp["hessian"]["fitted/min_eig"], mlp["hessian"]["random/min_eig"])
    assert curvature < -1e-4


def test_hessian_of_the_numpy_model_is_refused(run_dlrun):
    from dlrun.errors import InputError

    with pytest.raises(InputError, match="model=mlp"):
        run_dlrun("model=mlp_numpy", "analyze.hessian=true", "trainer.max_epochs=1")


def test_analyze_settings_are_range_checked(run_dlrun):
    from dlrun.errors import InputError

    with pytest.raises(InputError, match="analyze.lanczos_steps"):
        run_dlrun("analyze.lanczos_steps=1", "trainer.max_epochs=1")
