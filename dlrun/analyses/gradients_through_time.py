"""Gradient norms through time and the spectrum of the recurrent matrix, at initialisation and
after training: every recurrent run gets them (grad_norms.csv/.png, metrics init/* and end/*).

‖∂L/∂h⁽ᵗ⁾‖ for every t comes from ONE backward pass: a zero probe p⁽ᵗ⁾ is added to each
hidden state inside the recursion (h⁽ᵗ⁾ + p⁽ᵗ⁾ feeds both the next step and the readout), so
∂L/∂p⁽ᵗ⁾ = ∂L/∂h⁽ᵗ⁾, the total derivative through every later step (and, when the head
reads every step, global_pool=avg|max|none, through the head directly).

A bidirectional model gets both recursions measured: h⁽ᵗ⁾ of the backward recursion (which runs
from t = T down to 1) has its own probe. grad_norms.csv has a row per phase, direction and t;
the backward recursion's metrics are `<phase>/backward/<name>`, its first step being t = T.
"""

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import torch
from omegaconf import DictConfig
from torch import Tensor

from dlrun.build import Experiment
from dlrun.record.files import RunRecord

if TYPE_CHECKING:  # matplotlib is imported when a figure is drawn: it is slow to import
    from matplotlib.figure import Figure

GRAD_NORMS_FILE, GRAD_NORMS_PLOT = "grad_norms.csv", "grad_norms.png"
DIAGNOSTIC_ROWS = 256  # the fixed batch measured at initialisation and at the end


def hidden_gradient_norms(model, x: Tensor, y: Tensor) -> Tensor:
    """‖∂ℓ/∂h⁽ᵗ⁾‖ for each direction and t = 1…T (directions, T), averaged over the examples'
    own losses ℓ, in one backward.

    The model needs `hidden_states(x, probes)`, `readout`, `head`, `hidden_size` and
    `directions` (dlrun.models.recurrent).
    """
    batch, steps = x.shape[:2]
    with torch.enable_grad():
        probes = x.new_zeros(batch, steps, model.hidden_size * model.directions)
        probes.requires_grad_(True)
        states = model.hidden_states(x, probes)
        loss = model.head.loss(model.head(model.readout(states)), y)
        # the loss is a mean over the batch: × B gives each example's own ∂ℓ/∂h⁽ᵗ⁾
        (gradient,) = torch.autograd.grad(loss * batch, probes)
    per_direction = gradient.view(batch, steps, model.directions, model.hidden_size)
    return per_direction.norm(dim=-1).mean(dim=0).T.detach()


def decay_rate(norms: np.ndarray) -> float:
    """The factor per step back in time, exp(slope) of log‖∂L/∂h⁽ᵗ⁾‖ against T − t fitted by
    least squares over the finite, non-zero norms: < 1 vanishing, > 1 exploding."""
    steps_back = np.arange(len(norms))[::-1].astype(float)
    keep = np.isfinite(norms) & (norms > 0)
    if keep.sum() < 2:
        return math.nan
    slope = np.polyfit(steps_back[keep], np.log(norms[keep]), 1)[0]
    return float(np.exp(slope))


def spectrum(weight: Tensor | None) -> dict[str, float]:
    """Spectral radius (square matrices only) and largest singular value."""
    if weight is None:
        return {}
    matrix = weight.detach().double().cpu()
    if not torch.isfinite(matrix).all():  # a diverged run
        return {"sigma_max": math.nan} | (
            {"spectral_radius": math.nan} if matrix.shape[0] == matrix.shape[1] else {}
        )
    values = {"sigma_max": float(torch.linalg.matrix_norm(matrix, ord=2))}
    if matrix.shape[0] == matrix.shape[1]:
        values["spectral_radius"] = float(torch.linalg.eigvals(matrix).abs().max())
    return values


def _log10(value: float) -> float:
    return math.log10(value) if value > 0 else -math.inf


def summarize(norms: np.ndarray) -> dict[str, float]:
    """The first and last step's norm, their ratio, log10 of the first, and the decay rate."""
    first, last = float(norms[0]), float(norms[-1])
    return {
        "grad_h1": first,
        "grad_hT": last,
        "log10_grad_h1": _log10(first),
        "grad_ratio": first / last if last > 0 else math.nan,
        "grad_rate": decay_rate(norms),
    }


