"""What a run shows: a rich progress bar on a terminal, one log line per evaluation, a table."""

import logging
import sys

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from dlrun.report.render import format_metric

log = logging.getLogger("dlrun")


def evaluation_line(epoch: int, metrics: dict[str, dict[str, float]], grad_norm: float) -> str:
    """epoch 3 | train loss 0.4123 | val loss 0.4410 | val acc 87.20% | grad 1.93"""
    parts = [f"epoch {epoch}"]
    for split, values in metrics.items():
        for name, value in values.items():
            parts.append(f"{split} {name} {format_metric(name, value)}")
    parts.append(f"grad {grad_norm:.3g}")
    return " | ".join(parts)


class RunConsole:
    """Progress bar when stdout is a terminal, plain log lines otherwise (CI, files)."""

    def __init__(self, interactive: bool | None = None) -> None:
        self.interactive = sys.stdout.isatty() if interactive is None else interactive
        self.progress: Progress | None = None

    def start(self, total_epochs: int) -> None:
        if not self.interactive:
            return
        self.progress = Progress(
            TextColumn("training"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("epochs"),
            TimeElapsedColumn(),
            transient=True,
        )
        self.task = self.progress.add_task("train", total=total_epochs)
        self.progress.start()

    def advance(self) -> None:
        if self.progress is not None:
            self.progress.advance(self.task)

    def line(self, text: str) -> None:
        log.info(text)

    def evaluation(self, epoch: int, metrics: dict, grad_norm: float) -> None:
        self.line(evaluation_line(epoch, metrics, grad_norm))

    def stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None


def result_table(
    metrics: dict[str, dict[str, float]],
    baseline: dict[str, dict[str, float]] | None = None,
    baseline_name: str = "baseline",
) -> Table:
    """Rows: splits, then the trivial predictor on each split; columns: loss and the task's
    metrics."""
    names = list(dict.fromkeys(name for values in metrics.values() for name in values))
    table = Table()
    table.add_column("split")
    for name in names:
        table.add_column(name, justify="right")
    rows = [(split, values, None) for split, values in metrics.items()]
    rows += [
        (f"{split}: {baseline_name}", values, "dim") for split, values in (baseline or {}).items()
    ]
    for label, values, style in rows:
        cells = [format_metric(name, values[name]) if name in values else "" for name in names]
        table.add_row(label, *cells, style=style)
    return table


def print_table(title: str, table: Table, footer: str | None = None) -> None:
    """The title, the table, and a closing line (the verdict) when given."""
    console = Console()  # the terminal's width; columns wrap rather than spill over
    console.print(title)
    console.print(table)
    if footer is not None:
        console.print(footer)
