"""Continue a run from its last checkpoint (`resume=true` / `resume=<run dir>`), and refuse a
resume that cannot be trusted before anything is written.

The checkpoint holds the model, the optimizer, the batch-order generator's and torch's RNG
states, the thread count, the epoch, the step and the training time so far, so a run killed
after epoch e and resumed ends with the same metrics as one never interrupted (same device and
seed). It continues only with the configuration it was started with (dlrun.record.identity).
"""

import json
import logging
import pickle
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import torch
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from dlrun.errors import InputError
from dlrun.record.files import CHECKPOINT_FILE, JOB_FILE, METRICS_FILE, STEPS_FILE, RunRecord
from dlrun.record.identity import describe_differences, differences, identity
from dlrun.record.resolvers import resume_requested

log = logging.getLogger("dlrun")
HYDRA_CONFIG = Path(".hydra") / "config.yaml"  # Hydra's copy of the run's composed config


@dataclass
class Start:
    """Where fit() picks up: after `epoch`, with `steps` taken and `train_time_s` spent."""

    epoch: int
    steps: int
    train_time_s: float
    # the early-stopping state (dlrun.selection); None from a checkpoint written before it
    selection: dict | None = None


def check_resume(cfg: DictConfig, hydra_cfg: DictConfig) -> None:
    """Refuse a resume with nothing to continue, a single run resumed with other overrides than
    it had, and a sweep whose job.json files are damaged (a resumed sweep matches its jobs by
    them). `hydra_cfg` is Hydra's own config (the `hydra` node)."""
    resume = cfg.get("resume")
    if not resume_requested(resume):
        return
    shown = str(resume).lower() if isinstance(resume, bool) else resume
    multirun = hydra_cfg.mode == RunMode.MULTIRUN
    key = "hydra.sweep.dir" if multirun else "hydra.run.dir"
    name = key.removeprefix("hydra.")
    given = any(str(o).lstrip("+~").startswith(f"{key}=") for o in hydra_cfg.overrides.hydra)
    if resume is True and not given:
        raise InputError(
            f"resume=true continues the run in {key}, and none was given, so there is nothing "
            f"to resume; allowed: resume=true {key}=<its dir>, or resume=<its dir>"
        )
    directory = Path(str(OmegaConf.select(hydra_cfg, name)))
    if not directory.is_dir():
        raise InputError(
            f"resume={shown}: {directory} does not exist, so there is nothing to resume; "
            "allowed: the directory of an earlier run or sweep"
        )
    if multirun:  # a sweep's jobs are matched by the config hash in their job.json
        for path in sorted(directory.glob(f"*/{JOB_FILE}")):
            read_job_description(path)
    else:
        check_same_run(cfg, directory, shown)


def read_job_description(path: Path) -> dict | None:
    """job.json as dlrun.job wrote it (None: there is none); a damaged one is refused in one
    line, since a resumed sweep decides by it which jobs ran."""
    if not path.is_file():
        return None
    try:
        content = json.loads(path.read_text())
        valid = isinstance(content, dict) and isinstance(content.get("config_hash"), str)
    except (OSError, ValueError) as error:
        valid, content = False, error
    if not valid:
        raise InputError(
            f"resume: {path} is damaged (not a job description dlrun wrote); allowed: the file "
            "as dlrun wrote it, or delete that job's directory to run it again"
        )
    return content


def check_same_run(config: DictConfig, run_dir: Path, resume) -> None:
    """The run in run_dir was started with this configuration and can be continued."""
    saved = run_dir / HYDRA_CONFIG
    if not saved.is_file():
        raise InputError(
            f"resume={resume}: {run_dir} holds no dlrun run (no {HYDRA_CONFIG}), so there is "
            "nothing to resume; allowed: the directory of an earlier run"
        )
    try:
        before = OmegaConf.load(saved)
        if not isinstance(before, DictConfig):
            raise ValueError("not a mapping")
    except Exception as error:  # yaml's ParserError, a list, unreadable bytes
        reason = " ".join(str(error).split()[:12]) or type(error).__name__
        raise InputError(
            f"resume={resume}: {saved} is damaged ({reason}), so this resume cannot be checked "
            "against the run's configuration; allowed: the file as Hydra wrote it"
        ) from None
    found = differences(identity(before), identity(config))
    if found:
        raise InputError(
            f"resume={resume}: {describe_differences(found)}; allowed: the overrides the run in "
            f"{run_dir} was started with"
        )
    if not OmegaConf.select(before, "trainer.checkpoint", default=True):
        raise InputError(
            f"resume={resume}: the run in {run_dir} ran with trainer.checkpoint=false, so it "
            "wrote no checkpoint to continue from"
        )


