"""analyze.layer_gradients: ‖∂L/∂W‖ of every layer's weights through depth, at initialisation
and after training.

Vanishing gradients show as norms that shrink towards the first layer, exploding ones as norms
that grow; the first layer's norm is the one the depth experiment tabulates.
"""

import copy
from typing import TYPE_CHECKING

import pandas as pd
import torch
from omegaconf import DictConfig
from torch import Tensor, nn

from dlrun.build import Experiment
from dlrun.record.files import RunRecord

if TYPE_CHECKING:  # matplotlib is imported when a figure is drawn: it is slow to import
    from matplotlib.figure import Figure

LAYER_GRADIENTS_FILE = "layer_gradients"  # .csv and .png in the run directory
MAX_ROWS = 1024
WEIGHTED = (nn.Linear, nn.Conv1d, nn.Conv2d)


def layer_gradient_norms(model: nn.Module, x: Tensor, y: Tensor) -> list[tuple[str, float]]:
    """(layer name, ‖∂L/∂W‖) of each Linear/Conv weight in forward order, the loss on (x, y)
    in training mode (batch norm uses the batch's statistics, as in a training step)."""
    model = copy.deepcopy(model)  # leave the caller's model, its grads and norm statistics alone
    model.train()
    model.zero_grad(set_to_none=True)
    with torch.enable_grad():
        model.loss(x, y).backward()
    return [
        (name, float(module.weight.grad.norm()))
        for name, module in model.named_modules()
        if isinstance(module, WEIGHTED) and module.weight.grad is not None
    ]


def measure(experiment: Experiment) -> list[dict]:
    """Rows (depth, layer, grad_norm) of the model as it is, on the first training rows."""
    train = experiment.data.train
    norms = layer_gradient_norms(experiment.model, train.X[:MAX_ROWS], train.y[:MAX_ROWS])
    return [
        {"depth": depth, "layer": name, "grad_norm": norm}
        for depth, (name, norm) in enumerate(norms)
    ]


def headline(table: pd.DataFrame) -> dict[str, float]:
    """grad/first_layer_<phase> and grad/last_layer_<phase> (the last before the head)."""
    metrics = {}
    for phase, rows in table.groupby("phase", sort=False):
        body = rows[~rows.layer.str.startswith("head")]
        if len(body):
            metrics[f"grad/first_layer_{phase}"] = float(body.grad_norm.iloc[0])
            metrics[f"grad/last_layer_{phase}"] = float(body.grad_norm.iloc[-1])
    return metrics


def plot(table: pd.DataFrame) -> "Figure":
    """‖∂L/∂W‖ against layer depth on a log scale, one line per phase."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6, 4), dpi=120)
    axis = figure.subplots()
    for phase, rows in table.groupby("phase", sort=False):
        axis.semilogy(rows.depth, rows.grad_norm.clip(lower=1e-300), marker=".", label=phase)
    axis.set(xlabel="layer (input → head)", ylabel="‖∂L/∂W‖", title="gradient norm through depth")
    axis.legend()
    figure.tight_layout()
    return figure


def before(experiment: Experiment) -> dict:
    """The norms at initialisation, before training (dlrun.analyses keeps them across resume)."""
    return {"rows": measure(experiment)}


def run(cfg: DictConfig, experiment: Experiment, record: RunRecord, initial: dict) -> dict:
    """layer_gradients.csv/.png: the norms at initialisation and at the end; their headline
    metrics grad/first_layer_init, grad/last_layer_end, ..."""
    phases = {"init": initial.get("rows", []), "end": measure(experiment)}
    table = pd.DataFrame(
        [{"phase": phase} | row for phase, rows in phases.items() for row in rows],
        columns=["phase", "depth", "layer", "grad_norm"],
    )
    record.write_csv(f"{LAYER_GRADIENTS_FILE}.csv", table)
    record.write_figure(f"{LAYER_GRADIENTS_FILE}.png", plot(table))
    return {"metrics": headline(table)}
