"""dlrun.tasks against closed forms written here in numpy: each task's transfer t(η), its mean
loss, the canonical-link gradient ∂L/∂η = c·(t(η) − y)/m, and the metrics."""

import numpy as np
import pytest
import torch

from dlrun import tasks

ETA = np.array([-3.0, -0.5, 0.0, 0.7, 2.5])
CLASS_ETA = np.array([[2.0, -1.0, 0.5], [0.0, 0.0, 0.0], [-4.0, 3.0, 1.0], [1.0, 1.5, -2.0]])


def targets(task: str) -> np.ndarray:
    return {
        "regression": np.array([-2.0, 0.3, 1.0, 0.7, 4.0]),
        "binary": np.array([0.0, 1.0, 1.0, 0.0, 1.0]),
        "count": np.array([0.0, 1.0, 3.0, 2.0, 12.0]),
        "multiclass": np.array([0, 2, 1, 1]),
    }[task]


def softmax(eta: np.ndarray) -> np.ndarray:
    e = np.exp(eta - eta.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


# the closed forms: t(η) and the mean loss
TRANSFERS = {
    "regression": lambda eta: eta,
    "binary": lambda eta: 1 / (1 + np.exp(-eta)),
    "count": np.exp,
    "multiclass": softmax,
}
LOSSES = {
    "regression": lambda eta, y: np.mean((eta - y) ** 2),
    "binary": lambda eta, y: np.mean(
        -y * np.log(1 / (1 + np.exp(-eta))) - (1 - y) * np.log(1 - 1 / (1 + np.exp(-eta)))
    ),
    "count": lambda eta, y: np.mean(np.exp(eta) - y * eta),
    "multiclass": lambda eta, y: np.mean(
        np.log(np.exp(eta).sum(axis=1)) - eta[np.arange(len(y)), y]
    ),
}


def as_tensors(task: str):
    eta = CLASS_ETA if task == "multiclass" else ETA
    y = targets(task)
    y_t = torch.tensor(y) if task == "multiclass" else torch.tensor(y, dtype=torch.float64)
    return eta, y, torch.tensor(eta, dtype=torch.float64, requires_grad=True), y_t


@pytest.mark.parametrize("task", tasks.TASKS)
def test_transfer_is_the_closed_form(task):
    eta, _, eta_t, _ = as_tensors(task)
    np.testing.assert_allclose(tasks.transfer(task, eta_t).detach().numpy(), TRANSFERS[task](eta))


@pytest.mark.parametrize("task", tasks.TASKS)
def test_loss_is_the_closed_form(task):
    eta, y, eta_t, y_t = as_tensors(task)
    assert tasks.loss(task, eta_t, y_t).item() == pytest.approx(LOSSES[task](eta, y), rel=1e-12)


@pytest.mark.parametrize("task", tasks.TASKS)
def test_gradient_in_eta_is_transfer_minus_target_over_m(task):
    """The canonical link: ∂L/∂η = (t(η) − y)/m, twice that for the mean squared error."""
    eta, y, eta_t, y_t = as_tensors(task)
    tasks.loss(task, eta_t, y_t).backward()
    target = np.eye(3)[y] if task == "multiclass" else y
    scale = 2.0 if task == "regression" else 1.0
    expected = scale * (TRANSFERS[task](eta) - target) / len(y)
    np.testing.assert_allclose(eta_t.grad.numpy(), expected, rtol=1e-12, atol=1e-15)


def test_binary_and_multiclass_losses_stay_finite_far_out():
    eta = torch.tensor([-800.0, 800.0], dtype=torch.float64)
    # log(1 + e^η) − yη is 800 for both examples; log σ(η) computed naively overflows
    loss = tasks.loss("binary", eta, torch.tensor([1.0, 0.0], dtype=torch.float64))
    assert float(loss) == pytest.approx(800.0)
    logits = torch.tensor([[900.0, 0.0]], dtype=torch.float64)
    assert float(tasks.loss("multiclass", logits, torch.tensor([1]))) == pytest.approx(900.0)


def test_per_step_multiclass_loss_is_the_mean_over_every_step():
    generator = torch.Generator().manual_seed(0)
    eta = torch.randn(3, 4, 5, generator=generator, dtype=torch.float64)  # (B, T, C)
    y = torch.randint(0, 5, (3, 4), generator=generator)
    # every row has T steps, so the mean over all steps is the mean of the rows' means
    per_row = [LOSSES["multiclass"](eta[b].numpy(), y[b].numpy()) for b in range(3)]
    assert float(tasks.loss("multiclass", eta, y)) == pytest.approx(np.mean(per_row))
    values = tasks.metrics("multiclass", eta, y)
    assert values["acc"] == pytest.approx(float((eta.argmax(-1) == y).double().mean()))


def test_binary_accuracy_thresholds_eta_at_zero():
    eta = torch.tensor([-0.1, 0.1, 3.0, -2.0])
    y = torch.tensor([0.0, 0.0, 1.0, 1.0])
    assert tasks.metrics("binary", eta, y)["acc"] == 0.5


def test_check_task_names_the_allowed_tasks():
    assert tasks.check_task("count") == "count"
    with pytest.raises(ValueError, match="task='poison'.*regression\\|binary\\|count\\|multiclass"):
        tasks.check_task("poison")
