"""GLM solvers against statsmodels' IRLS on real data sets it ships, and the solvers' promises:
Newton's loss never rises, trainer.tol ends a converged run, and L-BFGS reaches the
least-squares solution of an ill-conditioned problem that steepest descent does not."""

import numpy as np
import pandas as pd
import pytest

from dlrun.build import build
from dlrun.config.compose import compose_config

sm = pytest.importorskip("statsmodels.api")

EXACT = (
    "dataset=csv",
    "dataset.test_fraction=0",
    "dataset.val_fraction=0",
    "dtype=float64",
    "trainer=full_batch",
)


def spector():
    """Grade improvement (0/1) after a teaching method, 32 students (Spector & Mazzeo 1980)."""
    return sm.datasets.spector.load_pandas().data, "GRADE"


def randhie():
    """Doctor visits (counts) in the RAND health insurance experiment, 20190 people."""
    return sm.datasets.randhie.load_pandas().data, "mdvis"


def longley():
    """US employment 1947-62, 16 rows of nearly collinear series (Longley 1967)."""
    return sm.datasets.longley.load_pandas().data, "TOTEMP"


# model -> (data set, statsmodels family)
CASES = {
    "logistic": (spector, sm.families.Binomial),
    "poisson": (randhie, sm.families.Poisson),
    "linear": (longley, sm.families.Gaussian),
}


# trainer.tol for the comparison: Newton's last steps are quadratic and end at rounding level;
# L-BFGS's strong-Wolfe search stops finding a lower float64 loss near ‖∇L‖ ≈ 3e-9 here
TOLERANCE = {"newton": 1e-12, "lbfgs": 1e-8}


def write_csv(tmp_path, frame: pd.DataFrame, name: str) -> str:
    path = tmp_path / f"{name}.csv"
    frame.to_csv(path, index=False)
    return str(path)


def statsmodels_fit(model: str) -> tuple[pd.DataFrame, str, pd.Series]:
    """(data, target column, IRLS coefficients: intercept first, then the features)."""
    load, family = CASES[model]
    frame, target = load()
    features = frame.drop(columns=target).astype(float)
    fitted = sm.GLM(frame[target].astype(float), sm.add_constant(features), family=family()).fit()
    return frame, target, fitted.params


@pytest.mark.parametrize("optimizer", ["newton", "lbfgs"])
@pytest.mark.parametrize("model", list(CASES))
def test_coefficients_equal_statsmodels_irls(run_dlrun, tmp_path, model, optimizer):
    """coefficients.csv (on the inputs' original scale) equals statsmodels' GLM fit to 1e-6."""
    frame, target, reference = statsmodels_fit(model)
    summary, run_dir = run_dlrun(
        f"model={model}",
        *EXACT,
        f"dataset.path={write_csv(tmp_path, frame, model)}",
        f"dataset.target={target}",
        f"optimizer={optimizer}",
        "trainer.max_epochs=500",
        f"trainer.tol={TOLERANCE[optimizer]}",
    )
    assert summary["status"] == "completed" and summary["converged"] is True, summary
    fitted = pd.read_csv(run_dir / "coefficients.csv")
    assert list(fitted["term"]) == ["intercept", *reference.index[1:]]
    np.testing.assert_allclose(fitted["estimate"].to_numpy(), reference.to_numpy(), rtol=1e-6)


