"""The run directory: metrics.csv, steps.csv, summary.json, checkpoint.pt, best.pt,
coefficients.csv.

Every file is written whole: to a temporary name in the same directory, then renamed, so a
reader (or a killed run) never sees half a file.
"""

import json
import math
import subprocess
import sys
from functools import partial
from pathlib import Path

import pandas as pd
import torch

import dlrun

# check_writable_directory is torch-free (the report checks --out with it); importable here too
from dlrun.record.atomic import check_writable_directory, write_atomically  # noqa: F401
from dlrun.record.logger import CsvLogger

METRICS_FILE, STEPS_FILE, SUMMARY_FILE = "metrics.csv", "steps.csv", "summary.json"
JOB_FILE = "job.json"  # what a job is (its config hash) and whether it ran to its end
CHECKPOINT_FILE, COEFFICIENTS_FILE = "checkpoint.pt", "coefficients.csv"
# the selected weights (trainer.early_stopping): checkpoint.pt's format, without resume state
BEST_FILE = "best.pt"


# what a run writes into its directory besides Hydra's .hydra/ and log
RECORD_FILES = (JOB_FILE, SUMMARY_FILE, CHECKPOINT_FILE, METRICS_FILE, STEPS_FILE)


def holds_records(directory: Path) -> bool:
    """Whether a run or job has written into directory (Hydra's .hydra/ alone does not count)."""
    return any((directory / name).exists() for name in RECORD_FILES) or any(
        directory.glob("seed-*")
    )


def read_json(path: Path) -> dict | None:
    """A JSON file's content; None when it is missing or unreadable (a kill, another tool)."""
    try:
        content = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    return content if isinstance(content, dict) else None


def resume_state(generator: torch.Generator) -> dict:
    """What a checkpoint needs to continue the same computation: both RNG streams and the
    intra-op thread count (a reduction's low bits depend on how it was split over threads)."""
    return {
        "generator": generator.get_state(),
        "torch_rng": torch.get_rng_state(),
        "threads": torch.get_num_threads(),
    }


def finite_or_none(value):
    """JSON has no NaN or infinity: such values become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: finite_or_none(item) for key, item in value.items()}
    if isinstance(value, list):
        return [finite_or_none(item) for item in value]
    return value


def flatten_metrics(metrics: dict[str, dict[str, float]]) -> dict[str, float]:
    """{'val': {'acc': 0.9}} -> {'val/acc': 0.9}, the names used in CSVs, summaries and tables."""
    return {
        f"{split}/{name}": value
        for split, values in metrics.items()
        for name, value in values.items()
    }


def versions() -> dict[str, str]:
    return {
        "dlrun": dlrun.__version__,
        "torch": torch.__version__,
        "python": sys.version.split()[0],
    }


def git_output(*args: str) -> str | None:
    """What `git <args>` prints about dlrun's source tree; None when it is not a git checkout
    (or git is missing)."""
    try:
        result = subprocess.run(
            ["git", *args],
            cwd=Path(dlrun.__file__).parent,
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def git_commit() -> str | None:
    """The commit of dlrun's source tree, when it is a git checkout."""
    return git_output("rev-parse", "HEAD") or None


def git_dirty() -> bool | None:
    """Whether dlrun's checkout has uncommitted changes to tracked files (None: not a checkout);
    the HTML report's provenance shows it beside the commit."""
    status = git_output("status", "--porcelain", "--untracked-files=no")
    return None if status is None else bool(status)


class GrowingCsv:
    """The text of a CSV file that only grows (metrics.csv, steps.csv): each write formats only
    the items (rows, or frames of rows) added since the last one, and the file is still replaced
    whole. Rebuilding the whole file from a data frame at every evaluation made a long run's
    writes grow with the square of its length (3.4 s of writes against 1.2 s of training for 200
    epochs of an MLP on digits)."""

    def __init__(self, as_frame) -> None:
        self.as_frame, self.text, self.columns, self.items = as_frame, "", None, 0

    def extend(self, items: list) -> str:
        """The file's text for all `items`, of which the first `self.items` are written; from
        all of them again when nothing was written yet or the columns change."""
        new = items[self.items :]
        if self.items and not new:
            return self.text
        frame = self.as_frame(new) if self.items else None
        if frame is None or list(frame.columns) != self.columns:
            frame = self.as_frame(items)
            self.text, self.columns = frame.to_csv(index=False), list(frame.columns)
        else:
            self.text += frame.to_csv(index=False, header=False)
        self.items = len(items)
        return self.text


