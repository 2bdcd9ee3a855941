"""The numpy backprop (model=mlp_numpy) against torch autograd, finite differences and model=mlp."""

import json

import numpy as np
import pytest
import torch

from dlrun.analyses.backprop_check import ACTIVATIONS, TASKS
from dlrun.build import from_schema
from dlrun.config.model import MLPConfig, MLPNumpyConfig
from dlrun.errors import InputError
from dlrun.models.base import DataInfo


def relative(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).norm() / max(a.norm(), b.norm(), 1e-300))


def twins(task: str, activation: str, hidden=(6, 5), n_features=4, n_classes=3, seed=0):
    """An MLPNumpy and a torch MLP with the same float64 weights, and a batch of data."""
    torch.manual_seed(seed)
    data = DataInfo((n_features,), task, n_classes if task == "multiclass" else None)
    options = {"hidden": list(hidden), "activation": activation}
    ours = from_schema(MLPNumpyConfig, data, **options).double()
    reference = from_schema(MLPConfig, data, **options).double()
    reference.load_state_dict(ours.state_dict())
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(23, n_features, generator=generator, dtype=torch.float64)
    if task == "multiclass":
        y = torch.randint(0, n_classes, (23,), generator=generator)
    elif task == "binary":
        y = torch.randint(0, 2, (23,), generator=generator).double()
    elif task == "count":
        y = torch.poisson(torch.full((23,), 2.0, dtype=torch.float64), generator=generator)
    else:
        y = torch.randn(23, generator=generator, dtype=torch.float64)
    return ours, reference, x, y


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("task", TASKS)
def test_numpy_gradients_equal_autograd(task, activation):
    ours, reference, x, y = twins(task, activation)
    loss = ours.loss(x, y)
    loss.backward()
    expected = reference.loss(x, y)
    expected.backward()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-12)
    for (name, p), q in zip(ours.named_parameters(), reference.parameters(), strict=True):
        assert relative(p.grad, q.grad) < 1e-10, name
    assert torch.allclose(ours(x), reference(x), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("task", TASKS)
def test_forward_path_backpropagates_any_torch_loss(task):
    """Gradients through model(x) (upstream ∂L/∂η from torch) equal those of model.loss."""
    ours, reference, x, y = twins(task, "sigmoid", hidden=(3,))
    weights = torch.linspace(0.5, 2.0, len(x), dtype=torch.float64)  # a loss dlrun never uses
    eta = ours(x)
    (weights.reshape(-1, *[1] * (eta.dim() - 1)) * eta.sin()).sum().backward()
    ref_eta = reference(x)
    (weights.reshape(-1, *[1] * (ref_eta.dim() - 1)) * ref_eta.sin()).sum().backward()
    for p, q in zip(ours.parameters(), reference.parameters(), strict=True):
        assert relative(p.grad, q.grad) < 1e-10


def test_numpy_arrays_share_the_parameters_memory():
    ours, _, x, y = twins("regression", "relu", hidden=(3,))
    net = ours.numpy_network()
    with torch.no_grad():
        ours.head.linear.weight.add_(1.0)
    assert np.array_equal(net.linears[-1].W, ours.head.linear.weight.detach().numpy())


@pytest.mark.parametrize("optimizer", ["sgd", "line_search"])
def test_dlrun_run_matches_the_torch_mlp(run_dlrun, optimizer):
    """Same seed, same data, same steps: the numpy model trains exactly as model=mlp does."""
    common = (
        "dataset=iris",
        f"optimizer={optimizer}",
        "trainer.max_epochs=3",
        "dtype=float64",
        "model.hidden=[8]",
        "model.activation=tanh",
        "trainer.checkpoint=false",
    )
    ours, run_dir = run_dlrun("model=mlp_numpy", *common)
    reference, _ = run_dlrun("model=mlp", *common)
    assert ours["status"] == "completed"
    assert ours["steps"] == reference["steps"]
    for name, value in reference["metrics"].items():
        assert ours["metrics"][name] == pytest.approx(value, rel=1e-9, abs=1e-12), name
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["model"] == "mlp_numpy"
    assert (run_dir / "metrics.csv").exists() and (run_dir / "steps.csv").exists()


def test_hidden_empty_is_a_glm_in_numpy(run_dlrun):
    common = (
        "dataset=synthetic_binary",
        "optimizer=line_search",
        "trainer=full_batch",
        "trainer.max_epochs=20",
        "dtype=float64",
        "trainer.checkpoint=false",
    )
    ours, _ = run_dlrun("model=mlp_numpy", "model.hidden=[]", *common)
    glm, _ = run_dlrun("model=logistic", *common)
    assert ours["metrics"]["train/loss"] == pytest.approx(glm["metrics"]["train/loss"], rel=1e-9)


def test_non_cpu_device_is_refused_where_the_model_is_built():
    from dlrun.build import build_data, build_model
    from dlrun.config.compose import compose_config

    cfg, names = compose_config("model=mlp_numpy", "device=cpu")
    data = build_data(cfg, names["model"], torch.device("cpu"), torch.float32)
    with pytest.raises(InputError, match="allowed: device=cpu"):
        build_model(cfg, data, torch.device("meta"), torch.float32)
