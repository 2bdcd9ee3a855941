"""The equivariance and layer-gradient analyses against brute-force references."""

import json

import numpy as np
import pandas as pd
import pytest
import torch

from dlrun.config.model import CNNConfig, ResNetConfig
from dlrun.equivariance import conv_rows, measure
from dlrun.errors import InputError
from dlrun.layer_gradients import layer_gradient_norms
from dlrun.models.base import DataInfo, from_schema


def detector_of(padding_mode: str):
    torch.manual_seed(0)
    images = DataInfo((12, 12), "multiclass", 3, kind="image")
    model = from_schema(CNNConfig, images, channels=[4], padding_mode=padding_mode).double()
    return model.blocks[0].detector


def test_zero_padded_conv_is_equivariant_away_from_the_border_only():
    x = torch.randn(8, 1, 12, 12, dtype=torch.float64)
    table = pd.DataFrame(conv_rows(detector_of("zeros"), x, margin=1, shifts=(1, 3)))
    detector = table[table.layer == "detector"]
    assert (detector.equivariance < 1e-12).all()  # interior: exact up to rounding
    assert (detector.equivariance_full > 1e-3).all()  # the border columns break it


def test_circular_conv_is_equivariant_everywhere_and_global_max_pool_invariant():
    x = torch.randn(8, 1, 12, 12, dtype=torch.float64)
    table = pd.DataFrame(conv_rows(detector_of("circular"), x, margin=1, shifts=(1, 2, 5)))
    assert (table[table.layer == "detector"].equivariance_full < 1e-12).all()
    for layer in ("max_pool_global", "avg_pool_global"):
        assert (table[table.layer == layer].invariance < 1e-12).all()
    assert (table[table.layer == "detector"].invariance > 0.1).all()


def test_changed_fraction_of_max_pool_matches_a_count_by_hand():
    # identity detector on a 1-D signal: pooled values are window maxima we can count
    identity = torch.nn.Identity()
    rng = np.random.default_rng(0)
    x = rng.random((6, 1, 16)) + 0.5  # strictly positive: every value is active
    table = pd.DataFrame(conv_rows(identity, torch.tensor(x), margin=0, shifts=(1,)))
    shifted = np.roll(x, 1, axis=-1)
    before = x.reshape(6, 1, 8, 2).max(-1)
    after = shifted.reshape(6, 1, 8, 2).max(-1)
    expected = np.mean(np.abs(after - before) > 1e-6 * np.abs(before).max())
    row = table[table.layer == "max_pool2"].iloc[0]
    assert row.changed == pytest.approx(expected)
    assert row.invariance == pytest.approx(np.linalg.norm(after - before) / np.linalg.norm(before))


def test_equivariance_analysis_of_cnn_and_mlp_runs(run_dlrun):
    summary, run_dir = run_dlrun(
        "model=cnn",
        "dataset=shapes",
        "dataset.n_samples=80",
        "trainer.max_steps=2",
        "analyze.equivariance=true",
    )
    assert summary["metrics"]["equivariance/detector"] < 1e-5
    assert (run_dir / "equivariance.csv").exists() and (run_dir / "equivariance.png").exists()
    summary, run_dir = run_dlrun("model=mlp", "trainer.max_steps=2", "analyze.equivariance=true")
    assert summary["metrics"]["invariance/mlp_hidden"] > 0.1  # digits as 8×8 images, shifted
    with pytest.raises(InputError, match="use model=cnn or model=mlp"):
        run_dlrun("model=resnet", "analyze.equivariance=true", "trainer.max_steps=1")


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
    assert json.loads((run_dir / "summary.json").read_text())["metrics"]["grad/first_layer_end"] > 0


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


def test_measure_refuses_a_model_without_conv_or_hidden_layer():
    with pytest.raises(InputError):
        measure(from_schema(ResNetConfig, DataInfo((5,), "multiclass", 3)), None)
