"""A Table becomes tensors: task resolved and labels checked, split, standardised on train only."""

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from dlrun.data.base import Criterion, Source, Table
from dlrun.errors import InputError

MAX_INFERRED_CLASSES = 20


@dataclass
class Split:
    X: Tensor
    y: Tensor
    # a series' rows (Table.series): the step of the series at which each row ends
    steps: Tensor | None = None

    def __len__(self) -> int:
        return len(self.X)


@dataclass
class Data:
    """Tensors of each split present (train always; val and test when their fraction > 0)."""

    splits: dict[str, Split]
    task: str
    kind: str
    input_shape: tuple[int, ...]
    feature_names: list[str]
    n_classes: int | None
    class_names: list[str] | None
    # standardisation fitted on train: x_scaled = (x − mean) / scale
    mean: np.ndarray
    scale: np.ndarray
    true_coefficients: dict[str, np.ndarray] | None
    # tabular rows that are flattened images: their image shape (see Table.image_shape)
    image_shape: tuple[int, ...] | None = None
    # one long series (Table.series): its inputs (S, F) in time order, standardised like the
    # windows; each split's `steps` says where its rows are. None for independent sequences.
    series: Tensor | None = None
    # when the task counts as solved (the source's declaration; None: it defines none)
    criterion: Criterion | None = None

    @property
    def train(self) -> Split:
        return self.splits["train"]


def infer_task(y: np.ndarray) -> str:
    """regression for non-integers; binary for two values; multiclass for up to 20 integer
    labels; count for other non-negative integers."""
    if not np.all(np.equal(np.mod(y, 1), 0)):
        return "regression"
    values = np.unique(y)
    if len(values) <= 2:
        return "binary"
    if len(values) <= MAX_INFERRED_CLASSES:
        return "multiclass"
    return "count" if values.min() >= 0 else "regression"


def resolve_task(configured: str | None, family: str | None, own: str | None, y: np.ndarray) -> str:
    """dataset.task if given, else the GLM family of the model, else the source's, else inferred."""
    if configured is not None and family is not None and configured != family:
        from dlrun.models.glm import MODEL_OF_FAMILY

        raise InputError(
            f"dataset.task={configured} does not fit model={MODEL_OF_FAMILY[family]} "
            f"(a {family} GLM); use model={MODEL_OF_FAMILY[configured]} or a network"
        )
    return configured or family or own or infer_task(y)


def encode_labels(task: str, y: np.ndarray, model: str) -> tuple[np.ndarray, list[str] | None]:
    """Check that labels fit the task and encode classes as 0..K−1."""
    if task in ("binary", "multiclass"):
        values, codes = np.unique(y, return_inverse=True)
        if task == "binary" and len(values) != 2:
            shown = ", ".join(_label(v) for v in values[:10]) + (", …" if len(values) > 10 else "")
            raise InputError(
                f"{model} needs a binary target with exactly two values; this target has "
                f"{len(values)} ({shown})"
            )
        if task == "multiclass" and not np.all(np.equal(np.mod(values, 1), 0)):
            raise InputError(
                f"{model} with task multiclass needs class labels; the target has fractions "
                f"(e.g. {values[np.mod(values, 1) != 0][0]:g}): use dataset.task=regression"
            )
        if task == "multiclass" and len(values) < 2:
            raise InputError(f"{model} needs at least two classes; the target has {len(values)}")
        return codes.reshape(y.shape), [_label(v) for v in values]
    if task == "count":
        if (y < 0).any():
            raise InputError(f"{model} needs counts >= 0; the target has {y.min():g}")
        if not np.all(np.equal(np.mod(y, 1), 0)):
            raise InputError(f"{model} needs whole-number counts; the target has fractions")
    return y, None


