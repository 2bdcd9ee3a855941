"""‖∂L/∂h_t‖ from one backward pass against one backward per t, and the theory in float64."""

import math

import numpy as np
import pandas as pd
import pytest
import torch

from dlrun.analyses.gradients_through_time import decay_rate, hidden_gradient_norms, spectrum
from dlrun.build import from_schema
from dlrun.config.model import GatedConfig, LSTMConfig, RNNConfig
from dlrun.models.base import DataInfo
from dlrun.models.recurrent import RNN

B, T, F, H = 4, 9, 3, 6


def brute_force_rnn(model: RNN, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """For each t: h_t becomes a leaf, the recursion continues from it, one backward."""
    norms = []
    drive = x @ model.U.T + model.b
    for t in range(T):
        with torch.no_grad():
            history = list(model.hidden_states(x)[:, : t + 1].unbind(dim=1))
        leaf = history[t].clone().requires_grad_(True)
        history[t] = leaf
        for s in range(t + 1, T):
            delayed = history[s - model.skip] if model.skip and s >= model.skip else None
            history.append(model.step(drive[:, s], history[s - 1], delayed, model.W))
        per_example = (model.head(history[-1]) - y) ** 2  # the squared loss of each example
        (gradient,) = torch.autograd.grad(per_example.sum(), leaf)
        norms.append(gradient.norm(dim=1).mean())
    return torch.stack(norms).detach()


@pytest.mark.parametrize("options", [{}, {"leak": 0.5}, {"skip": 3}])
def test_one_backward_pass_equals_one_backward_per_step_rnn(options):
    torch.manual_seed(0)
    data = DataInfo((T, F), "regression", kind="sequence")
    model = from_schema(RNNConfig, data, hidden_size=H, init="gaussian", **options).double()
    x, y = torch.randn(B, T, F, dtype=torch.float64), torch.randn(B, dtype=torch.float64)
    torch.testing.assert_close(hidden_gradient_norms(model, x, y)[0], brute_force_rnn(model, x, y))


def test_one_backward_pass_equals_one_backward_per_step_lstm():
    torch.manual_seed(0)
    model = from_schema(LSTMConfig, DataInfo((T, F), "regression"), hidden_size=H).double()
    x, y = torch.randn(B, T, F, dtype=torch.float64), torch.randn(B, dtype=torch.float64)
    expected = []
    for t in range(T):
        with torch.no_grad():
            _, (h, c) = model.body(x[:, : t + 1])
        leaf = h.clone().requires_grad_(True)  # ∂L/∂h_t with the cell state c_t held fixed
        if t + 1 < T:
            output, _ = model.body(x[:, t + 1 :], (leaf, c))
            last = output[:, -1]
        else:
            last = leaf[0]
        per_example = (model.head(last) - y) ** 2
        (gradient,) = torch.autograd.grad(per_example.sum(), leaf)
        expected.append(gradient[0].norm(dim=1).mean())
    norms = hidden_gradient_norms(model, x, y)
    torch.testing.assert_close(norms[0], torch.stack(expected).detach())


@pytest.mark.parametrize("rho", [0.9, 1.1])
def test_linear_rnn_with_scaled_orthogonal_w_follows_rho_to_the_power(rho):
    """h_T = W^(T−t) h_t + …, W = ρQ: ‖∂L/∂h_t‖ = ‖∂L/∂h_T‖ ρ^(T−t) exactly."""
    length = 60
    torch.manual_seed(1)
    model = from_schema(
        RNNConfig,
        DataInfo((length, F), "regression", kind="sequence"),
        hidden_size=H,
        activation="linear",
        init="orthogonal",
        spectral_radius=rho,
    ).double()
    orthogonal, _ = torch.linalg.qr(torch.randn(H, H, dtype=torch.float64))  # Q to float64
    with torch.no_grad():
        model.W.copy_(rho * orthogonal)
    x, y = torch.randn(B, length, F, dtype=torch.float64), torch.randn(B, dtype=torch.float64)
    norms = hidden_gradient_norms(model, x, y)[0].numpy()
    steps_back = np.arange(length)[::-1]
    np.testing.assert_allclose(norms / norms[-1], rho**steps_back, rtol=1e-8)
    assert decay_rate(norms) == pytest.approx(rho, rel=1e-8)


def test_tanh_rnn_gradients_vanish_below_radius_one_and_grow_above_in_the_linear_regime():
    length = 40
    rates = {}
    for rho in (0.7, 1.3):
        torch.manual_seed(2)
        data = DataInfo((length, F), "regression", kind="sequence")
        model = from_schema(
            RNNConfig, data, hidden_size=16, init="orthogonal", spectral_radius=rho
        ).double()
        # tiny inputs keep tanh in its linear regime: tanh'(a) ≈ 1
        x = 1e-8 * torch.randn(B, length, F, dtype=torch.float64)
        norms = hidden_gradient_norms(model, x, torch.randn(B, dtype=torch.float64))[0].numpy()
        rates[rho] = decay_rate(norms)
        if rho < 1:
            assert norms[0] < 1e-5 * norms[-1] and np.all(np.diff(norms) > 0)
        else:
            assert norms[0] > 1e3 * norms[-1] and np.all(np.diff(norms) < 0)
    assert rates[0.7] == pytest.approx(0.7, rel=1e-3) and rates[1.3] == pytest.approx(1.3, rel=1e-3)


def test_spectrum_matches_numpy():
    matrix = torch.randn(7, 7, generator=torch.Generator().manual_seed(0))
    values = spectrum(matrix)
    array = matrix.double().numpy()
    assert values["spectral_radius"] == pytest.approx(np.abs(np.linalg.eigvals(array)).max())
    assert values["sigma_max"] == pytest.approx(np.linalg.svd(array, compute_uv=False)[0])
    assert "spectral_radius" not in spectrum(torch.randn(12, 3))


def test_decay_rate_of_a_geometric_sequence_and_of_zeros():
    assert decay_rate(0.5 ** np.arange(10)[::-1]) == pytest.approx(0.5)
    assert math.isnan(decay_rate(np.zeros(5)))


def test_every_recurrent_run_writes_grad_norms_and_summary_fields(run_dlrun):
    summary, run_dir = run_dlrun(
        "model=rnn",
        "seq_len=12",
        "model.hidden_size=8",
        "dataset.n_samples=80",
        "trainer.max_steps=3",
        "dtype=float64",
    )
    table = pd.read_csv(run_dir / "grad_norms.csv")
    assert list(table.columns) == ["phase", "direction", "t", "norm"]
    assert set(table.direction) == {"forward"}
    assert sorted(table.phase.unique()) == ["end", "init"] and len(table) == 2 * 12
    metrics = summary["metrics"]
    for phase in ("init", "end"):
        norms = table[table.phase == phase].norm.to_numpy()
        assert metrics[f"{phase}/grad_h1"] == pytest.approx(norms[0])
        assert metrics[f"{phase}/grad_hT"] == pytest.approx(norms[-1])
        assert metrics[f"{phase}/grad_ratio"] == pytest.approx(norms[0] / norms[-1])
        assert metrics[f"{phase}/log10_grad_h1"] == pytest.approx(math.log10(norms[0]))
        assert {"spectral_radius", "sigma_max", "grad_rate"} <= {
            key.split("/")[1] for key in metrics if key.startswith(phase)
        }
    assert metrics["init/spectral_radius"] == pytest.approx(1.0, rel=1e-6)  # orthogonal, ρ = 1


@pytest.mark.parametrize("experiment", ["rnn_gradients", "adding_task"])
def test_recurrent_experiments_run_one_recurrent_model_without_multirun(compose_cfg, experiment):
    """Without --multirun the sweep's model list is not applied: the experiment's own model is
    (it was the default mlp, refused on the adding problem)."""
    cfg, names = compose_cfg(f"experiment={experiment}")
    assert names["model"] == "rnn" and names["dataset"] == "adding"


def one_direction(module: torch.nn.RNNBase, reverse: bool) -> torch.nn.RNNBase:
    """A one-direction torch module holding `module`'s weights of one direction."""
    options = {"nonlinearity": module.nonlinearity} if isinstance(module, torch.nn.RNN) else {}
    single = type(module)(module.input_size, module.hidden_size, batch_first=True, **options)
    with torch.no_grad():
        for name, parameter in single.named_parameters():
            parameter.copy_(getattr(module, name + ("_reverse" if reverse else "")))
    return single.double()


def brute_force_bidirectional(model, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """For each direction and t: that direction's h_t becomes a leaf, its recursion continues
    from it (the backward one towards t = 1), the other direction is held; one backward each."""
    forward, backward = one_direction(model.body, False), one_direction(model.body, True)
    with torch.no_grad():
        held = [forward(x)[0], backward(x.flip(1))[0].flip(1)]
    norms = torch.zeros(2, T, dtype=torch.float64)
    for t in range(T):
        leaf = held[0][:, t].clone().requires_grad_(True)
        later = continued(forward, x[:, t + 1 :], leaf)  # steps t+1…T from the leaf
        states = [torch.cat([held[0][:, :t], leaf[:, None], later], dim=1), held[1]]
        norms[0, t] = per_example_gradient_norm(model, states, y, leaf)
        leaf = held[1][:, t].clone().requires_grad_(True)
        earlier = continued(backward, x[:, :t].flip(1), leaf).flip(1)  # steps t−1…1
        states = [held[0], torch.cat([earlier, leaf[:, None], held[1][:, t + 1 :]], dim=1)]
        norms[1, t] = per_example_gradient_norm(model, states, y, leaf)
    return norms


def continued(module: torch.nn.RNNBase, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """The states of `module` over x from the state h; none when x has no step."""
    if x.shape[1] == 0:
        return x.new_zeros(x.shape[0], 0, h.shape[-1])
    return module(x, h[None])[0]


def per_example_gradient_norm(model, states: list, y: torch.Tensor, leaf: torch.Tensor):
    """‖∂ℓ/∂leaf‖ averaged over the examples, the head reading [forward; backward] states."""
    eta = model.head(model.readout(torch.cat(states, dim=-1)))
    per_example = (eta - y) ** 2  # the squared loss of each example
    (gradient,) = torch.autograd.grad(per_example.sum(), leaf)
    return gradient.norm(dim=1).mean().detach()


@pytest.mark.parametrize(
    "schema, pool",
    [(RNNConfig, "last"), (RNNConfig, "none"), (GatedConfig, "avg"), (GatedConfig, "max")],
)
def test_bidirectional_norms_equal_one_backward_per_direction_and_step(schema, pool):
    torch.manual_seed(0)
    data = DataInfo((T, F), "regression", kind="sequence")
    model = from_schema(schema, data, hidden_size=H, bidirectional=True, global_pool=pool)
    model = model.double()
    x, y = torch.randn(B, T, F, dtype=torch.float64), torch.randn(B, dtype=torch.float64)
    norms = hidden_gradient_norms(model, x, y)
    assert norms.shape == (2, T)
    torch.testing.assert_close(norms, brute_force_bidirectional(model, x, y))
    if pool == "last":  # the backward recursion ends at t = 1: its gradient is largest there
        assert norms[1, 0] > norms[1, -1] and norms[0, -1] > norms[0, 0]


def test_bidirectional_run_writes_both_directions_norms_and_metrics(run_dlrun):
    summary, run_dir = run_dlrun(
        "model=gru",
        "model.bidirectional=true",
        "model.global_pool=none",
        "seq_len=10",
        "model.hidden_size=6",
        "dataset.n_samples=80",
        "trainer.max_steps=3",
        "dtype=float64",
    )
    assert summary["status"] == "completed"
    table = pd.read_csv(run_dir / "grad_norms.csv")
    assert len(table) == 2 * 2 * 10 and set(table.direction) == {"forward", "backward"}
    metrics = summary["metrics"]
    for phase in ("init", "end"):
        rows = table[table.phase == phase]
        forward = rows[rows.direction == "forward"].norm.to_numpy()
        backward = rows[rows.direction == "backward"].norm.to_numpy()
        assert metrics[f"{phase}/grad_h1"] == pytest.approx(forward[0])
        assert metrics[f"{phase}/grad_hT"] == pytest.approx(forward[-1])
        # the backward recursion in its own order: its first step is t = T
        assert metrics[f"{phase}/backward/grad_h1"] == pytest.approx(backward[-1])
        assert metrics[f"{phase}/backward/grad_hT"] == pytest.approx(backward[0])
        assert f"{phase}/backward/sigma_max" in metrics
