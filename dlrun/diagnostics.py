"""Gradient norms through time and the spectrum of the recurrent matrix.

‖∂L/∂h⁽ᵗ⁾‖ for every t comes from ONE backward pass: a zero probe p⁽ᵗ⁾ is added to each
hidden state inside the recursion (h⁽ᵗ⁾ + p⁽ᵗ⁾ feeds both the next step and the readout), so
∂L/∂p⁽ᵗ⁾ = ∂L/∂h⁽ᵗ⁾, the total derivative through every later step.
"""

import math

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from dlrun.data.splits import Data
from dlrun.record import write_atomically

GRAD_NORMS_FILE, GRAD_NORMS_PLOT = "grad_norms.csv", "grad_norms.png"
DIAGNOSTIC_ROWS = 256


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


class GradientWatch:
    """Measures a recurrent model at initialisation and after training, on one fixed batch."""

    def __init__(self, model, data: Data) -> None:
        self.model = model
        split = data.train
        self.x, self.y = split.X[:DIAGNOSTIC_ROWS], split.y[:DIAGNOSTIC_ROWS]
        self.rows: list[pd.DataFrame] = []
        self.fields: dict[str, float] = {}

    @classmethod
    def of(cls, model, data: Data) -> "GradientWatch | None":
        """A watch for models with a written-out recursion, None for the others."""
        return cls(model, data) if model.recurrent else None

    def measure(self, phase: str) -> None:
        """Record ‖∂L/∂h⁽ᵗ⁾‖ for every t and the spectrum of W under `phase` (init | end)."""
        was_training = self.model.training
        self.model.eval()
        norms = hidden_gradient_norms(self.model, self.x, self.y).double().cpu().numpy()
        self.model.train(was_training)
        steps = np.arange(1, len(norms) + 1)
        self.rows.append(pd.DataFrame({"phase": phase, "t": steps, "norm": norms}))
        values = summarize(norms) | spectrum(self.model.recurrent_weight())
        self.fields |= {f"{phase}/{name}": value for name, value in values.items()}

    def table(self) -> pd.DataFrame:
        """grad_norms.csv: phase, t, norm."""
        return pd.concat(self.rows, ignore_index=True)

    def write(self, record) -> None:
        """grad_norms.csv and grad_norms.png (log-scale norm against t, one line per phase)."""
        table = self.table()
        record.write_csv(GRAD_NORMS_FILE, table)
        write_atomically(record.path(GRAD_NORMS_PLOT), lambda tmp: plot_norms(table, tmp))


def plot_norms(table: pd.DataFrame, path) -> None:
    """‖∂L/∂h_t‖ against t on a log scale, one line per phase."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 4))
    for phase, rows in table.groupby("phase", sort=False):
        positive = rows[rows.norm > 0]
        axes.plot(positive.t, positive.norm, label=f"{phase} of training")
    axes.set_yscale("log")
    axes.set_xlabel("t")
    axes.set_ylabel("‖∂L/∂h_t‖")
    axes.set_title("gradient with respect to each hidden state")
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, format="png", dpi=100)
    plt.close(figure)
