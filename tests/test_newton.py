"""optimizer=newton against maximum-likelihood solutions written here in numpy (closed-form
least squares, IRLS), through the loop's own training step."""

import numpy as np
import pytest
import torch

from dlrun.build import build, from_schema
from dlrun.config.compose import compose_config
from dlrun.config.optimizer import NewtonConfig
from dlrun.errors import InputError
from dlrun.steps import TrainStep

GLM_DATA = {
    "linear": "synthetic_regression",
    "logistic": "synthetic_binary",
    "poisson": "synthetic_count",
    "softmax": "synthetic_multiclass",
}


def newton_run(model: str, *overrides: str):
    """(experiment, TrainStep, design X̃ = [X, 1], y) for a GLM on its synthetic data, float64."""
    cfg, names = compose_config(
        f"model={model}",
        f"dataset={GLM_DATA[model]}",
        "optimizer=newton",
        "trainer=full_batch",
        "dtype=float64",
        *overrides,
    )
    experiment = build(cfg, names)
    train = experiment.data.train
    X = train.X.numpy()
    design = np.hstack([X, np.ones((len(X), 1))])
    return experiment, TrainStep(experiment.model, experiment.optimizer), design, train


def weights(model) -> np.ndarray:
    """[w, b] of a one-output GLM as one vector (the design's column order)."""
    return np.concatenate([model.weight.detach().numpy().ravel(), model.bias.detach().numpy()])


def set_weights(model, vector: np.ndarray) -> None:
    with torch.no_grad():
        model.weight.copy_(torch.from_numpy(vector[:-1]).view_as(model.weight))
        model.bias.copy_(torch.from_numpy(vector[-1:]))


def irls(design: np.ndarray, y: np.ndarray, mean, variance, iterations: int = 100) -> np.ndarray:
    """Fisher scoring for a canonical-link GLM: w ← w + (X̃ᵀVX̃)⁻¹X̃ᵀ(y − μ), to convergence."""
    w = np.zeros(design.shape[1])
    for _ in range(iterations):
        eta = design @ w
        step = np.linalg.solve(
            design.T @ (variance(eta)[:, None] * design), design.T @ (y - mean(eta))
        )
        w = w + step
        if np.linalg.norm(step) < 1e-15 * (1 + np.linalg.norm(w)):
            break
    return w


def sigmoid(eta):
    return 1 / (1 + np.exp(-eta))


REFERENCES = {
    "logistic": (sigmoid, lambda eta: sigmoid(eta) * (1 - sigmoid(eta))),
    "poisson": (np.exp, np.exp),
}


def relative_error(w: np.ndarray, reference: np.ndarray) -> float:
    return float(np.linalg.norm(w - reference) / np.linalg.norm(reference))


@pytest.mark.parametrize("start_seed", [0, 1, 2])
def test_linear_model_one_step_from_any_start(start_seed):
    experiment, step, design, train = newton_run("linear")
    start = np.random.default_rng(start_seed).normal(0, 10, design.shape[1])
    set_weights(experiment.model, start)
    least_squares = np.linalg.lstsq(design, train.y.numpy(), rcond=None)[0]
    step(train.X, train.y)
    assert relative_error(weights(experiment.model), least_squares) < 1e-10


@pytest.mark.parametrize(("model", "budget"), [("logistic", 5), ("poisson", 9)])
def test_reaches_the_irls_solution_in_a_handful_of_steps(model, budget):
    """From PyTorch's random init; Poisson's exp makes the first steps from far away short."""
    experiment, step, design, train = newton_run(model)
    reference = irls(design, train.y.numpy(), *REFERENCES[model])
    errors = []
    for _ in range(budget):
        step(train.X, train.y)
        errors.append(relative_error(weights(experiment.model), reference))
    assert errors[-1] < 1e-8, errors


def test_logistic_converges_quadratically():
    """Near the optimum e_{k+1} ≈ C·e_k²: the error's exponent about doubles per step."""
    experiment, step, design, train = newton_run("logistic")
    reference = irls(design, train.y.numpy(), *REFERENCES["logistic"])
    errors = [relative_error(weights(experiment.model), reference)]  # from the random init
    for _ in range(6):
        step(train.X, train.y)
        errors.append(relative_error(weights(experiment.model), reference))
    # near the optimum (e < 0.1) and above float64's floor
    resolved = [e for e in errors if 1e-13 < e < 0.1]
    assert len(resolved) >= 3, errors
    for before, after in zip(resolved, resolved[1:], strict=False):
        assert after < 10 * before**2, errors  # e_{k+1} ≤ C e_k² with a modest C
        assert np.log(after) / np.log(before) > 1.8, errors  # not linear: digits double


