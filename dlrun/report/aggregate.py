"""Aggregating run records into a comparison: rows and columns are swept keys (`model`,
`seq_len`, `optimizer.lr`), cells the mean of a metric over the runs of that configuration
(seeds) with its 95% t interval, compared with a reference cell and with the task's baseline
(dlrun.report.compare). Failed and diverged runs are counted in their cell, never dropped."""

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from dlrun.errors import InputError
from dlrun.record.identity import NOT_IDENTITY, REPLICATE_KEYS
from dlrun.report.compare import add_comparisons, baseline_cells, seed_values
from dlrun.report.read import DIVERGED, FAILED, OK, SKIPPED, UNREADABLE, Run, load_runs
from dlrun.report.stats import TESTS, format_estimate, t_half_width

# Keys that say how a run was started, not which configuration it trained: never pivoted on
# (the replicates, seeds, are aggregated over instead).
NOT_CONFIGURATION = (*NOT_IDENTITY, *REPLICATE_KEYS)
log = logging.getLogger("dlrun")
# The default metric: the first of these the runs recorded.
PREFERRED_METRICS = ("test/acc", "val/acc", "test/loss", "val/loss", "train/loss")


def swept_keys(runs: list[Run]) -> list[str]:
    """Override keys whose value differs between runs, in command-line order."""
    keys = list(dict.fromkeys(key for run in runs for key in run.overrides))
    swept = []
    for key in keys:
        if key.split(".")[0] in NOT_CONFIGURATION:
            continue
        if len({run.overrides.get(key) for run in runs}) > 1:
            swept.append(key)
    return swept


def choose_layout(
    runs: list[Run], rows: list[str] | None, cols: list[str] | None
) -> tuple[list[str], list[str]]:
    """Rows and columns of the pivot: the given keys, and every other swept key as a row key
    (a swept key left out would silently average different configurations together)."""
    swept = swept_keys(runs)
    if cols is None:
        free = [key for key in swept if key not in (rows or [])]
        cols = free[-1:] if len(free) >= 2 or (rows and free) else []
    rows = list(rows or [])
    rows += [key for key in swept if key not in rows and key not in cols]
    return rows, list(cols)


# How the user spelled each option, for the one-line error: the sweep's config keys by default.
SWEEP_OPTIONS = {
    "rows": "report.rows",
    "cols": "report.cols",
    "metrics": "report.metrics",
    "test": "report.test",
}


def known_keys(runs: list[Run]) -> list[str]:
    """The keys every user sees on the command line: overrides and config group choices."""
    keys = {key for run in runs for key in [*run.overrides, *run.hydra_choices()]}
    return sorted(keys)


def check_keys(runs: list[Run], keys: list[str] | None, option: str) -> None:
    """Refuse a row or column key that no run has (it would pivot on None)."""
    for key in keys or []:
        if not any(run.value(key) is not None for run in runs):
            raise InputError(
                f"{option}={key}: not a key of these runs; their keys: "
                f"{', '.join(known_keys(runs))} (or any key of their config, e.g. optimizer.lr)"
            )


def recorded_metrics(runs: list[Run]) -> list[str]:
    """Metric names of summary.json, then its top-level numbers (n_params, train_time_s)."""
    names = {name for run in runs for name in run.summary.get("metrics") or {}}
    numbers = {
        key
        for run in runs
        for key, value in run.summary.items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    }
    return sorted(names) + sorted(numbers - names)


def check_metrics(
    runs: list[Run], metrics: list[str] | None, option: str, skip_unknown: bool = False
) -> list[str] | None:
    """The metrics asked for, refusing one no run recorded (its table would be all dashes), or
    with `skip_unknown` leaving it out with a warning, so that one name does not drop the other
    tables (a sweep, whose names dlrun.sweeps.plan checked before it trained). When no run
    recorded any metric (every job failed), the table of failures is still made."""
    if not metrics or not any(run.summary.get("metrics") for run in runs):
        return metrics
    known = recorded_metrics(runs)
    unknown = [metric for metric in metrics if metric not in known]
    message = f"no run recorded this metric; recorded: {', '.join(known)}"
    if unknown and not skip_unknown:
        raise InputError(f"{option}={unknown[0]}: {message}")
    for metric in unknown:
        log.warning(f"{option}={metric}: left out of the tables: {message}")
    return [metric for metric in metrics if metric in known] or None


