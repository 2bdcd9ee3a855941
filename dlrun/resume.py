"""Continue a run from its last checkpoint (`resume=true` / `resume=<run dir>`).

The checkpoint holds the model, the optimizer, the batch-order generator's and torch's RNG
states, the epoch, the step and the training time so far, so a run killed after epoch e and
resumed ends with the same metrics as one that was never interrupted (same device and seed).
"""

import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import torch

from dlrun.errors import InputError
from dlrun.record import CHECKPOINT_FILE, METRICS_FILE, STEPS_FILE, RunRecord

log = logging.getLogger("dlrun")


@dataclass
class Start:
    """Where fit() picks up: after `epoch`, with `steps` taken and `train_time_s` spent."""

    epoch: int
    steps: int
    train_time_s: float


def rng_state(generator: torch.Generator) -> dict:
    """What a checkpoint needs to continue the same random stream."""
    return {"generator": generator.get_state(), "torch_rng": torch.get_rng_state()}


def read_rows(path: Path, last_epoch: int) -> pd.DataFrame | None:
    """The rows of a record CSV up to last_epoch (a kill can leave later rows behind)."""
    if not path.is_file():
        return None
    frame = pd.read_csv(path)
    return frame[frame.epoch <= last_epoch]


def resume_training(run_dir: Path, experiment, record: RunRecord) -> Start | None:
    """Load run_dir's checkpoint into the experiment and the record; None when there is none."""
    path = Path(run_dir) / CHECKPOINT_FILE
    if not path.is_file():
        log.info(f"resume: no checkpoint in {run_dir}, training from the start")
        return None
    state = torch.load(path, map_location=experiment.device, weights_only=True)
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
    epoch = int(state["epoch"])
    evaluations = read_rows(Path(run_dir) / METRICS_FILE, epoch)
    if evaluations is not None:
        record.evaluations = evaluations.to_dict("records")
    steps = read_rows(Path(run_dir) / STEPS_FILE, epoch)
    if steps is not None and len(steps):
        record.step_frames = [steps]
        record.last_lr = float(steps.lr.iloc[-1])
    log.info(f"resume: continuing {run_dir} after epoch {epoch}, step {state['step']}")
    return Start(epoch, int(state["step"]), float(state.get("train_time_s", 0.0)))
