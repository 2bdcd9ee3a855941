"""The number a hyperparameter sweeper optimises: one metric of the job's summary (`objective`).

    dlrun -m hydra/sweeper=optuna hydra.sweeper.n_trials=20 'optimizer.lr=interval(1e-3,1)'

A failed, diverged or skipped job returns the worst value, +inf when minimising and -inf when
maximising: Optuna then records the trial as complete and ranks it last. NaN would make Optuna
(2.10, which hydra-optuna-sweeper 1.3 installs) mark the trial FAIL, which its samplers ignore
rather than avoid, and a sweep whose every trial failed would end in an error (no best trial).
"""

import math

from omegaconf import DictConfig, ListConfig

from dlrun.errors import InputError


class ObjectiveError(InputError):
    """An objective that no trial can give: it ends the sweep before trial 0 trains, not one
    trial (which would give the sweeper the worst value, trial after trial)."""


def check_objective(name: str, splits: list[str], task: str, analysed: bool) -> None:
    """Refuse, before training, an objective the data's splits and task cannot give. Metrics
    of analyses (analyze.*) are known only after training: with any analysis selected, only
    names of a split (train/, val/, test/, baseline/) are checked."""
    from dlrun.tasks import METRIC_NAMES  # torch: not for the sweeper's float above

    prefixes = ("", "baseline/")
    names = [f"{p}{s}/{m}" for p in prefixes for s in splits for m in METRIC_NAMES[task]]
    if name in names:
        return
    split = name.removeprefix("baseline/").split("/")[0]
    if analysed and split not in ("train", "val", "test"):
        return
    raise ObjectiveError(
        f"objective={name} is not a metric of this run ({task} task, splits "
        f"{', '.join(splits)}); allowed: {', '.join(names)}"
    )


def optimising(sweeper: DictConfig | None) -> bool:
    """Whether the sweeper optimises what a job returns: one with a `direction`
    (hydra-optuna-sweeper). Hydra's grid sweeper (`-m a=1,2`) ignores it, and a single run
    has no sweeper to return to."""
    return sweeper is not None and "direction" in sweeper


def direction_name(direction) -> str:
    """`minimize` or `maximize`, from hydra-optuna-sweeper's Direction enum or a string."""
    return str(getattr(direction, "name", direction)).split(".")[-1]


def worst_value(direction: str) -> float:
    return -math.inf if direction == "maximize" else math.inf


def objective_value(summary: dict | None, name: str, direction: str = "minimize") -> float:
    """summary['metrics'][name] as a float; the worst value for a job that did not complete
    or whose metric is not finite. A completed job without that metric is bad input."""
    if summary is None or summary.get("status") != "completed":
        return worst_value(direction)
    metrics = summary.get("metrics") or {}
    if name not in metrics:
        names = ", ".join(sorted(metrics))
        raise InputError(f"objective={name} is not a metric of this run; allowed: {names}")
    value = math.nan if metrics[name] is None else float(metrics[name])
    return value if math.isfinite(value) else worst_value(direction)


def job_return(summary: dict | None, name: str, sweeper: DictConfig | None) -> dict | float | None:
    """What a job returns to Hydra: the objective, the float an optimising sweeper expects
    (`sweeper` is hydra.sweeper, None for a single run); else the summary."""
    if not optimising(sweeper):
        return summary
    direction = sweeper.get("direction", "minimize")
    if isinstance(direction, ListConfig | list):
        raise InputError(
            f"hydra.sweeper.direction={list(direction)}: dlrun's objective is one metric, "
            "so the direction is one of: minimize, maximize"
        )
    return objective_value(summary, name, direction_name(direction))
