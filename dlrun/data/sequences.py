"""Sequence data sets, generated offline: adding, copy memory, Mackey-Glass, NARMA-10,
the digits read row by row, and the sunspot numbers that ship with statsmodels.

Every source gives X shaped (N, T, F); `seq_len` is T (the experiments sweep it).
Forecasting sets cut one long series into windows and keep the last windows, in time order,
as the test split, so that no test value was seen in training; they also hand over the series
itself (Table.series), which the ESN runs through once. The other sets are independent sequences.
"""

import numpy as np
from sklearn import datasets

from dlrun.config.dataset import INTEGRATION_STEP
from dlrun.data.base import Criterion, Series, Source, Table
from dlrun.errors import InputError


class SequenceSource(Source):
    """Options every generated sequence set shares: how many sequences, how long, which draw."""

    kind = "sequence"

    def __init__(self, *, n_samples: int, seq_len: int, data_seed: int, **common) -> None:
        super().__init__(**common)
        self.n_samples, self.seq_len, self.data_seed = n_samples, seq_len, data_seed


class Adding(SequenceSource):
    """The adding problem (Hochreiter & Schmidhuber 1997): inputs (value, marker); two markers,
    one in each half; the target is the sum of the two marked values. Predicting the mean (1)
    scores MSE = Var(u1 + u2) = 1/6 ≈ 0.167.

    Solved: test MSE < 0.01, the bound Hochreiter & Schmidhuber put on the average error (their
    second condition, every absolute error < 0.04 on 2000 sequences, is stricter); the test MAE
    is reported beside it."""

    criterion = Criterion(metric="loss", threshold=0.01, label="mse")
    own_task = "regression"

    def load(self, seed: int) -> Table:
        rng = np.random.default_rng(self.data_seed)
        n, length, half = self.n_samples, self.seq_len, self.seq_len // 2
        values = rng.random((n, length))
        markers = np.zeros((n, length))
        rows = np.arange(n)
        first, second = rng.integers(0, half, n), rng.integers(half, length, n)
        markers[rows, first] = markers[rows, second] = 1.0
        X = np.stack([values, markers], axis=-1)  # (N, T, 2)
        y = values[rows, first] + values[rows, second]
        return Table(X, y, ["value", "marker"], kind="sequence")


class Copy(SequenceSource):
    """Copy memory (Arjovsky et al. 2016): `length` symbols, a delay of seq_len blanks ending in
    a delimiter, then recall the symbols. One-hot inputs over blank, the symbols and the
    delimiter; a target at every step (blank until the recall). Guessing blanks, then uniform
    symbols, scores cross-entropy length·log(n_symbols)/(seq_len + 2·length)."""

    own_task = "multiclass"

    def __init__(self, *, n_symbols: int, length: int, **options) -> None:
        super().__init__(**options)
        self.n_symbols, self.length = n_symbols, length

    def load(self, seed: int) -> Table:
        rng = np.random.default_rng(self.data_seed)
        n, k, delay = self.n_samples, self.length, self.seq_len
        total, delimiter = delay + 2 * k, self.n_symbols + 1
        symbols = rng.integers(1, self.n_symbols + 1, (n, k))
        tokens = np.zeros((n, total), dtype=np.int64)
        tokens[:, :k] = symbols
        tokens[:, k + delay - 1] = delimiter
        X = np.eye(self.n_symbols + 2)[tokens]  # (N, T + 2k, n_symbols + 2)
        y = np.zeros((n, total), dtype=np.int64)
        y[:, -k:] = symbols
        names = ["blank", *[f"symbol{i}" for i in range(1, self.n_symbols + 1)], "delimiter"]
        return Table(X, y, names, kind="sequence")


def windows(series: np.ndarray, seq_len: int, horizon: int, inputs: np.ndarray | None = None):
    """X[i] = inputs[i : i + seq_len] and the target y[i] = series[i + seq_len − 1 + horizon]."""
    inputs = series if inputs is None else inputs
    n = len(series) - seq_len - horizon + 1
    if n < 1:
        raise InputError(
            f"dataset.seq_len={seq_len} with horizon={horizon} leaves no window in a series of "
            f"{len(series)} values; allowed: seq_len + horizon <= {len(series)}"
        )
    index = np.arange(n)[:, None] + np.arange(seq_len)[None, :]
    return inputs[index][..., None], series[np.arange(n) + seq_len - 1 + horizon]


def check_forecast_split(n_windows: int, seq_len: int, test_fraction: float, name: str) -> None:
    """Refuse, before any series or window is made, a split that leaves fewer than 2 training
    windows once those overlapping the test windows are dropped."""
    n_test = round(n_windows * test_fraction)
    if n_test > 0 and n_windows - n_test - seq_len < 2:
        raise InputError(
            f"the {name} series is too short for seq_len={seq_len} and this test split"
        )


def forecasting_table(
    series: np.ndarray,
    seq_len: int,
    horizon: int,
    test_fraction: float,
    name: str,
    inputs: np.ndarray | None = None,
) -> Table:
    """Windows of one series: the last windows (in time order) are the test split and the
    windows overlapping them go; the series itself rides along as Table.series."""
    if len(series) - seq_len - horizon + 1 >= 1:  # else windows() says there is no window
        check_forecast_split(len(series) - seq_len - horizon + 1, seq_len, test_fraction, name)
    X, y = windows(series, seq_len, horizon, inputs)
    n_test = round(len(X) * test_fraction)
    n_train = len(X) - n_test - seq_len  # drop the windows that share values with the test ones
    inputs = series if inputs is None else inputs
    targets = np.full(len(series), np.nan)
    targets[: len(series) - horizon] = series[horizon:]
    steps = np.arange(len(X)) + seq_len - 1  # window i ends at step i + T − 1
    if n_test == 0:
        whole = Series(inputs[:, None], targets, steps)
        return Table(X, y, [name], kind="sequence", series=whole)
    whole = Series(inputs[:, None], targets, steps[:n_train], steps[-n_test:])
    return Table(
        X[:n_train],
        y[:n_train],
        [name],
        kind="sequence",
        X_test=X[-n_test:],
        y_test=y[-n_test:],
        series=whole,
    )


