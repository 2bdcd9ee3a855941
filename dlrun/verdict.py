"""What a run's result means: its metrics against the task's trivial predictor (fitted on the
training split, scored by the same metric functions) and the dataset's success criterion."""

from dataclasses import dataclass

from dlrun import tasks
from dlrun.data.base import Criterion
from dlrun.data.splits import Data
from dlrun.report.render import format_metric


def baseline_metrics(data: Data) -> dict[str, dict[str, float]]:
    """The trivial predictor's metrics on every split: mean predictor, majority class or
    constant rate, fitted on the training split (dlrun.tasks.baseline_eta)."""
    eta = tasks.baseline_eta(data.task, data.train.y, data.n_classes)
    return {
        name: tasks.baseline_metrics(data.task, eta, split.y) for name, split in data.splits.items()
    }


@dataclass
class Verdict:
    """A run judged on one split (test, else val, else train)."""

    task: str
    split: str
    metrics: dict[str, float]
    baseline: dict[str, float]
    # e.g. "mse < 0.01" (dlrun.data.base.Criterion); None: the dataset defines no "solved"
    criterion: Criterion | None

    @property
    def baseline_name(self) -> str:
        return tasks.BASELINE_NAMES[self.task]

    @property
    def beats_baseline(self) -> bool:
        return tasks.beats_baseline(self.task, self.metrics, self.baseline)

    @property
    def solved(self) -> bool | None:
        if self.criterion is None:
            return None
        return self.criterion.met(self.metrics)

    def line(self) -> str:
        """'test mse 0.0021 (mean predictor 0.167): solved', or what it falls short of."""
        name, label = tasks.HEADLINE_METRICS[self.task], tasks.HEADLINE_LABELS[self.task]
        value = format_metric(name, self.metrics[name])
        reference = format_metric(name, self.baseline[name])
        text = f"{self.split} {label} {value} ({self.baseline_name} {reference}): "
        outcomes = []
        if not self.beats_baseline:
            outcomes.append(f"no better than the {self.baseline_name}")
        if self.solved is not None:
            outcomes.append("solved" if self.solved else f"not solved ({self.criterion_text})")
        elif self.beats_baseline:
            outcomes.append(f"better than the {self.baseline_name}")
        return text + "; ".join(outcomes)

    @property
    def criterion_text(self) -> str | None:
        return None if self.criterion is None else f"{self.split} {self.criterion}"

    def summary(self) -> dict:
        """summary.json's fields: baseline, beats_baseline, criterion, solved, verdict."""
        return {
            "baseline": self.baseline_name,
            "beats_baseline": self.beats_baseline,
            "criterion": self.criterion_text,
            "solved": self.solved,
            "verdict": self.line(),
        }


def judge(data: Data, metrics: dict[str, dict[str, float]], baseline: dict) -> Verdict:
    """Judge the final metrics on the test split, else val, else train."""
    split = next(name for name in ("test", "val", "train") if name in metrics)
    return Verdict(data.task, split, metrics[split], baseline[split], data.criterion)