def read_rows(path: Path, last_epoch: int, columns: tuple[str, ...]) -> pd.DataFrame | None:
    """The rows of metrics.csv or steps.csv up to the checkpoint's epoch (a kill can leave
    later rows behind; None: no file); a file that does not parse, or lacks one of `columns`,
    is refused in one line."""
    if not path.is_file():
        return None
    try:
        frame = pd.read_csv(path)
        missing = [column for column in columns if column not in frame.columns]
        if missing:
            raise KeyError(f"no column {', '.join(missing)}")
        return frame[frame["epoch"] <= last_epoch]
    except (ValueError, KeyError, TypeError, pd.errors.ParserError) as error:
        reason = " ".join(str(error).split()) or type(error).__name__
        raise InputError(
            f"resume: {path} is damaged ({reason}); allowed: the file as dlrun wrote it, "
            "or start a new run"
        ) from None


def load_checkpoint(path: Path, device) -> dict:
    """checkpoint.pt as tensors only (weights_only=True); a damaged file, or one holding a
    pickled object, is refused in one line and nothing in it is run."""
    try:
        state = torch.load(path, map_location=device, weights_only=True)
    except pickle.UnpicklingError as error:
        found = re.search(r"Unsupported global: GLOBAL (\S+)", str(error))
        if found is None:  # not a zip archive, not a pickle either: bytes of something else
            raise InputError(
                f"resume: {path} is damaged (neither a torch archive nor a pickle); allowed: a "
                "checkpoint dlrun wrote, or delete it to train from the start"
            ) from None
        raise InputError(
            f"resume: {path} holds a pickled object ({found.group(1)}), which "
            "torch.load(weights_only=True) refuses, so nothing in it was run; allowed: a "
            "checkpoint dlrun wrote"
        ) from None
    except Exception as error:  # garbage bytes fail anywhere in the unpickler (IndexError, ...)
        reason = " ".join(str(error).split()[:30]) or type(error).__name__
        raise InputError(
            f"resume: {path} is damaged ({reason}); allowed: a checkpoint dlrun wrote, or delete "
            "it to train from the start"
        ) from None
    if not isinstance(state, dict) or not {"model", "optimizer", "epoch", "step"} <= set(state):
        raise InputError(
            f"resume: {path} is not a dlrun checkpoint (it lacks model, optimizer, epoch or "
            "step); allowed: a checkpoint dlrun wrote"
        )
    return state


def resume_training(run_dir: Path, experiment, record: RunRecord) -> Start | None:
    """Load run_dir's checkpoint into the experiment and the record; None when there is none
    (a run killed before its first checkpoint starts again from the beginning)."""
    path = Path(run_dir) / CHECKPOINT_FILE
    if not path.is_file():
        log.info(f"resume: no checkpoint in {run_dir}, training from the start")
        return None
    state = load_checkpoint(path, experiment.device)
    if "generator" not in state:
        raise InputError(f"resume: {path} holds no RNG state, so it cannot be continued exactly")
    try:
        experiment.model.load_state_dict(state["model"])
        experiment.optimizer.load_state_dict(state["optimizer"])
    except (RuntimeError, ValueError, KeyError) as error:
        raise InputError(
            f"resume: {path} does not fit this config's model or optimizer "
            f"(resume with the overrides the run was started with): {error}"
        ) from None
    experiment.generator.set_state(state["generator"].to("cpu"))
    torch.set_rng_state(state["torch_rng"].to("cpu"))
    # the thread count the run trained with, so its numbers continue to the last bit
    experiment.threads = int(state.get("threads", experiment.threads))
    torch.set_num_threads(experiment.threads)
    epoch = int(state["epoch"])
    evaluations = read_rows(Path(run_dir) / METRICS_FILE, epoch, ("epoch", "split"))
    if evaluations is not None:
        record.evaluations = evaluations.to_dict("records")
    steps = read_rows(Path(run_dir) / STEPS_FILE, epoch, ("epoch", "step", "lr"))
    if steps is not None and len(steps):
        record.step_frames = [steps]
        record.last_lr = float(steps.lr.iloc[-1])
    log.info(f"resume: continuing {run_dir} after epoch {epoch}, step {state['step']}")
    train_time_s = float(state.get("train_time_s", 0.0))
    return Start(epoch, int(state["step"]), train_time_s, state.get("selection"))