def measure(experiment: Experiment) -> dict:
    """‖∂L/∂h⁽ᵗ⁾‖ for t = 1…T and the spectrum of W, of the model as it is, in eval mode:
    {"norms", "spectrum"} of the forward recursion, and under "backward" the backward one's."""
    model, train = experiment.model, experiment.data.train
    x, y = train.X[:DIAGNOSTIC_ROWS], train.y[:DIAGNOSTIC_ROWS]
    was_training = model.training
    model.eval()
    norms = hidden_gradient_norms(model, x, y).double().cpu().numpy()
    model.train(was_training)
    measurement = {"norms": norms[0].tolist(), "spectrum": spectrum(model.recurrent_weight())}
    if model.directions == 2:
        backward = {"norms": norms[1].tolist(), "spectrum": spectrum(model.recurrent_weight(1))}
        measurement["backward"] = backward
    return measurement


def phase_metrics(phase: str, measurement: dict) -> dict[str, float]:
    """init/grad_h1, init/grad_rate, init/spectral_radius, ... of one measurement, and
    init/backward/grad_h1, ... of a backward recursion, in its own time order (t = T first)."""
    values = summarize(np.asarray(measurement["norms"], dtype=float)) | measurement["spectrum"]
    metrics = {f"{phase}/{name}": value for name, value in values.items()}
    if "backward" in measurement:
        backward = measurement["backward"]
        norms = np.asarray(backward["norms"], dtype=float)[::-1]
        values = summarize(norms) | backward["spectrum"]
        metrics |= {f"{phase}/backward/{name}": value for name, value in values.items()}
    return metrics


def direction_norms(measurement: dict) -> dict[str, list[float]]:
    """{"forward": norms} or {"forward": ..., "backward": ...}, each in the order t = 1…T."""
    norms = {"forward": measurement["norms"]}
    if "backward" in measurement:
        norms["backward"] = measurement["backward"]["norms"]
    return norms


def norms_table(phases: dict[str, dict]) -> pd.DataFrame:
    """grad_norms.csv: phase, direction, t, norm."""
    frames = [
        pd.DataFrame(
            {"phase": phase, "direction": direction, "t": np.arange(1, len(norms) + 1)}
            | {"norm": norms}
        )
        for phase, measurement in phases.items()
        for direction, norms in direction_norms(measurement).items()
    ]
    return pd.concat(frames, ignore_index=True)


def plot_norms(table: pd.DataFrame) -> "Figure":
    """‖∂L/∂h_t‖ against t on a log scale, one line per phase (and direction)."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6, 4), dpi=100)
    axes = figure.subplots()
    both = table.direction.nunique() > 1
    for (phase, direction), rows in table.groupby(["phase", "direction"], sort=False):
        positive = rows[rows.norm > 0]
        label = f"{phase} of training" + (f", {direction}" if both else "")
        axes.plot(positive.t, positive.norm, label=label)
    axes.set_yscale("log")
    axes.set_xlabel("t")
    axes.set_ylabel("‖∂L/∂h_t‖")
    axes.set_title("gradient with respect to each hidden state")
    axes.legend()
    figure.tight_layout()
    return figure


def refusal(experiment: Experiment) -> str | None:
    """Why this model has no hidden states to differentiate by (so no run gets them), or None."""
    if experiment.model.recurrent:
        return None
    return "gradients through time need a recurrent model (model=rnn|lstm|gru|esn)"


def before(experiment: Experiment) -> dict:
    """The measurement at initialisation (dlrun.analyses keeps it across resume)."""
    return measure(experiment)


def run(cfg: DictConfig, experiment: Experiment, record: RunRecord, initial: dict) -> dict:
    """grad_norms.csv/.png at initialisation and at the end; metrics init/* and end/*."""
    phases = ({"init": initial} if initial else {}) | {"end": measure(experiment)}
    table = norms_table(phases)
    record.write_csv(GRAD_NORMS_FILE, table)
    record.write_figure(GRAD_NORMS_PLOT, plot_norms(table))
    metrics = {}
    for phase, measurement in phases.items():
        metrics |= phase_metrics(phase, measurement)
    return {"metrics": metrics}