def mackey_glass(n: int, tau: float, step: float, seed: int) -> np.ndarray:
    """n samples, `step` time units apart, of dx/dt = 0.2 x(t−τ)/(1 + x(t−τ)¹⁰) − 0.1 x(t),
    integrated by Runge-Kutta 4 with dt = 0.1 (the delayed term linearly interpolated)."""
    dt, transient = INTEGRATION_STEP, 1000
    per_sample = round(step / dt)
    lag = round(tau / dt)
    total = (n + transient) * per_sample
    rng = np.random.default_rng(seed)
    x = np.empty(total + lag + 1)
    x[: lag + 1] = 1.2 + 0.05 * rng.standard_normal()

    def rate(current: float, delayed: float) -> float:
        return 0.2 * delayed / (1 + delayed**10) - 0.1 * current

    for i in range(lag, lag + total):
        now, delayed, delayed_next = x[i], x[i - lag], x[i - lag + 1]
        delayed_mid = 0.5 * (delayed + delayed_next)
        k1 = rate(now, delayed)
        k2 = rate(now + 0.5 * dt * k1, delayed_mid)
        k3 = rate(now + 0.5 * dt * k2, delayed_mid)
        k4 = rate(now + dt * k3, delayed_next)
        x[i + 1] = now + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    return x[lag + 1 :][transient * per_sample :: per_sample][:n]


class MackeyGlass(SequenceSource):
    """Forecast the τ = 17 Mackey-Glass series `horizon` steps ahead from seq_len past values
    (horizon 1: one-step; larger: multi-step). NRMSE = val/rmse ÷ std(y) = sqrt(1 − R²)."""

    own_task = "regression"

    def __init__(self, *, horizon: int, tau: float, step: float, **options) -> None:
        super().__init__(**options)
        self.horizon, self.tau, self.step = horizon, tau, step

    def load(self, seed: int) -> Table:
        length = self.n_samples + self.seq_len + self.horizon - 1
        # before integrating: a long series for a split that cannot work takes seconds
        check_forecast_split(self.n_samples, self.seq_len, self.test_fraction, "mackey_glass")
        series = mackey_glass(length, self.tau, self.step, self.data_seed)
        return forecasting_table(
            series, self.seq_len, self.horizon, self.test_fraction, "mackey_glass"
        )


def narma10(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Inputs u ~ U[0, 0.5] and outputs of y(t+1) = 0.3 y(t) + 0.05 y(t) Σᵢ₌₀⁹ y(t−i)
    + 1.5 u(t−9) u(t) + 0.1 (Atiya & Parlos 2000), after a 200-step transient."""
    transient = 200
    u = np.random.default_rng(seed).uniform(0.0, 0.5, n + transient)
    y = np.zeros(n + transient)
    for t in range(9, n + transient - 1):
        y[t + 1] = 0.3 * y[t] + 0.05 * y[t] * y[t - 9 : t + 1].sum() + 1.5 * u[t - 9] * u[t] + 0.1
    return u[transient:], y[transient:]


class Narma10(SequenceSource):
    """NARMA-10: from the last seq_len inputs u, predict the system's next output."""

    own_task = "regression"

    def load(self, seed: int) -> Table:
        u, y = narma10(self.n_samples + self.seq_len, self.data_seed)
        return forecasting_table(y, self.seq_len, 1, self.test_fraction, "u", inputs=u)


class SeqDigits(Source):
    """scikit-learn's 8×8 digits read row by row (8 steps of 8 pixels), or pixel by pixel
    (64 steps of 1) like sequential MNIST; the length is the image's, not seq_len."""

    kind = "sequence"
    own_task = "multiclass"

    def __init__(self, *, pixel_by_pixel: bool, **common) -> None:
        super().__init__(**common)
        self.pixel_by_pixel = pixel_by_pixel

    def load(self, seed: int) -> Table:
        bunch = datasets.load_digits()
        X = bunch.images.reshape(-1, 64, 1) if self.pixel_by_pixel else bunch.images
        names = ["pixel"] if self.pixel_by_pixel else [f"column{i}" for i in range(8)]
        class_names = [str(c) for c in bunch.target_names]
        return Table(X, bunch.target, names, kind="sequence", class_names=class_names)


class Sunspots(Source):
    """Yearly sunspot numbers 1700-2008 (309 values), shipped inside statsmodels (the optional
    extra `pip install 'dlrun[series]'`): forecast `horizon` years ahead from seq_len years."""

    kind = "sequence"
    own_task = "regression"

    def __init__(self, *, seq_len: int, horizon: int, **common) -> None:
        super().__init__(**common)
        self.seq_len, self.horizon = seq_len, horizon

    def load(self, seed: int) -> Table:
        try:
            from statsmodels.datasets import sunspots
        except ImportError:
            raise InputError(
                "dataset=sunspots needs statsmodels, which is not installed: "
                "pip install 'dlrun[series]' (or pip install statsmodels)"
            ) from None
        series = sunspots.load_pandas().data["SUNACTIVITY"].to_numpy(dtype=np.float64)
        return forecasting_table(series, self.seq_len, self.horizon, self.test_fraction, "sunspots")
