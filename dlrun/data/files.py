"""The user's own data: a CSV table or an .npz archive of arrays."""

from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd

from dlrun.data.base import Source, Table
from dlrun.data.npz import one_line, read_arrays
from dlrun.errors import InputError


def open_user_file(path: str, what: str) -> BinaryIO:
    """The user's file opened for reading, or an InputError saying why it cannot be."""
    file = Path(path).expanduser()
    where = f"dataset.path={path!r}"
    allowed = f"{'an' if what.startswith('.') else 'a'} {what} file"
    if file.is_dir():
        raise InputError(f"{where} is a directory; allowed: {allowed}")
    if not file.exists():
        raise InputError(f"{where}: no such {what} file (looked in {Path.cwd()})")
    try:
        return open(file, "rb")
    except OSError as error:
        reason = error.strerror or one_line(error)
        raise InputError(
            f"{where} cannot be read ({reason}); allowed: {allowed} you may read"
        ) from None


def _numeric_column(frame: pd.DataFrame, column: str, where: str) -> np.ndarray:
    """The column as floats, or an InputError naming the first bad cell's column and row."""
    values = pd.to_numeric(frame[column], errors="coerce")
    bad = ~np.isfinite(values.to_numpy(dtype=np.float64))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raw = frame[column].iloc[row]
        what = (
            "a missing value (NaN)"
            if pd.isna(raw)
            else f"the value {values.iloc[row]}"
            if pd.notna(values.iloc[row])
            else f"the non-numeric value {raw!r}"
        )
        raise InputError(
            f"{where}: column {column!r} has {what} in data row {row + 1} (line {row + 2} of the "
            f"file); every feature and the target must be numbers"
        )
    return values.to_numpy(dtype=np.float64)


class CsvFile(Source):
    """A CSV file with a header: `target` names the label column, `features` the inputs
    (default: every other column)."""

    def __init__(self, *, path: str, target: str, features: list[str] | None, **common) -> None:
        super().__init__(**common)
        self.path, self.target = path, target
        self.where = f"dataset.path={path!r}"  # how messages name the file
        self.features = None if features is None else list(features)

    def load(self, seed: int) -> Table:
        frame = self.read_frame()
        if frame.empty:
            raise InputError(f"{self.where}: the table has a header but no data rows")
        columns = [str(c) for c in frame.columns]
        if self.target not in columns:
            raise InputError(
                f"dataset.target={self.target!r} is not a column of {self.path}; "
                f"its columns are: {', '.join(columns)}"
            )
        features = self.features or [c for c in columns if c != self.target]
        missing = [c for c in features if c not in columns]
        if missing:
            raise InputError(
                f"dataset.features names {', '.join(map(repr, missing))}, not columns of "
                f"{self.path}; its columns are: {', '.join(columns)}"
            )
        if not features:
            raise InputError(f"{self.where}: no feature columns besides the target")
        if self.target in features:
            raise InputError(
                f"dataset.features names the target {self.target!r}; a model must not see its "
                f"label: leave it out (default: every column but the target)"
            )
        X = np.column_stack([_numeric_column(frame, c, self.where) for c in features])
        y = _numeric_column(frame, self.target, self.where)
        return Table(X, y, features)

    def read_frame(self) -> pd.DataFrame:
        """The file as a table; pandas' (multi-line) complaints become one line."""
        where = self.where
        allowed = "a CSV file with a header line and the same number of fields on every line"
        with open_user_file(self.path, "CSV") as handle:
            try:
                return pd.read_csv(handle, skipinitialspace=True)  # "a, b": columns a and b
            except pd.errors.EmptyDataError:
                raise InputError(f"{where}: the file is empty (no header, no rows)") from None
            except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as error:
                raise InputError(
                    f"{where} is not a readable CSV table ({one_line(error)}); allowed: {allowed}"
                ) from None


def real_numbers(array: np.ndarray) -> bool:
    """Integers, floats or booleans (not strings, objects or complex numbers)."""
    return array.dtype == bool or (
        np.issubdtype(array.dtype, np.number) and not np.issubdtype(array.dtype, np.complexfloating)
    )


RANKS = {"image": (3, 4), "signal": (2, 3)}


def channels_last(signal: np.ndarray | None) -> np.ndarray | None:
    """(N, T) -> (N, T, 1); (N, C, T) -> (N, T, C)."""
    if signal is None:
        return None
    return signal[:, :, None] if signal.ndim == 2 else signal.transpose(0, 2, 1)


