"""analyze.backprop_check: the numpy backprop against torch autograd and finite differences.

For each activation × GLM head, a small float64 network on synthetic GLM data gets its
gradients three ways; the table gives, per layer and parameter, the relative error
‖a − b‖ / max(‖a‖, ‖b‖) of every pair (CS231n's gradient-check measure).
"""

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import torch
from omegaconf import DictConfig

from dlrun.build import Experiment
from dlrun.data.synthetic import draw_glm
from dlrun.models.base import DataInfo
from dlrun.models.mlp import MLP
from dlrun.models.mlp_numpy import NumpyMLP, targets
from dlrun.record.files import RunRecord
from dlrun.report.render import frame_markdown

if TYPE_CHECKING:  # matplotlib is imported when a figure is drawn: it is slow to import
    from matplotlib.figure import Figure

BACKPROP_CHECK_FILE = "backprop_check"  # .csv, .md and .png in the run directory
DEFAULT_HIDDEN = [5, 4]  # the hidden layers checked when the model has none (a GLM)

ACTIVATIONS = ("sigmoid", "tanh", "relu")
TASKS = ("regression", "binary", "count", "multiclass")
HEAD_OF_TASK = {
    "regression": "identity",
    "binary": "sigmoid",
    "count": "exp",
    "multiclass": "softmax",
}
# float64 bounds a correct backprop meets: autograd computes the same sums in another order;
# central differences with step 1e-6 err by O(h²) truncation plus O(ε/h) rounding
AUTOGRAD_TOLERANCE, FINITE_DIFFERENCE_TOLERANCE = 1e-10, 1e-6
FINITE_DIFFERENCE_STEP = 1e-6


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """‖a − b‖ / max(‖a‖, ‖b‖); 0 when both are zero."""
    scale = max(np.linalg.norm(a), np.linalg.norm(b))
    return 0.0 if scale == 0 else float(np.linalg.norm(a - b) / scale)


def finite_differences(net: NumpyMLP, X: np.ndarray, Y: np.ndarray, step: float):
    """Central differences (L(θ + h e_i) − L(θ − h e_i)) / 2h of every W and b entry."""
    gradients = []
    for linear in net.linears:
        pair = []
        for array in (linear.W, linear.b):
            grad = np.zeros_like(array)
            for index in np.ndindex(array.shape):
                saved = array[index]
                array[index] = saved + step
                up = net.head.loss(net.forward(X), Y)
                array[index] = saved - step
                down = net.head.loss(net.forward(X), Y)
                array[index] = saved
                grad[index] = (up - down) / (2 * step)
            pair.append(grad)
        gradients.append(tuple(pair))
    return gradients


def autograd_gradients(reference: MLP, X: np.ndarray, y: np.ndarray):
    """(the torch MLP's Linear layers, their (∂L/∂W, ∂L/∂b) by autograd, b's as columns)."""
    x_t = torch.from_numpy(X)
    task = reference.task
    y_t = torch.from_numpy(y).long() if task == "multiclass" else torch.from_numpy(y).double()
    reference.loss(x_t, y_t).backward()
    layers = [m for m in reference.body if isinstance(m, torch.nn.Linear)]
    layers.append(reference.head.linear)
    gradients = [(layer.weight.grad.numpy(), layer.bias.grad.numpy()[:, None]) for layer in layers]
    return layers, gradients


def check_case(
    activation: str,
    task: str,
    hidden: list[int],
    n_examples: int = 16,
    n_features: int = 4,
    n_classes: int = 3,
    seed: int = 0,
    network: type[NumpyMLP] = NumpyMLP,
) -> list[dict]:
    """One activation × head: rows of relative errors per layer and parameter."""
    X, y, _ = draw_glm(task, n_examples, n_features, n_classes, noise=0.1, seed=seed)
    torch.manual_seed(seed)
    data = DataInfo((n_features,), task, n_classes)
    reference = MLP(data, hidden=list(hidden), activation=activation, init="default").double()
    layers, autograd = autograd_gradients(reference, X, y)
    weights = [layer.weight.detach().numpy().copy() for layer in layers]
    biases = [layer.bias.detach().numpy().copy()[:, None] for layer in layers]
    net = network(weights, biases, activation, task)
    Xc, Y = X.T, targets(task, y.astype(np.float64), weights[-1].shape[0])
    _, numpy_grads = net.loss_and_gradients(Xc, Y)
    numpy_grads = [(dW.copy(), db.copy()) for dW, db in numpy_grads]
    numeric = finite_differences(net, Xc, Y, FINITE_DIFFERENCE_STEP)

    rows = []
    for layer in range(len(layers)):
        for p, name in enumerate(("W", "b")):
            ours, auto, fd = numpy_grads[layer][p], autograd[layer][p], numeric[layer][p]
            rows.append(
                {
                    "activation": activation,
                    "head": HEAD_OF_TASK[task],
                    "task": task,
                    "layer": layer + 1,
                    "parameter": name,
                    "numpy_vs_autograd": relative_error(ours, auto),
                    "numpy_vs_fd": relative_error(ours, fd),
                    "autograd_vs_fd": relative_error(auto, fd),
                }
            )
    return rows


