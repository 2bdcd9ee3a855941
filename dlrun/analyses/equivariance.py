"""analyze.equivariance: how conv and pooled features and an MLP's hidden layer move under shifts.

S_k shifts an input k steps along its last grid axis (circularly, so no object leaves the
canvas). For a detector map f (conv -> activation):
- equivariance error ‖f(S_k x) − S_k f(x)‖ / ‖f(x)‖, over the interior (away from the border,
  where zero padding breaks the symmetry) and over the whole map;
- invariance error ‖r(S_k x) − r(x)‖ / ‖r(x)‖ of a representation r: the detector map itself,
  its max- or average-pooled version over windows of p (p = the whole map: global pooling),
  or an MLP's first hidden layer;
- the fraction of r's values that change at all (the lecture's figure: a one-pixel shift
  changes every detector value but only about half of the max-pooled ones).
"""

from typing import TYPE_CHECKING

import pandas as pd
import torch
import torch.nn.functional as F
from omegaconf import DictConfig
from torch import Tensor, nn

from dlrun.build import Experiment
from dlrun.data.splits import Data
from dlrun.errors import InputError
from dlrun.models.cnn import CNN, ToGrid
from dlrun.models.mlp import MLP
from dlrun.record.files import RunRecord

if TYPE_CHECKING:  # matplotlib is imported when a figure is drawn: it is slow to import
    from matplotlib.figure import Figure

EQUIVARIANCE_FILE = "equivariance"  # .csv and .png in the run directory
SHIFTS = (0, 1, 2, 3, 4)
POOL_SIZES = (2, 4)
MAX_ROWS = 256
# a value "changed" when it moved by more than this fraction of the largest |value|
CHANGE_TOLERANCE = 1e-6


def shift(x: Tensor, k: int) -> Tensor:
    """S_k: roll k steps along the last axis (the width of images, the time of signals)."""
    return torch.roll(x, k, dims=-1)


def relative(a: Tensor, b: Tensor) -> float:
    return float((a - b).norm() / b.norm().clamp_min(torch.finfo(b.dtype).tiny))


def fraction_changed(after: Tensor, before: Tensor) -> float:
    """Among values not zero both times (ReLU's silent units), the fraction that moved."""
    tolerance = CHANGE_TOLERANCE * float(before.abs().max().clamp_min(1e-30))
    active = (after.abs() > tolerance) | (before.abs() > tolerance)
    moved = (after - before).abs() > tolerance
    return float(moved[active].double().mean()) if active.any() else 0.0


def pool(maps: Tensor, kind: str, size: int | None) -> Tensor:
    """Max or average pooling over windows of `size` on a 1-D or 2-D grid; None: global."""
    dims = maps.dim() - 2
    if size is None:
        size = tuple(maps.shape[2:])
    function = {
        ("max", 1): F.max_pool1d,
        ("max", 2): F.max_pool2d,
        ("avg", 1): F.avg_pool1d,
        ("avg", 2): F.avg_pool2d,
    }[(kind, dims)]
    return function(maps, size)


def interior(maps: Tensor, margin: int) -> Tensor:
    """The map without `margin` cells on each side of its last axis (where shifts act)."""
    return maps[..., margin : maps.shape[-1] - margin] if margin > 0 else maps


@torch.no_grad()
def conv_rows(detector: nn.Module, grid: Tensor, margin: int, shifts=SHIFTS) -> list[dict]:
    """Equivariance and invariance errors of a detector map and its pooled versions."""
    before = detector(grid)
    pooled = [
        (f"{kind}_pool{p}", kind, p)
        for kind in ("max", "avg")
        for p in POOL_SIZES
        if p < before.shape[-1]
    ]
    pooled += [(f"{kind}_pool_global", kind, None) for kind in ("max", "avg")]
    rows = []
    for k in shifts:
        after = detector(shift(grid, k))
        edge = margin + abs(k)  # zero padding and the wrapped-around columns
        rows.append(
            {
                "layer": "detector",
                "shift": k,
                "equivariance": relative(interior(after, edge), interior(shift(before, k), edge)),
                "equivariance_full": relative(after, shift(before, k)),
                "invariance": relative(after, before),
                "changed": fraction_changed(after, before),
            }
        )
        for name, kind, size in pooled:
            r_after, r_before = pool(after, kind, size), pool(before, kind, size)
            rows.append(
                {
                    "layer": name,
                    "shift": k,
                    "invariance": relative(r_after, r_before),
                    "changed": fraction_changed(r_after, r_before),
                }
            )
    return rows