class RunRecord:
    """Writes one run's files into its directory, and hands their numbers to `logger`
    (dlrun.record.logger: logger=tensorboard)."""

    def __init__(self, directory: Path, logger: CsvLogger | None = None) -> None:
        self.directory = Path(directory)
        self.logger = CsvLogger(self.directory) if logger is None else logger
        self.directory.mkdir(parents=True, exist_ok=True)
        self.evaluations: list[dict] = []
        self.step_frames: list[pd.DataFrame] = []
        self.last_lr = float("nan")
        self.growing = {
            METRICS_FILE: GrowingCsv(pd.DataFrame),
            STEPS_FILE: GrowingCsv(partial(pd.concat, ignore_index=True)),
        }

    def path(self, name: str) -> Path:
        return self.directory / name

    def write_csv(self, name: str, frame: pd.DataFrame) -> None:
        write_atomically(self.path(name), lambda tmp: frame.to_csv(tmp, index=False))

    def write_text(self, name: str, text: str) -> None:
        write_atomically(self.path(name), lambda tmp: tmp.write_text(text))

    def write_figure(self, name: str, figure) -> None:
        """A matplotlib Figure, in the format of the name's suffix (.png), at the figure's dpi."""
        image_format = Path(name).suffix.lstrip(".")  # the temporary name's suffix is .tmp
        write_atomically(self.path(name), lambda tmp: figure.savefig(tmp, format=image_format))

    def write_json(self, name: str, content: dict) -> None:
        text = json.dumps(finite_or_none(content), indent=2, default=str)
        write_atomically(self.path(name), lambda tmp: tmp.write_text(text + "\n"))

    def add_steps(
        self, first_step: int, epochs: list[int], losses, grad_norms, lrs: list[float]
    ) -> None:
        """Keep per-step loss, gradient norm and step size (written with the next evaluation)."""
        n = len(losses)
        frame = pd.DataFrame(
            {
                "step": range(first_step + 1, first_step + n + 1),
                "epoch": epochs,
                "loss": losses.double().numpy(),
                "grad_norm": grad_norms.double().numpy(),
                "lr": lrs,
            }
        )
        self.step_frames.append(frame)
        self.logger.log_steps(frame)
        self.last_lr = lrs[-1] if lrs else float("nan")

    def add_evaluation(
        self, epoch: int, step: int, metrics: dict, grad_norm: float, lr: float, elapsed_s: float
    ) -> None:
        """Append one row per split to metrics.csv, and the steps since the last evaluation to
        steps.csv; both files are replaced whole (a reader never sees half a row)."""
        for split, values in metrics.items():
            row = {"epoch": epoch, "step": step, "split": split, **values}
            self.evaluations.append(
                row | {"grad_norm": grad_norm, "lr": lr, "elapsed_s": elapsed_s}
            )
        self.logger.log_evaluation(step, flatten_metrics(metrics))
        self.write_text(METRICS_FILE, self.growing[METRICS_FILE].extend(self.evaluations))
        if self.step_frames:
            self.write_text(STEPS_FILE, self.growing[STEPS_FILE].extend(self.step_frames))

    def add_test(self, step: int, metrics: dict[str, float]) -> None:
        """The test split's metrics, evaluated once at the end on the selected weights: to the
        logger only, since metrics.csv holds the per-evaluation train and val rows."""
        self.logger.log_evaluation(step, flatten_metrics({"test": metrics}))

    def save_checkpoint(self, model, optimizer, epoch: int, step: int, **resume_state) -> None:
        """Model and optimizer state, loadable with torch.load(..., weights_only=True);
        `resume_state` (RNG states, threads, training time, early-stopping state) lets a
        resumed run continue exactly (dlrun.record.resume)."""
        self._save_state(CHECKPOINT_FILE, model, optimizer, epoch, step, **resume_state)

    def save_best(self, model, optimizer, epoch: int, step: int) -> None:
        """best.pt: the weights of the best evaluation so far, in checkpoint.pt's format."""
        self._save_state(BEST_FILE, model, optimizer, epoch, step)

    def load_best(self, model, epoch: int) -> None:
        """Load best.pt's weights into model; it must hold those of `epoch` (the selected)."""
        state = torch.load(self.path(BEST_FILE), map_location="cpu", weights_only=True)
        # a mismatch means best.pt was written by another run in this directory
        assert state["epoch"] == epoch, f"best.pt holds epoch {state['epoch']}, not {epoch}"
        model.load_state_dict(state["model"])

    def _save_state(self, name: str, model, optimizer, epoch: int, step: int, **extra) -> None:
        state = {
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "epoch": epoch,
            "step": step,
            **extra,
        }
        write_atomically(self.path(name), lambda tmp: torch.save(state, tmp))

    def write_summary(self, summary: dict) -> None:
        self.write_json(SUMMARY_FILE, summary)