def backprop_check(hidden: list[int], seed: int = 0, network: type[NumpyMLP] = NumpyMLP):
    """The table over every activation × head, and its summary (worst errors, passed)."""
    rows = [
        row
        for activation in ACTIVATIONS
        for task in TASKS
        for row in check_case(activation, task, hidden, seed=seed, network=network)
    ]
    table = pd.DataFrame(rows)
    worst_autograd = float(table["numpy_vs_autograd"].max())
    worst_fd = float(table["numpy_vs_fd"].max())
    summary = {
        "hidden": list(hidden),
        "max_numpy_vs_autograd": worst_autograd,
        "max_numpy_vs_fd": worst_fd,
        "max_autograd_vs_fd": float(table["autograd_vs_fd"].max()),
        "passed": worst_autograd <= AUTOGRAD_TOLERANCE and worst_fd <= FINITE_DIFFERENCE_TOLERANCE,
    }
    return table, summary


# the panels' titles: what each relative error compares
COMPARISONS = {
    "numpy_vs_autograd": "numpy backprop vs torch autograd",
    "numpy_vs_fd": "numpy backprop vs finite differences",
}


def plot_backprop_check(table: pd.DataFrame) -> "Figure":
    """Worst relative error per activation × head, numpy vs autograd and vs finite differences."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(10, 3.8), dpi=120, layout="constrained")
    axes = figure.subplots(1, 2)
    for axis, (column, title) in zip(axes, COMPARISONS.items(), strict=True):
        worst = table.pivot_table(index="activation", columns="head", values=column, aggfunc="max")
        worst = worst.reindex(index=list(ACTIVATIONS), columns=list(HEAD_OF_TASK.values()))
        exponents = np.log10(worst.to_numpy() + 1e-300)
        image = axis.imshow(exponents, cmap="viridis", vmin=-17, vmax=-5)
        axis.set_xticks(
            range(worst.shape[1]), [f"{head}\n({task})" for task, head in HEAD_OF_TASK.items()]
        )
        axis.set_yticks(range(worst.shape[0]), worst.index)
        axis.set_xlabel("GLM head (task)")
        axis.set_ylabel("hidden-layer activation")
        for (i, j), value in np.ndenumerate(worst.to_numpy()):
            # dark text on viridis' bright upper end, white on its dark lower end
            color = "black" if exponents[i, j] > -10 else "white"
            axis.text(j, i, f"{value:.1e}", ha="center", va="center", color=color, fontsize=8)
        axis.set_title(f"{title}\nworst relative error over the layers", fontsize=10)
        figure.colorbar(image, ax=axis, label="log10 relative error")
    return figure


def run(cfg: DictConfig, experiment: Experiment, record: RunRecord, initial: dict) -> dict:
    """backprop_check.csv/.md/.png for networks with the model's hidden layers; summary.json's
    `backprop_check`: the worst errors and whether they pass."""
    hidden = list(cfg.model.get("hidden", DEFAULT_HIDDEN))
    table, summary = backprop_check(hidden, cfg.seed)
    record.write_csv(f"{BACKPROP_CHECK_FILE}.csv", table)
    record.write_text(f"{BACKPROP_CHECK_FILE}.md", frame_markdown(table))
    record.write_figure(f"{BACKPROP_CHECK_FILE}.png", plot_backprop_check(table))
    return {"backprop_check": summary}
