"""The top-level schema (conf/config.yaml): seed, device, threads, dtype, report, analyze, ..."""

from dataclasses import dataclass, field
from typing import Any

from omegaconf import MISSING

from dlrun.config.rules import Device, DType, require


@dataclass
class ReportConfig:
    """The comparison table at the end of a sweep (dlrun.report); null = from the swept keys."""

    rows: list[str] | None = None
    cols: list[str] | None = None
    metrics: list[str] | None = None


@dataclass
class AnalyzeConfig:
    """Analyses after training (dlrun.analyses): their results go into summary.json."""

    # extreme eigenvalues of the mean training loss's Hessian, at the fitted and random weights
    hessian: bool = False
    # exact Hessian up to this many parameters; Lanczos on Hessian-vector products above
    hessian_exact_max_params: int = 2000
    lanczos_steps: int = 60
    # numpy backprop vs torch autograd vs finite differences for every activation × head
    backprop_check: bool = False
    # a cnn's conv/pooled features or an mlp's hidden layer under input shifts (equivariance.csv)
    equivariance: bool = False
    # ‖∂L/∂W‖ of every layer at initialisation and at the end (layer_gradients.csv)
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


@dataclass
class DlrunConfig:
    model: Any = MISSING
    dataset: Any = MISSING
    optimizer: Any = MISSING
    trainer: Any = MISSING
    logger: Any = MISSING
    seed: int = 0
    device: Device = Device.auto
    threads: int | None = None
    dtype: DType = DType.float32
    seq_len: int = 50
    analyze: AnalyzeConfig = field(default_factory=AnalyzeConfig)
    report: ReportConfig = field(default_factory=ReportConfig)
    on_error: str = "continue"
    # null | true (continue in hydra.run.dir / hydra.sweep.dir) | a run or sweep directory
    resume: Any = None
    repeats: int = 1

    def __post_init__(self) -> None:
        if self.threads is not None:
            require(self.threads >= 1, "threads", self.threads, "null (auto) or an integer >= 1")
        require(self.seed >= 0, "seed", self.seed, "an integer >= 0")
        require(self.seq_len >= 1, "seq_len", self.seq_len, "an integer >= 1")
        require(self.on_error in ON_ERROR, "on_error", self.on_error, "continue | fail_fast")
        require(self.repeats >= 1, "repeats", self.repeats, "an integer >= 1")
        require(
            self.resume is None or isinstance(self.resume, bool | str),
            "resume",
            self.resume,
            "null, true, or a run or sweep directory",
        )
