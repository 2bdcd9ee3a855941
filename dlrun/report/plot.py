"""The comparison as a figure: one panel per metric, in rows of up to three; lines over a
numeric column key (e.g. seq_len), grouped bars otherwise; error bars are the std over seeds,
and cells without a value are marked with a red × and why (failed, diverged, no value).
Labels name only the keys whose values differ; one legend, outside the panels, serves them all;
accuracies are in percent, as the tables show them.

matplotlib is imported inside the functions: it takes about a second, and only writing the
figure needs it. The figure is drawn without pyplot, so no global backend is chosen.
"""

from pathlib import Path

import numpy as np
import pandas as pd

from dlrun.report.render import in_percent

MISSING_MARK = dict(marker="x", color="tab:red", markersize=9, linestyle="none")


def is_numeric_axis(cells: pd.DataFrame, cols: list[str]) -> bool:
    """Whether the single column key holds numbers only, so it can be an x axis."""
    # NaN: a run that did not set the key (runs from several sweeps) has no place on a number line
    return len(cols) == 1 and all(
        isinstance(v, int | float) and not isinstance(v, bool) and not pd.isna(v)
        for v in cells[cols[0]]
    )


def status_text(line: pd.Series) -> str:
    """What a cell without a value holds: 'failed', 'diverged', or 'no value' (its runs did not
    record this metric, e.g. an analysis of another model's layers)."""
    return ", ".join(s for s in ("failed", "diverged") if line[f"n_{s}"] > 0) or "no value"


def short_labels(cells: pd.DataFrame, keys: list[str], labels: str) -> dict[str, str]:
    """Each label of the `labels` column (row_label, col_label) naming only the values of the
    keys that differ between cells (the axis or legend title names those keys), '–' where a
    run did not set one; unchanged when no key differs."""
    from dlrun.report.aggregate import show

    shown = cells[[*keys, labels]].drop_duplicates(labels).astype(object)
    varying = varying_keys(cells, keys)
    if not varying:
        return dict(zip(shown[labels], shown[labels], strict=True))
    return {
        line[labels]: ", ".join("–" if pd.isna(line[key]) else show(line[key]) for key in varying)
        for _, line in shown.iterrows()
    }


def varying_keys(cells: pd.DataFrame, keys: list[str]) -> list[str]:
    """The keys whose value differs between cells."""
    from dlrun.report.aggregate import show

    return [key for key in keys if cells[key].astype(object).map(show).nunique() > 1]


def plot_lines(axes, cells: pd.DataFrame, x_key: str, row_keys: list[str]) -> None:
    """One line per row label over the numeric column key, missing cells marked."""
    from matplotlib.ticker import NullFormatter

    bottom = np.nanmin(cells["mean"]) if cells["mean"].notna().any() else 0.0
    names = short_labels(cells, row_keys, "row_label")
    for row_label, group in cells.groupby("row_label", sort=False):
        done = group[group.n > 0]
        axes.errorbar(
            done[x_key],
            done["mean"],
            yerr=done["std"].fillna(0),
            marker="o",
            capsize=3,
            label=names[row_label],
        )
        for _, line in group[group.n == 0].iterrows():
            axes.plot([line[x_key]], [bottom], **MISSING_MARK)
            axes.annotate(
                status_text(line),
                (line[x_key], bottom),
                fontsize=7,
                color="tab:red",
                textcoords="offset points",
                xytext=(3, 3),
            )
    values = cells[x_key].astype(float)
    if values.min() > 0 and values.max() / values.min() >= 30:  # e.g. depths 2, 4, …, 64
        axes.set_xscale("log")
        ticks = sorted(values.unique())
        if len(ticks) <= 12:  # label the swept values themselves, not powers of ten
            axes.set_xticks(ticks, [f"{tick:g}" for tick in ticks])
            axes.xaxis.set_minor_formatter(NullFormatter())
    means = cells["mean"].dropna()
    if len(means) and means.min() > 0 and means.max() / means.min() >= 1000:  # gradient norms
        axes.set_yscale("log")
    axes.set_xlabel(x_key)


