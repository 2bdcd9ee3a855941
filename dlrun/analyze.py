"""Analyses a run can add after training (`analyze.*` keys): Hessian spectrum, gradient check."""

import pandas as pd
from omegaconf import DictConfig

from dlrun.build import Experiment, check_second_derivatives
from dlrun.record import RunRecord

BACKPROP_CHECK_FILE = "backprop_check"  # .csv, .md and .png in the run directory
DEFAULT_CHECK_HIDDEN = [5, 4]


def check_analyses(analyze: DictConfig, experiment: Experiment) -> None:
    """Refuse, before training, an analysis the model cannot give."""
    if analyze.hessian:
        check_second_derivatives(experiment.model, "analyze.hessian=true")
    if analyze.equivariance:
        from dlrun.equivariance import check_equivariance

        check_equivariance(experiment.model)


def run_analyses(cfg: DictConfig, experiment: Experiment, record: RunRecord) -> dict:
    """Run the requested analyses on the fitted model; returns their part of summary.json."""
    analyze, seed, results = cfg.analyze, cfg.seed, {}
    if analyze.hessian:
        from dlrun.hessian import hessian_summary

        train, model = experiment.data.train, experiment.model
        if all(bool(p.isfinite().all()) for p in model.parameters()):
            results["hessian"] = hessian_summary(
                model,
                train.X,
                train.y,
                analyze.hessian_exact_max_params,
                analyze.lanczos_steps,
                seed,
            )
        else:
            results["hessian"] = {"skipped": "the fitted weights are not finite (diverged)"}
    if analyze.backprop_check:
        from dlrun.gradcheck import backprop_check, plot_backprop_check

        hidden = list(cfg.model.get("hidden", DEFAULT_CHECK_HIDDEN))
        table, summary = backprop_check(hidden, seed)
        record.write_csv(f"{BACKPROP_CHECK_FILE}.csv", table)
        (record.directory / f"{BACKPROP_CHECK_FILE}.md").write_text(markdown_table(table))
        plot_backprop_check(table, record.directory / f"{BACKPROP_CHECK_FILE}.png")
        results["backprop_check"] = summary
    # these two return {"metrics": {...}}: flat names that join summary.json's metrics
    if analyze.equivariance:
        from dlrun import equivariance

        results = merge_metrics(results, equivariance.analyze(experiment, record))
    if analyze.layer_gradients:
        from dlrun import layer_gradients

        results = merge_metrics(results, layer_gradients.analyze(cfg, experiment, record))
    return results


def merge_metrics(results: dict, more: dict) -> dict:
    return results | {"metrics": results.get("metrics", {}) | more.get("metrics", {})}


def markdown_table(frame: pd.DataFrame) -> str:
    """A GitHub Markdown table, floats in scientific notation (to_markdown needs tabulate)."""

    def cell(value) -> str:
        return f"{value:.2e}" if isinstance(value, float) else str(value)

    lines = [
        "| " + " | ".join(map(str, frame.columns)) + " |",
        "|" + "|".join("---" for _ in frame.columns) + "|",
    ]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(False)]
    return "\n".join(lines) + "\n"
