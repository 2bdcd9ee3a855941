"""Every registered model option (conf/model/*.yaml), as timm's tests do: on data it accepts,
one step gives every trainable parameter a finite gradient, and a short run does not diverge."""

import pytest
import torch

from dlrun.build import build
from dlrun.check import TINY, data_for
from dlrun.config.compose import compose_config, options

MODELS = options("model")
ON_CPU = ("device=cpu",)  # mlp_numpy computes in numpy: on a GPU machine auto would pick CUDA


def test_every_model_option_is_tested():
    assert {"mlp", "cnn", "resnet", "rnn", "lstm", "gru", "esn", "linear"} <= set(MODELS)


@pytest.mark.parametrize("model", MODELS)
def test_one_step_gives_every_parameter_a_finite_gradient(model):
    cfg, names = compose_config(f"model={model}", *data_for(model), *TINY, *ON_CPU)
    experiment = build(cfg, names)
    x, y = experiment.data.train.X[:8], experiment.data.train.y[:8]
    experiment.model.loss(x, y).backward()
    trainable = dict(experiment.model.named_parameters())
    assert trainable
    for name, parameter in trainable.items():
        if not parameter.requires_grad:  # the RNN's second bias, fixed at zero
            continue
        assert parameter.grad is not None, f"{model}: {name} got no gradient"
        assert torch.isfinite(parameter.grad).all(), f"{model}: {name}"
    total = sum(float(p.grad.abs().sum()) for p in trainable.values() if p.grad is not None)
    assert total > 0, f"{model}: every gradient is zero"


@pytest.mark.parametrize("model", MODELS)
def test_a_short_run_of_every_model_completes(run_dlrun, model):
    summary, _ = run_dlrun(
        f"model={model}", *data_for(model), *TINY, *ON_CPU, "trainer.max_steps=3"
    )
    assert summary["status"] == "completed", summary.get("metrics")
    cfg, _ = compose_config(f"model={model}")
    closed_form = cfg.model.get("readout") == "ridge"  # the ESN's readout is one solve
    assert summary["steps"] == (0 if closed_form else 3)
