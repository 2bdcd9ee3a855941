"""Rendering a comparison: numbers as text, Markdown tables, and rich tables for the terminal."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from dlrun.report.read import DIVERGED, UNREADABLE

if TYPE_CHECKING:  # pandas and the Report are only type hints here
    import pandas as pd

    from dlrun.report.aggregate import Report


def format_percent(fraction: float) -> str:
    """0.872 -> '87.20%'."""
    return f"{100 * fraction:.2f}%"


def format_metric(name: str, value: float) -> str:
    """A metric's value as shown everywhere: accuracies in percent, others to 4 digits."""
    return format_percent(value) if name.endswith("acc") else f"{value:.4g}"


def format_cell(metric: str, mean: float, std: float, n_ok: int, marks: dict[str, int]) -> str:
    """'0.912 ± 0.004', 'failed', or '0.912 [1 diverged]'."""
    if n_ok == 0:
        return ", ".join(marks) if marks else "—"
    text = format_metric(metric, mean)
    if n_ok > 1 and math.isfinite(std):
        text += " ± " + format_metric(metric, std)
    if marks:
        text += " [" + ", ".join(f"{n} {status}" for status, n in marks.items()) + "]"
    return text


def markdown_table(header: Sequence[str], rows: Iterable[Sequence], align: str = "") -> str:
    """A GitHub Markdown table; `align` holds 'l' or 'r' per column (default left), and cells
    are written with str() (pandas' to_markdown needs tabulate)."""
    rule = {"l": "---", "r": "---:"}
    lines = [
        "| " + " | ".join(map(str, header)) + " |",
        "|" + "|".join(rule[align[i] if i < len(align) else "l"] for i in range(len(header))) + "|",
    ]
    lines += ["| " + " | ".join(map(str, row)) + " |" for row in rows]
    return "\n".join(lines)


def corner(frame: pd.DataFrame) -> str:
    """'model \\ seq_len': the row keys and the column key of a pivot."""
    return " \\ ".join(name for name in (frame.index.name, frame.columns.name) if name)


def pivot_markdown(frame: pd.DataFrame) -> str:
    """A pivot of formatted cells as Markdown: row labels left, cells right-aligned."""
    header = [corner(frame), *map(str, frame.columns)]
    rows = [[index, *row] for index, row in frame.iterrows()]
    return markdown_table(header, rows, align="l" + "r" * len(frame.columns))


def failure_lines(report: Report) -> list[str]:
    """One line per run that did not complete: its status, overrides, directory and error."""
    lines = []
    for run in report.failures:
        if run.status == UNREADABLE:  # the error names the file
            lines.append(f"{run.status}: {run.error}")
            continue
        overrides = " ".join(f"{k}={v}" for k, v in run.overrides.items())
        error = run.error or (
            f"non-finite loss or gradient by epoch {run.summary.get('epochs')}, "
            f"step {run.summary.get('steps')}"
            if run.status == DIVERGED
            else "no error recorded"
        )
        lines.append(f"{run.status}: {overrides} ({run.directory}): {error}")
    return lines


def markdown_report(report: Report) -> str:
    """comparison.md: one pivot per metric, what the cells mean, and the failures."""
    parts = []
    for metric in report.metrics:
        parts += [f"## {metric}", "", pivot_markdown(report.table(metric)), ""]
    parts.append(
        "Cells: mean ± std over the completed runs (seeds) of each configuration; "
        "[n failed] / [n diverged] count the runs that did not complete."
    )
    if report.failures:
        parts += ["", "## Failures", ""] + [f"- {line}" for line in failure_lines(report)]
    return "\n".join(parts) + "\n"


def print_report(report: Report, console=None) -> None:
    """The table(s) and the failures, with rich."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console(width=max(100, Console().width))
    for metric in report.metrics:
        pivot = report.table(metric)
        title = f"{metric}: mean ± std over seeds"
        table = Table(title=title, min_width=len(title) + 4)
        table.add_column(corner(pivot))
        for column in pivot.columns:
            table.add_column(str(column), justify="right")
        for index, row in pivot.iterrows():
            table.add_row(str(index), *map(str, row))
        console.print(table)
    for line in failure_lines(report):
        # soft wrap: a path broken over lines could not be copied
        console.print(line, style="red", markup=False, highlight=False, soft_wrap=True)
