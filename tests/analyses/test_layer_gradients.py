"""‖∂L/∂W‖ per layer (dlrun.analyses.layer_gradients) against one autograd call by hand."""

import json

import pandas as pd
import pytest
import torch

from dlrun.analyses.layer_gradients import layer_gradient_norms
from dlrun.build import from_schema
from dlrun.config.model import ResNetConfig
from dlrun.models.base import DataInfo


def test_layer_gradients_are_autograd_gradients_of_the_model_at_init(run_dlrun):
    summary, run_dir = run_dlrun(
        "model=resnet",
        "model.depth=3",
        "model.width=8",
        "model.form=mlp",
        "seed=3",
        "trainer.max_steps=3",
        "analyze.layer_gradients=true",
        "dtype=float64",
    )
    table = pd.read_csv(run_dir / "layer_gradients.csv")
    # the reference: the same model built by hand from the same seed, one autograd call
    from conftest import compose_config

    from dlrun.build import build_data, select_device

    cfg, _ = compose_config("model=resnet", "seed=3", "dtype=float64")
    data = build_data(cfg, "resnet", select_device("cpu"), torch.float64)
    torch.manual_seed(3)
    digits = DataInfo((64,), "multiclass", 10, image_shape=(8, 8))
    model = from_schema(ResNetConfig, digits, depth=3, width=8, form="mlp").double()
    x, y = data.train.X[:1024], data.train.y[:1024]
    (gradient,) = torch.autograd.grad(model.loss(x, y), model.first_layer.weight)
    assert summary["metrics"]["grad/first_layer_init"] == pytest.approx(float(gradient.norm()))
    init = table[table.phase == "init"]
    assert len(init) == 1 + 2 * 3 + 1 and init.layer.iloc[-1] == "head.linear"
    # at the end: the trained weights of the last checkpoint
    model.load_state_dict(torch.load(run_dir / "checkpoint.pt", weights_only=True)["model"])
    (gradient,) = torch.autograd.grad(model.loss(x, y), model.first_layer.weight)
    written = json.loads((run_dir / "summary.json").read_text())["metrics"]
    assert written["grad/first_layer_end"] == pytest.approx(float(gradient.norm()))
    assert written["grad/first_layer_end"] != pytest.approx(written["grad/first_layer_init"])


def test_layer_gradient_norms_leave_the_model_untouched():
    torch.manual_seed(0)
    model = from_schema(
        ResNetConfig, DataInfo((5,), "multiclass", 3), depth=2, width=4, norm="batch"
    )
    before = {k: v.clone() for k, v in model.state_dict().items()}
    norms = layer_gradient_norms(model, torch.randn(16, 5), torch.randint(3, (16,)))
    assert len(norms) == 1 + 4 + 1
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key]), key
    assert all(p.grad is None for p in model.parameters())