def _label(value) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _split_indices(n: int, val: float, test: float, seed: int) -> dict[str, np.ndarray]:
    order = np.random.default_rng(seed).permutation(n)
    n_test, n_val = round(n * test), round(n * val)
    parts = {
        "train": order[n_test + n_val :],
        "val": order[n_test : n_test + n_val],
        "test": order[:n_test],
    }
    return {name: index for name, index in parts.items() if len(index) > 0 or name == "train"}


def _scaling(X: np.ndarray, kind: str, standardize: bool) -> tuple[np.ndarray, np.ndarray]:
    # per feature for tabular (N, F) and sequences (N, T, F); one scalar for images
    axes = {"tabular": (0,), "sequence": (0, 1)}.get(kind, tuple(range(X.ndim)))
    if not standardize:
        shape = (1,) if kind == "image" else X.shape[-1:]
        return np.zeros(shape), np.ones(shape)
    mean, scale = X.mean(axis=axes), X.std(axis=axes)
    scale = np.where(scale > 0, scale, 1.0)  # constant features stay as they are
    return np.atleast_1d(mean), np.atleast_1d(scale)


def _series_steps(table: Table, index: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The series step of every row of each split (Table.series); {} without a series."""
    if table.series is None:
        return {}
    steps = {name: table.series.steps[rows] for name, rows in index.items()}
    if table.series.test_steps is not None:
        steps["test"] = table.series.test_steps
    return steps


def prepare(
    source: Source,
    family: str | None,
    model: str,
    seed: int,
    dtype: torch.dtype,
    device: torch.device,
) -> Data:
    """Load `source`, resolve and check the task, split, standardise and move to `device`."""
    table = source.load(seed)
    if table.X.size == 0 or len(table.X) == 0:
        raise InputError("the dataset has no rows")
    if len(table.X) < 2:
        raise InputError("the dataset has 1 row; training and evaluation need at least 2")
    X, y = np.asarray(table.X, dtype=np.float64), np.asarray(table.y, dtype=np.float64)
    has_test = table.X_test is not None
    all_y = (
        np.concatenate([y.ravel(), np.asarray(table.y_test, dtype=np.float64).ravel()])
        if has_test
        else y
    )
    task = resolve_task(source.task, family, source.own_task, all_y)
    encoded, class_names = encode_labels(task, all_y, model)
    class_names = (
        table.class_names
        if table.class_names and class_names and len(table.class_names) == len(class_names)
        else class_names
    )
    y = encoded[: y.size].reshape(y.shape)

    test_fraction = 0.0 if has_test else source.test_fraction
    index = _split_indices(len(X), source.val_fraction, test_fraction, seed)
    if len(index["train"]) == 0:
        raise InputError(f"{len(X)} rows leave none for training after the val/test split")
    arrays = {name: (X[rows], y[rows]) for name, rows in index.items()}
    if has_test:
        y_test = encoded[y.size :].reshape(np.shape(table.y_test))
        arrays["test"] = (np.asarray(table.X_test, dtype=np.float64), y_test)

    mean, scale = _scaling(arrays["train"][0], table.kind, source.standardize)
    label_dtype = torch.long if task == "multiclass" else dtype
    steps = _series_steps(table, index)
    splits = {
        name: Split(
            torch.as_tensor((features - mean) / scale, dtype=dtype, device=device),
            torch.as_tensor(labels, dtype=label_dtype, device=device),
            None if name not in steps else torch.as_tensor(steps[name], device=device),
        )
        for name, (features, labels) in arrays.items()
    }
    series = None
    if table.series is not None:
        inputs = (np.asarray(table.series.inputs, dtype=np.float64) - mean) / scale
        series = torch.as_tensor(inputs, dtype=dtype, device=device)
    return Data(
        splits=splits,
        task=task,
        kind=table.kind,
        input_shape=tuple(X.shape[1:]),
        feature_names=table.feature_names,
        n_classes=len(class_names) if task == "multiclass" else None,
        class_names=class_names,
        mean=mean,
        scale=scale,
        true_coefficients=table.true_coefficients,
        image_shape=table.image_shape,
        series=series,
        criterion=source.criterion,
    )
