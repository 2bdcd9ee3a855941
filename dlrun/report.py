"""Run records -> comparison tables and plots: comparison.csv, comparison.md, comparison.png.

Everything is read from disk (summary.json and .hydra/ of each run directory), so the same
table comes out of a finished sweep, a partial one, several sweeps from different days, or
jobs that ran in other processes or on other machines.

Rows and columns are swept keys (`model`, `seq_len`, `optimizer.lr`), cells the mean ± std of a
metric over the runs of that configuration (seeds). Failed and diverged runs are marked in
their cell and listed below the table, never dropped.
"""

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml
from omegaconf import OmegaConf

from dlrun.record import SUMMARY_FILE, write_atomically

# Keys that say how a run was started, not which configuration it trained: never pivoted on.
NOT_CONFIGURATION = ("seed", "resume", "on_error", "repeats", "threads", "device")
# The default metric: the first of these the runs recorded.
PREFERRED_METRICS = ("test/acc", "val/acc", "test/loss", "val/loss", "train/loss")
OK, FAILED, DIVERGED = "completed", "failed", "diverged"
CSV_FILE, MARKDOWN_FILE, PLOT_FILE = "comparison.csv", "comparison.md", "comparison.png"


@dataclass
class Run:
    """One run record: where it is, how it ended, its overrides and its final metrics."""

    directory: Path
    status: str
    error: str | None
    overrides: dict[str, str]
    summary: dict

    def value(self, key: str):
        """The run's value of a config key: its override, its group choice, or its config."""
        if key in self.overrides:
            return parse_value(self.overrides[key])
        choices = self._hydra_choices()
        if key in choices:
            return choices[key]
        config = self._load_yaml("config.yaml")
        if config is not None:
            found = OmegaConf.select(OmegaConf.create(config), key, default=None)
            if found is not None and not OmegaConf.is_config(found):
                return found
        return self.summary.get(key)

    def metric(self, name: str) -> float | None:
        """A metric of summary.json, or one of its top-level numbers (n_params, train_time_s)."""
        value = (self.summary.get("metrics") or {}).get(name, self.summary.get(name))
        return value if isinstance(value, int | float) and not isinstance(value, bool) else None

    def _job_file(self) -> dict:
        # dlrun.jobs writes job.json into the job's directory, the parent of a repeat's
        for directory in (self.directory, self.directory.parent):
            if (directory / "job.json").is_file():
                return json.loads((directory / "job.json").read_text())
        return {}

    def _hydra_dir(self) -> Path | None:
        # repeats write one record per seed below the job's directory, which holds .hydra/
        for directory in (self.directory, self.directory.parent):
            if (directory / ".hydra").is_dir():
                return directory / ".hydra"
        return None

    def _load_yaml(self, name: str):
        hydra_dir = self._hydra_dir()
        if hydra_dir is None or not (hydra_dir / name).is_file():
            return None
        return yaml.safe_load((hydra_dir / name).read_text())

    def _hydra_choices(self) -> dict:
        if "choices" in self._job_file():
            return self._job_file()["choices"]
        hydra = self._load_yaml("hydra.yaml") or {}
        choices = hydra.get("hydra", {}).get("runtime", {}).get("choices", {})
        return {k: v for k, v in choices.items() if not k.startswith("hydra")}


def parse_value(text: str):
    """'20' -> 20, '0.1' -> 0.1, anything else stays text (for sorting and plotting)."""
    for convert in (int, float):
        try:
            return convert(text)
        except (TypeError, ValueError):
            pass
    return text


def parse_overrides(lines: list[str]) -> dict[str, str]:
    """['model=mlp', '+x.y=2'] -> {'model': 'mlp', 'x.y': '2'}."""
    pairs = {}
    for line in lines:
        key, _, value = str(line).partition("=")
        pairs[key.lstrip("+~")] = value
    return pairs


def find_run_dirs(paths: list[Path]) -> list[Path]:
    """Every directory at or below `paths` that holds a summary.json, in a stable order."""
    found = []
    for path in map(Path, paths):
        if path.is_file() and path.name == SUMMARY_FILE:
            found.append(path.parent)
        elif path.is_dir():
            found.extend(summary.parent for summary in path.rglob(SUMMARY_FILE))
    return sorted(
        dict.fromkeys(found), key=lambda p: [int(s) if s.isdigit() else s for s in p.parts]
    )


