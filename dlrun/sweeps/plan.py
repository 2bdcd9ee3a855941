"""Before a sweep's first job: the tasks its jobs will train, and report.metrics checked against
the metrics those tasks record, so that a misspelt or impossible name (val/acc of a regression
task) is refused before anything trains rather than after.

Only the swept keys that can change a run's task are expanded (the dataset, model and
experiment groups and their keys); each distinct combination is composed once through Hydra's
compose API and asked for its task (dlrun.build.planned_task), which loads no data unless the
target decides the task (a user's file).
"""

from itertools import product

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Glob
from omegaconf import DictConfig

from dlrun.config.compose import compose_config, options
from dlrun.errors import InputError
from dlrun.tasks import METRIC_NAMES, SPLITS, TASKS, recorded_names

# the config groups, and the keys below them, that decide the task a run trains
TASK_GROUPS = ("dataset", "model", "experiment")


def decides_task(key: str) -> bool:
    """Whether an override of `key` (`dataset`, `+dataset.task`, `model.family`) may change the
    task."""
    name = key.lstrip("+~")
    return any(name == group or name.startswith(f"{group}.") for group in TASK_GROUPS)


def task_combinations(config: DictConfig) -> list[list[str]] | None:
    """The override lists that decide the tasks of a sweep's jobs, each distinct one once:
    the keys that decide a task with every swept value, the others with their first value (or
    left out when swept by ranges or intervals). None when a key that decides the task is swept
    in another sweeper's syntax, whose values are not known before the sweep."""
    params = [f"{k}={v}" for k, v in (config.hydra.sweeper.get("params") or {}).items()]
    try:
        overrides = OverridesParser.create().parse_overrides(
            params + list(config.hydra.overrides.task)
        )
    except Exception:  # another sweeper's syntax: its jobs are not known here
        return None
    final = {override.get_key_element(): override for override in overrides}  # last one wins
    choices: list[list[str]] = []
    for key, override in final.items():
        if key.startswith("hydra") or key == "repeats":
            continue
        if not override.is_sweep_override():
            choices.append([override.input_line])
        elif override.is_discrete_sweep():
            values = swept_values(override)
            choices.append(
                [f"{key}={value}" for value in values[: None if decides_task(key) else 1]]
            )
        elif decides_task(key):
            return None
    return [list(combination) for combination in product(*choices)]


def swept_values(override) -> list[str]:
    """The values of a discrete sweep, a glob's as the options of the group it matches."""
    value = override.value()
    if isinstance(value, Glob):
        return value.filter(options(override.get_key_element()))
    return list(override.sweep_string_iterator())


def planned_tasks(config: DictConfig) -> set[str] | None:
    """The tasks the sweep's jobs will train; None when they cannot be known before it runs. A
    combination that does not compose or whose data do not load is left out: its jobs fail
    with their own error line, and record no metric."""
    from dlrun.build import planned_task  # torch: only for sweeps that name report.metrics

    combinations = task_combinations(config)
    if combinations is None:
        return None
    tasks = set()
    for overrides in combinations:
        try:
            cfg, _ = compose_config(*overrides)
            tasks.add(planned_task(cfg))
        except Exception:
            continue
    return tasks or None


def check_report_metrics(metrics: list[str], tasks: set[str]) -> None:
    """Refuse a report.metrics name that no job can record: a split's metric its task lacks
    (val/acc of a regression), or a metric without its split (acc for val/acc). Other names are
    analysis metrics (invariance/<layer>, init/grad_rate) or summary.json's numbers (n_params,
    train_time_s), which only the runs tell."""
    recorded = {name for task in tasks for name in recorded_names(task)}
    bare = {name for names in METRIC_NAMES.values() for name in names}
    for metric in map(str, metrics):
        split = metric.removeprefix("baseline/").split("/")[0]
        if metric in bare:
            raise InputError(
                f"report.metrics={metric}: a metric is named with its split, e.g. "
                f"val/{metric}; {allowed(tasks)}"
            )
        if split in SPLITS and metric not in recorded:
            raise InputError(
                f"report.metrics={metric}: no job of this sweep records it; {allowed(tasks)}"
            )


def allowed(tasks: set[str]) -> str:
    """What the jobs of a sweep of these tasks record, in one phrase."""
    ordered = [task for task in TASKS if task in tasks]
    names = list(dict.fromkeys(name for task in ordered for name in METRIC_NAMES[task]))
    return (
        f"allowed for task {', '.join(ordered)}: "
        f"{'|'.join(SPLITS)}/{'|'.join(names)} (e.g. val/{names[-1]}), the same under "
        "baseline/, an analysis's metrics (e.g. init/grad_rate) and summary.json's numbers "
        "(n_params, train_time_s)"
    )