def test_softmax_singular_hessian_reaches_the_optimum():
    """Softmax's Hessian is singular (one direction per feature is flat); the least-squares
    solve still takes the Newton step in the rest and reaches scipy's minimum."""
    scipy_optimize = pytest.importorskip("scipy.optimize")
    experiment, step, design, train = newton_run("softmax")
    X, y = design, train.y.numpy()
    classes = experiment.model.weight.shape[0]

    def loss(flat):
        eta = X @ flat.reshape(classes, -1).T
        eta = eta - eta.max(axis=1, keepdims=True)
        return float(np.mean(np.log(np.exp(eta).sum(axis=1)) - eta[np.arange(len(y)), y]))

    reference = scipy_optimize.minimize(
        loss, np.zeros(classes * X.shape[1]), method="BFGS", options={"gtol": 1e-12}
    ).fun
    for _ in range(8):
        step(train.X, train.y)
    assert experiment.optimizer.last_solve == "lstsq"
    final = float(experiment.model.loss(train.X, train.y).detach())
    assert abs(final - reference) < 1e-10 * abs(reference)


@pytest.mark.parametrize(("lr", "damping"), [(0.5, 0.0), (1.0, 0.3), (0.25, 2.0)])
def test_step_size_and_damping(lr, damping):
    """w₁ = w₀ − lr·(H + damping·I)⁻¹∇L with the mean squared error's ∇L and H in closed form."""
    experiment, step, design, train = newton_run(
        "linear", f"optimizer.lr={lr}", f"optimizer.damping={damping}"
    )
    start = weights(experiment.model)
    y, m = train.y.numpy(), len(design)
    gradient = 2 / m * design.T @ (design @ start - y)
    hessian = 2 / m * design.T @ design
    expected = start - lr * np.linalg.solve(hessian + damping * np.eye(len(start)), gradient)
    step(train.X, train.y)
    assert relative_error(weights(experiment.model), expected) < 1e-10


def test_too_many_parameters_are_refused():
    with pytest.raises(InputError, match=r"4609×4609 Hessian.*optimizer.max_params=2000"):
        newton_run("logistic", "model=mlp", "model.hidden=[64,64]")
    with pytest.raises(ValueError, match="max_params=5"):
        from_schema(NewtonConfig, torch.nn.Linear(5, 1).parameters(), max_params=5)


def test_bad_settings_exit_2(dlrun_main):
    code, _, err = dlrun_main(
        "model=logistic", "dataset=synthetic_binary", "optimizer=newton", "optimizer.damping=-1"
    )
    assert code == 2 and "optimizer.damping=-1.0 is not allowed" in err
    code, _, err = dlrun_main(
        "model=mlp", "dataset=synthetic_binary", "optimizer=newton", "optimizer.max_params=100"
    )
    assert code == 2 and "optimizer.max_params=100" in err and "Traceback" not in err


def test_end_to_end_run_records_the_optimum(run_dlrun):
    """dlrun optimizer=newton on logistic: the recorded final loss is IRLS's, and the run stops
    once the gradient norm is below trainer.tol (its default), well within max_epochs."""
    summary, run_dir = run_dlrun(
        "model=logistic",
        "dataset=synthetic_binary",
        "optimizer=newton",
        "trainer=full_batch",
        "trainer.max_epochs=6",
        "trainer.eval_every=6",
        "dtype=float64",
    )
    _, _, design, train = newton_run("logistic")
    w = irls(design, train.y.numpy(), *REFERENCES["logistic"])
    eta, y = design @ w, train.y.numpy()
    reference = float(np.mean(np.logaddexp(0, eta) - y * eta))
    assert summary["status"] == "completed"
    assert abs(summary["metrics"]["train/loss"] - reference) < 1e-12
    assert summary["converged"] is True and summary["steps"] < 6
    assert summary["iterations"] == summary["steps"] - 1
    steps = (run_dir / "steps.csv").read_text().splitlines()
    assert len(steps) == summary["steps"] + 1  # header + one row per step
    # the last step started below the tolerance, the one before above it
    grad_norms = [float(line.split(",")[3]) for line in steps[1:]]
    assert grad_norms[-1] < 1e-6 < grad_norms[-2]


