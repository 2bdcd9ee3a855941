"""Rendering a comparison: numbers as text, Markdown tables, and rich tables for the terminal."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from dlrun.report.read import DIVERGED, UNREADABLE

if TYPE_CHECKING:  # pandas and the Report are only type hints here
    import pandas as pd

    from dlrun.report.aggregate import Report


def format_percent(fraction: float) -> str:
    """0.872 -> '87.20%'."""
    return f"{100 * fraction:.2f}%"


def in_percent(name: str) -> bool:
    """Whether a metric is shown in percent (accuracies: val/acc, baseline/test/acc)."""
    return name.endswith("acc")


def format_metric(name: str, value: float) -> str:
    """A metric's value as shown everywhere: accuracies in percent, others to 4 digits."""
    return format_percent(value) if in_percent(name) else f"{value:.4g}"


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


def frame_markdown(frame: pd.DataFrame) -> str:
    """A data frame as a Markdown table, floats in scientific notation (the analyses' and
    experiments' tables)."""
    rows = [
        [f"{value:.2e}" if isinstance(value, float) else value for value in row]
        for row in frame.itertuples(index=False)
    ]
    return markdown_table(list(frame.columns), rows) + "\n"


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


def metric_tables(report: Report) -> list[tuple[str | None, pd.DataFrame]]:
    """The pivots to show, each with its metric: one per metric when the report has column
    keys; otherwise one pivot of every metric (metric None), as one-column tables would only
    stack up, with the metrics down the rows when they outnumber the row labels."""
    if report.cells.empty:
        return []
    if report.cols or len(report.metrics) == 1:
        return [(metric, report.table(metric)) for metric in report.metrics]
    pivot = report.table()
    return [(None, pivot.T if len(report.metrics) > len(pivot.index) else pivot)]


CAPTION = (
    "Cells: mean ± half-width of the 95% t interval over the completed runs (seeds) of each "
    "configuration (no ± at n = 1); [n failed] / [n diverged] count the runs that did not "
    "complete."
)
TITLE = "mean ± 95% t interval over seeds"


def comparison_rows(report: Report, metric: str) -> list[list[str]]:
    """Each compared cell: its labels, difference from the reference [95% interval], test,
    Holm-corrected p, verdict, and its verdict against the baseline."""
    from dlrun.report.stats import Difference, format_difference, format_p

    lines = report.cells[report.cells.metric == metric]
    rows = []
    for _, line in lines.iterrows():
        if not line.test and not line.baseline_verdict:
            continue
        difference = Difference(
            line.difference, line.diff_low, line.diff_high, line.p, line.test, 0
        )
        rows.append(
            [
                line.row_label if not report.cols else f"{line.row_label} @ {line.col_label}",
                format_difference(metric, difference) if line.test else "reference",
                format_p(line.p_holm) if line.test else "—",
                line.verdict or "—",
                line.baseline_verdict or "—",
            ]
        )
    return rows


def comparison_header(report: Report) -> list[str]:
    """The comparison table's header."""
    return ["cell", "difference [95% CI]", "p (Holm)", "verdict", "vs baseline"]


def comparison_title(report: Report, metric: str) -> str:
    """'test/acc against model=lstm: paired t-test, Holm-corrected across the table'."""
    lines = report.cells[report.cells.metric == metric]
    tests = ", ".join(sorted({test for test in lines.test if test})) or "no test (n < 2)"
    baseline = f"; vs baseline: against the {report.baseline_name}" if report.baseline_name else ""
    return (
        f"{metric} against {report.reference or 'no reference'}: {tests}, "
        f"Holm-corrected across the table{baseline}"
    )


def advice_lines(report: Report) -> list[str]:
    """The seed advisor's sentence for each metric."""
    from dlrun.report.compare import advice

    return [line for metric in report.metrics if (line := advice(report.cells, metric))]


