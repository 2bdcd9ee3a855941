"""One Hydra job of dlrun, a single run or one job of a sweep: its repeats (seeds), failures
recorded as results, and resumption.

In a sweep a job writes job.json into its directory when it STARTS: the hash of its composed
config (dlrun.record.identity), its overrides, group choices and seeds, and `complete: false`;
when it ends, `complete: true`. `resume=<sweep dir>` skips a configuration that completed,
continues one that was cut short in the directory holding its own job.json (so from its own
checkpoints), and runs any other in a directory no other configuration has written to.
A single run writes job.json when it ends, so bad input leaves nothing but Hydra's .hydra/.
With repeats=K each seed trains into <job dir>/seed-<s>/, one after another; with K=1 into the
job dir itself.
"""

import logging
import math
import sys
from dataclasses import dataclass
from pathlib import Path

from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf, open_dict

from dlrun.build import check_config
from dlrun.console import RunConsole
from dlrun.objective import ObjectiveError, optimising
from dlrun.record.files import (
    CHECKPOINT_FILE,
    JOB_FILE,
    SUMMARY_FILE,
    RunRecord,
    holds_records,
    read_json,
)
from dlrun.record.identity import config_hash
from dlrun.record.resolvers import resume_requested
from dlrun.record.resume import read_job_description
from dlrun.run import run

log = logging.getLogger("dlrun")
STOP_FILE = ".dlrun_stop"  # in the sweep directory: on_error=fail_fast saw a failure


def command_line(overrides: list[str]) -> str:
    """The dlrun command that runs these overrides, quoted where a shell needs it."""
    return " ".join(["dlrun", *(f"'{o}'" if " " in o or "[" in o else o for o in overrides)])


def resume_command(hydra_cfg: DictConfig, directory: Path, multirun: bool) -> str:
    """The command that continues this run or sweep in `directory`: the same overrides (Hydra's
    too, but for the output directory, which resume=<dir> names) and resume=<dir>."""
    # hydra.mode=... is Hydra's own record of -m, not something the user typed
    skipped = ("hydra.mode=", "hydra.sweep.dir=" if multirun else "hydra.run.dir=")
    typed = OmegaConf.to_container(hydra_cfg.overrides, resolve=False)  # as typed: ${...} too
    task = [o for o in typed["task"] if not o.startswith("resume=")]
    own = [o for o in typed["hydra"] if not o.lstrip("+~").startswith(skipped)]
    command = command_line([*own, *task, f"resume={directory}"])
    return command.replace("dlrun ", "dlrun -m ", 1) if multirun else command


@dataclass
class Job:
    cfg: DictConfig
    directory: Path
    names: dict[str, str]
    overrides: list[str]
    command: str
    sweep_dir: Path | None  # None for a single run
    hydra_cfg: DictConfig | None = None  # Hydra's own config of the job, for .hydra/

    @classmethod
    def from_hydra(cls, cfg: DictConfig) -> "Job":
        """The job Hydra is running now (inside @hydra.main)."""
        hydra_cfg = HydraConfig.get()
        # unresolved: an override may hold an interpolation that does not resolve (check_config
        # refuses it in one line); the command line shows what was typed
        overrides = OmegaConf.to_container(hydra_cfg.overrides.task, resolve=False)
        multirun = hydra_cfg.mode == RunMode.MULTIRUN
        sweep_dir = Path(hydra_cfg.sweep.dir) if multirun else None
        names = {k: v for k, v in hydra_cfg.runtime.choices.items() if not k.startswith("hydra")}
        output_dir = Path(hydra_cfg.runtime.output_dir)
        command = command_line(overrides)
        return cls(cfg, output_dir, names, overrides, command, sweep_dir, hydra_cfg)

    @property
    def seeds(self) -> list[int]:
        # repeats < 1 still makes one run, which build refuses: a single run checks it before
        # (check_config), and in a sweep that job is recorded as failed instead of vanishing
        repeats = max(1, int(self.cfg.repeats))
        return [int(self.cfg.seed) + i for i in range(repeats)]

    def run_dir(self, seed: int) -> Path:
        return self.directory if len(self.seeds) == 1 else self.directory / f"seed-{seed}"

    def write_description(self, digest: str, complete: bool) -> None:
        """job.json: what this job is (its config hash) and whether it ran to its end."""
        description = {
            "config_hash": digest,
            "complete": complete,
            "overrides": self.overrides,
            "choices": self.names,
            "seeds": self.seeds,
            "command": self.command,
        }
        RunRecord(self.directory).write_json(JOB_FILE, description)

    def write_hydra_files(self) -> None:
        """.hydra/ as Hydra writes it, for a job a resumed sweep starts in a directory without
        one (Hydra writes none when resuming, so that no record gets another job's config)."""
        hydra_dir = self.directory / ".hydra"
        if (hydra_dir / "config.yaml").is_file() or self.hydra_cfg is None:
            return
        hydra_dir.mkdir(parents=True, exist_ok=True)
        files = {
            "config.yaml": self.cfg,
            "hydra.yaml": OmegaConf.create({"hydra": self.hydra_cfg}),
            "overrides.yaml": OmegaConf.create(self.overrides),
        }
        for name, content in files.items():
            (hydra_dir / name).write_text(OmegaConf.to_yaml(content))