@torch.no_grad()
def hidden_rows(hidden: nn.Module, grid: Tensor, to_input, shifts=SHIFTS) -> list[dict]:
    """Invariance error and changed fraction of an MLP's first hidden layer."""
    before = hidden(to_input(grid))
    rows = []
    for k in shifts:
        after = hidden(to_input(shift(grid, k)))
        rows.append(
            {
                "layer": "mlp_hidden",
                "shift": k,
                "invariance": relative(after, before),
                "changed": fraction_changed(after, before),
            }
        )
    return rows


def first_hidden_layer(model: MLP) -> nn.Module:
    """The MLP's body up to and including its first activation."""
    layers = list(model.body)
    linear = next(i for i, layer in enumerate(layers) if isinstance(layer, nn.Linear))
    return nn.Sequential(*layers[: linear + 2])


def model_refusal(model: nn.Module) -> str | None:
    """Why this model has no layer to measure, or None."""
    if isinstance(model, CNN | MLP):
        return None
    return (
        f"analyze.equivariance=true measures a cnn's first conv layer or an mlp's first "
        f"hidden layer; {type(model).__name__} has neither: use model=cnn or model=mlp"
    )


def refusal(experiment: Experiment) -> str | None:
    """Why this run's model cannot be analysed, or None."""
    return model_refusal(experiment.model)


@torch.no_grad()
def measure(model: nn.Module, data: Data, split: str = "test") -> pd.DataFrame:
    """The table (layer, shift, equivariance, equivariance_full, invariance, changed)."""
    reason = model_refusal(model)
    if reason:
        raise InputError(reason)
    model.eval()
    x = data.splits.get(split, data.train).X[:MAX_ROWS]
    if isinstance(model, CNN):
        block = model.blocks[0]
        conv = block.conv
        margin = conv.padding[-1] if isinstance(conv.padding, tuple) else 0
        rows = conv_rows(block.detector, model.grid(x), margin)
    else:
        image = data.image_shape is not None
        grid = ToGrid(data.image_shape or data.input_shape, "image" if image else data.kind)

        def to_input(g: Tensor) -> Tensor:  # the grid back in the MLP's input layout
            return g.transpose(1, 2) if grid.input_kind == "sequence" else g.reshape(x.shape)

        rows = hidden_rows(first_hidden_layer(model), grid(x), to_input)
    return pd.DataFrame(rows)


def headline(table: pd.DataFrame, k: int = 1) -> dict[str, float]:
    """Flat metrics at shift k for summary.json: equivariance/detector, invariance/max_pool2,
    changed/max_pool2, ..."""
    metrics = {}
    for row in table[table["shift"] == k].to_dict("records"):
        for name in ("equivariance", "invariance", "changed"):
            if name in row and pd.notna(row[name]):
                metrics[f"{name}/{row['layer']}"] = float(row[name])
    return metrics


def plot(table: pd.DataFrame) -> "Figure":
    """Invariance error against shift, one line per representation."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(10, 4), dpi=120)
    axes = figure.subplots(1, 2)
    for layer, rows in table.groupby("layer", sort=False):
        axes[0].plot(rows["shift"], rows["invariance"], marker="o", label=layer)
        axes[1].plot(rows["shift"], rows["changed"], marker="o", label=layer)
    detector = table[table.layer.str.endswith("detector")]
    for column, style in (("equivariance", "k--"), ("equivariance_full", "k:")):
        if column in detector and detector[column].notna().any():
            where = "interior" if column == "equivariance" else "whole map"
            axes[0].plot(
                detector["shift"],
                detector[column],
                style,
                marker="x",
                label=f"detector equivariance error ({where})",
            )
    axes[0].set(
        xlabel="shift k (pixels / steps)",
        ylabel="relative change",
        title="‖r(S_k x) − r(x)‖ / ‖r(x)‖",
    )
    axes[1].set(
        xlabel="shift k (pixels / steps)",
        ylabel="fraction of values changed",
        title="values that change",
    )
    axes[0].legend(fontsize=7)
    figure.tight_layout()
    return figure


def run(cfg: DictConfig, experiment: Experiment, record: RunRecord, initial: dict) -> dict:
    """equivariance.csv/.png in the run directory; headline metrics at a one-step shift."""
    table = measure(experiment.model, experiment.data)
    record.write_csv(f"{EQUIVARIANCE_FILE}.csv", table)
    record.write_figure(f"{EQUIVARIANCE_FILE}.png", plot(table))
    return {"metrics": headline(table)}