def choose_metrics(runs: list[Run], metrics: list[str] | None) -> list[str]:
    """The metrics asked for, or the first preferred one the runs recorded."""
    if metrics:
        return list(metrics)
    recorded = {name for run in runs for name in run.summary.get("metrics") or {}}
    for name in PREFERRED_METRICS:
        if name in recorded:
            return [name]
    return sorted(recorded)[:1] or ["val/loss"]


def show(value) -> str:
    """A key's value as a label: 0.1 not 0.1000, text as it is."""
    return f"{value:g}" if isinstance(value, float) else str(value)


def label(values: tuple) -> str:
    """The label of a row or column: its keys' values, comma-separated."""
    return ", ".join(show(value) for value in values) if values else "all"


def sort_key(value):
    """Numbers first, in order, then text: keys may mix them (runs of several sweeps)."""
    return (0, value, "") if isinstance(value, int | float) else (1, 0, str(value))


@dataclass
class Report:
    """A comparison: its row and column keys, metrics, cells and the runs it was made of."""

    rows: list[str]
    cols: list[str]
    metrics: list[str]
    cells: pd.DataFrame  # one line per (row values, col values, metric): mean, std, n, marks
    runs: list[Run] = field(default_factory=list)
    # per column label and metric, the trivial predictor's cell (empty: the runs record none)
    baselines: pd.DataFrame = field(default_factory=pd.DataFrame)
    test: str = "t"

    @property
    def reference(self) -> str:
        """The reference configuration, 'model=lstm'; '' when there is nothing to compare."""
        return self.cells.attrs.get("reference", "")

    @property
    def baseline_name(self) -> str | None:
        """'majority class', 'mean predictor' or 'constant rate', as the runs recorded it."""
        return next(
            (run.summary["baseline"] for run in self.runs if run.summary.get("baseline")), None
        )

    @property
    def failures(self) -> list[Run]:
        """The runs that did not complete (failed, diverged, unreadable, still running)."""
        return [run for run in self.runs if run.status not in (OK, SKIPPED)]

    def table(self, metric: str | None = None) -> pd.DataFrame:
        """The pivot of formatted cells: index = row labels, columns = column labels (× metric)."""
        metrics = [metric] if metric else self.metrics
        frame = self.cells[self.cells.metric.isin(metrics)]
        col_name = " ".join(self.cols) if self.cols else "metric"
        columns = frame.col_label if self.cols else frame.metric
        if self.cols and len(metrics) > 1:
            columns = frame.metric + " @ " + frame.col_label
        pivot = frame.assign(column=columns).pivot(
            index="row_label", columns="column", values="cell"
        )
        row_order = list(dict.fromkeys(frame.row_label))
        col_order = list(dict.fromkeys(columns))
        pivot = pivot.reindex(index=row_order, columns=col_order).fillna("—")
        if not self.baselines.empty and self.baseline_name:
            base = self.baselines[self.baselines.metric.isin(metrics)]
            base_columns = base.col_label if self.cols else base.metric
            if self.cols and len(metrics) > 1:
                base_columns = base.metric + " @ " + base.col_label
            line = pd.Series(list(base.cell), index=list(base_columns))
            pivot.loc[f"{self.baseline_name} (baseline)"] = line.reindex(col_order).fillna("—")
        pivot.index.name = " / ".join(self.rows) if self.rows else ""
        pivot.columns.name = col_name
        return pivot


def group_runs(runs: list[Run], rows: list[str], cols: list[str]) -> dict[tuple, list[Run]]:
    """Runs by (row values, column values), in sorted order."""
    groups: dict[tuple, list[Run]] = {}
    for run in runs:
        key = (tuple(run.value(k) for k in rows), tuple(run.value(k) for k in cols))
        groups.setdefault(key, []).append(run)
    order = sorted(groups, key=lambda k: ([sort_key(v) for v in k[0]], [sort_key(v) for v in k[1]]))
    return {key: groups[key] for key in order}


CELL_COLUMNS = ["mean", "std", "n", "ci_low", "ci_high", "n_failed", "n_diverged", "cell"]