class NpzFile(Source):
    """An .npz archive with arrays X and y, and optionally X_test and y_test.

    layout=auto: X shaped (N, F) is tabular, (N, T, F) a sequence set, (N, C, H, W) images.
    layout=image: (N, H, W) or (N, C, H, W) images; layout=signal: (N, T) or channels-first
    (N, C, T) signals, kept as sequences (N, T, C).
    """

    kind = "any"  # decided by X's rank when loaded

    def __init__(self, *, path: str, layout: str, **common) -> None:
        super().__init__(**common)
        self.path, self.layout = path, layout
        self.where = f"dataset.path={path!r}"  # how messages name the file

    def load(self, seed: int) -> Table:
        with open_user_file(self.path, ".npz") as handle:
            arrays = read_arrays(self.path, handle)
        if ("X_test" in arrays) != ("y_test" in arrays):
            raise InputError(f"{self.where}: X_test and y_test must come together")
        X, y = arrays["X"], arrays["y"]
        X_test, y_test = arrays.get("X_test"), arrays.get("y_test")
        for name, x in (("X", X), ("X_test", X_test)):
            if x is not None and (x.ndim < 2 or not real_numbers(x)):
                raise InputError(f"{self.where}: {name} must be a numeric array of rank >= 2")
        if len(X) == 0:
            raise InputError(f"{self.where}: X has no rows")
        if len(X) != len(y) or (X_test is not None and len(X_test) != len(y_test)):
            raise InputError(f"{self.where}: X and y (and X_test, y_test) need equal row counts")
        if X_test is not None and X_test.shape[1:] != X.shape[1:]:
            raise InputError(f"{self.where}: X_test rows are {X_test.shape[1:]}, X's {X.shape[1:]}")
        for name, array in arrays.items():
            if np.issubdtype(array.dtype, np.number) and not np.isfinite(array).all():
                index = np.argwhere(~np.isfinite(array))[0]
                raise InputError(
                    f"{self.where}: {name} has a NaN or infinite value at {tuple(index)}"
                )
        kind, X, X_test = self.arrange(X, X_test)
        y, y_test = (self.targets(name, t, kind) for name, t in (("y", y), ("y_test", y_test)))
        if kind == "sequence" and y.ndim == 2 and y.shape[1] > X.shape[1]:
            raise InputError(
                f"{self.where}: y has {y.shape[1]} targets per sequence but X has {X.shape[1]} "
                "steps; per-step targets (N, T') go with the last T' <= T steps"
            )
        if y_test is not None and y_test.shape[1:] != y.shape[1:]:
            raise InputError(f"{self.where}: y_test rows are {y_test.shape[1:]}, y's {y.shape[1:]}")
        names = [f"x{i}" for i in range(X.shape[-1])]
        return Table(X, y, names, kind=kind, X_test=X_test, y_test=y_test)

    def targets(self, name: str, y: np.ndarray | None, kind: str) -> np.ndarray | None:
        """y as numbers, one per row ((N, 1) read as (N,)); sequences may have one per step."""
        if y is None:
            return None
        if not real_numbers(y):
            raise InputError(
                f"{self.where}: {name} must be a numeric array; its dtype is {y.dtype}"
            )
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim != 1 and not (kind == "sequence" and y.ndim == 2):
            per_step = " (or (N, T) per step, for sequences)" if kind != "sequence" else ""
            raise InputError(
                f"{self.where}: {name} must hold one target per row of X: shape ({len(y)},)"
                f"{per_step}; it is {y.shape}"
            )
        return y

    def arrange(self, X: np.ndarray, X_test: np.ndarray | None):
        """(kind, X, X_test) by `layout`; signals become sequences (N, T, C)."""
        if self.layout == "auto":
            return {2: "tabular", 3: "sequence"}.get(X.ndim, "image"), X, X_test
        if X.ndim not in RANKS[self.layout]:
            shapes = {"image": "(N, H, W) or (N, C, H, W)", "signal": "(N, T) or (N, C, T)"}
            raise InputError(
                f"{self.where}: dataset.layout={self.layout} takes X shaped "
                f"{shapes[self.layout]}; X is {X.shape}"
            )
        if self.layout == "image":
            return "image", X, X_test
        return "sequence", channels_last(X), channels_last(X_test)