def poisson_newton_start() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(design [X, 1], counts, PyTorch's initial [w, b]) of poisson on synthetic_count, seed 0:
    the run of experiments/glm_optimizers whose full Newton step went uphill."""
    cfg, names = compose_config(
        "model=poisson", "dataset=synthetic_count", "optimizer=newton", "dtype=float64"
    )
    experiment = build(cfg, names)
    model, train = experiment.model, experiment.data.train
    start = np.concatenate([model.weight.detach().numpy().ravel(), model.bias.detach().numpy()])
    design = np.hstack([train.X.numpy(), np.ones((len(train), 1))])
    return design, train.y.numpy(), start


def poisson_loss(design: np.ndarray, y: np.ndarray, w: np.ndarray) -> float:
    eta = design @ w
    return float(np.mean(np.exp(eta) - y * eta))


def test_newton_loss_never_rises_where_the_full_step_overshoots(run_dlrun):
    design, y, start = poisson_newton_start()
    # the undamped Newton step from the same start, in numpy: the loss rises tenfold
    mu = np.exp(design @ start)
    gradient = design.T @ (mu - y) / len(y)
    hessian = design.T @ (mu[:, None] * design) / len(y)
    full_step = start - np.linalg.solve(hessian, gradient)
    assert poisson_loss(design, y, full_step) > 10 * poisson_loss(design, y, start)

    summary, run_dir = run_dlrun(
        "model=poisson",
        "dataset=synthetic_count",
        "optimizer=newton",
        "trainer=full_batch",
        "dtype=float64",
        "trainer.tol=1e-12",
    )
    steps = pd.read_csv(run_dir / "steps.csv")  # the loss before each step
    assert steps["loss"].iloc[0] == pytest.approx(poisson_loss(design, y, start), rel=1e-12)
    losses = np.append(steps["loss"].to_numpy(), summary["metrics"]["train/loss"])
    assert np.all(np.diff(losses) <= 1e-15 * np.abs(losses[:-1])), losses
    assert steps["lr"].iloc[0] < 1 and steps["lr"].iloc[-1] == 1  # halved far away, full near
    assert summary["converged"] is True and summary["iterations"] < 15


@pytest.mark.parametrize("optimizer", ["newton", "lbfgs", "line_search"])
def test_tol_ends_the_run_once_the_gradient_is_small(run_dlrun, optimizer):
    """With trainer.tol the run stops at the first step that starts below it; without, it
    runs its budget: the same first steps, since the tolerance only decides when to stop."""
    common = (
        "model=logistic",
        "dataset=synthetic_binary",
        "trainer=full_batch",
        "dtype=float64",
        f"optimizer={optimizer}",
        "trainer.max_epochs=300",
    )
    summary, run_dir = run_dlrun(*common, "trainer.tol=1e-7")
    steps = pd.read_csv(run_dir / "steps.csv")
    assert summary["converged"] is True and summary["steps"] == len(steps) < 300
    assert summary["iterations"] == summary["steps"] - 1
    # ‖∇L‖ ≤ tol·max(1, |L|), and |L| < 1 here
    assert steps["grad_norm"].iloc[-1] <= 1e-7 < steps["grad_norm"].iloc[-2]

    unlimited, run_dir = run_dlrun(*common, "trainer.tol=null")
    assert unlimited["converged"] is None and unlimited["steps"] == 300
    budget = pd.read_csv(run_dir / "steps.csv")
    pd.testing.assert_frame_equal(budget.iloc[: len(steps)], steps)


@pytest.mark.parametrize(
    "overrides", [("optimizer=sgd",), ("optimizer=newton", "trainer.batch_size=64")]
)
def test_tol_does_not_apply_to_sgd_or_mini_batches(run_dlrun, overrides):
    """A fixed-step method's gradient never vanishes in a few steps, and a mini-batch's
    gradient norm says nothing of convergence: the run takes its budget, converged null."""
    summary, _ = run_dlrun(
        "model=logistic",
        "dataset=synthetic_binary",
        "trainer=full_batch",
        "dtype=float64",
        "trainer.max_epochs=40",
        "trainer.tol=1e-2",
        *overrides,
    )
    assert summary["converged"] is None and summary["iterations"] is None
    assert summary["epochs"] == 40


def test_a_bad_tolerance_exits_2(dlrun_main):
    code, out, err = dlrun_main("model=logistic", "dataset=synthetic_binary", "trainer.tol=0")
    assert code == 2 and "trainer.tol=0.0" in err and "null or a number > 0" in err
    assert "Traceback" not in out + err and err.count("\n") == 1


def ill_conditioned_regression(tmp_path) -> tuple[str, np.ndarray, float]:
    """(csv path, least-squares [intercept, w], cond(H)): one feature 3e4 times the others'
    scale, left unstandardised, so the Hessian's condition number is about 1e9."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4)) * np.array([3e4, 1, 1, 1])
    y = 1 + X @ np.array([2 / 3e4, -1, 0.5, 0.25]) + 0.1 * rng.normal(size=200)
    frame = pd.DataFrame(X, columns=["x0", "x1", "x2", "x3"]).assign(y=y)
    design = np.column_stack([np.ones(len(X)), X])
    least_squares = np.linalg.lstsq(design, y, rcond=None)[0]
    return write_csv(tmp_path, frame, "ill"), least_squares, np.linalg.cond(design.T @ design)


def test_lbfgs_solves_an_ill_conditioned_problem_steepest_descent_cannot(run_dlrun, tmp_path):
    """Steepest descent's step must stay below 2/λmax, so along the flat directions it moves
    by about λmin/λmax ≈ 1e-9 of the way per step; L-BFGS's curvature estimate undoes that."""
    path, least_squares, condition = ill_conditioned_regression(tmp_path)
    assert condition > 1e8
    fits = {}
    for optimizer in ("line_search", "lbfgs", "newton"):
        summary, run_dir = run_dlrun(
            "model=linear",
            *EXACT,
            f"dataset.path={path}",
            "dataset.target=y",
            "dataset.standardize=false",
            f"optimizer={optimizer}",
            "trainer.max_epochs=300",
        )
        estimate = pd.read_csv(run_dir / "coefficients.csv")["estimate"].to_numpy()
        fits[optimizer] = summary, np.max(np.abs(estimate - least_squares) / np.abs(least_squares))
    line_search, lbfgs, newton = fits["line_search"], fits["lbfgs"], fits["newton"]
    assert line_search[0]["converged"] is False and line_search[1] > 0.1
    assert lbfgs[0]["converged"] is True and lbfgs[0]["iterations"] < 30 and lbfgs[1] < 1e-8
    assert newton[0]["converged"] is True and newton[0]["iterations"] == 1 and newton[1] < 1e-8
