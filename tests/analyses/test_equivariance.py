"""The equivariance analysis (dlrun.analyses.equivariance) against brute-force references."""

import numpy as np
import pandas as pd
import pytest
import torch

from dlrun.analyses.equivariance import conv_rows, measure
from dlrun.build import from_schema
from dlrun.config.model import CNNConfig, ResNetConfig
from dlrun.errors import InputError
from dlrun.models.base import DataInfo


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


def test_measure_refuses_a_model_without_conv_or_hidden_layer():
    with pytest.raises(InputError):
        measure(from_schema(ResNetConfig, DataInfo((5,), "multiclass", 3)), None)
