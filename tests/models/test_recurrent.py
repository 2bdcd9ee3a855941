"""Recurrent models against the lecture's equations written out by hand, and end to end."""

import pandas as pd
import pytest
import torch

from dlrun.build import from_schema
from dlrun.config.model import ESNConfig, GatedConfig, LSTMConfig, RNNConfig
from dlrun.models.base import DataInfo
from dlrun.models.recurrent import RNN

B, T, F, H = 3, 7, 2, 5
SEQUENCES = DataInfo((T, F), "regression", kind="sequence")


def inputs(seed: int = 0, dtype=torch.float64) -> torch.Tensor:
    return torch.randn(B, T, F, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def make_rnn(**options) -> RNN:
    torch.manual_seed(0)
    model = from_schema(RNNConfig, SEQUENCES, hidden_size=H, **options).double()
    with torch.no_grad():  # a bias that is not zero, so that it is checked too
        model.body.bias_ih_l0.uniform_(-0.5, 0.5)
    return model


def by_hand(model: RNN, x: torch.Tensor, alpha=0.0, skip=None, one_step=True) -> torch.Tensor:
    """a = b + W h(t−1) [+ W_k h(t−k)] + U x(t); h = α h(t−1) + (1 − α) tanh(a); η = c + V h(T)."""
    W, U, b = model.W.detach(), model.U.detach(), model.body.bias_ih_l0.detach()
    Wk = model.skip_weight.detach() if model.skip_weight is not None else W
    V, c = model.head.linear.weight.detach(), model.head.linear.bias.detach()
    hs = [torch.zeros(B, H, dtype=x.dtype)]  # hs[t + 1] is h at step t
    for t in range(T):
        a = b + x[:, t] @ U.T
        if one_step:
            a = a + hs[-1] @ W.T
        if skip is not None and t >= skip:
            a = a + hs[t - skip + 1] @ Wk.T
        hs.append(alpha * hs[-1] + (1 - alpha) * torch.tanh(a))
    return (hs[-1] @ V.T + c).squeeze(-1)


def test_rnn_forward_is_the_lectures_equations():
    model, x = make_rnn(), inputs()
    assert model.fused  # the plain RNN trains through torch.nn.RNN ...
    torch.testing.assert_close(model(x), by_hand(model, x))
    # ... and its written-out recursion is the same function
    torch.testing.assert_close(model.head(model.hidden_states(x)[:, -1]), by_hand(model, x))


def test_leaky_skip_and_removed_one_step_follow_their_formulas():
    x = inputs(1)
    leaky = make_rnn(leak=0.7)
    torch.testing.assert_close(leaky(x), by_hand(leaky, x, alpha=0.7))
    skipping = make_rnn(skip=3)
    torch.testing.assert_close(skipping(x), by_hand(skipping, x, skip=3))
    removed = make_rnn(skip=2, remove_one_step=True)
    torch.testing.assert_close(removed(x), by_hand(removed, x, skip=2, one_step=False))


def test_learned_leak_gets_a_gradient_and_starts_at_its_value():
    model, x = make_rnn(leak=0.6, learn_leak=True), inputs(2)
    torch.testing.assert_close(torch.sigmoid(model.leak_logit), torch.full((H,), 0.6).double())
    model(x).sum().backward()
    assert model.leak_logit.grad is not None and model.leak_logit.grad.abs().sum() > 0


@pytest.mark.parametrize("init", ["gaussian", "orthogonal", "identity"])
def test_initial_w_has_the_configured_spectral_radius(init):
    model = from_schema(RNNConfig, SEQUENCES, hidden_size=30, init=init, spectral_radius=0.8)
    radius = torch.linalg.eigvals(model.W.detach().double()).abs().max()
    assert float(radius) == pytest.approx(0.8, rel=1e-4)
    if init == "orthogonal":
        gram = model.W.detach().T @ model.W.detach()
        torch.testing.assert_close(gram, 0.64 * torch.eye(30), atol=1e-5, rtol=0)


def test_sequence_targets_read_every_step():
    torch.manual_seed(0)
    data = DataInfo((T, F), "multiclass", 4, kind="sequence", target_shape=(T,))
    model = from_schema(RNNConfig, data, hidden_size=H).double()
    eta = model(inputs())
    assert eta.shape == (B, T, 4)
    torch.testing.assert_close(eta, model.head(model.hidden_states(inputs())))


@pytest.mark.parametrize("schema", [LSTMConfig, GatedConfig])
def test_gated_written_out_steps_equal_the_fused_module(schema):
    torch.manual_seed(0)
    model, x = from_schema(schema, SEQUENCES, hidden_size=H).double(), inputs(3)
    torch.testing.assert_close(model.hidden_states(x), model.states(x))
    probes = torch.zeros(B, T, H, dtype=torch.float64)
    torch.testing.assert_close(model.hidden_states(x, probes), model.states(x))


@pytest.mark.parametrize("forget_bias", [1.0, -0.5])
def test_lstm_forget_bias(forget_bias):
    model = from_schema(LSTMConfig, SEQUENCES, hidden_size=H, forget_bias=forget_bias)
    total = model.body.bias_ih_l0 + model.body.bias_hh_l0  # gate order i, f, g, o
    torch.testing.assert_close(total[H : 2 * H].detach(), torch.full((H,), forget_bias))


def test_grad_reg_matches_the_closed_form_jacobian_of_the_tanh_rnn():
    """Ω with ∂h(k+1)/∂h(k) = diag(1 − h(k+1)²) W, computed here per step."""
    model, x = make_rnn(grad_reg=1.0), inputs(4)
    y = torch.randn(B, dtype=torch.float64)
    probes = torch.zeros(B, T, H, dtype=torch.float64, requires_grad=True)
    states = model.hidden_states(x, probes)
    loss = model.head.loss(model.head(states[:, -1]), y)
    (upstream,) = torch.autograd.grad(loss, probes)
    omega = torch.zeros((), dtype=torch.float64)
    for k in range(T - 1):
        v = upstream[:, k + 1]
        jacobian_product = (v * (1 - states[:, k + 1].detach() ** 2)) @ model.W.detach()
        omega = omega + ((jacobian_product.norm(dim=1) / v.norm(dim=1) - 1) ** 2).mean()
    total = model.loss(x, y)
    torch.testing.assert_close(total, loss.detach() + omega)
    # Ω is differentiable in W: the regulariser changes the weights' gradient
    (with_omega,) = torch.autograd.grad(model.loss(x, y), model.W)
    (without,) = torch.autograd.grad(model.head.loss(model(x), y), model.W)
    assert (with_omega - without).norm() > 1e-3 * without.norm()


def test_esn_reservoir_is_fixed_and_has_its_spectral_radius():
    torch.manual_seed(0)
    model = from_schema(
        ESNConfig, SEQUENCES, reservoir_size=60, spectral_radius=1.2, sparsity=0.8, readout="sgd"
    )
    assert not model.closed_form  # readout=sgd: the optimizer trains the head
    radius = torch.linalg.eigvals(model.body.W.double()).abs().max()
    assert float(radius) == pytest.approx(1.2, rel=1e-4)
    assert (model.body.W == 0).float().mean() == pytest.approx(0.8, abs=0.05)
    names = [name for name, _ in model.named_parameters()]
    assert names == ["head.linear.weight", "head.linear.bias"]
    before = model.body.W.clone(), model.body.U.clone()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = inputs(5, torch.float32), torch.randn(B)
    for _ in range(3):
        optimizer.zero_grad()
        model.loss(x, y).backward()
        optimizer.step()
    assert torch.equal(model.body.W, before[0]) and torch.equal(model.body.U, before[1])


def test_esn_ridge_readout_is_the_ridge_solution():
    torch.manual_seed(0)
    model = from_schema(ESNConfig, SEQUENCES, reservoir_size=20, ridge=1e-3).double()
    assert model.closed_form
    x, y = torch.randn(40, T, F, dtype=torch.float64), torch.randn(40, dtype=torch.float64)
    model.fit_closed_form(x, y)
    phi = model.hidden_states(x)[:, -1]
    design = torch.cat([phi, torch.ones(40, 1, dtype=torch.float64)], dim=1)
    penalty = torch.diag(torch.tensor([1e-3] * 20 + [0.0], dtype=torch.float64))  # λ, no N
    solution = torch.linalg.solve(design.T @ design + penalty, design.T @ y)
    torch.testing.assert_close(model.head.linear.weight[0], solution[:20])
    torch.testing.assert_close(model.head.linear.bias[0], solution[20])


def test_lstm_runs_with_nothing_else_on_the_command_line(run_dlrun):
    summary, run_dir = run_dlrun(
        "model=lstm", "seq_len=200", "trainer.max_steps=2", "dataset.n_samples=100"
    )
    assert summary["status"] == "completed" and summary["dataset"] == "adding"
    assert (run_dir / "grad_norms.csv").is_file()


def test_cli_lstm_seq_len_200_defaults_to_adding(tmp_path):
    from tests.conftest import run_cli

    result = run_cli("model=lstm", "seq_len=200", "--cfg", "job", cwd=tmp_path)
    assert result.returncode == 0 and "dlrun.data.sequences.Adding" in result.stdout
    assert "seq_len: 200" in result.stdout


def test_sequence_model_on_tabular_data_names_the_datasets_that_fit(tmp_path):
    from tests.conftest import run_cli

    result = run_cli("model=gru", "dataset=diabetes", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "adding" in result.stderr and "mackey_glass" in result.stderr


def test_esn_ridge_runs_end_to_end_without_sgd(run_dlrun):
    summary, run_dir = run_dlrun(
        "model=esn",
        "dataset=mackey_glass",
        "seq_len=20",
        "dataset.n_samples=300",
        "model.reservoir_size=50",
    )
    assert summary["status"] == "completed" and summary["steps"] == 0
    assert summary["metrics"]["test/r2"] > 0.99


@pytest.mark.slow
def test_lstm_learns_the_adding_problem_at_t50(run_dlrun):
    summary, _ = run_dlrun(
        "model=lstm",
        "model.hidden_size=32",
        "seq_len=50",
        "optimizer=adam",
        "optimizer.lr=0.01",
        "trainer.max_steps=1200",
        "trainer.clip_grad_norm=1.0",
        "threads=1",
        "trainer.max_epochs=100",
        "trainer.batch_size=64",
        "dataset.n_samples=4000",
        "trainer.checkpoint=false",
    )
    assert summary["metrics"]["test/loss"] < 0.01


def test_copy_task_trains_sequence_to_sequence(run_dlrun):
    summary, _ = run_dlrun(
        "model=gru",
        "dataset=copy",
        "seq_len=5",
        "dataset.n_samples=60",
        "model.hidden_size=8",
        "trainer.max_steps=2",
    )
    assert summary["status"] == "completed" and summary["task"] == "multiclass"
    # GRU: 3 gates × H(F + H + 2 biases), F = 8 symbols + blank + delimiter; head H → 9 classes
    assert summary["steps"] == 2 and summary["n_params"] == 3 * 8 * (10 + 8 + 2) + (8 * 9 + 9)


def test_users_sequences_through_npz(run_dlrun, tmp_path):
    import numpy as np

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 9, 3))
    np.savez(tmp_path / "seqs.npz", X=X, y=X[:, :, 0].sum(axis=1))
    summary, run_dir = run_dlrun(
        "model=lstm",
        "dataset=npz",
        f"dataset.path={tmp_path}/seqs.npz",
        "model.hidden_size=8",
        "trainer.max_steps=2",
    )
    assert summary["status"] == "completed" and summary["task"] == "regression"
    assert len(pd.read_csv(run_dir / "grad_norms.csv")) == 2 * 9
