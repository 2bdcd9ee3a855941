"""analyze.backprop_check (dlrun.analyses.backprop_check): the numpy backprop passes, planted
bugs fail by the amount they must, and a run writes the table."""

import pytest

from dlrun.analyses.backprop_check import ACTIVATIONS, TASKS, backprop_check, check_case
from dlrun.models.mlp_numpy import Activation, Linear, NumpyMLP


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("task", TASKS)
def test_gradient_check_table_passes(task, activation):
    rows = check_case(activation, task, hidden=[5, 4])
    assert len(rows) == 6  # 3 layers × (W, b)
    for row in rows:
        assert row["numpy_vs_autograd"] < 1e-10
        assert row["numpy_vs_fd"] < 1e-6


class LinearWithoutMean(Linear):
    """The planted bug: dW = dZ Aᵀ and db = Σ dZ, the 1/m forgotten."""

    def backward(self, dZ):
        self.dW = dZ @ self.A_prev.T
        self.db = dZ.sum(axis=1, keepdims=True)
        return self.W.T @ dZ


class NetWithoutMean(NumpyMLP):
    def __init__(self, weights, biases, activation, task):
        super().__init__(weights, biases, activation, task)
        self.linears = [LinearWithoutMean(W, b) for W, b in zip(weights, biases, strict=True)]


class ActivationWithoutChainRule(Activation):
    """The planted bug: dZ⁽ˡ⁻¹⁾ = Wᵀ dZ, the ∗ g′(Z⁽ˡ⁻¹⁾) forgotten."""

    def backward(self, dA):
        return dA


class NetWithoutDerivative(NumpyMLP):
    def __init__(self, weights, biases, activation, task):
        super().__init__(weights, biases, activation, task)
        self.activations = [ActivationWithoutChainRule(activation) for _ in self.activations]


@pytest.mark.parametrize("network", [NetWithoutMean, NetWithoutDerivative])
def test_planted_bug_is_caught(network):
    table, summary = backprop_check([5, 4], network=network)
    assert not summary["passed"]
    assert summary["max_numpy_vs_autograd"] > 0.5
    assert summary["max_numpy_vs_fd"] > 0.5
    assert summary["max_autograd_vs_fd"] < 1e-6  # the references still agree with each other


def test_missing_mean_is_off_by_the_batch_size():
    rows = check_case("tanh", "binary", [3], n_examples=16, network=NetWithoutMean)
    # ‖m·g − g‖ / ‖m·g‖ = (m − 1)/m for every layer
    for row in rows:
        assert row["numpy_vs_autograd"] == pytest.approx(15 / 16, rel=1e-9)


def test_experiment_backprop_check_writes_its_table(run_dlrun):
    summary, run_dir = run_dlrun("experiment=backprop_check", "trainer.max_epochs=1")
    assert summary["backprop_check"]["passed"]
    assert summary["backprop_check"]["max_numpy_vs_autograd"] < 1e-10
    for suffix in ("csv", "md", "png"):
        assert (run_dir / f"backprop_check.{suffix}").stat().st_size > 0
    lines = (run_dir / "backprop_check.md").read_text().splitlines()
    assert len(lines) == 2 + 3 * 4 * 3 * 2  # header + activations × heads × layers × (W, b)