def cell_statistics(members: list[Run], metric: str) -> dict:
    """Mean and std of a metric over the completed runs of a cell, and the others by status."""
    values = [run.metric(metric) for run in members if run.status == OK]
    values = [v for v in values if v is not None and math.isfinite(v)]
    marks: dict[str, int] = {}
    for run in members:
        if run.status not in (OK, SKIPPED):
            marks[run.status] = marks.get(run.status, 0) + 1
    series = pd.Series(values, dtype=float)
    mean = float(series.mean()) if values else math.nan
    std = float(series.std(ddof=1)) if len(values) > 1 else math.nan
    half = t_half_width(std, len(values))
    return {
        "mean": mean,
        "std": std,
        "n": len(values),
        "ci_low": mean - half,
        "ci_high": mean + half,
        "n_failed": marks.get(FAILED, 0),
        "n_diverged": marks.get(DIVERGED, 0),
        "cell": format_cell(metric, mean, half, len(values), marks),
    }


def aggregate(
    runs: list[Run], rows: list[str], cols: list[str], metrics: list[str]
) -> tuple[pd.DataFrame, dict]:
    """One line per cell and metric: mean, std and 95% interval over the completed runs, counts
    of the rest; and each cell's values by seed (its metrics and their baselines)."""
    lines, values = [], {}
    for (row_values, col_values), members in group_runs(runs, rows, cols).items():
        values[(label(row_values), label(col_values))] = {"key": (*row_values, *col_values)} | {
            name: seed_values(members, name)
            for metric in metrics
            for name in (metric, f"baseline/{metric}")
        }
        for metric in metrics:
            lines.append(
                dict(zip(rows, row_values, strict=True))
                | dict(zip(cols, col_values, strict=True))
                | {"row_label": label(row_values), "col_label": label(col_values)}
                | {"metric": metric}
                | cell_statistics(members, metric)
            )
    # the columns even without lines: a comparison of unreadable records only is still made
    columns = [*rows, *cols, "row_label", "col_label", "metric", *CELL_COLUMNS]
    return pd.DataFrame(lines, columns=columns), values


def build_report(
    paths: list[Path],
    rows: list[str] | None = None,
    cols: list[str] | None = None,
    metrics: list[str] | None = None,
    options: dict[str, str] = SWEEP_OPTIONS,
    reference: str | None = None,
    test: str = "t",
    skip_unknown_metrics: bool = False,
) -> Report:
    """Read every run record under `paths` and aggregate it into a comparison, each cell
    against `reference` ('model=lstm'; default the first row) and the baseline; a row or
    column key or a metric that no run has raises InputError, naming it as `options` spell it
    (a metric is left out instead with `skip_unknown_metrics`)."""
    if test not in TESTS:
        raise InputError(f"{options.get('test', 'test')}={test}: one of {', '.join(TESTS)}")
    runs = [run for run in load_runs(paths) if run.status != SKIPPED]
    # an unreadable record without overrides belongs to no cell: it is only listed
    placed = [run for run in runs if run.status != UNREADABLE or run.overrides]
    check_keys(placed, rows, options["rows"])
    check_keys(placed, cols, options["cols"])
    metrics = check_metrics(placed, metrics, options["metrics"], skip_unknown_metrics)
    rows, cols = choose_layout(placed, rows, cols)
    metrics = choose_metrics(placed, metrics)
    cells, values = aggregate(placed, rows, cols, metrics)
    if not cells.empty:
        cells = add_comparisons(cells, values, rows, cols, reference, test)
    baselines = baseline_cells(cells, values) if not cells.empty else pd.DataFrame()
    return Report(rows, cols, metrics, cells, runs, baselines, test)


def format_cell(
    metric: str, mean: float, half_width: float, n_ok: int, marks: dict[str, int]
) -> str:
    """'0.912 ± 0.004' (the 95% interval's half-width, at the precision it supports),
    'failed', or '0.912 [1 diverged]'."""
    if n_ok == 0:
        return ", ".join(marks) if marks else "—"
    text = format_estimate(metric, mean, half_width if n_ok > 1 else math.nan)
    if marks:
        text += " [" + ", ".join(f"{n} {status}" for status, n in marks.items()) + "]"
    return text
