"""‖∂L/∂W‖ of every layer's weights through depth, at initialisation and after training.

Vanishing gradients show as norms that shrink towards the first layer, exploding ones as norms
that grow; the first layer's norm is the one the depth experiment tabulates.
"""

import copy

import pandas as pd
import torch
from torch import Tensor, nn

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


def gradient_table(models: dict[str, nn.Module], x: Tensor, y: Tensor) -> pd.DataFrame:
    """Rows (phase, depth, layer, grad_norm) for each phase's model, e.g. init and end."""
    rows = []
    for phase, model in models.items():
        for depth, (name, norm) in enumerate(layer_gradient_norms(model, x, y)):
            rows.append({"phase": phase, "depth": depth, "layer": name, "grad_norm": norm})
    return pd.DataFrame(rows)


def headline(table: pd.DataFrame) -> dict[str, float]:
    """grad/first_layer_<phase> and grad/last_layer_<phase> (the last before the head)."""
    metrics = {}
    for phase, rows in table.groupby("phase", sort=False):
        body = rows[~rows.layer.str.startswith("head")]
        if len(body):
            metrics[f"grad/first_layer_{phase}"] = float(body.grad_norm.iloc[0])
            metrics[f"grad/last_layer_{phase}"] = float(body.grad_norm.iloc[-1])
    return metrics


def plot(table: pd.DataFrame, path) -> None:
    """‖∂L/∂W‖ against layer depth on a log scale, one line per phase."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6, 4))
    for phase, rows in table.groupby("phase", sort=False):
        axis.semilogy(rows.depth, rows.grad_norm.clip(lower=1e-300), marker=".", label=phase)
    axis.set(xlabel="layer (input → head)", ylabel="‖∂L/∂W‖", title="gradient norm through depth")
    axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def analyze(cfg, experiment, record) -> dict:
    """analyze.layer_gradients=true: the norms at initialisation (the model rebuilt from the
    same seed) and at the end, on the first rows of the training split."""
    from dlrun.build import build_model

    torch.manual_seed(cfg.seed)  # as dlrun.build.build does right before build_model
    initial = build_model(cfg, experiment.data, experiment.device, experiment.dtype)
    train = experiment.data.train
    x, y = train.X[:MAX_ROWS], train.y[:MAX_ROWS]
    table = gradient_table({"init": initial, "end": experiment.model}, x, y)
    record.write_csv(f"{LAYER_GRADIENTS_FILE}.csv", table)
    plot(table, record.directory / f"{LAYER_GRADIENTS_FILE}.png")
    return {"metrics": headline(table)}
