"""GLM data with known true weights: x ~ N(0, I), η = xᵀw + b + noise·ε, y drawn from the GLM."""

import numpy as np

from dlrun.data.base import Source, Table


def draw_glm(
    task: str, n_samples: int, n_features: int, n_classes: int, noise: float, seed: int
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Draw (X, y, true coefficients) from the GLM of `task`; noise perturbs η."""
    rng = np.random.default_rng(seed)
    n_outputs = n_classes if task == "multiclass" else 1
    weight = rng.normal(0.0, 1.0, size=(n_outputs, n_features)) / np.sqrt(n_features)
    bias = rng.normal(0.0, 0.5, size=n_outputs)
    if task == "count":
        bias += 1.0  # mean counts around e ≈ 2.7, so the data are not mostly zeros
    X = rng.normal(size=(n_samples, n_features))
    eta = X @ weight.T + bias + noise * rng.normal(size=(n_samples, n_outputs))
    if task == "regression":
        y = eta[:, 0]
    elif task == "binary":
        y = (rng.random(n_samples) < 1 / (1 + np.exp(-eta[:, 0]))).astype(np.int64)
    elif task == "count":
        y = rng.poisson(np.exp(eta[:, 0]))
    else:
        probabilities = np.exp(eta - eta.max(axis=1, keepdims=True))
        probabilities /= probabilities.sum(axis=1, keepdims=True)
        cumulative = probabilities.cumsum(axis=1)
        y = (rng.random((n_samples, 1)) > cumulative).sum(axis=1).clip(max=n_classes - 1)
    return X, y, {"weight": weight, "bias": bias}


class SyntheticGLM(Source):
    """Synthetic data for one task with known weights (`data_seed` fixes the draw)."""

    def __init__(
        self,
        *,
        n_samples: int,
        n_features: int,
        n_classes: int,
        noise: float,
        data_seed: int,
        **common,
    ) -> None:
        super().__init__(**common)
        self.n_samples, self.n_features, self.n_classes = n_samples, n_features, n_classes
        self.noise, self.data_seed = noise, data_seed

    @property
    def own_task(self) -> str | None:
        return self.task  # the schema requires dataset.task: the GLM the labels are drawn from

    def load(self, seed: int) -> Table:
        X, y, truth = draw_glm(
            self.task, self.n_samples, self.n_features, self.n_classes, self.noise, self.data_seed
        )
        names = [f"x{i}" for i in range(self.n_features)]
        return Table(X, y, names, true_coefficients=truth)
