"""Schemas of the dataset group (conf/dataset/): every data source's defaults and range rules.

Each default is stated here once; `_target_` names the data source class and the keys are its
constructor's arguments (which have no defaults of their own). Each range rule is checked once,
in `__post_init__`, before any work (dlrun.config.validate.check_config); a check that needs
the data itself (a column that is missing, a series too short for seq_len) stays with the source.
`seq_len` defaults to the top-level `seq_len` (dlrun/config/settings.py): `seq_len=200` sets
every sequence dataset's length, `dataset.seq_len=200` this dataset's alone.
"""

from dataclasses import dataclass

from omegaconf import II, MISSING

from dlrun.config.rules import Task, require
from dlrun.data import memory

TOP_LEVEL_SEQ_LEN = II("seq_len")
INTEGRATION_STEP = 0.1  # dt of the Mackey-Glass integrator (dlrun.data.sequences)


def require_memory(n_values: int, **sizes: float) -> None:
    """Refuse sizes whose data (n_values numbers) would not fit in the memory available now,
    naming the largest size: generated data are checked before anything is generated."""
    key = max(sizes, key=lambda name: sizes[name])
    others = ", ".join(f"{name}={value}" for name, value in sizes.items() if name != key)
    require(
        memory.fits(n_values),
        key,
        sizes[key],
        f"with {others} the data need {memory.shortfall(n_values)}; allowed: sizes that fit",
    )


@dataclass
class DatasetConfig:
    """What every dataset shares: the task and how its rows are split and scaled."""

    _target_: str = MISSING
    # regression | binary | count | multiclass; null = the model's GLM family, else the
    # source's own task, else inferred from the target
    task: Task | None = None
    # fractions of the rows held out for validation and test (each 0 <= x < 1, sum < 1);
    # a fixed test split (npz X_test, the forecasting sets) replaces test_fraction
    val_fraction: float = 0.1
    test_fraction: float = 0.2
    # scale each input feature to mean 0, std 1 on the training split
    standardize: bool = True

    def __post_init__(self) -> None:
        require(0 <= self.val_fraction < 1, "val_fraction", self.val_fraction, "0 <= x < 1")
        require(0 <= self.test_fraction < 1, "test_fraction", self.test_fraction, "0 <= x < 1")
        total = self.val_fraction + self.test_fraction
        require(total < 1, "val_fraction", self.val_fraction, "val_fraction + test_fraction < 1")


BUNDLED = ("digits", "iris", "wine", "breast_cancer", "diabetes")


@dataclass
class BundledConfig(DatasetConfig):
    """scikit-learn's bundled data sets: they ship inside the package, nothing is downloaded."""

    _target_: str = "dlrun.data.bundled.Bundled"
    # digits | iris | wine | breast_cancer | diabetes
    name: str = MISSING

    def __post_init__(self) -> None:
        super().__post_init__()
        require(self.name in BUNDLED, "name", self.name, " | ".join(BUNDLED))


@dataclass
class SyntheticConfig(DatasetConfig):
    """GLM data with known true weights: x ~ N(0, I), η = xᵀw + b + noise·ε, y from the GLM."""

    _target_: str = "dlrun.data.synthetic.SyntheticGLM"
    n_samples: int = 500
    n_features: int = 5
    # used by task=multiclass only
    n_classes: int = 3
    # standard deviation of the Gaussian noise added to η
    noise: float = 0.1
    # fixes the draw of weights and data (the run's seed does not change the data)
    data_seed: int = 0

    def __post_init__(self) -> None:
        super().__post_init__()
        require(
            self.task is not None, "task", self.task, "one of regression|binary|count|multiclass"
        )
        require(self.n_samples >= 4, "n_samples", self.n_samples, "an integer >= 4")
        require(self.n_features >= 1, "n_features", self.n_features, "an integer >= 1")
        require(self.n_classes >= 2, "n_classes", self.n_classes, "an integer >= 2")
        require(self.noise >= 0, "noise", self.noise, "a number >= 0")
        require(self.data_seed >= 0, "data_seed", self.data_seed, "an integer >= 0")
        require_memory(
            self.n_samples * (self.n_features + self.n_classes + 1),
            n_samples=self.n_samples,
            n_features=self.n_features,
        )


@dataclass
class CsvConfig(DatasetConfig):
    """The user's CSV file with a header: dataset.path=FILE dataset.target=COLUMN."""

    _target_: str = "dlrun.data.files.CsvFile"
    path: str = MISSING
    # the column to predict
    target: str = MISSING
    # the input columns; null = every column except the target
    features: list[str] | None = None


