"""One run from a composed config: build, fit, and write the run record."""

import platform
from pathlib import Path
from time import perf_counter

from omegaconf import DictConfig

from dlrun.analyze import check_analyses, run_analyses
from dlrun.build import Experiment, build, build_logger
from dlrun.console import RunConsole, print_table, result_table
from dlrun.diagnostics import GradientWatch
from dlrun.loop import fit
from dlrun.models.glm import GLM, coefficients
from dlrun.record import COEFFICIENTS_FILE, RunRecord, flatten_metrics, git_commit, versions
from dlrun.resume import resume_training


def describe(cfg: DictConfig, names: dict[str, str], command: str) -> dict:
    """The part of summary.json known before training."""
    return {
        "status": "running",
        "command": command,
        "model": names.get("model"),
        "dataset": names.get("dataset"),
        "optimizer": names.get("optimizer"),
        "seed": cfg.seed,
        "versions": versions(),
        "git_commit": git_commit(),
        "host": platform.node(),
    }


def write_coefficients(record: RunRecord, experiment: Experiment) -> None:
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


def run_experiment(
    cfg: DictConfig,
    run_dir: Path,
    names: dict[str, str],
    command: str,
    console: RunConsole,
    resume: bool = False,
) -> dict:
    """Train one configuration into run_dir and return its summary (also in summary.json);
    `resume` continues from run_dir's last checkpoint (dlrun.resume).

    Bad input raises dlrun.errors.InputError before anything is written to run_dir.
    """
    started = perf_counter()
    summary = describe(cfg, names, command)
    experiment = build(cfg, names)
    check_analyses(cfg.analyze, experiment)
    record = RunRecord(run_dir, build_logger(cfg, run_dir))
    summary |= {
        "task": experiment.data.task,
        "n_params": sum(p.numel() for p in experiment.model.parameters()),
        "device": str(experiment.device),
        "dtype": str(cfg.dtype),
        "threads": experiment.threads,
        "rows": {name: len(split) for name, split in experiment.data.splits.items()},
    }
    # recurrent models: ‖∂L/∂h_t‖ and the spectrum of W before and after training
    watch = GradientWatch.of(experiment.model, experiment.data)
    start = resume_training(run_dir, experiment, record) if resume else None
    resumed = {} if start is None else {"start": start}
    try:
        if watch:
            watch.measure("init")
        result = fit(
            experiment.model,
            experiment.data,
            experiment.optimizer,
            experiment.trainer,
            experiment.generator,
            record,
            console,
            **resumed,
        )
        if watch:
            watch.measure("end")
            watch.write(record)  # grad_norms.csv and .png
    except Exception as error:
        record.write_summary(
            summary | {"status": "failed", "error": f"{type(error).__name__}: {error}"}
        )
        raise
    finally:
        record.logger.close()
    summary |= {
        "status": result.status,
        "epochs": result.epochs,
        "steps": result.steps,
        "train_time_s": round(result.train_time_s, 4),
        "wall_time_s": round(perf_counter() - started, 4),
        "metrics": flatten_metrics(result.metrics) | (watch.fields if watch else {}),
    }
    write_coefficients(record, experiment)
    analyses = run_analyses(cfg, experiment, record)
    summary["metrics"] |= analyses.pop("metrics", {})  # flat names, as tables read them
    summary |= analyses
    record.write_summary(summary)
    title = f"{names.get('model')} on {names.get('dataset')}: {result.status}"
    print_table(title, result_table(result.metrics))
    return summary