def job_complete(job_dir: Path) -> bool:
    """The job in job_dir ran to its end and every seed has a completed run record."""
    described = read_job_description(job_dir / JOB_FILE)
    # job.json of dlrun before 0.1.1 was written only at the end of a job: no `complete` key
    if described is None or not described.get("complete", True):
        return False
    seeds = described.get("seeds", [])
    dirs = [job_dir] if len(seeds) == 1 else [job_dir / f"seed-{s}" for s in seeds]
    records = [read_json(d / SUMMARY_FILE) or {} for d in dirs]
    return bool(records) and all(r.get("status") == "completed" for r in records)


def resumed_directory(job: Job, digest: str) -> Path | None:
    """Where a resumed sweep runs this job: None when its configuration completed there; the
    directory of its own unfinished job, to continue from its own checkpoints; else its job
    directory, or a new one when another configuration's records are there."""
    own = [
        path.parent
        for path in sorted(job.sweep_dir.glob(f"*/{JOB_FILE}"))
        if read_job_description(path)["config_hash"] == digest
    ]
    if any(job_complete(directory) for directory in own):
        return None
    if own:
        return own[0]
    if not holds_records(job.directory):
        return job.directory
    # a new job number: the report orders job directories by number
    numbers = [int(path.name) for path in job.sweep_dir.iterdir() if path.name.isdigit()]
    return job.sweep_dir / str(max(numbers, default=-1) + 1)


def run_seed(job: Job, seed: int, console: RunConsole) -> dict:
    """Train one seed of the job; a resumed job keeps a completed record and continues from
    a checkpoint. In a sweep a failure comes back as the run's (failed) summary."""
    cfg = job.cfg.copy()
    with open_dict(cfg):
        cfg.seed = seed
    run_dir = job.run_dir(seed)
    resume = resume_requested(job.cfg.resume)
    if resume:
        kept = read_json(run_dir / SUMMARY_FILE) or {}
        if kept.get("status") == "completed":
            log.info(f"resume: {run_dir} completed already, kept as it is")
            return kept
    resume = resume and (run_dir / CHECKPOINT_FILE).is_file()
    in_sweep = job.sweep_dir is not None
    sweeper = None if job.hydra_cfg is None else job.hydra_cfg.sweeper
    objective = str(job.cfg.objective) if in_sweep and optimising(sweeper) else None
    return run(cfg, run_dir, job.names, job.command, console, resume, in_sweep, objective)


def mean_summary(summaries: list[dict]) -> dict:
    """What the job returns to Hydra (and to a sweeper that optimises it): metrics averaged
    over the completed seeds."""
    if len(summaries) == 1:
        return summaries[0]
    done = [s for s in summaries if s.get("status") == "completed"]
    names = list(dict.fromkeys(name for s in done for name in s.get("metrics") or {}))
    metrics = {}
    for name in names:
        values = [s["metrics"].get(name) for s in done]
        values = [v for v in values if v is not None and math.isfinite(v)]
        metrics[name] = sum(values) / len(values) if values else math.nan
    status = "completed" if len(done) == len(summaries) else "incomplete"
    return {"status": status, "seeds": [s.get("seed") for s in summaries], "metrics": metrics}


def report_failure(job: Job, seeds: str, summary: dict) -> bool:
    """Print a failed run's line; with on_error=fail_fast stop the sweep and return True."""
    print(f"dlrun: failed: {job.command} (seed {seeds}): {summary['error']}", file=sys.stderr)
    if job.cfg.on_error != "fail_fast":
        return False
    stop = job.sweep_dir / STOP_FILE
    stop.write_text(f"first failure: {job.command} (seed {seeds}): {summary['error']}\n")
    return True


def run_seeds(job: Job, console: RunConsole) -> list[dict]:
    """Every seed of the job in turn; in a sweep, report each failure and honour on_error."""
    summaries = []
    for seed in job.seeds:
        summary = run_seed(job, seed, console)
        summaries.append(summary)
        if summary.get("status") == "failed" and report_failure(job, str(seed), summary):
            break
    return summaries


def run_job(job: Job, console: RunConsole) -> dict | None:
    """Run every seed of the job. A single run refuses bad input before any seed runs; a
    sweep's job honours resume and on_error, and a failed seed is one of its results."""
    digest = config_hash(job.cfg)
    if job.sweep_dir is None:
        check_config(job.cfg)  # repeats=0 would otherwise train nothing and say nothing
    else:
        if (job.sweep_dir / STOP_FILE).is_file():
            log.info(f"skipped (sweep stopped by on_error=fail_fast): {job.command}")
            return None
        if resume_requested(job.cfg.resume):
            directory = resumed_directory(job, digest)
            if directory is None:
                log.info(f"skipped (completed in the sweep): {job.command}")
                return None
            job.directory = directory
            job.write_hydra_files()
        described = (job.directory / JOB_FILE).is_file()
        job.write_description(digest, complete=False)
    try:
        summaries = run_seeds(job, console)
    except ObjectiveError:  # refused before training: the sweep ends, and this job never ran
        if job.sweep_dir is not None and not described:
            (job.directory / JOB_FILE).unlink(missing_ok=True)
        raise
    job.write_description(digest, complete=True)
    return mean_summary(summaries)
