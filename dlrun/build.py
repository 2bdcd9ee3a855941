"""The one place where configs become objects: runtime settings, data, model, optimizer."""

from dataclasses import dataclass
from pathlib import Path

import torch
from hydra.errors import InstantiationException
from hydra.utils import get_class, instantiate
from omegaconf import DictConfig, OmegaConf

from dlrun.config.options import datasets_of_kind
from dlrun.config.settings import DlrunConfig
from dlrun.config.trainer import TrainerConfig
from dlrun.config.validate import check_config
from dlrun.data.splits import Data, prepare
from dlrun.errors import InputError
from dlrun.models.base import DataInfo
from dlrun.models.head import DeepGLM
from dlrun.record.logger import CsvLogger
from dlrun.selection import check_early_stopping

TORCH_DEFAULT_THREADS = torch.get_num_threads()
# Work per step (parameters × rows, × steps for sequences) below which one intra-op thread
# is faster than several: see benchmarks/threads.py and the README's Performance section.
SMALL_STEP_WORK = 2e7


def from_schema(schema: type, *args, **overrides):
    """The target of a schema (a model, data source or optimizer) built from the schema's
    defaults and `overrides`, after the schema's range rules: how tests and benchmarks make one
    without composing a whole config. `args` go first to the constructor, untouched (a model's
    DataInfo, an optimizer's parameters)."""
    root = OmegaConf.create({"seq_len": DlrunConfig.seq_len})  # what ${seq_len} defaults read
    root.node = OmegaConf.merge(OmegaConf.structured(schema), overrides)
    OmegaConf.to_object(root.node)  # the schema's range rules
    return instantiate(root.node, _partial_=True, _convert_="all")(*args)


def select_device(name: str) -> torch.device:
    """auto picks CUDA when present."""
    if name == "cuda" and not torch.cuda.is_available():
        raise InputError("device=cuda, but no CUDA device is available here: use device=auto|cpu")
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(name)


def select_dtype(name: str) -> torch.dtype:
    return {"float32": torch.float32, "float64": torch.float64}[str(name)]


def _instantiate(node: DictConfig, **sizes):
    """instantiate(), with constructor ValueErrors turned into InputErrors."""
    try:
        return instantiate(node, _convert_="all", **sizes)
    except InstantiationException as error:
        cause = error.__cause__
        if isinstance(cause, (ValueError, InputError)):
            raise InputError(str(cause)) from None
        raise


def build_data(cfg: DictConfig, model_name: str, device: torch.device, dtype: torch.dtype) -> Data:
    source = _instantiate(cfg.dataset)
    family = cfg.model.get("family")
    return prepare(
        source,
        None if family is None else str(family),
        f"model={model_name}",
        cfg.seed,
        dtype,
        device,
    )


def planned_task(cfg: DictConfig) -> str:
    """The task a run of cfg trains, resolved as dlrun.data.splits.prepare resolves it: from
    dataset.task, the model's GLM family or the source's own task, without loading data; only
    a source whose target decides (a user's CSV or npz file) is loaded."""
    source = _instantiate(cfg.dataset)
    family = cfg.model.get("family")
    known = source.task or (None if family is None else str(family)) or source.own_task
    if known is not None:
        return known
    return build_data(cfg, "model", torch.device("cpu"), torch.float64).task


def data_info(data: Data) -> DataInfo:
    """What a model is told of the prepared data (the one contract, dlrun.models.base)."""
    return DataInfo(
        input_shape=data.input_shape,
        task=data.task,
        n_classes=data.n_classes,
        kind=data.kind,
        target_shape=tuple(data.train.y.shape[1:]),
        image_shape=data.image_shape,
    )


def check_model_fits(cfg: DictConfig, info: DataInfo, names: dict[str, str]) -> None:
    """Refuse a model that cannot take the dataset's kind of input or of target, naming
    what fits (the capabilities its class declares, dlrun.models.head.DeepGLM)."""
    model_class: type[DeepGLM] = get_class(cfg.model._target_)
    accepts = model_class.accepts
    if info.kind not in accepts:
        fitting = datasets_of_kind(accepts)
        raise InputError(
            f"model={names['model']} takes {' or '.join(accepts)} data, but "
            f"dataset={names['dataset']} is {info.kind} data; datasets that fit: "
            f"{', '.join(fitting)}"
        )
    if info.target_shape and not model_class.per_step_targets:
        raise InputError(
            f"model={names['model']} predicts one target per row, but this dataset has a "
            f"target at each of {info.target_shape[0]} steps: use a recurrent model "
            "(rnn, lstm, gru)"
        )


