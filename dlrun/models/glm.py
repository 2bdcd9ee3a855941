"""Generalized linear models: η = xᵀw + b, a transfer function t(η) and its loss."""

from math import prod

from torch import Tensor, nn

from dlrun.models.base import DataInfo
from dlrun.models.head import DeepGLM

MODEL_OF_FAMILY = {
    "regression": "linear",
    "binary": "logistic",
    "count": "poisson",
    "multiclass": "softmax",
}


class GLM(DeepGLM):
    """linear (identity, squared loss), logistic (sigmoid, cross-entropy), poisson (exp,
    Poisson NLL) or softmax (multi-class cross-entropy), chosen by `family`."""

    def __init__(self, data: DataInfo, *, family: str) -> None:
        task = data.task
        if family != task:  # dlrun.data resolves the task from the family; a caller may not
            raise ValueError(
                f"model={MODEL_OF_FAMILY.get(family, family)} fits a {family} target, "
                f"but the dataset's task is {task}: use dataset.task={family} "
                f"or model={MODEL_OF_FAMILY.get(task, task)}"
            )
        flat = len(data.input_shape) == 1
        body = nn.Identity() if flat else nn.Flatten()
        super().__init__(body, prod(data.input_shape), data)
        self.flat_input = flat
        self.family = family

    def forward(self, x: Tensor) -> Tensor:
        """η = xᵀw + b."""
        return self.head(x if self.flat_input else self.body(x))

    @property
    def weight(self):
        return self.head.linear.weight

    @property
    def bias(self):
        return self.head.linear.bias


def coefficients(model: GLM, mean, scale, feature_names: list[str], class_names, truth=None):
    """The fitted weights on the input's original scale as a table (term, estimate[, true]).

    With x_s = (x − m)/s standardised on train, η = W x_s + b = (W/s) x + (b − Σ W m/s).
    """
    import numpy as np
    import pandas as pd

    weight = model.weight.detach().double().cpu().numpy() / scale  # (K, F)
    bias = model.bias.detach().double().cpu().numpy() - weight @ mean  # (K,)
    terms = ["intercept", *feature_names]
    frames = []
    for k in range(weight.shape[0]):
        frame = pd.DataFrame({"term": terms, "estimate": np.concatenate([[bias[k]], weight[k]])})
        if truth is not None:
            frame["true"] = np.concatenate([[truth["bias"][k]], truth["weight"][k]])
        if weight.shape[0] > 1:
            frame.insert(0, "class", class_names[k] if class_names else k)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)