@dataclass
class NpzConfig(DatasetConfig):
    """The user's .npz archive (numpy.savez) of arrays X, y and optionally X_test, y_test
    (a fixed test split: test_fraction is then unused)."""

    _target_: str = "dlrun.data.files.NpzFile"
    path: str = MISSING
    # auto: X (N, F) tabular, (N, T, F) sequences, (N, C, H, W) images | image: (N, H, W) or
    # (N, C, H, W) images | signal: (N, T) or channels-first (N, C, T) signals, for 1-D
    # convolution
    layout: str = "auto"

    def __post_init__(self) -> None:
        super().__post_init__()
        require(
            self.layout in ("auto", "image", "signal"), "layout", self.layout, "auto|image|signal"
        )


@dataclass
class ShapesConfig(DatasetConfig):
    """Images where position matters and objects move: a 5×5 pattern (plus, cross, square,
    diamond, corner, bar) at a random offset on a size×size canvas with pixel noise."""

    _target_: str = "dlrun.data.images.Shapes"
    # the label is the pattern, whatever the model's GLM family
    task: Task | None = Task.multiclass
    n_samples: int = 1000
    # canvas side in pixels, >= 5 (the patterns' side)
    size: int = 16
    # the first 2..6 patterns
    n_classes: int = 4
    # standard deviation of the Gaussian pixel noise
    noise: float = 0.1
    # fixes the draw (the run's seed does not change the data)
    data_seed: int = 0

    def __post_init__(self) -> None:
        super().__post_init__()
        require(self.n_samples >= 4, "n_samples", self.n_samples, "an integer >= 4")
        require(self.size >= 5, "size", self.size, "an integer >= 5 (the patterns are 5×5)")
        require(2 <= self.n_classes <= 6, "n_classes", self.n_classes, "2..6")
        require(self.noise >= 0, "noise", self.noise, "a number >= 0")
        require(self.data_seed >= 0, "data_seed", self.data_seed, "an integer >= 0")
        require_memory(
            self.n_samples * (self.size**2 + 1), n_samples=self.n_samples, size=self.size
        )


@dataclass
class WaveformsConfig(DatasetConfig):
    """Signals: one waveform (sine, square, triangle, spike) of `width` steps at a random time
    in a noisy signal of `length` steps; the label is the waveform."""

    _target_: str = "dlrun.data.images.Waveforms"
    # the label is the waveform, whatever the model's GLM family
    task: Task | None = Task.multiclass
    n_samples: int = 1000
    # steps per signal: the top-level seq_len
    length: int = TOP_LEVEL_SEQ_LEN
    width: int = 10
    # standard deviation of the Gaussian noise
    noise: float = 0.2
    # fixes the draw (the run's seed does not change the data)
    data_seed: int = 0
    # true: sequences (N, T, 1) for recurrent models; false: rows (N, T) for GLMs and MLPs
    sequence: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        require(self.n_samples >= 4, "n_samples", self.n_samples, "an integer >= 4")
        require(self.width >= 4, "width", self.width, "an integer >= 4")
        require(self.length >= self.width, "length", self.length, f">= width ({self.width})")
        require(self.noise >= 0, "noise", self.noise, "a number >= 0")
        require(self.data_seed >= 0, "data_seed", self.data_seed, "an integer >= 0")
        require_memory(
            self.n_samples * (self.length + 1), n_samples=self.n_samples, length=self.length
        )


@dataclass
class SequenceConfig(DatasetConfig):
    """What the generated sequence sets share: how many sequences, how long, which draw."""

    n_samples: int = 2000
    # steps per sequence (T): the top-level seq_len
    seq_len: int = TOP_LEVEL_SEQ_LEN
    # fixes the draw (the run's seed does not change the data)
    data_seed: int = 0

    def __post_init__(self) -> None:
        super().__post_init__()
        require(self.n_samples >= 4, "n_samples", self.n_samples, "an integer >= 4")
        require(self.seq_len >= 1, "seq_len", self.seq_len, "an integer >= 1")
        require(self.data_seed >= 0, "data_seed", self.data_seed, "an integer >= 0")


@dataclass
class AddingConfig(SequenceConfig):
    """The adding problem (Hochreiter & Schmidhuber 1997): sum the two marked values of a
    length-T sequence. Predicting the mean scores MSE ≈ 0.167; "solved" is MSE < 0.01."""

    _target_: str = "dlrun.data.sequences.Adding"
    # the marker is 0/1 and the values U[0, 1]: they are kept as they are
    standardize: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        require(self.seq_len >= 2, "seq_len", self.seq_len, "the adding problem needs >= 2")
        n, length = self.n_samples, self.seq_len
        require_memory(n * (2 * length + 1), n_samples=n, seq_len=length)


