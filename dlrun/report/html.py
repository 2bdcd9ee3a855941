"""report.html: the comparison as one self-contained, offline file (no script, no network:
the figure is a base64 data URI), holding the tables with intervals and verdicts, the figure,
the failures, each cell's runs with the command that reruns one, the config keys that differ
between cells, and provenance (git commit and dirty flag, versions, hosts, seeds)."""

import base64
import io
from html import escape
from pathlib import Path

from dlrun.record.identity import NOT_IDENTITY, REPLICATE_KEYS, flatten
from dlrun.report.aggregate import Report, group_runs
from dlrun.report.read import Run
from dlrun.report.render import (
    CAPTION,
    TITLE,
    advice_lines,
    comparison_header,
    comparison_rows,
    comparison_title,
    failure_lines,
    metric_tables,
)

HTML_FILE = "report.html"
STYLE = """
body { font-family: sans-serif; margin: 2em; max-width: 75em; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #bbb; padding: 0.2em 0.6em; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
code { background: #f4f4f4; padding: 0.1em 0.3em; }
.failure { color: #b00; }
img { max-width: 100%; }
"""


def table_html(
    header: list[str], rows: list[list[str]], attributes=None, code_column: int = -1
) -> str:
    """An HTML table of text; attributes(i, j) gives extra attributes of body cell (i, j), and
    the cells of code_column are shown as code (a command to copy)."""
    head = "".join(f"<th>{escape(str(h))}</th>" for h in header)
    body = []
    for i, row in enumerate(rows):
        cells = []
        for j, value in enumerate(row):
            extra = attributes(i, j) if attributes and j > 0 else ""
            kind = ' class="number"' if j > 0 else ""
            text = escape(str(value))
            if j == code_column:
                kind, text = ' class="rerun"', f"<code>{text}</code>"
            cells.append(f"<td{kind}{extra}>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def pivot_html(report: Report, metric: str | None, pivot) -> str:
    """A pivot of formatted cells; each cell carries data-metric, data-row, data-col (the
    labels of comparison.csv) so a reader, or the browser test, can match it to its line."""
    labels = list(pivot.index)
    columns = list(pivot.columns)

    def attributes(i: int, j: int) -> str:
        column = columns[j - 1]
        cell_metric = metric or (labels[i] if pivot.index.name == "metric" else column)
        row_label = labels[i] if metric or pivot.index.name != "metric" else column
        col_label = column if report.cols else "all"
        if " @ " in str(column):
            cell_metric, col_label = str(column).split(" @ ", 1)
        return (
            f' data-metric="{escape(str(cell_metric))}" data-row="{escape(str(row_label))}"'
            f' data-col="{escape(str(col_label))}"'
        )

    header = [f"{pivot.index.name or ''} \\ {pivot.columns.name or ''}", *map(str, columns)]
    rows = [[label, *row] for label, row in zip(labels, pivot.itertuples(index=False))]
    return table_html(header, rows, attributes)


def figure_html(report: Report) -> str:
    """The comparison figure as an <img> with a base64 PNG data URI."""
    if report.cells.empty:
        return ""
    from dlrun.report.plot import DPI, report_figure

    buffer = io.BytesIO()
    report_figure(report).savefig(buffer, dpi=DPI, format="png")
    data = base64.b64encode(buffer.getvalue()).decode()
    return f'<img alt="comparison figure" src="data:image/png;base64,{data}">'


def run_config(run: Run) -> dict:
    """The run's composed config, flattened, without the keys that do not make it another
    configuration (seeds, logging, reporting)."""
    config = run.load_yaml("config.yaml") or {}
    skipped = (*NOT_IDENTITY, *REPLICATE_KEYS)
    return {k: v for k, v in flatten(config).items() if k.split(".")[0] not in skipped}


def differing_keys(groups: dict[tuple, list[Run]]) -> tuple[list[str], list[list[str]]]:
    """The config keys whose value differs between cells, and each cell's values of them."""
    configs = {key: run_config(runs[0]) for key, runs in groups.items() if runs}
    names = sorted({name for config in configs.values() for name in config})
    differ = [n for n in names if len({repr(c.get(n)) for c in configs.values()}) > 1]
    rows = [[cell_name(key), *(str(configs[key].get(n, "—")) for n in differ)] for key in configs]
    return differ, rows


def cell_name(key: tuple) -> str:
    """'lstm, 200' for the cell with row values ('lstm',) and column values (200,)."""
    return ", ".join(str(value) for part in key for value in part) or "all"


def runs_html(report: Report, groups: dict[tuple, list[Run]]) -> str:
    """Each cell's runs: directory, status, seed, first metric, the command that reruns it."""
    metric = report.metrics[0]
    parts = []
    for key, runs in groups.items():
        rows = [
            [
                str(run.directory),
                run.status,
                str(run.summary.get("seed", run.value("seed"))),
                "—" if run.metric(metric) is None else f"{run.metric(metric):.6g}",
                run.summary.get("command") or "",
            ]
            for run in runs
        ]
        table = table_html(["directory", "status", "seed", metric, "rerun"], rows, code_column=4)
        parts.append(f"<h3>{escape(cell_name(key))}</h3>{table}")
    return "".join(parts)


def provenance_html(runs: list[Run]) -> str:
    """Git commits with their dirty flags, versions, hosts and seeds of the runs."""

    def distinct(values) -> str:
        return ", ".join(sorted({str(v) for v in values if v is not None})) or "not recorded"

    commits = distinct(
        f"{run.summary.get('git_commit')}"
        + {True: " (dirty)", False: " (clean)"}.get(run.summary.get("git_dirty"), "")
        for run in runs
        if run.summary.get("git_commit")
    )
    versions = distinct(
        ", ".join(f"{k} {v}" for k, v in (run.summary.get("versions") or {}).items())
        for run in runs
    )
    rows = [
        ["git commit", commits],
        ["versions", versions],
        ["hosts", distinct(run.summary.get("host") for run in runs)],
        ["seeds", distinct(run.summary.get("seed") for run in runs)],
        ["runs", str(len(runs))],
    ]
    return table_html(["", ""], rows)


def report_html(report: Report) -> str:
    """The whole page as text."""
    groups = group_runs([r for r in report.runs if r.overrides], report.rows, report.cols)
    body = ["<h1>Comparison</h1>", f"<p>{escape(CAPTION)}</p>"]
    for metric, pivot in metric_tables(report):
        body += [
            f"<h2>{escape(metric or 'Metrics')}: {TITLE}</h2>",
            pivot_html(report, metric, pivot),
        ]
    for metric in report.metrics if not report.cells.empty else []:
        rows = comparison_rows(report, metric)
        if rows:
            body += [
                f"<h3>{escape(comparison_title(report, metric))}</h3>",
                table_html(comparison_header(report), rows),
            ]
    body += [f"<p>Seed advisor: {escape(line)}.</p>" for line in advice_lines(report)]
    body.append(figure_html(report))
    failures = failure_lines(report)
    body.append("<h2>Failures</h2>")
    body.append(
        "<ul>" + "".join(f'<li class="failure">{escape(f)}</li>' for f in failures) + "</ul>"
        if failures
        else "<p>none: every run completed.</p>"
    )
    differ, rows = differing_keys(groups)
    body += ["<h2>Config keys that differ between cells</h2>", table_html(["cell", *differ], rows)]
    body += ["<h2>Runs of each cell</h2>", runs_html(report, groups)]
    body += ["<h2>Provenance</h2>", provenance_html(report.runs)]
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        "<title>dlrun comparison</title>"
        f"<style>{STYLE}</style></head><body>" + "\n".join(body) + "</body></html>\n"
    )


def write_html(report: Report, out_dir: Path) -> Path:
    """Write report.html into out_dir."""
    from dlrun.record.atomic import write_atomically

    text = report_html(report)
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    path = Path(out_dir) / HTML_FILE
    write_atomically(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return path
