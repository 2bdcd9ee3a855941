"""Comparisons across a table: each cell against its reference cell (report.reference, by
default the first row, in the same column) and against the task's baseline (the trivial
predictor every run scores as `baseline/<metric>`), Holm-corrected per metric; and the seed
advisor's sentence. The numbers come from dlrun.report.stats."""

import math

import pandas as pd

from dlrun.errors import InputError
from dlrun.report.read import OK, Run, parse_value
from dlrun.report.stats import (
    Difference,
    compare,
    detectable_difference,
    format_estimate,
    holm,
    paired,
    pooled_std,
    seeds_needed,
    t_half_width,
    verdict,
)

COMPARISON_COLUMNS = ["difference", "diff_low", "diff_high", "test", "p", "p_holm", "verdict"]
BASELINE_COLUMNS = ["baseline_mean", "baseline_p_holm", "baseline_verdict"]


def seed_values(members: list[Run], metric: str) -> dict[int, float]:
    """A cell's finite values of `metric` by seed, completed runs only."""
    values = {}
    for index, run in enumerate(members):
        value = run.metric(metric)
        if run.status == OK and value is not None and math.isfinite(value):
            seed = run.summary.get("seed", run.value("seed"))
            values[seed if isinstance(seed, int) else -1 - index] = value
    return values


def parse_reference(text: str | None, keys: list[str]) -> dict[str, object]:
    """'model=lstm seq_len=50' -> {'model': 'lstm', 'seq_len': 50}; keys must be row or
    column keys of the table."""
    pairs = {}
    for item in (text or "").replace(",", " ").split():
        key, sep, value = item.partition("=")
        if not sep or key not in keys:
            raise InputError(
                f"report.reference={text}: give key=value pairs of the table's keys "
                f"({', '.join(keys) or 'none: one configuration'})"
            )
        pairs[key] = parse_value(value)
    return pairs


def reference_key(cell_key: tuple, names: list[str], reference: dict) -> tuple:
    """The cell's reference: the same values, with the reference's keys replaced."""
    return tuple(reference.get(name, value) for name, value in zip(names, cell_key))


def add_comparisons(
    cells: pd.DataFrame,
    values: dict[tuple, dict[str, dict[int, float]]],
    rows: list[str],
    cols: list[str],
    reference: str | None,
    test: str,
) -> pd.DataFrame:
    """The cells with their difference from the reference cell and from the baseline."""
    names = [*rows, *cols]
    if reference:
        chosen = parse_reference(reference, names)
    else:  # the first row
        first = next(iter(values.values()))["key"] if values else ()
        chosen = dict(zip(rows, first)) if rows else {}
    cells = cells.copy()
    for column in COMPARISON_COLUMNS + BASELINE_COLUMNS:
        cells[column] = "" if column in ("test", "verdict", "baseline_verdict") else math.nan
    # cells by their keys' values as the runs hold them (None, not the frame's NaN)
    by_key = {cell["key"]: cell for cell in values.values()}
    if chosen and not any(
        all(key == chosen.get(n, key) for n, key in zip(names, cell_key)) for cell_key in by_key
    ):
        raise InputError(f"report.reference={reference}: no cell of the table has it")
    for metric, lines in cells.groupby("metric", sort=False):
        found: dict[int, Difference] = {}
        to_baseline: dict[int, Difference] = {}
        for index, line in lines.iterrows():
            cell = values[(line.row_label, line.col_label)]
            own = cell[metric]
            ref_key = reference_key(cell["key"], names, chosen)
            if chosen and ref_key != cell["key"] and ref_key in by_key:
                found[index] = compare(own, by_key[ref_key][metric], test)
            base = cell.get(f"baseline/{metric}", {})
            common = sorted(set(own) & set(base))
            if common:
                cells.loc[index, "baseline_mean"] = sum(base[s] for s in common) / len(common)
                to_baseline[index] = paired(
                    [own[s] for s in common], [base[s] for s in common], test
                )
        for index, p in zip(found, holm([d.p for d in found.values()])):
            found[index].p_holm = p
            difference = found[index]
            cells.loc[index, COMPARISON_COLUMNS] = [
                difference.difference,
                difference.low,
                difference.high,
                difference.test,
                difference.p,
                p,
                verdict(difference, metric),
            ]
        for index, p in zip(to_baseline, holm([d.p for d in to_baseline.values()])):
            to_baseline[index].p_holm = p
            cells.loc[index, ["baseline_p_holm", "baseline_verdict"]] = [
                p,
                verdict(to_baseline[index], metric),
            ]
    cells.attrs["reference"] = " ".join(f"{k}={v}" for k, v in chosen.items())
    return cells


def baseline_cells(cells: pd.DataFrame, values: dict) -> pd.DataFrame:
    """The baseline row: per column and metric, the trivial predictor's mean ± 95% interval
    over every run of that column."""
    lines = []
    for (col_label, metric), group in cells.groupby(["col_label", "metric"], sort=False):
        scores = [
            value
            for _, line in group.iterrows()
            for value in values[(line.row_label, line.col_label)]
            .get(f"baseline/{metric}", {})
            .values()
        ]
        if not scores:
            continue
        series = pd.Series(scores, dtype=float)
        half = t_half_width(float(series.std(ddof=1)), len(series)) if len(series) > 1 else math.nan
        lines.append(
            {
                "col_label": col_label,
                "metric": metric,
                "cell": format_estimate(metric, series.mean(), half),
            }
        )
    return pd.DataFrame(lines, columns=["col_label", "metric", "cell"])


def advice(cells: pd.DataFrame, metric: str) -> str | None:
    """'n = 3 resolves differences of 0.9 points or more; 0.3 points would need n = 20'
    (α = 0.05, 80% power, from the spread within cells, pooled)."""
    lines = cells[(cells.metric == metric) & (cells.n > 1)]
    if lines.empty:
        return None
    n = int(lines.n.min())
    std = pooled_std(list(lines["std"]), list(lines.n))
    smallest = detectable_difference(std, n)
    if not math.isfinite(smallest):
        return f"n = {n}: the runs of each cell are identical (no spread), any difference shows"
    scale, unit = (100.0, " points") if metric.endswith("acc") else (1.0, "")
    smaller = smallest / 3
    return (
        f"n = {n} resolves differences of {smallest * scale:.2g}{unit} or more in {metric} "
        f"(α = 0.05, 80% power, from the pooled spread {std * scale:.2g}{unit}); "
        f"{smaller * scale:.2g}{unit} would need n = {seeds_needed(smaller, std)}"
    )
