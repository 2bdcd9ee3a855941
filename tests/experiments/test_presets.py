"""Each experiment's preset pins the training settings its conclusion rests on, for every model
its sweep compares, so that a change of a model's or the trainer's defaults cannot move them."""

from pathlib import Path

import pytest
import yaml
from omegaconf import OmegaConf

from dlrun.config.compose import compose_config

ROOT = Path(__file__).resolve().parents[2]

# experiment -> the (model, dataset) pairs its run.sh trains
SWEEPS = {
    "model_comparison": [
        ("softmax", "digits"),
        ("mlp", "digits"),
        ("cnn", "digits"),
        ("resnet", "digits"),
        ("lstm", "seq_digits"),
        ("lstm", "waveforms"),
    ],
    "adding_task": [(m, "adding") for m in ("rnn", "leaky_rnn", "lstm", "gru", "esn")],
    "rnn_gradients": [
        (m, "adding") for m in ("rnn", "leaky_rnn", "skip_rnn", "lstm", "gru", "esn")
    ],
    "convexity": [
        ("linear", "synthetic_regression"),
        ("logistic", "synthetic_binary"),
        ("poisson", "synthetic_count"),
        ("softmax", "synthetic_multiclass"),
        ("mlp", "synthetic_binary"),
    ],
    "conv_equivariance": [("cnn", "shapes"), ("mlp", "shapes")],
    "resnet_depth": [("resnet", "digits")],
    "glm_optimizers": [("logistic", "synthetic_binary"), ("poisson", "synthetic_count")],
    "lstm_vs_gru": [("lstm", "adding"), ("gru", "adding")],
}
# what a budget is made of: stated in the preset itself, not inherited from a default
PINNED = ("max_epochs", "clip_grad_norm", "tol")
# experiments whose conclusion rests on when a run stops (steps to solve): early stopping is on,
# and these keys of it are stated in the preset; every other experiment turns it off
STOPPING = {
    "lstm_vs_gru": ("monitor", "patience", "min_delta", "stop_when_solved", "solved_margin")
}


def preset_trainer(experiment: str) -> dict:
    text = (ROOT / "conf" / "experiment" / f"{experiment}.yaml").read_text()
    return yaml.safe_load(text).get("trainer", {})


@pytest.mark.parametrize("experiment", sorted(SWEEPS))
def test_the_preset_states_its_budget(experiment: str) -> None:
    trainer = preset_trainer(experiment)
    missing = [key for key in PINNED if key not in trainer]
    assert not missing, f"conf/experiment/{experiment}.yaml leaves {missing} to the defaults"
    early_stopping = trainer.get("early_stopping", {})
    assert early_stopping.get("enabled") is (experiment in STOPPING)
    missing = [key for key in STOPPING.get(experiment, ()) if key not in early_stopping]
    assert not missing, f"conf/experiment/{experiment}.yaml leaves early_stopping {missing} open"


@pytest.mark.parametrize("experiment", sorted(SWEEPS))
def test_every_model_of_the_sweep_gets_the_same_trainer(experiment: str) -> None:
    trainers = {}
    for model, dataset in SWEEPS[experiment]:
        cfg, names = compose_config(
            f"experiment={experiment}", f"model={model}", f"dataset={dataset}"
        )
        trainers[model] = (names["trainer"], OmegaConf.to_container(cfg.trainer, resolve=True))
    first = next(iter(trainers.values()))
    different = {model: t for model, t in trainers.items() if t != first}
    assert not different, f"{experiment}: {different} differ from {first}"
