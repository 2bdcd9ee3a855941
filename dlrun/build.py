"""The one place where configs become objects: runtime settings, data, model, optimizer."""

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

import torch
from hydra.errors import InstantiationException
from hydra.utils import get_class, instantiate
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import MissingMandatoryValue, ValidationError

from dlrun.config import SCHEMAS
from dlrun.config.trainer import TrainerConfig
from dlrun.data.splits import Data, prepare
from dlrun.errors import InputError
from dlrun.logger import CsvLogger
from dlrun.models.head import DeepGLM
from dlrun.paths import config_dir

GROUPS = ("model", "dataset", "optimizer", "trainer", "logger")
TORCH_DEFAULT_THREADS = torch.get_num_threads()
# Work per step (parameters × rows, × steps for sequences) below which one intra-op thread
# is faster than several: see benchmarks/threads.py and the README's Performance section.
SMALL_STEP_WORK = 2e7


def check_config(cfg: DictConfig) -> None:
    """Run every schema's range checks; raise InputError naming the key, value and allowed."""
    for group in GROUPS:
        check_known_keys(group, cfg[group])
        try:
            OmegaConf.to_object(cfg[group])
        except ValueError as error:
            raise InputError(f"{group}.{error}") from None
        except MissingMandatoryValue as error:
            raise InputError(
                f"{error.full_key} is required: set it on the command line, "
                f"e.g. {error.full_key}=..."
            ) from None
        except ValidationError as error:
            raise InputError(f"{error.full_key}: {error.msg}") from None
    try:
        OmegaConf.to_object(cfg)  # the top-level keys: DlrunConfig.__post_init__
    except ValueError as error:
        raise InputError(str(error)) from None


def check_known_keys(group: str, node: DictConfig) -> None:
    """Refuse keys the option's schema lacks (a `+group.key=...` override would add them)."""
    schema = OmegaConf.get_type(node)
    if not dataclasses.is_dataclass(schema):
        return
    known = [field.name for field in dataclasses.fields(schema)]
    unknown = [key for key in node.keys() if key not in known]
    if unknown:
        allowed = ", ".join(key for key in known if not key.startswith("_"))
        raise InputError(f"{group}.{unknown[0]} is not a key of this {group}; its keys: {allowed}")


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


def option_target(group: str, path) -> str | None:
    """The _target_ of a group option's YAML: its own, or that of the schema it extends."""
    node = OmegaConf.load(path)
    if "_target_" in node:
        return node._target_
    for entry in node.get("defaults", []):
        prefix = f"/schema/{group}/"
        if isinstance(entry, str) and entry.startswith(prefix):
            schema = SCHEMAS[group][entry[len(prefix) :].split("@")[0]]
            return schema._target_
    return None


def datasets_of_kind(kinds: tuple[str, ...]) -> list[str]:
    """The dataset options (conf/dataset/*.yaml) whose source yields one of `kinds`."""
    names = []
    for path in sorted((config_dir() / "dataset").glob("*.yaml")):
        target = option_target("dataset", path)
        if target is not None and get_class(target).kind in (*kinds, "any"):
            names.append(path.stem)
    return names


def check_model_fits(cfg: DictConfig, data: Data, names: dict[str, str]) -> None:
    """Refuse a model that cannot take the dataset's kind of input, naming datasets that fit."""
    model_class = get_class(cfg.model._target_)
    accepts = getattr(model_class, "accepts", DeepGLM.accepts)
    if data.kind not in accepts:
        fitting = datasets_of_kind(accepts)
        raise InputError(
            f"model={names['model']} takes {' or '.join(accepts)} data, but "
            f"dataset={names['dataset']} is {data.kind} data; datasets that fit: "
            f"{', '.join(fitting)}"
        )


def model_sizes(model_class: type, data: Data) -> dict:
    """The data-dependent constructor arguments. Models with `sees_grid = True` (CNN, ResNet)
    also get `input_kind`, and flattened images (digits) in their image shape."""
    sizes = {"input_shape": data.input_shape, "task": data.task, "n_classes": data.n_classes}
    if getattr(model_class, "reads_target_shape", False):  # recurrent: per-step targets
        sizes["target_shape"] = tuple(data.train.y.shape[1:])
    if getattr(model_class, "sees_grid", False):
        if data.image_shape is not None:
            sizes |= {"input_shape": data.image_shape, "input_kind": "image"}
        else:
            sizes |= {"input_kind": data.kind}
    return sizes


def build_model(cfg: DictConfig, data: Data, device: torch.device, dtype: torch.dtype) -> DeepGLM:
    model = _instantiate(cfg.model, **model_sizes(get_class(cfg.model._target_), data))
    return model.to(device=device, dtype=dtype)


def build_optimizer(cfg: DictConfig, model: DeepGLM) -> torch.optim.Optimizer:
    optimizer_class = get_class(cfg.optimizer._target_)
    if getattr(optimizer_class, "needs_second_derivatives", False) and getattr(
        model, "first_derivatives_only", False
    ):
        raise InputError(
            f"optimizer={optimizer_class.__name__.lower()} needs second derivatives, which the "
            "numpy backprop does not compute: use model=mlp (the same network in torch) or "
            "optimizer=sgd|adam|line_search"
        )
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
    """Parameters × rows per step (× time steps for sequences): a step's size, roughly."""
    rows = len(data.train) if batch_size is None else min(batch_size, len(data.train))
    steps_per_row = data.input_shape[0] if data.kind == "sequence" else 1
    return sum(p.numel() for p in model.parameters()) * rows * steps_per_row


def resolve_threads(threads: int | None, model: DeepGLM, data: Data, batch_size: int | None) -> int:
    """threads=null: one thread for small steps, where framework overhead dominates; for large
    ones, torch's default less the cores other processes keep busy (1-minute load average,
    less this process): on a shared core extra threads wait on each other and a step runs
    2-4x slower (benchmarks/threads.py)."""
    if threads is not None:
        return threads
    if step_work(model, data, batch_size) < SMALL_STEP_WORK:
        return 1
    others = max(0.0, os.getloadavg()[0] - 1.0)
    return max(1, min(TORCH_DEFAULT_THREADS, round(TORCH_DEFAULT_THREADS - others)))


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
    check_model_fits(cfg, data, names)
    torch.manual_seed(cfg.seed)
    model = build_model(cfg, data, device, dtype)
    optimizer = build_optimizer(cfg, model)
    threads = resolve_threads(cfg.threads, model, data, trainer.batch_size)
    torch.set_num_threads(threads)
    generator = torch.Generator(device=device).manual_seed(cfg.seed)
    return Experiment(data, model, optimizer, trainer, generator, device, dtype, threads)