def load_run(directory: Path) -> Run:
    summary = json.loads((directory / SUMMARY_FILE).read_text())
    run = Run(directory, str(summary.get("status", "unknown")), summary.get("error"), {}, summary)
    overrides = run._job_file().get("overrides")
    if overrides is None:
        overrides = run._load_yaml("overrides.yaml") or []
    run.overrides = parse_overrides(overrides)
    return run


def load_runs(paths: list[Path]) -> list[Run]:
    """The run records under `paths` (run directories or sweep directories)."""
    return [load_run(directory) for directory in find_run_dirs(paths)]


def swept_keys(runs: list[Run]) -> list[str]:
    """Override keys whose value differs between runs, in command-line order."""
    keys = list(dict.fromkeys(key for run in runs for key in run.overrides))
    swept = []
    for key in keys:
        if key in NOT_CONFIGURATION or key.startswith("report."):
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


def choose_metrics(runs: list[Run], metrics: list[str] | None) -> list[str]:
    if metrics:
        return list(metrics)
    recorded = {name for run in runs for name in run.summary.get("metrics") or {}}
    for name in PREFERRED_METRICS:
        if name in recorded:
            return [name]
    return sorted(recorded)[:1] or ["val/loss"]


def format_number(metric: str, value: float) -> str:
    if metric.endswith("acc"):
        return f"{100 * value:.2f}%"
    return f"{value:.4g}"


def format_cell(metric: str, mean: float, std: float, n_ok: int, marks: dict[str, int]) -> str:
    """'0.912 ± 0.004', 'failed', or '0.912 [1 diverged]'."""
    if n_ok == 0:
        return ", ".join(marks) if marks else "—"
    text = format_number(metric, mean)
    if n_ok > 1 and math.isfinite(std):
        text += " ± " + format_number(metric, std)
    if marks:
        text += " [" + ", ".join(f"{n} {status}" for status, n in marks.items()) + "]"
    return text


def show(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def label(values: tuple) -> str:
    return ", ".join(show(value) for value in values) if values else "all"


def sort_key(value):
    return (0, value, "") if isinstance(value, int | float) else (1, 0, str(value))


@dataclass
class Report:
    rows: list[str]
    cols: list[str]
    metrics: list[str]
    cells: pd.DataFrame  # one line per (row values, col values, metric): mean, std, n, marks
    runs: list[Run] = field(default_factory=list)

    @property
    def failures(self) -> list[Run]:
        return [run for run in self.runs if run.status not in (OK, "skipped")]

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
        pivot.index.name = " / ".join(self.rows) if self.rows else ""
        pivot.columns.name = col_name
        return pivot


def aggregate(
    runs: list[Run], rows: list[str], cols: list[str], metrics: list[str]
) -> pd.DataFrame:
    """One line per cell and metric: mean and std over the completed runs, counts of the rest."""
    groups: dict[tuple, list[Run]] = {}
    for run in runs:
        key = (tuple(run.value(k) for k in rows), tuple(run.value(k) for k in cols))
        groups.setdefault(key, []).append(run)
    order = sorted(groups, key=lambda k: ([sort_key(v) for v in k[0]], [sort_key(v) for v in k[1]]))
    lines = []
    for row_values, col_values in order:
        members = groups[(row_values, col_values)]
        for metric in metrics:
            values = [run.metric(metric) for run in members if run.status == OK]
            values = [v for v in values if v is not None and math.isfinite(v)]
            marks: dict[str, int] = {}
            for run in members:
                if run.status not in (OK, "skipped"):
                    marks[run.status] = marks.get(run.status, 0) + 1
            series = pd.Series(values, dtype=float)
            mean = float(series.mean()) if values else math.nan
            std = float(series.std(ddof=1)) if len(values) > 1 else math.nan
            lines.append(
                dict(zip(rows, row_values, strict=True))
                | dict(zip(cols, col_values, strict=True))
                | {
                    "row_label": label(row_values),
                    "col_label": label(col_values),
                    "metric": metric,
                    "mean": mean,
                    "std": std,
                    "n": len(values),
                    "n_failed": marks.get(FAILED, 0),
                    "n_diverged": marks.get(DIVERGED, 0),
                    "cell": format_cell(metric, mean, std, len(values), marks),
                }
            )
    return pd.DataFrame(lines)


def build_report(
    paths: list[Path],
    rows: list[str] | None = None,
    cols: list[str] | None = None,
    metrics: list[str] | None = None,
) -> Report:
    """Read every run record under `paths` and aggregate it into a comparison."""
    runs = [run for run in load_runs(paths) if run.status != "skipped"]
    rows, cols = choose_layout(runs, rows, cols)
    metrics = choose_metrics(runs, metrics)
    return Report(rows, cols, metrics, aggregate(runs, rows, cols, metrics), runs)


# ---------------------------------------------------------------- output


def corner(frame: pd.DataFrame) -> str:
    """'model \\ seq_len': the row keys and the column key of a pivot."""
    return " \\ ".join(name for name in (frame.index.name, frame.columns.name) if name)


def markdown(frame: pd.DataFrame) -> str:
    """A GitHub Markdown table of a pivot (pandas' to_markdown needs tabulate)."""
    header = [corner(frame), *map(str, frame.columns)]
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join(["---"] + ["---:"] * len(frame.columns)) + "|",
    ]
    for index, row in frame.iterrows():
        lines.append("| " + " | ".join([str(index), *map(str, row)]) + " |")
    return "\n".join(lines)


