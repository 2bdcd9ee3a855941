"""One run from a composed config: build -> fit -> summarise -> write, with one failure path."""

import logging
import platform
import traceback
from pathlib import Path
from time import perf_counter

from omegaconf import DictConfig

from dlrun import analyses
from dlrun.build import Experiment, build, build_logger
from dlrun.console import RunConsole, print_table, result_table
from dlrun.errors import InputError
from dlrun.interrupt import Interrupted
from dlrun.loop import FitResult, fit
from dlrun.models.glm import GLM, coefficients
from dlrun.objective import ObjectiveError, check_objective
from dlrun.record.files import (
    COEFFICIENTS_FILE,
    RunRecord,
    flatten_metrics,
    git_commit,
    git_dirty,
    versions,
)
from dlrun.record.resume import Start, resume_training
from dlrun.verdict import Verdict, baseline_metrics, judge

log = logging.getLogger("dlrun")


def run(
    cfg: DictConfig,
    run_dir: Path,
    names: dict[str, str],
    command: str,
    console: RunConsole,
    resume: bool = False,
    failure_is_result: bool = False,
    objective: str | None = None,
) -> dict:
    """Train one configuration into run_dir; returns its summary, also written to summary.json.
    `resume` continues from run_dir's checkpoint (dlrun.record.resume).

    A failure is written here and nowhere else: summary.json with status failed and a one-line
    error. Then it is raised, or returned when `failure_is_result` (a sweep's job). Bad input
    found before training in a single run raises InputError and leaves run_dir as it was.
    A signal (dlrun.interrupt) writes status interrupted, once training or a sweep's job began,
    and is raised on: the checkpoint it leaves is where a resume continues. `objective` (what an
    optimising sweeper gets) is checked against the data before training; one the data cannot
    give ends the sweep (ObjectiveError), as no trial could give it.
    """
    started, training = perf_counter(), False
    summary = describe(cfg, names, command)
    try:
        experiment = build(cfg, names)
        analyses.check(cfg, experiment)
        if objective is not None:
            data, analysed = experiment.data, bool(analyses.selected(cfg, experiment))
            check_objective(objective, list(data.splits), data.task, analysed)
        record = RunRecord(run_dir, build_logger(cfg, run_dir))
        analyses.before_training(cfg, experiment, record, resume)  # before the checkpoint loads
        start = resume_training(run_dir, experiment, record) if resume else None
        summary |= describe_experiment(cfg, experiment)
        training = True
        result = train(experiment, record, console, start)
        baseline = baseline_metrics(experiment.data)
        verdict = judge(experiment.data, result.metrics, baseline)
        summary |= summarise(result, perf_counter() - started, baseline, verdict)
        write_coefficients(record, experiment)
        results = analyses.after_training(cfg, experiment, record)
        summary["metrics"] |= results.pop("metrics")  # flat names, as tables read them
        summary |= results
        record.write_summary(summary)
    except Interrupted as stop:
        summary |= {"status": "interrupted", "error": str(stop), "traceback": None}
        if training or failure_is_result:
            write_failure(run_dir, summary)
        raise
    except Exception as error:
        if isinstance(error, ObjectiveError):
            raise
        summary |= failure(error)
        if training or failure_is_result:
            write_failure(run_dir, summary)
        if not failure_is_result:
            raise
        return summary
    print_table(
        f"{names.get('model')} on {names.get('dataset')}: {result.status}, {ending(result)}",
        result_table(result.metrics, baseline, verdict.baseline_name),
        verdict.line(),
    )
    return summary


def describe(cfg: DictConfig, names: dict[str, str], command: str) -> dict:
    """The part of summary.json known before anything is built."""
    return {
        "status": "running",
        "command": command,
        "model": names.get("model"),
        "dataset": names.get("dataset"),
        "optimizer": names.get("optimizer"),
        "seed": cfg.seed,
        "versions": versions(),
        "git_commit": git_commit(),
        "git_dirty": git_dirty(),
        "host": platform.node(),
    }


def describe_experiment(cfg: DictConfig, experiment: Experiment) -> dict:
    """The part of summary.json known once data, model and threads are chosen."""
    return {
        "task": experiment.data.task,
        "n_params": sum(p.numel() for p in experiment.model.parameters()),
        "device": str(experiment.device),
        "dtype": str(cfg.dtype),
        "threads": experiment.threads,
        "rows": {name: len(split) for name, split in experiment.data.splits.items()},
    }


def train(
    experiment: Experiment, record: RunRecord, console: RunConsole, start: Start | None
) -> FitResult:
    """Fit the model (from `start` when resuming); the progress bar and the logger are closed
    whatever happens."""
    try:
        return fit(
            experiment.model,
            experiment.data,
            experiment.optimizer,
            experiment.trainer,
            experiment.generator,
            record,
            console,
            start=start,
        )
    finally:
        console.stop()
        record.logger.close()


def summarise(result: FitResult, wall_time_s: float, baseline: dict, verdict: Verdict) -> dict:
    """How training ended (status, why, length, time, the selected evaluation), the final
    metrics beside the trivial predictor's (`baseline/test/loss`, ...), and the verdict."""
    return {
        "status": result.status,
        "stopped": result.stopped,
        "epochs": result.epochs,
        "steps": result.steps,
        "selected_epoch": result.selected_epoch,
        "selected_step": result.selected_step,
        # trainer.tol's verdict (null: no tolerance applied) and the steps to the optimum
        "converged": result.converged,
        "iterations": result.iterations,
        "train_time_s": round(result.train_time_s, 4),
        "wall_time_s": round(wall_time_s, 4),
        "metrics": flatten_metrics(result.metrics)
        | flatten_metrics({f"baseline/{split}": values for split, values in baseline.items()}),
        **verdict.summary(),
    }


def ending(result: FitResult) -> str:
    """'solved at epoch 64', 'early_stopping at epoch 30, selected epoch 20'"""
    text = f"{result.stopped} at epoch {result.epochs}"
    if result.selected_epoch != result.epochs:
        text += f", selected epoch {result.selected_epoch}"
    return text


def write_coefficients(record: RunRecord, experiment: Experiment) -> None:
    """coefficients.csv for a GLM on tabular data, on the inputs' original scale."""
    data = experiment.data
    if isinstance(experiment.model, GLM) and data.kind == "tabular":
        table = coefficients(
            experiment.model,
            data.mean,
            data.scale,
            data.feature_names,
            data.class_names,
            data.true_coefficients,
        )
        record.write_csv(COEFFICIENTS_FILE, table)


def failure(error: BaseException) -> dict:
    """status failed and the error on one line; a traceback too, unless it was bad input."""
    text = str(error) if isinstance(error, InputError) else f"{type(error).__name__}: {error}"
    bad_input = isinstance(error, InputError)
    return {
        "status": "failed",
        "error": " ".join(text.split()),
        "traceback": None if bad_input else traceback.format_exc(),
    }


def write_failure(run_dir: Path, summary: dict) -> None:
    """summary.json of a failed run, if the disk still takes it (a full disk may not)."""
    try:
        RunRecord(run_dir).write_summary(summary)
    except OSError as error:
        log.warning(f"could not write {run_dir}/summary.json: {error}")
