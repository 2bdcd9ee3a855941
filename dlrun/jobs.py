"""One Hydra job of dlrun: its repeats (seeds), failures recorded as results, and resumption.

A job writes job.json into its directory when it ends: the hash of its composed config
(what `resume=<sweep dir>` matches completed jobs by), its overrides, group choices and seeds.
With repeats=K each seed trains into <job dir>/seed-<s>/; with K=1 into the job dir itself.
"""

import hashlib
import json
import logging
import math
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

from omegaconf import DictConfig, OmegaConf, open_dict

from dlrun.errors import InputError
from dlrun.record import CHECKPOINT_FILE, SUMMARY_FILE, RunRecord
from dlrun.run import run_experiment

log = logging.getLogger("dlrun")
JOB_FILE = "job.json"
STOP_FILE = ".dlrun_stop"  # in the sweep directory: on_error=fail_fast saw a failure
# keys that change how a job is run, reported or logged, not what it trains
NOT_IDENTITY = ("resume", "on_error", "report", "logger", "objective")


def config_hash(cfg: DictConfig) -> str:
    """A short hash of the composed, resolved job config (without the keys in NOT_IDENTITY)."""
    content = OmegaConf.to_container(cfg, resolve=True)
    for key in (*NOT_IDENTITY, "hydra"):
        content.pop(key, None)
    text = json.dumps(content, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass
class Job:
    cfg: DictConfig
    directory: Path
    names: dict[str, str]
    overrides: list[str]
    command: str
    sweep_dir: Path | None  # None for a single run

    @property
    def seeds(self) -> list[int]:
        return [int(self.cfg.seed) + i for i in range(int(self.cfg.repeats))]

    def run_dir(self, seed: int) -> Path:
        return self.directory if len(self.seeds) == 1 else self.directory / f"seed-{seed}"


def read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def job_complete(job_dir: Path) -> bool:
    """Every seed of the job in job_dir has a completed run record."""
    described = read_json(job_dir / JOB_FILE)
    if described is None:
        return False
    seeds = described.get("seeds", [])
    dirs = [job_dir] if len(seeds) == 1 else [job_dir / f"seed-{s}" for s in seeds]
    records = [read_json(d / SUMMARY_FILE) or {} for d in dirs]
    return bool(records) and all(r.get("status") == "completed" for r in records)


def completed_job(sweep_dir: Path, digest: str) -> Path | None:
    """The directory of a completed job of this config hash in sweep_dir, if one exists."""
    for path in sorted(sweep_dir.glob(f"*/{JOB_FILE}")):
        described = read_json(path) or {}
        if described.get("config_hash") == digest and job_complete(path.parent):
            return path.parent
    return None


def free_directory(job: Job, digest: str) -> Path:
    """The job's directory, unless a resumed sweep left another config's records in it."""
    described = read_json(job.directory / JOB_FILE)
    if described is None or described.get("config_hash") == digest:
        return job.directory
    return job.directory.with_name(f"{job.directory.name}-{digest[:8]}")


def failed_summary(job: Job, seed: int, error: BaseException) -> dict:
    return {
        "status": "failed",
        "command": job.command,
        "model": job.names.get("model"),
        "dataset": job.names.get("dataset"),
        "optimizer": job.names.get("optimizer"),
        "seed": seed,
        "error": f"{type(error).__name__}: {error}"
        if not isinstance(error, InputError)
        else str(error),
        "traceback": None if isinstance(error, InputError) else traceback.format_exc(),
    }


def train_seed(job: Job, seed: int, console) -> dict:
    """Train one seed; in a sweep a failure is written as the run's summary, not raised."""
    cfg = job.cfg.copy()
    with open_dict(cfg):
        cfg.seed = seed
    run_dir = job.run_dir(seed)
    # a single run continues from its checkpoint; a resumed sweep's job from the one it left
    resume = bool(job.cfg.resume) and (run_dir / CHECKPOINT_FILE).is_file()
    try:
        return run_experiment(cfg, run_dir, job.names, job.command, console, resume=resume)
    except Exception as error:  # KeyboardInterrupt and SystemExit still end the sweep
        if job.sweep_dir is None:
            raise
        summary = failed_summary(job, seed, error)
        RunRecord(run_dir).write_summary(summary)
        print(f"dlrun: failed: {job.command} (seed {seed}): {summary['error']}", file=sys.stderr)
        return summary


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


def run_job(job: Job, console) -> dict | None:
    """Run every seed of the job; in a sweep, honour resume and on_error."""
    digest = config_hash(job.cfg)
    if job.sweep_dir is not None:
        if (job.sweep_dir / STOP_FILE).is_file():
            log.info(f"skipped (sweep stopped by on_error=fail_fast): {job.command}")
            return None
        if job.cfg.resume:
            done = completed_job(job.sweep_dir, digest)
            if done is not None:
                log.info(f"skipped (completed in {done}): {job.command}")
                return None
            job.directory = free_directory(job, digest)
    summaries = []
    for seed in job.seeds:
        summary = train_seed(job, seed, console)
        summaries.append(summary)
        if summary.get("status") == "failed" and job.cfg.on_error == "fail_fast":
            stop = job.sweep_dir / STOP_FILE
            stop.write_text(f"first failure: {job.command} (seed {seed}): {summary['error']}\n")
            break
    # written last: bad input leaves no files, and a killed job counts as not done on resume
    RunRecord(job.directory).write_json(
        JOB_FILE,
        {
            "config_hash": digest,
            "overrides": job.overrides,
            "choices": job.names,
            "seeds": job.seeds,
            "command": job.command,
        },
    )
    return mean_summary(summaries)
