"""What a run shows: log lines above a live progress bar, one line per evaluation, a table.

Every line goes through one rich console, TERMINAL: Hydra's job logging prints through it
(TerminalHandler, conf/hydra/job_logging/dlrun.yaml) and the progress bar draws on it, so a
line lands above the live bar instead of onto its row. The log file keeps Hydra's format.
"""

import logging
import math
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from dlrun.report.render import format_metric

log = logging.getLogger("dlrun")


def silence_stdout() -> None:
    """Point stdout at /dev/null once its reader is gone (`dlrun | head -3`): Python
    flushes stdout again at exit, and that flush would fail with a second BrokenPipeError."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


class RunTerminal(Console):
    """rich's console, except that a reader that stops early (`dlrun | head -3`) does not end
    the run: rich would exit at once, leaving a run record without its summary."""

    def on_broken_pipe(self) -> None:
        self.quiet = True  # what rich does too: nothing more is written
        silence_stdout()


# file=None: the console writes to whatever sys.stdout is at the time (pytest's capture too)
TERMINAL = RunTerminal(highlight=False)
# the task's main metric, shown in the per-epoch line; every metric is in metrics.csv
HEADLINE_METRICS = ("acc", "r2", "deviance")


class TerminalHandler(logging.Handler):
    """Log records printed through TERMINAL: above a live progress bar, without a timestamp
    (the log file has it); warnings and errors say their level."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
            if record.levelno >= logging.WARNING:
                text = f"{record.levelname.lower()}: {text}"
            # a terminal wraps at word boundaries; a pipe or a file gets the line unbroken
            TERMINAL.print(text, markup=False, soft_wrap=not TERMINAL.is_terminal)
        except Exception:
            self.handleError(record)


def short_number(text: str) -> str:
    """A number's text without the exponent's padding: 3.166e+04 -> 3.166e4, 1e-05 -> 1e-5."""
    return re.sub(r"e\+?(-?)0*(\d)", r"e\1\2", text)


def evaluation_line(epoch: int, metrics: dict[str, dict[str, float]], grad_norm: float) -> str:
    """epoch 3 | train loss 0.4123 | val loss 0.4410 | val acc 87.20% | grad 1.93

    The losses of the splits but test (kept for the end) and the task's main metric on the
    last of them (val), so the line fits 80 columns; metrics.csv holds every metric.
    """
    splits = [split for split in metrics if split != "test"] or list(metrics)
    parts = [f"epoch {epoch}"]
    parts += [
        f"{split} loss {short_number(format_metric('loss', metrics[split]['loss']))}"
        for split in splits
    ]
    last = metrics[splits[-1]]
    for name in HEADLINE_METRICS:
        if name in last:
            parts.append(f"{splits[-1]} {name} {short_number(format_metric(name, last[name]))}")
            break
    if not math.isnan(grad_norm):  # NaN for a closed-form fit: no gradient steps
        parts.append(f"grad {short_number(f'{grad_norm:.3g}')}")
    return " | ".join(parts)


def shown_path(path: Path) -> str:
    """path relative to the working directory when inside it (outputs/runs/...), else absolute."""
    relative = os.path.relpath(path)
    return path.as_posix() if relative.startswith("..") else relative


class StepProgress(Progress):
    """A progress bar that reads the steps of the running epoch from a counter when it redraws
    (5 times a second, on rich's thread), so the training loop pays nothing per step."""

    # (offset, counter): the bar shows offset + counter(); one attribute, so that rich's thread
    # never pairs one epoch's offset with another's counter
    source: tuple[int, Callable[[], int]] | None = None

    def get_renderables(self):
        source = self.source
        if source is not None and self.tasks:
            offset, counter = source
            self.update(self.tasks[0].id, completed=offset + counter())
        yield from super().get_renderables()


class RunConsole:
    """Progress bar when stdout is a terminal, plain log lines otherwise (CI, files)."""

    def __init__(self, interactive: bool | None = None) -> None:
        self.interactive = sys.stdout.isatty() if interactive is None else interactive
        self.progress: StepProgress | None = None

    def start(
        self,
        total_epochs: int,
        steps_per_epoch: int = 1,
        max_steps: int | None = None,
        epochs_done: int = 0,
        steps_done: int = 0,
    ) -> None:
        """Show a bar over the run's steps (a resumed run starts at what it has done)."""
        if not self.interactive:
            return
        total = total_epochs * steps_per_epoch
        total = total if max_steps is None else min(total, max_steps)
        last_epoch = -(-total // max(1, steps_per_epoch))  # the bound that applies, in epochs
        self.progress = StepProgress(
            TextColumn(f"epoch {{task.fields[epoch]}}/{last_epoch}"),
            BarColumn(bar_width=None),
            MofNCompleteColumn(),
            TextColumn("steps"),
            TimeElapsedColumn(),
            TextColumn("·"),
            TimeRemainingColumn(),
            TextColumn("left"),
            console=TERMINAL,
            expand=True,
            transient=True,  # gone when training ends: the result table follows
            refresh_per_second=5,  # half rich's default: redraws share the CPU with training
        )
        self.progress.add_task("train", total=total, completed=steps_done, epoch=epochs_done)
        self.progress.start()

    def epoch_started(self, epoch: int, steps_done: int, steps_taken: Callable[[], int]) -> None:
        """The bar counts steps_done + (steps_taken() - its value now) while the epoch runs;
        steps_taken is e.g. the step log's len, which the loop appends to anyway."""
        if self.progress is not None:
            self.progress.update(self.progress.tasks[0].id, completed=steps_done, epoch=epoch)
            self.progress.source = (steps_done - steps_taken(), steps_taken)

    def advance(self, steps_done: int) -> None:
        """An epoch ended after steps_done steps in all: the bar holds there until the next."""
        if self.progress is not None:
            self.progress.source = None
            self.progress.update(self.progress.tasks[0].id, completed=steps_done)

    def line(self, text: str) -> None:
        log.info(text)

    def evaluation(self, epoch: int, metrics: dict, grad_norm: float) -> None:
        self.line(evaluation_line(epoch, metrics, grad_norm))

    def run_directory(self, where: str, directory: Path) -> None:
        """One short line naming a run's directory (at its start and at its end)."""
        self.line(f"{where} {shown_path(directory)}")

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


# where a verdict may break: after the colon that ends its numbers, after each outcome's ';'
PHRASE_END = re.compile(r"(?<=[:;]) ")


def phrase_lines(text: str, width: int) -> str:
    """text on one line where it fits in `width` columns, else broken between its phrases
    (after ':' or ';'), each line holding as many whole phrases as fit."""
    phrases = PHRASE_END.split(text)
    lines = [phrases[0]]
    for phrase in phrases[1:]:
        if len(lines[-1]) + 1 + len(phrase) <= width:
            lines[-1] += " " + phrase
        else:
            lines.append(phrase)
    return "\n".join(lines)


def print_table(title: str, table: Table, footer: str | None = None) -> None:
    """The title, the table, and a closing line (the verdict) when given, broken between its
    phrases where it does not fit the terminal (a word wrap split `not` from `solved`)."""
    console = Console()  # the terminal's width; columns wrap rather than spill over
    console.print(title)
    console.print(table)
    if footer is not None:
        console.print(phrase_lines(footer, console.width))