def markdown_report(report: Report) -> str:
    """comparison.md: the pivots, what the cells mean, the comparisons, the seed advisor and
    the failures."""
    parts = []
    for metric, pivot in metric_tables(report):
        parts += [f"## {metric or 'Metrics'}", "", pivot_markdown(pivot), ""]
    parts.append(CAPTION)
    for metric in report.metrics if not report.cells.empty else []:
        rows = comparison_rows(report, metric)
        if rows:
            parts += ["", f"### {comparison_title(report, metric)}", ""]
            parts.append(markdown_table(comparison_header(report), rows, align="lrlll"))
    advice_text = advice_lines(report)
    if advice_text:
        parts += ["", "Seed advisor: " + "; ".join(advice_text) + "."]
    if report.failures:
        parts += ["", "## Failures", ""] + [f"- {line}" for line in failure_lines(report)]
    return "\n".join(parts) + "\n"


def column_parts(label_width: int, widths: list[int], space: int) -> list[list[int]]:
    """Split columns (by index) into consecutive parts whose table, the label column repeated,
    fits `space` characters; a column too wide for any part stands alone and wraps."""
    # a rich table with the default box: 1 space of padding each side and 1 border per column
    used, parts = label_width + 4, [[]]
    for index, width in enumerate(widths):
        if parts[-1] and used + width + 3 > space:
            used, parts = label_width + 4, [*parts, []]
        parts[-1].append(index)
        used += width + 3
    return parts


def rich_tables(pivot: pd.DataFrame, title: str, space: int) -> list:
    """The pivot as rich tables that fit `space` columns: split by columns when they do not
    fit side by side, each part with the row labels; cells wrap only when one alone is too wide."""
    from rich.cells import cell_len
    from rich.table import Table

    labels = [str(index) for index in pivot.index]
    headers = [str(column) for column in pivot.columns]
    widths = [
        max(cell_len(text) for text in [header, *map(str, pivot[column])])
        for header, column in zip(headers, pivot.columns, strict=True)
    ]
    # row labels get the space the columns leave, at least a third: longer ones wrap
    left_over = space - 4 - sum(width + 3 for width in widths)
    label_width = min(max(map(cell_len, [corner(pivot), *labels])), max(left_over, space // 3, 12))
    parts = column_parts(label_width, widths, space)
    tables = []
    for part in parts:
        suffix = (
            f" (columns {part[0] + 1}-{part[-1] + 1} of {len(headers)})" if len(parts) > 1 else ""
        )
        table = Table(title=title + suffix)
        table.add_column(corner(pivot), overflow="fold", max_width=label_width)
        for index in part:
            table.add_column(headers[index], justify="right", overflow="fold")
        for label, row in zip(labels, pivot.itertuples(index=False), strict=True):
            table.add_row(label, *(str(row[index]) for index in part))
        tables.append(table)
    return tables


def pd_frame(header: list[str], rows: list[list[str]]):
    """Rows of text as a frame whose index is the first column (what rich_tables takes)."""
    import pandas as pd

    frame = pd.DataFrame([row[1:] for row in rows], columns=header[1:])
    frame.index = [row[0] for row in rows]
    frame.index.name = header[0]
    return frame


def print_report(report: Report, console=None) -> None:
    """The table(s) and the failures, with rich, at the console's width (the terminal's; 80
    when output is not a terminal, or $COLUMNS)."""
    from rich.console import Console

    console = console or Console()
    for metric, pivot in metric_tables(report):
        title = f"{metric}: {TITLE}" if metric else TITLE
        for table in rich_tables(pivot, title, console.width):
            console.print(table)
    # the terminal compares the first metric only; comparison.md and report.html hold them all
    for metric in report.metrics[:1] if not report.cells.empty else []:
        rows = comparison_rows(report, metric)
        if rows:
            frame = pd_frame(comparison_header(report), rows)
            for table in rich_tables(frame, comparison_title(report, metric), console.width):
                console.print(table)
    for line in advice_lines(report)[:1]:
        console.print("seed advisor: " + line, markup=False, highlight=False)
    for line in failure_lines(report):
        # soft wrap: a path broken over lines could not be copied
        console.print(line, style="red", markup=False, highlight=False, soft_wrap=True)
