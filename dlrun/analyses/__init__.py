"""The analyses around training, one module each, all run the same way, and their registry.

Each module has `run(cfg, experiment, record, initial) -> dict`, its part of summary.json (flat
metric names under "metrics", or a key of its own), and, where it needs them,
- `refusal(experiment) -> str | None`: why it cannot run on this model, asked before training;
- `before(experiment) -> dict`: a measurement of the untrained model, handed to `run` as
  `initial`. It is kept in the run directory (INIT_FILE), so a resumed run reads it back instead
  of measuring the weights it resumed from.

dlrun.run calls check() before anything is written, before_training() before a resumed run's
checkpoint is loaded, and after_training() on the fitted model.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass

import torch
from omegaconf import DictConfig

from dlrun.analyses import (
    backprop_check,
    equivariance,
    gradients_through_time,
    hessian,
    layer_gradients,
)
from dlrun.build import Experiment
from dlrun.errors import InputError
from dlrun.record.files import RunRecord

INIT_FILE = "init_measurements.json"  # {analysis: what its before() measured}


def any_model(experiment: Experiment) -> str | None:
    """The refusal of an analysis that runs on every model: none."""
    return None


@dataclass(frozen=True)
class Analysis:
    """One analysis's hooks (see the module docstring)."""

    run: Callable[[DictConfig, Experiment, RunRecord, dict], dict]
    refusal: Callable[[Experiment], str | None] = any_model
    before: Callable[[Experiment], dict] | None = None
    # True: no analyze.<key>; it runs on every model it does not refuse
    automatic: bool = False


# analyze.<key>=true -> the analysis; summary.json's metrics come in this order
REGISTRY: dict[str, Analysis] = {
    "gradients_through_time": Analysis(
        gradients_through_time.run,
        gradients_through_time.refusal,
        gradients_through_time.before,
        automatic=True,
    ),
    "hessian": Analysis(hessian.run, hessian.refusal),
    "backprop_check": Analysis(backprop_check.run),
    "equivariance": Analysis(equivariance.run, equivariance.refusal),
    "layer_gradients": Analysis(layer_gradients.run, before=layer_gradients.before),
}


def selected(cfg: DictConfig, experiment: Experiment) -> dict[str, Analysis]:
    """The analyses this run gets: those asked for, and the automatic ones its model allows."""
    return {
        name: analysis
        for name, analysis in REGISTRY.items()
        if (analysis.refusal(experiment) is None if analysis.automatic else cfg.analyze[name])
    }


def check(cfg: DictConfig, experiment: Experiment) -> None:
    """Refuse, before any work, an analysis asked for that this model cannot give."""
    for analysis in selected(cfg, experiment).values():
        reason = analysis.refusal(experiment)
        if reason is not None:
            raise InputError(reason)


def before_training(
    cfg: DictConfig, experiment: Experiment, record: RunRecord, resume: bool = False
) -> None:
    """Measure the untrained model for the analyses that compare it with the fitted one, into
    INIT_FILE; with `resume`, keep the measurements the run's first start took.

    Call it before a checkpoint is loaded: an analysis the first start lacked is measured on the
    model as built, which is the untrained model (build seeds it from cfg.seed).
    """
    kept = read_initial(record) if resume else {}
    missing = {
        name: analysis
        for name, analysis in selected(cfg, experiment).items()
        if analysis.before is not None and name not in kept
    }
    if not missing:
        return
    devices = [experiment.device] if experiment.device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):  # measuring must not move training's RNG
        measured = {name: analysis.before(experiment) for name, analysis in missing.items()}
    # Python's JSON keeps NaN and Infinity (summary.json's nulls would not read back as such)
    record.write_text(INIT_FILE, json.dumps(kept | measured) + "\n")


def read_initial(record: RunRecord) -> dict[str, dict]:
    """INIT_FILE's measurements, {} when the run has none."""
    path = record.path(INIT_FILE)
    return json.loads(path.read_text()) if path.is_file() else {}


def after_training(cfg: DictConfig, experiment: Experiment, record: RunRecord) -> dict:
    """Run the selected analyses on the fitted model; returns their part of summary.json, the
    metrics of all of them merged under "metrics"."""
    initial = read_initial(record)
    results: dict = {"metrics": {}}
    for name, analysis in selected(cfg, experiment).items():
        result = analysis.run(cfg, experiment, record, initial.get(name, {}))
        results["metrics"] |= result.pop("metrics", {})
        results |= result
    return results
