"""The top-level schema (conf/config.yaml): seed, device, threads, dtype, report, analyze, ..."""

from dataclasses import dataclass, field
from typing import Any

from omegaconf import MISSING

from dlrun.config.rules import Device, DType, require


@dataclass
class ReportConfig:
    """The comparison table written at the end of a sweep (dlrun.report; README: Sweeps).

    null = from the swept keys, e.g. report.rows=[model] report.cols=[seq_len]
    report.metrics=[val/acc,val/loss]
    """

    rows: list[str] | None = None
    cols: list[str] | None = None
    metrics: list[str] | None = None
    # the configuration every other cell is compared with, e.g. "report.reference='model=lstm'"
    # (key=value pairs of the table's keys, quoted for Hydra's grammar); null = the first row
    reference: str | None = None
    # the paired test when two cells ran the same seeds: t | wilcoxon (unpaired: Welch's t)
    test: str = "t"
    # also write report.html (self-contained, offline) beside comparison.md
    html: bool = True


@dataclass
class AnalyzeConfig:
    """Analyses after training (dlrun.analyses): their results go into summary.json."""

    # extreme eigenvalues of the mean training loss's Hessian, at the fitted and random
    # weights: the convexity check
    hessian: bool = False
    # exact Hessian up to this many parameters; Lanczos on Hessian-vector products above
    hessian_exact_max_params: int = 2000
    lanczos_steps: int = 60
    # numpy backprop vs torch autograd vs finite differences for every activation × head
    backprop_check: bool = False
    # a cnn's conv/pooled features or an mlp's hidden layer under input shifts
    # (equivariance.csv/png)
    equivariance: bool = False
    # ‖∂L/∂W‖ of every layer at initialisation and at the end (layer_gradients.csv/png)
    layer_gradients: bool = False

    def __post_init__(self) -> None:
        require(
            self.hessian_exact_max_params >= 0,
            "analyze.hessian_exact_max_params",
            self.hessian_exact_max_params,
            "an integer >= 0",
        )
        require(
            self.lanczos_steps >= 2, "analyze.lanczos_steps", self.lanczos_steps, "an integer >= 2"
        )


ON_ERROR = ("continue", "fail_fast")
MAX_SEED = 2**63 - 1  # torch.manual_seed and numpy's generators take 64-bit seeds


@dataclass
class DlrunConfig:
    """dlrun's top-level keys; conf/config.yaml adds the config groups and Hydra's settings."""

    model: Any = MISSING
    dataset: Any = MISSING
    optimizer: Any = MISSING
    trainer: Any = MISSING
    logger: Any = MISSING
    seed: int = 0
    # auto picks CUDA when present
    device: Device = Device.auto
    # intra-op threads; null = 1 for small steps, more for large ones (README: Performance)
    threads: int | None = None
    # float64 for exact checks and ill-conditioned data
    dtype: DType = DType.float32
    # sequence length, read by the sequence datasets
    seq_len: int = 50
    analyze: AnalyzeConfig = field(default_factory=AnalyzeConfig)
    report: ReportConfig = field(default_factory=ReportConfig)
    # a failing job in a sweep: continue (record it, run the others) | fail_fast (stop the sweep)
    on_error: str = "continue"
    # null | a sweep directory (rerun what did not complete) | a run directory or true
    # (continue from its last checkpoint; true = the hydra.run.dir given)
    resume: Any = None
    # train each configuration with seeds seed, seed+1, ..., seed+repeats-1 (aggregated in
    # tables)
    repeats: int = 1
    # the metric an optimising sweeper (hydra/sweeper=optuna) minimises or maximises, by its
    # summary.json name; checked once a run has finished, as its metrics depend on the task
    objective: str = "val/loss"

    def __post_init__(self) -> None:
        if self.threads is not None:
            require(self.threads >= 1, "threads", self.threads, "null (auto) or an integer >= 1")
        require(self.repeats >= 1, "repeats", self.repeats, "an integer >= 1")
        require(
            0 <= self.seed <= MAX_SEED - (self.repeats - 1),
            "seed",
            self.seed,
            f"an integer >= 0 and <= {MAX_SEED} (2^63 - 1) less repeats - 1",
        )
        require(self.seq_len >= 1, "seq_len", self.seq_len, "an integer >= 1")
        require(self.on_error in ON_ERROR, "on_error", self.on_error, "continue | fail_fast")
        require(
            self.resume is None or isinstance(self.resume, bool | str),
            "resume",
            self.resume,
            "null, true, or a run or sweep directory",
        )
