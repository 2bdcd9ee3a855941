"""Gradient norms through time and the spectrum of the recurrent matrix, at initialisation and
after training: every recurrent run gets them (grad_norms.csv/.png, metrics init/* and end/*).

‖∂L/∂h⁽ᵗ⁾‖ for every t comes from ONE backward pass: a zero probe p⁽ᵗ⁾ is added to each
hidden state inside the recursion (h⁽ᵗ⁾ + p⁽ᵗ⁾ feeds both the next step and the readout), so
∂L/∂p⁽ᵗ⁾ = ∂L/∂h⁽ᵗ⁾, the total derivative through every later step.
"""

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import torch
from omegaconf import DictConfig
from torch import Tensor

from dlrun.build import Experiment
from dlrun.record import RunRecord

if TYPE_CHECKING:  # matplotlib is imported when a figure is drawn: it is slow to import
    from matplotlib.figure import Figure

GRAD_NORMS_FILE, GRAD_NORMS_PLOT = "grad_norms.csv", "grad_norms.png"
DIAGNOSTIC_ROWS = 256  # the fixed batch measured at initialisation and at the end


def hidden_gradient_norms(model, x: Tensor, y: Tensor) -> Tensor:
    """‖∂ℓ/∂h⁽ᵗ⁾‖ for t = 1…T (T,), averaged over the examples' own losses ℓ, in one backward.

    The model needs `hidden_states(x, probes)`, `readout` and `head` (dlrun.models.recurrent).
    """
    with torch.enable_grad():
        probes = x.new_zeros(x.shape[0], x.shape[1], model.hidden_size, requires_grad=True)
        states = model.hidden_states(x, probes)
        loss = model.head.loss(model.head(model.readout(states)), y)
        # the loss is a mean over the batch: × B gives each example's own ∂ℓ/∂h⁽ᵗ⁾
        (gradient,) = torch.autograd.grad(loss * x.shape[0], probes)
    return gradient.norm(dim=-1).mean(dim=0).detach()


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
    """‖∂L/∂h⁽ᵗ⁾‖ for t = 1…T and the spectrum of W, of the model as it is, in eval mode."""
    model, train = experiment.model, experiment.data.train
    x, y = train.X[:DIAGNOSTIC_ROWS], train.y[:DIAGNOSTIC_ROWS]
    was_training = model.training
    model.eval()
    norms = hidden_gradient_norms(model, x, y).double().cpu().numpy()
    model.train(was_training)
    return {"norms": norms.tolist(), "spectrum": spectrum(model.recurrent_weight())}


def phase_metrics(phase: str, measurement: dict) -> dict[str, float]:
    """init/grad_h1, init/grad_rate, init/spectral_radius, ... of one measurement."""
    values = summarize(np.asarray(measurement["norms"], dtype=float)) | measurement["spectrum"]
    return {f"{phase}/{name}": value for name, value in values.items()}


def norms_table(phases: dict[str, dict]) -> pd.DataFrame:
    """grad_norms.csv: phase, t, norm."""
    frames = [
        pd.DataFrame({"phase": phase, "t": np.arange(1, len(m["norms"]) + 1), "norm": m["norms"]})
        for phase, m in phases.items()
    ]
    return pd.concat(frames, ignore_index=True)


def plot_norms(table: pd.DataFrame) -> "Figure":
    """‖∂L/∂h_t‖ against t on a log scale, one line per phase."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6, 4), dpi=100)
    axes = figure.subplots()
    for phase, rows in table.groupby("phase", sort=False):
        positive = rows[rows.norm > 0]
        axes.plot(positive.t, positive.norm, label=f"{phase} of training")
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
