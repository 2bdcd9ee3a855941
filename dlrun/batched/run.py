"""The seeds of a job trained as one batched model (dlrun.batched), each recorded as dlrun.run
records a run: its own directory, summary.json, metrics, steps, checkpoints and analyses."""

from dataclasses import dataclass
from pathlib import Path
from time import perf_counter

import torch
from omegaconf import DictConfig, open_dict

from dlrun import analyses
from dlrun.batched.fit import BatchedFit, StackedSeeds
from dlrun.build import Experiment, build, build_logger
from dlrun.console import RunConsole, print_table, result_table
from dlrun.loop import FitResult
from dlrun.record import RunRecord
from dlrun.run import (
    describe,
    describe_experiment,
    failure,
    summarise,
    write_coefficients,
    write_failure,
)
from dlrun.verdict import Verdict, baseline_metrics, judge


@dataclass
class SeedRun:
    """One seed of the job, built and ready to train."""

    cfg: DictConfig
    experiment: Experiment
    record: RunRecord
    torch_rng: torch.Tensor  # torch's RNG state after building: what its checkpoints keep


def start_seed(cfg: DictConfig, names: dict[str, str], run_dir: Path, summary: dict) -> SeedRun:
    """Build one seed as dlrun.run does (build seeds torch with cfg.seed) up to training."""
    experiment = build(cfg, names)
    analyses.check(cfg, experiment)
    record = RunRecord(run_dir, build_logger(cfg, run_dir))
    analyses.before_training(cfg, experiment, record)
    summary |= describe_experiment(cfg, experiment)
    return SeedRun(cfg, experiment, record, torch.get_rng_state())


def finish_seed(
    run: SeedRun, result: FitResult, summary: dict, wall_time_s: float
) -> tuple[dict, Verdict]:
    """What dlrun.run writes after training: summary (with the baseline and the verdict),
    coefficients, analyses; returns the baseline and the verdict for the printed table."""
    baseline = baseline_metrics(run.experiment.data)
    verdict = judge(run.experiment.data, result.metrics, baseline)
    summary |= summarise(result, wall_time_s, baseline, verdict)
    write_coefficients(run.record, run.experiment)
    results = analyses.after_training(run.cfg, run.experiment, run.record)
    summary["metrics"] |= results.pop("metrics")
    summary |= results
    run.record.write_summary(summary)
    return baseline, verdict


def seed_config(cfg: DictConfig, seed: int) -> DictConfig:
    seeded = cfg.copy()
    with open_dict(seeded):
        seeded.seed = seed
    return seeded


def run_batched(job, console: RunConsole) -> list[dict]:
    """Train every seed of `job` (dlrun.sweeps.jobs.Job) as one batched model; returns each
    seed's summary. A failure fails every seed, recorded and raised (or, in a sweep, returned)
    as dlrun.run does for one run."""
    started, training, runs = perf_counter(), False, []
    configs = [seed_config(job.cfg, seed) for seed in job.seeds]
    summaries = [describe(cfg, job.names, job.command) for cfg in configs]
    summaries = [s | {"batched_seeds": len(job.seeds)} for s in summaries]
    try:
        for cfg, seed, summary in zip(configs, job.seeds, summaries):
            runs.append(start_seed(cfg, job.names, job.run_dir(seed), summary))
        training = True
        console.line(f"repeats: seeds {job.seeds[0]}..{job.seeds[-1]} train as one batched model")
        stack = StackedSeeds([run.experiment for run in runs])
        records, rngs = [run.record for run in runs], [run.torch_rng for run in runs]
        try:
            results = BatchedFit(stack, records, rngs, job.seeds, console).run()
        finally:
            for record in records:
                record.logger.close()
        judged = [
            finish_seed(run, result, summary, perf_counter() - started)
            for run, result, summary in zip(runs, results, summaries)
        ]
    except Exception as error:
        in_sweep = job.sweep_dir is not None
        for seed, summary in zip(job.seeds, summaries):
            summary |= failure(error)
            if training or in_sweep:
                write_failure(job.run_dir(seed), summary)
        if not in_sweep:
            raise
        return summaries
    for summary, result, (baseline, verdict) in zip(summaries, results, judged):
        title = f"{job.names.get('model')} on {job.names.get('dataset')}, seed {summary['seed']}"
        print_table(
            f"{title}: {result.status}",
            result_table(result.metrics, baseline, verdict.baseline_name),
            verdict.line(),
        )
    return summaries
