"""The echo state network's series mode against a numpy loop and scikit-learn's Ridge."""

import numpy as np
import pytest
import torch
from sklearn.linear_model import Ridge

from dlrun.build import data_info, from_schema
from dlrun.config import dataset
from dlrun.config.model import ESNConfig
from dlrun.config.trainer import TrainerConfig
from dlrun.data.splits import Data, prepare
from dlrun.errors import InputError
from dlrun.loop import evaluate, solve
from dlrun.models.esn import ESN, _run_torch

CPU = torch.device("cpu")
SEQ_LEN = 10


def series_data(source_schema=dataset.MackeyGlassConfig, **options) -> Data:
    source = from_schema(source_schema, n_samples=300, seq_len=SEQ_LEN, **options)
    return prepare(source, None, "esn", 0, torch.float64, CPU)


def make_esn(data: Data, **options) -> ESN:
    torch.manual_seed(0)
    sizes = dict(reservoir_size=30, spectral_radius=1.1, leak_rate=0.3) | options
    return from_schema(ESNConfig, data_info(data), **sizes).double()


def numpy_states(model: ESN, inputs: np.ndarray) -> np.ndarray:
    """h(t) = (1 − a) h(t−1) + a tanh(W h(t−1) + U x(t) + b) from h = 0, written out."""
    W, U, b = (t.numpy() for t in (model.body.W, model.body.U, model.body.b))
    a, h, states = model.leak_rate, np.zeros(len(b)), []
    for x in inputs:
        h = (1 - a) * h + a * np.tanh(W @ h + U @ x + b)
        states.append(h)
    return np.array(states)


def numpy_ridge(features: np.ndarray, y: np.ndarray, penalty: float) -> np.ndarray:
    """[w; b] minimising ‖y − Xw − b‖² + λ‖w‖² (the bias unpenalised), normal equations."""
    design = np.hstack([features, np.ones((len(features), 1))])
    regulariser = penalty * np.eye(design.shape[1])
    regulariser[-1, -1] = 0.0
    return np.linalg.solve(design.T @ design + regulariser, design.T @ y)


def coefficients(model: ESN) -> np.ndarray:
    linear = model.head.linear
    return np.concatenate([linear.weight[0].detach().numpy(), linear.bias.detach().numpy()])


@pytest.mark.parametrize("sparsity", [0.0, 0.9])  # W multiplied densely, then as CSR
def test_series_mode_is_one_run_then_ridge_on_the_states_after_the_washout(sparsity):
    data = series_data()
    model = make_esn(data, ridge=1e-4, washout=40, sparsity=sparsity)
    train = data.train
    model.fit_series(data.series, train.steps, train.y)
    states = numpy_states(model, data.series.numpy())
    steps, y = train.steps.numpy(), train.y.numpy()
    kept = steps >= 40
    assert 0 < (~kept).sum() < len(steps)  # the washout leaves out some rows, not all
    expected = numpy_ridge(states[steps[kept]], y[kept], 1e-4)
    np.testing.assert_allclose(coefficients(model), expected, rtol=0, atol=1e-8)


def test_the_accelerator_loop_runs_the_same_recursion():
    data = series_data()
    model = make_esn(data)
    drive = torch.addmm(model.body.b, data.series, model.body.U.T)
    states = _run_torch(model.body.W, drive, model.leak_rate)  # as on a GPU, here on the CPU
    expected = numpy_states(model, data.series.numpy())
    np.testing.assert_allclose(states.numpy(), expected, rtol=0, atol=1e-12)


def test_ridge_readout_is_scikit_learns_ridge_with_an_intercept():
    data = series_data()
    model = make_esn(data, ridge=1e-2)
    train = data.train
    model.fit_series(data.series, train.steps, train.y)
    features = model.series_states[train.steps].numpy()
    reference = Ridge(alpha=1e-2, fit_intercept=True, solver="cholesky").fit(
        features, train.y.numpy()
    )
    expected = np.append(reference.coef_, reference.intercept_)
    np.testing.assert_allclose(coefficients(model), expected, rtol=1e-7, atol=1e-9)


def test_test_rows_carry_the_state_of_the_series_not_a_zero_state():
    data = series_data(val_fraction=0.2)
    model = make_esn(data)
    model.fit_series(data.series, data.train.steps, data.train.y)
    states = numpy_states(model, data.series.numpy())
    for name in ("val", "test"):
        split = data.splits[name]
        carried = model.series_eta(split.steps)
        by_hand = states[split.steps.numpy()] @ coefficients(model)[:-1] + coefficients(model)[-1]
        np.testing.assert_allclose(carried.numpy(), by_hand, rtol=1e-10, atol=1e-12)
        # the same rows as windows restarted from zero are other predictions
        windows = model(split.X)
        assert (carried - windows).abs().max() > 1e-6
        # evaluation reports the series mode
        metrics = evaluate(model, {name: split})[name]
        assert metrics["rmse"] == pytest.approx(float((carried - split.y).pow(2).mean().sqrt()))


def test_series_rows_are_the_windows_of_the_series():
    data = series_data(horizon=3, val_fraction=0.2)
    for split in data.splits.values():
        for row in (0, len(split) - 1):
            end = int(split.steps[row])
            window = data.series[end - SEQ_LEN + 1 : end + 1]
            torch.testing.assert_close(split.X[row], window, rtol=0, atol=0)
    assert data.splits["test"].steps.min() > data.train.steps.max() + SEQ_LEN - 1


def test_solve_runs_through_the_series_for_series_data_and_windows_otherwise():
    class Quiet:
        def __getattr__(self, name):
            return lambda *args, **kwargs: None

    for schema, is_series in ((dataset.MackeyGlassConfig, True), (dataset.AddingConfig, False)):
        data = series_data(schema)
        assert (data.series is not None) == is_series
        assert all((split.steps is not None) == is_series for split in data.splits.values())
        model = make_esn(data)
        result = solve(model, data, None, TrainerConfig(checkpoint=False), Quiet(), Quiet())
        assert (model.series_states is not None) == is_series
        if not is_series:  # independent sequences: every window restarts from zero
            reference = make_esn(data)
            reference.fit_closed_form(data.train.X, data.train.y)
            np.testing.assert_allclose(coefficients(model), coefficients(reference), atol=1e-12)
            eta = model(data.splits["test"].X).detach()
            rmse = float((eta - data.splits["test"].y).pow(2).mean().sqrt())
            assert result.metrics["test"]["rmse"] == pytest.approx(rmse)


@pytest.mark.parametrize("sparsity", [0.0, 0.5, 0.9])
def test_input_sparsity_is_the_fraction_of_zero_input_weights(sparsity):
    info = data_info(series_data())
    torch.manual_seed(1)
    model = from_schema(ESNConfig, info, reservoir_size=200, input_sparsity=sparsity)
    zeros = float((model.body.U == 0).float().mean())
    assert zeros == pytest.approx(sparsity, abs=1 / 200)


def test_a_washout_past_every_training_row_is_an_input_error():
    data = series_data()
    model = make_esn(data, washout=10_000)
    with pytest.raises(InputError, match="model.washout=10000"):
        model.fit_series(data.series, data.train.steps, data.train.y)


@pytest.mark.parametrize(
    ("key", "value"), [("input_sparsity", 1.0), ("input_sparsity", -0.1), ("washout", -1)]
)
def test_input_sparsity_and_washout_outside_their_range_are_refused(key, value):
    with pytest.raises(ValueError, match=f"{key}={value!r} is not allowed"):
        ESNConfig(**{key: value})