def plot_bars(axes, cells: pd.DataFrame, rows: list[str], cols: list[str]) -> None:
    """Bars grouped by row label, one per column label, missing cells marked."""
    row_names, col_names = short_labels(cells, rows, "row_label"), {}
    if cols:
        col_names = short_labels(cells, cols, "col_label")
    row_labels = list(dict.fromkeys(cells.row_label))
    col_labels = list(dict.fromkeys(cells.col_label))
    width = 0.8 / len(col_labels)
    for j, col_label in enumerate(col_labels):
        group = cells[cells.col_label == col_label].set_index("row_label").reindex(row_labels)
        x = np.arange(len(row_labels)) + (j - (len(col_labels) - 1) / 2) * width
        axes.bar(
            x,
            group["mean"].fillna(0),
            width,
            yerr=group["std"].fillna(0),
            capsize=3,
            label=col_names[col_label] if cols else None,
        )
        for xi, (_, line) in zip(x, group.iterrows(), strict=True):
            if line.n == 0 or pd.isna(line.n):
                axes.plot([xi], [0], **MISSING_MARK)
                axes.annotate(
                    status_text(line) if not pd.isna(line.n) else "no run",
                    (xi, 0),
                    fontsize=7,
                    color="tab:red",
                    rotation=90,
                    textcoords="offset points",
                    xytext=(-3, 6),
                )
    ticks = [row_names[label] for label in row_labels]
    axes.set_xticks(np.arange(len(row_labels)), ticks, rotation=30, ha="right")
    axes.set_xlabel(", ".join(varying_keys(cells, rows)))


def plot_panel(axes, report, metric: str) -> None:
    """One metric's panel: lines over a numeric column key, grouped bars otherwise."""
    cells = report.cells[report.cells.metric == metric]
    if in_percent(metric):  # as the tables show it
        cells = cells.assign(mean=100 * cells["mean"], std=100 * cells["std"])
        axes.set_ylabel("%")
    if is_numeric_axis(cells, report.cols):
        plot_lines(axes, cells, report.cols[0], report.rows)
    else:
        plot_bars(axes, cells, report.rows, report.cols)
    axes.set_title(metric, fontsize=10)
    axes.grid(alpha=0.3)


def add_legend(figure, panels, report) -> None:
    """One legend for every panel, right of them (each panel's own covered its bars): the
    lines' rows, or the bars' columns, named by the keys that differ."""
    entries = {}
    for axes in panels:
        for handle, text in zip(*axes.get_legend_handles_labels(), strict=True):
            entries.setdefault(text, handle)
    if not entries:
        return
    numeric = is_numeric_axis(report.cells, report.cols)
    cells = report.cells[report.cells.metric.isin(report.metrics)]
    keys = varying_keys(cells, report.rows if numeric else report.cols)
    figure.legend(
        list(entries.values()),
        list(entries),
        loc="outside right upper",
        fontsize=8,
        title=", ".join(keys) or None,
        title_fontsize=8,
    )


# a panel's size in inches at DPI: three side by side make 1584 pixels, readable on a screen
PANEL_SIZE, PANELS_PER_ROW, DPI = (4.4, 3.3), 3, 120


def grid_shape(n_panels: int) -> tuple[int, int]:
    """(rows, columns) of the panels: up to PANELS_PER_ROW side by side, then a new row."""
    columns = min(n_panels, PANELS_PER_ROW)
    return -(-n_panels // columns), columns


def report_figure(report):
    """The figure of `report` (a dlrun.report.aggregate.Report): one panel per metric, in rows
    of up to three."""
    from matplotlib.figure import Figure

    rows, columns = grid_shape(len(report.metrics))
    figure = Figure(
        figsize=(PANEL_SIZE[0] * columns, PANEL_SIZE[1] * rows + 0.4), layout="constrained"
    )
    panels = figure.subplots(rows, columns, squeeze=False).ravel()
    for axes, metric in zip(panels, report.metrics):  # zip stops at the last metric
        plot_panel(axes, report, metric)
    for axes in panels[len(report.metrics) :]:  # the last row's empty places
        axes.remove()
    add_legend(figure, panels[: len(report.metrics)], report)
    shown = report.cells[report.cells.metric.isin(report.metrics)]
    missing = "; a red × marks a cell without a value" if (shown.n == 0).any() else ""
    figure.suptitle(f"mean ± std over seeds{missing}", fontsize=11)
    return figure


def plot_report(report, path: Path) -> Path:
    """Write comparison.png: report_figure at DPI."""
    from dlrun.record.atomic import write_atomically

    figure = report_figure(report)
    write_atomically(path, lambda tmp: figure.savefig(tmp, dpi=DPI, format="png"))
    return path