def build_model(cfg: DictConfig, data: Data, device: torch.device, dtype: torch.dtype) -> DeepGLM:
    """`Model(data=DataInfo, **cfg.model)`: the one place a model is built for its data."""
    # partial, then the call: instantiate would turn the DataInfo into a dict
    make = _instantiate(cfg.model, _partial_=True)
    try:
        model = make(data=data_info(data))
    except ValueError as error:  # what only the data tells: a kernel wider than the input
        raise InputError(str(error)) from None
    if model.cpu_only and device.type != "cpu":
        raise InputError(
            f"{type(model).__name__} computes in numpy on the CPU, and device={device.type} was "
            "chosen; allowed: device=cpu"
        )
    model.check_data(data)  # what only the rows tell: the ESN's washout against the series
    return model.to(device=device, dtype=dtype)


def check_second_derivatives(model: DeepGLM, needed_by: str, instead: str = "") -> None:
    """Refuse `needed_by` (an optimizer or analysis) for a model without second derivatives."""
    if not model.second_derivatives:
        raise InputError(
            f"{needed_by} needs second derivatives, which the numpy backprop does not "
            f"compute: use model=mlp (the same network in torch){instead}"
        )


def build_optimizer(cfg: DictConfig, model: DeepGLM) -> torch.optim.Optimizer:
    optimizer_class = get_class(cfg.optimizer._target_)
    if getattr(optimizer_class, "needs_second_derivatives", False):  # torch's lack the flag
        name = optimizer_class.__name__.lower()
        check_second_derivatives(model, f"optimizer={name}", " or optimizer=sgd|adam|line_search")
    make = _instantiate(cfg.optimizer)
    try:
        return make(model.parameters())
    except ValueError as error:  # what only the model's size tells (Newton's max_params)
        raise InputError(str(error)) from None


def build_logger(cfg: DictConfig, run_dir: Path) -> CsvLogger:
    """The logger=... option, writing into run_dir (the CSV files are written whatever it is);
    a logger whose package is missing raises InputError here, before training."""
    logger = _instantiate(cfg.logger, run_dir=run_dir)
    logger.log_config(OmegaConf.to_container(cfg, resolve=True))  # logger=mlflow's parameters
    return logger


def step_work(model: DeepGLM, data: Data, batch_size: int | None) -> int:
    """Parameters × rows per step: the size of a step's operations, roughly. Not × time steps
    for sequences: a recursion runs its steps one after another, each an operation of about
    this size, and threads split operations, not time (an LSTM of 64 units at T = 200 took
    57 s with one thread and 437 s with two on the shared 2-core machine)."""
    rows = len(data.train) if batch_size is None else min(batch_size, len(data.train))
    return sum(p.numel() for p in model.parameters()) * rows


def resolve_threads(threads: int | None, model: DeepGLM, data: Data, batch_size: int | None) -> int:
    """threads=null: one thread for small steps, where framework overhead dominates; torch's
    default (the machine's cores, or a launcher's limit) for large ones. Never the momentary
    load: the thread count changes a reduction's low bits, and the same command must give the
    same numbers on a busy machine (benchmarks/threads.py measures what a busy core costs)."""
    if threads is not None:
        return threads
    if step_work(model, data, batch_size) < SMALL_STEP_WORK:
        return 1
    return TORCH_DEFAULT_THREADS


@dataclass
class Experiment:
    data: Data
    model: DeepGLM
    optimizer: torch.optim.Optimizer
    trainer: TrainerConfig
    generator: torch.Generator
    device: torch.device
    dtype: torch.dtype
    threads: int


def build(cfg: DictConfig, names: dict[str, str]) -> Experiment:
    """Check the config, then build data, model and optimizer; seeds everything from cfg.seed."""
    check_config(cfg)
    device, dtype = select_device(cfg.device), select_dtype(cfg.dtype)
    trainer = OmegaConf.to_object(cfg.trainer)
    data = build_data(cfg, names["model"], device, dtype)
    check_model_fits(cfg, data_info(data), names)
    check_early_stopping(trainer.early_stopping, data)
    torch.manual_seed(cfg.seed)
    model = build_model(cfg, data, device, dtype)
    optimizer = build_optimizer(cfg, model)
    threads = resolve_threads(cfg.threads, model, data, trainer.batch_size)
    torch.set_num_threads(threads)
    generator = torch.Generator(device=device).manual_seed(cfg.seed)
    return Experiment(data, model, optimizer, trainer, generator, device, dtype, threads)
