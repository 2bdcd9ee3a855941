"""ResNet: blocks compute their formula, zero-initialised branches are the identity, plain and
residual networks match in size, and a deep residual network trains where a plain one cannot."""

import math

import pytest
import torch
import torch.nn.functional as F

from dlrun.build import from_schema
from dlrun.config.model import ResNetConfig
from dlrun.models.base import DataInfo


def resnet(input_shape=(12,), input_kind="tabular", **options):
    data = DataInfo(input_shape, "multiclass", 3, kind=input_kind)
    return from_schema(ResNetConfig, data, **options).double()


@pytest.mark.parametrize(
    "form,shape,kind",
    [("mlp", (12,), "tabular"), ("conv", (6, 7), "image"), ("conv", (10, 2), "sequence")],
)
def test_zero_initialised_branch_makes_every_block_the_identity(form, shape, kind):
    torch.manual_seed(0)
    model = resnet(shape, kind, form=form, depth=3, width=5, branch_scale="zero", norm="layer")
    h = torch.randn(
        4,
        5,
        *([6, 7] if kind == "image" else [10] if kind == "sequence" else []),
        dtype=torch.float64,
    )  # negative entries too: no ReLU may act on the path
    for block in model.blocks:
        torch.testing.assert_close(block(h), h, rtol=0, atol=0)


def test_residual_block_computes_h_plus_scaled_preactivation_branch():
    torch.manual_seed(1)
    depth = 4
    model = resnet(depth=depth, width=6, branch_scale="sqrt_depth")
    block = model.blocks[1]
    h = torch.randn(5, 6, dtype=torch.float64)
    W1, b1 = block.layer1.weight, block.layer1.bias
    W2, b2 = block.layer2.weight, block.layer2.bias
    branch = F.relu(F.relu(h) @ W1.T + b1) @ W2.T + b2  # W₂ g(W₁ g(h) + b₁) + b₂
    torch.testing.assert_close(block(h), h + branch / math.sqrt(depth))
    plain = resnet(depth=depth, width=6, residual=False)
    plain.load_state_dict(model.state_dict())
    torch.testing.assert_close(plain.blocks[1](h), branch)


@pytest.mark.parametrize(
    "form,shape,kind",
    [("mlp", (12,), "tabular"), ("conv", (6, 7), "image"), ("conv", (10, 2), "sequence")],
)
@pytest.mark.parametrize("norm", ["none", "batch", "layer"])
def test_plain_and_residual_networks_have_equal_parameter_counts(form, shape, kind, norm):
    def count(model):
        return sum(p.numel() for p in model.parameters())

    residual = resnet(shape, kind, form=form, depth=3, width=4, norm=norm)
    plain = resnet(shape, kind, form=form, depth=3, width=4, norm=norm, residual=False)
    assert count(residual) == count(plain)
    # counted by hand: stem, 2 layers per block, 2 norms per block + final norm, head
    kernel_elements = {"tabular": 1, "image": 3 * 3, "sequence": 3}[kind]
    layer = 4 * 4 * kernel_elements + 4
    inputs = 12 if form == "mlp" else (1 * 9 if kind == "image" else 2 * 3)
    norms = 0 if norm == "none" else 2 * 4 * (2 * 3 + 1)
    features = {"tabular": 4, "image": 4 * 6 * 7, "sequence": 4 * 10}[kind]  # flattened maps
    assert count(plain) == (inputs * 4 + 4) + 3 * 2 * layer + norms + (features * 3 + 3)


def first_layer_gradient(model, x, y) -> float:
    model.zero_grad()
    model.loss(x, y).backward()
    return float(model.first_layer.weight.grad.norm())


def test_without_normalisation_deep_plain_gradients_vanish_and_unscaled_residual_ones_explode():
    torch.manual_seed(0)
    x, y = torch.randn(128, 12, dtype=torch.float64), torch.randint(3, (128,))
    grads = {}
    for name, options in {
        "plain": {"residual": False},
        "unscaled": {"branch_scale": "none"},
        "zero": {},
        "sqrt": {"branch_scale": "sqrt_depth"},
    }.items():
        torch.manual_seed(0)
        grads[name] = [
            first_layer_gradient(resnet(depth=d, width=32, **options), x, y) for d in (2, 32)
        ]
    assert grads["plain"][1] < 0.3 * grads["plain"][0]  # vanishes with depth (He init)
    assert grads["unscaled"][1] > 1e3 * grads["unscaled"][0]  # variance doubles per block
    for name in ("zero", "sqrt"):  # scaled branches keep it within a small factor
        assert 0.2 < grads[name][1] / grads[name][0] < 5


def test_default_resnet_is_residual_and_trains_at_depth_64(run_dlrun):
    summary, run_dir = run_dlrun(
        "model=resnet",
        "model.depth=64",
        "model.width=16",
        "model.form=mlp",
        "optimizer=adam",
        "trainer.max_steps=40",
        "trainer.batch_size=128",
    )
    import pandas as pd

    steps = pd.read_csv(run_dir / "steps.csv")
    assert summary["status"] == "completed"
    assert steps.loss.iloc[-5:].mean() < 0.5 * steps.loss.iloc[0]


@pytest.mark.parametrize(
    "overrides",
    [
        ("model.residual=false", "model.depth=3"),
        ("model.norm=batch", "model.form=mlp", "model.branch_scale=sqrt_depth"),
        ("model.norm=layer", "model.width=8", "model.depth=2", "model.global_pool=avg"),
        ("dataset=shapes", "dataset.n_samples=60", "model.width=8", "model.depth=2"),
        (
            "dataset=waveforms",
            "seq_len=20",
            "dataset.n_samples=60",
            "model.width=8",
            "model.norm=batch",
        ),
        ("dataset=diabetes", "model.depth=2", "model.init=default"),
    ],
)
def test_resnet_trains_two_steps_in_each_form(run_dlrun, overrides):
    summary, _ = run_dlrun("model=resnet", *overrides, "trainer.max_steps=2")
    assert summary["status"] == "completed" and summary["steps"] == 2


@pytest.mark.parametrize(
    "experiment,overrides",
    [
        ("resnet_depth", ("model.depth=8",)),
        ("conv_equivariance", ("model=cnn", "dataset.n_samples=80")),
        ("model_comparison", ("model=resnet", "model.depth=2", "model.width=8")),
    ],
)
def test_experiment_configs_train_two_steps(run_dlrun, experiment, overrides):
    summary, run_dir = run_dlrun(f"experiment={experiment}", *overrides, "trainer.max_steps=2")
    assert summary["status"] == "completed" and summary["steps"] == 2
    analyses = {"resnet_depth": "grad/first_layer_init", "conv_equivariance": "changed/detector"}
    if experiment in analyses:
        assert analyses[experiment] in summary["metrics"]
