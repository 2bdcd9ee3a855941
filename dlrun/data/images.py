"""Generated data where position matters and objects move: small patterns at random offsets.

`shapes`: a 5×5 pattern (plus, cross, square, diamond, ...) stamped at a random offset onto an
empty canvas with Gaussian pixel noise; the label is the pattern, wherever it sits. A model that
reads pixels by position (an MLP) must learn each pattern at every offset; a convolution learns
it once. `waveforms`: the same idea in one dimension, a short waveform at a random time.
"""

import numpy as np

from dlrun.data.base import Source, Table

PATTERN_ROWS = {
    "plus": ["..#..", "..#..", "#####", "..#..", "..#.."],
    "cross": ["#...#", ".#.#.", "..#..", ".#.#.", "#...#"],
    "square": ["#####", "#...#", "#...#", "#...#", "#####"],
    "diamond": ["..#..", ".#.#.", "#...#", ".#.#.", "..#.."],
    "corner": ["#####", "#....", "#....", "#....", "#...."],
    "bar": ["..#..", "..#..", "..#..", "..#..", "..#.."],
}
PATTERNS = {
    name: np.array([[c == "#" for c in row] for row in rows], dtype=np.float64)
    for name, rows in PATTERN_ROWS.items()
}

WAVEFORMS = ("sine", "square", "triangle", "spike")


def stamp_shapes(
    n_samples: int, size: int, n_classes: int, noise: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, size, size) of pattern y[i] at a uniformly random offset, plus noise."""
    rng = np.random.default_rng(seed)
    patterns = np.stack(list(PATTERNS.values())[:n_classes])  # (K, 5, 5)
    k = patterns.shape[-1]
    y = rng.integers(n_classes, size=n_samples)
    rows, cols = rng.integers(size - k + 1, size=(2, n_samples))
    X = noise * rng.normal(size=(n_samples, size, size))
    for i in range(n_samples):
        X[i, rows[i] : rows[i] + k, cols[i] : cols[i] + k] += patterns[y[i]]
    return X, y


class Shapes(Source):
    """Small patterns (5×5) at random offsets on a size×size canvas; label = the pattern."""

    kind = "image"
    own_task = "multiclass"  # the label is the pattern

    def __init__(
        self,
        *,
        n_samples: int,
        size: int,
        n_classes: int,
        noise: float,
        data_seed: int,
        **common,
    ) -> None:
        super().__init__(**common)
        self.n_samples, self.size, self.n_classes = n_samples, size, n_classes
        self.noise, self.data_seed = noise, data_seed

    def load(self, seed: int) -> Table:
        X, y = stamp_shapes(self.n_samples, self.size, self.n_classes, self.noise, self.data_seed)
        names = [f"p{r}_{c}" for r in range(self.size) for c in range(self.size)]
        classes = list(PATTERNS)[: self.n_classes]
        return Table(X, y, names, kind="image", class_names=classes)


def draw_waveforms(
    n_samples: int, length: int, width: int, noise: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Signals (N, length): waveform y[i] of `width` steps at a random start, plus noise."""
    rng = np.random.default_rng(seed)
    phase = np.arange(width) / width
    shapes = np.stack(
        [
            np.sin(2 * np.pi * phase),
            np.where(phase < 0.5, 1.0, -1.0),
            1 - 4 * np.abs(phase - 0.5),
            np.where(np.abs(phase - 0.5) < 1 / width, 2.0, 0.0),
        ]
    )
    y = rng.integers(len(WAVEFORMS), size=n_samples)
    starts = rng.integers(length - width + 1, size=n_samples)
    X = noise * rng.normal(size=(n_samples, length))
    for i in range(n_samples):
        X[i, starts[i] : starts[i] + width] += shapes[y[i]]
    return X, y


class Waveforms(Source):
    """One waveform (sine, square, triangle, spike) of `width` steps at a random time in a
    noisy signal of `length` steps; label = the waveform. `sequence=true`: sequences (N, T, 1)
    for recurrent models; false: rows (N, T) of named steps for GLMs and MLPs. A CNN convolves
    either in 1-D."""

    kind = "any"  # sequence or tabular, by `sequence`
    own_task = "multiclass"  # the label is the waveform

    def __init__(
        self,
        *,
        n_samples: int,
        length: int,
        width: int,
        noise: float,
        data_seed: int,
        sequence: bool,
        **common,
    ) -> None:
        super().__init__(**common)
        self.n_samples, self.length, self.width = n_samples, length, width
        self.noise, self.data_seed, self.sequence = noise, data_seed, sequence

    def load(self, seed: int) -> Table:
        X, y = draw_waveforms(self.n_samples, self.length, self.width, self.noise, self.data_seed)
        if self.sequence:
            X, names, kind = X[:, :, None], ["signal"], "sequence"
        else:
            names, kind = [f"t{t}" for t in range(self.length)], "tabular"
        return Table(X, y, names, kind=kind, class_names=list(WAVEFORMS))