def failure_lines(report: Report) -> list[str]:
    lines = []
    for run in report.failures:
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
    parts = []
    for metric in report.metrics:
        parts += [f"## {metric}", "", markdown(report.table(metric)), ""]
    parts.append(
        "Cells: mean ± std over the completed runs (seeds) of each configuration; "
        "[n failed] / [n diverged] count the runs that did not complete."
    )
    if report.failures:
        parts += ["", "## Failures", ""] + [f"- {line}" for line in failure_lines(report)]
    return "\n".join(parts) + "\n"


def write_report(report: Report, out_dir: Path) -> list[Path]:
    """Write comparison.csv (one line per cell and metric), comparison.md and comparison.png."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path, md_path = out_dir / CSV_FILE, out_dir / MARKDOWN_FILE
    write_atomically(csv_path, lambda tmp: report.cells.to_csv(tmp, index=False))
    text = markdown_report(report)
    write_atomically(md_path, lambda tmp: tmp.write_text(text))
    written = [csv_path, md_path]
    if not report.cells.empty:
        from dlrun.report_plot import plot_report

        written.append(plot_report(report, out_dir / PLOT_FILE))
    return written


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
        console.print(line, style="red", markup=False, highlight=False)


def split_keys(text: str | None) -> list[str] | None:
    return None if text is None else [key for key in text.split(",") if key]


def main(argv: list[str] | None = None) -> int:
    """dlrun-report PATH... [--rows K --cols K --metric M --out DIR]."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(
        prog="dlrun-report",
        description="Rebuild the comparison table and plot from run or sweep directories.",
    )
    parser.add_argument("paths", nargs="+", type=Path, help="run or sweep directories")
    parser.add_argument("--rows", help="row keys, comma-separated (default: the swept keys)")
    parser.add_argument("--cols", help="column key(s), comma-separated (default: last swept key)")
    parser.add_argument("--metric", help="metric name(s), comma-separated, e.g. val/acc,val/loss")
    parser.add_argument("--out", type=Path, help="output directory (default: the first PATH)")
    args = parser.parse_args(argv)
    missing = [str(path) for path in args.paths if not path.exists()]
    if missing:
        print(f"dlrun-report: error: no such directory: {', '.join(missing)}", file=sys.stderr)
        return 2
    report = build_report(
        args.paths, split_keys(args.rows), split_keys(args.cols), split_keys(args.metric)
    )
    if not report.runs:
        print(
            f"dlrun-report: error: no run records (summary.json) under "
            f"{', '.join(map(str, args.paths))}",
            file=sys.stderr,
        )
        return 2
    out = args.out or (args.paths[0] if args.paths[0].is_dir() else args.paths[0].parent)
    print_report(report)
    for path in write_report(report, out):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