def test_experiment_config_runs_every_optimizer(run_dlrun):
    """experiment=glm_optimizers trains SGD, line search and Newton for a few full-batch steps;
    Newton's loss after 3 steps is below the others' (the experiment's claim, in small)."""
    losses = {}
    for optimizer in ("sgd", "line_search", "newton"):
        summary, run_dir = run_dlrun(
            "experiment=glm_optimizers",
            f"optimizer={optimizer}",
            "trainer.max_epochs=3",
            "trainer.eval_every=3",
        )
        assert summary["status"] == "completed" and summary["steps"] == 3
        assert (run_dir / "steps.csv").is_file()
        losses[optimizer] = summary["metrics"]["train/loss"]
    assert losses["newton"] < min(losses["sgd"], losses["line_search"])


def test_numpy_mlp_is_refused_before_training(dlrun_main):
    # the numpy backprop has no second derivatives, so no Hessian for Newton
    code, out, err = dlrun_main(
        "model=mlp_numpy", "model.hidden=[4]", "dataset=iris", "optimizer=newton"
    )
    assert code == 2 and "Traceback" not in err + out and err.count("\n") == 1
    assert "optimizer=newton needs second derivatives" in err and "model=mlp" in err


def test_every_step_is_armijo_along_the_newton_direction():
    """Each step is t·d with d = −H⁻¹∇L from torch.autograd.functional.hessian and t the first
    of 1, 1/2, 1/4, … meeting Armijo's condition (brute force over the same trial sizes)."""
    experiment, step, design, train = newton_run("poisson")
    model, c1 = experiment.model, 1e-4

    def loss_of(vector: torch.Tensor) -> torch.Tensor:
        eta = torch.from_numpy(design) @ vector
        return torch.mean(torch.exp(eta) - train.y * eta)

    halved = 0
    # five steps: the sixth's decrease (~1e-20) is below float64's resolution of the loss,
    # where Newton accepts t = 1 within its rounding allowance and strict Armijo cannot tell
    for _ in range(5):
        w = torch.from_numpy(weights(model))
        gradient = torch.autograd.functional.jacobian(loss_of, w)
        direction = -torch.linalg.solve(torch.autograd.functional.hessian(loss_of, w), gradient)
        trials = [0.5**k for k in range(30)]
        expected = next(
            t
            for t in trials
            if loss_of(w + t * direction) <= loss_of(w) + c1 * t * (gradient @ direction)
        )
        step(train.X, train.y)
        assert experiment.optimizer.last_eta == expected
        assert relative_error(weights(model), (w + expected * direction).numpy()) < 1e-10
        halved += expected < 1
    assert halved > 0  # from PyTorch's random start, the full step is refused at first


def test_an_uphill_newton_direction_falls_back_to_steepest_descent():
    """f(x, y) = x² − y² + y⁴ at (0.1, 0.1): H = diag(2, −1.88) is indefinite and
    −H⁻¹∇f points uphill (∇fᵀH⁻¹∇f < 0), so the step goes along −∇f instead."""
    point = torch.nn.Parameter(torch.tensor([0.1, 0.1], dtype=torch.float64))
    optimizer = from_schema(NewtonConfig, [point])

    def f():
        x, y = point
        return x**2 - y**2 + y**4

    def closure(backward: bool = True):
        if not backward:
            return f()
        optimizer.zero_grad()
        loss = f()
        loss.backward()
        return loss

    gradient = torch.tensor([0.2, -0.2 + 4 * 0.1**3], dtype=torch.float64)
    before = float(f().detach())
    optimizer.step(closure)
    assert optimizer.last_solve == "steepest" and optimizer.last_eta > 0
    expected = torch.tensor([0.1, 0.1], dtype=torch.float64) - optimizer.last_eta * gradient
    torch.testing.assert_close(point.detach(), expected)
    assert float(f().detach()) < before
