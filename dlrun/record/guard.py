"""The checks that guard a run record before anything is written to it: a resume that can be
trusted (dlrun.record.resume) and an output directory that can be written.

`dlrun` makes them twice with the same function: in its Hydra callback, before Hydra creates
the directory, and again inside the job, where a failure ends the command whatever Hydra does
with exceptions raised in callbacks (it turns them into warnings).
"""

import sys
from pathlib import Path

from hydra.experimental.callback import Callback
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from dlrun.errors import InputError
from dlrun.record import lock
from dlrun.record.files import SUMMARY_FILE, check_writable_directory, holds_records, read_json
from dlrun.record.resolvers import resume_requested
from dlrun.record.resume import check_resume


def check_output(cfg: DictConfig, hydra_cfg: DictConfig) -> None:
    """Raise InputError for a resume with nothing to continue or with another configuration, a
    damaged record it would read, and an output directory that cannot be written."""
    check_resume(cfg, hydra_cfg)  # first: resume=true without a directory must not claim one
    key = "sweep.dir" if hydra_cfg.mode == RunMode.MULTIRUN else "run.dir"
    check_writable_directory(Path(str(OmegaConf.select(hydra_cfg, key))), f"hydra.{key}")


def claim_output(cfg: DictConfig, hydra_cfg: DictConfig) -> None:
    """One writer per directory (dlrun.record.lock): refuse a run or sweep into a directory
    another live dlrun is writing, and, unless resumed, one holding an earlier run's records
    (a new run would overwrite them without a word); then hold its lock until the command ends.
    A sweep's jobs write below the directory its command holds."""
    multirun = hydra_cfg.mode == RunMode.MULTIRUN
    key = "sweep.dir" if multirun else "run.dir"
    directory = Path(str(OmegaConf.select(hydra_cfg, key)))
    if directory.resolve() in lock.held:
        return
    lock.claim(directory, f"hydra.{key}")
    if resume_requested(cfg.get("resume")):
        return
    if multirun:
        earlier = [path for path in directory.iterdir() if path.is_dir() and holds_records(path)]
        what = f"the records of an earlier sweep ({len(earlier)} jobs)"
    else:
        earlier = [directory] if holds_records(directory) else []
        status = (read_json(directory / SUMMARY_FILE) or {}).get("status", "no summary")
        what = f"the record of an earlier run (status {status})"
    if earlier:
        lock.release_all()
        raise InputError(
            f"hydra.{key}={directory} holds {what}, which a new one would overwrite; allowed: "
            f"resume={directory} to continue it (a completed run is kept as it is), another "
            f"hydra.{key}, or delete the directory first"
        )


def refusal(error: Exception) -> str:
    """The one line that refuses: an InputError's own words, else the error named."""
    text = str(error) if isinstance(error, InputError) else f"{type(error).__name__}: {error}"
    return " ".join(text.split())


class RecordGuard(Callback):
    """Refuses, with one line and exit code 2, what check_output and claim_output refuse, and
    takes the directory's lock, before Hydra creates or writes anything (conf/config.yaml:
    hydra.callbacks.record_guard). Hydra turns an exception raised in a callback into a
    warning, so this exits instead, on any error; the job checks again whatever happens here."""

    def on_run_start(self, config: DictConfig, **kwargs) -> None:
        refuse(config)

    def on_multirun_start(self, config: DictConfig, **kwargs) -> None:
        refuse(config)


def refuse(config: DictConfig) -> None:
    try:
        check_output(config, config.hydra)
        claim_output(config, config.hydra)
    except Exception as error:
        print(f"dlrun: error: {refusal(error)}", file=sys.stderr)
        sys.exit(2)