@dataclass
class CopyConfig(SequenceConfig):
    """Copy memory (Arjovsky et al. 2016): recall `length` symbols after a delay of seq_len
    steps; one-hot inputs, a class target at every step."""

    _target_: str = "dlrun.data.sequences.Copy"
    # one-hot inputs are kept as they are
    standardize: bool = False
    # the alphabet to copy from
    n_symbols: int = 8
    # symbols to recall
    length: int = 10

    def __post_init__(self) -> None:
        super().__post_init__()
        require(self.n_symbols >= 1, "n_symbols", self.n_symbols, "an integer >= 1")
        require(self.length >= 1, "length", self.length, "an integer >= 1")
        steps = self.seq_len + 2 * self.length
        require_memory(
            self.n_samples * steps * (self.n_symbols + 3),
            n_samples=self.n_samples,
            seq_len=self.seq_len,
            length=self.length,
            n_symbols=self.n_symbols,
        )


@dataclass
class MackeyGlassConfig(SequenceConfig):
    """The τ = 17 Mackey-Glass chaotic series: forecast `horizon` steps ahead from seq_len past
    values; the last windows in time are the test split. NRMSE = sqrt(1 − R²)."""

    _target_: str = "dlrun.data.sequences.MackeyGlass"
    # steps ahead: 1 is one-step forecasting
    horizon: int = 1
    # the delay τ of dx/dt = 0.2 x(t−τ)/(1 + x(t−τ)¹⁰) − 0.1 x(t); 17 is chaotic
    tau: float = 17.0
    # time units between samples
    step: float = 1.0

    def __post_init__(self) -> None:
        super().__post_init__()
        require(self.horizon >= 1, "horizon", self.horizon, "an integer >= 1")
        # the series is integrated with time step INTEGRATION_STEP: shorter ones round to 0
        require(self.tau >= INTEGRATION_STEP, "tau", self.tau, f"a delay >= {INTEGRATION_STEP}")
        require(
            self.step >= INTEGRATION_STEP, "step", self.step, f"an interval >= {INTEGRATION_STEP}"
        )
        n, length = self.n_samples, self.seq_len
        # the integrator's grid (dlrun.data.sequences.mackey_glass) and the windows
        grid = (n + length + self.horizon) * round(self.step / INTEGRATION_STEP)
        grid += round(self.tau / INTEGRATION_STEP)
        sizes = dict(n_samples=n, seq_len=length, horizon=self.horizon, tau=self.tau)
        require_memory(grid + n * (length + 1), **sizes, step=self.step)


@dataclass
class Narma10Config(SequenceConfig):
    """NARMA-10: predict y(t+1) from the last seq_len inputs u; the last windows in time are
    the test split."""

    _target_: str = "dlrun.data.sequences.Narma10"

    def __post_init__(self) -> None:
        super().__post_init__()
        n, length = self.n_samples, self.seq_len
        require_memory(n * (length + 3), n_samples=n, seq_len=length)


@dataclass
class SeqDigitsConfig(DatasetConfig):
    """scikit-learn's 8×8 digits read row by row (8 steps of 8 pixels); the length is the
    image's, seq_len does not apply."""

    _target_: str = "dlrun.data.sequences.SeqDigits"
    # true: 64 steps of 1 pixel, like sequential MNIST
    pixel_by_pixel: bool = False


@dataclass
class SunspotsConfig(DatasetConfig):
    """Yearly sunspot numbers 1700-2008 (309 values), shipped inside statsmodels
    (pip install 'dlrun[series]'): forecast `horizon` years ahead from the last seq_len years."""

    _target_: str = "dlrun.data.sequences.Sunspots"
    # years per window: the top-level seq_len; the series has 309, so keep it well below
    seq_len: int = TOP_LEVEL_SEQ_LEN
    # years ahead
    horizon: int = 1

    def __post_init__(self) -> None:
        super().__post_init__()
        require(self.seq_len >= 1, "seq_len", self.seq_len, "an integer >= 1")
        require(self.horizon >= 1, "horizon", self.horizon, "an integer >= 1")


# dataset=<option> YAMLs extend these through /schema.dataset.<name>@_here_
SCHEMAS: dict[str, type] = {
    "bundled": BundledConfig,
    "synthetic": SyntheticConfig,
    "csv": CsvConfig,
    "npz": NpzConfig,
    "shapes": ShapesConfig,
    "waveforms": WaveformsConfig,
    "adding": AddingConfig,
    "copy": CopyConfig,
    "mackey_glass": MackeyGlassConfig,
    "narma10": Narma10Config,
    "seq_digits": SeqDigitsConfig,
    "sunspots": SunspotsConfig,
}
