"""What an optimising sweeper (hydra/sweeper=optuna) is given, checked before trial 0: the
search space's intervals and ranges, the direction and the number of trials. Each refusal is
one line naming the key, the value and what is allowed; Optuna would otherwise raise its own
error (a traceback) when the study or the first trial is made.
"""

import sys

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import IntervalSweep, RangeSweep
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, ListConfig

from dlrun.errors import InputError
from dlrun.objective import direction_name, optimising

DIRECTIONS = ("minimize", "maximize")


def check_search(config: DictConfig) -> None:
    """Raise InputError for a search space, direction or n_trials Optuna cannot use."""
    sweeper = config.hydra.sweeper
    check_direction(sweeper.get("direction", "minimize"))
    n_trials = sweeper.get("n_trials")
    if n_trials is not None and (not isinstance(n_trials, int) or n_trials < 1):
        raise InputError(
            f"hydra.sweeper.n_trials={n_trials} is not allowed: an integer >= 1 (the trials run)"
        )
    params = [f"{key}={value}" for key, value in (sweeper.get("params") or {}).items()]
    try:
        overrides = OverridesParser.create().parse_overrides(
            params + list(config.hydra.overrides.task)
        )
    except Exception as error:  # noqa: BLE001 - the sweeper reports its own syntax errors
        raise InputError(" ".join(str(error).split())) from None
    for override in overrides:
        if override.is_sweep_override():
            check_dimension(override.get_key_element(), override.value())


def check_direction(direction) -> None:
    if isinstance(direction, ListConfig | list):
        raise InputError(
            f"hydra.sweeper.direction={list(direction)}: dlrun's objective is one metric, so the "
            f"direction is one of: {', '.join(DIRECTIONS)}"
        )
    if direction_name(direction) not in DIRECTIONS:
        raise InputError(
            f"hydra.sweeper.direction={direction_name(direction)} is not allowed: one of "
            f"{', '.join(DIRECTIONS)}"
        )


def check_dimension(key: str, value) -> None:
    """An interval whose low end lies below its high end (above 0 on a log scale), a range
    that holds at least one value."""
    if isinstance(value, IntervalSweep):
        shown = f"{key}=interval({value.start}, {value.end})"
        if not value.start < value.end:
            raise InputError(f"{shown} is empty: an interval(low, high) needs low < high")
        if "log" in value.tags and value.start <= 0:
            raise InputError(
                f"{shown} is on a log scale (tag log) and starts at {value.start}: a log "
                "interval needs 0 < low < high"
            )
    if isinstance(value, RangeSweep):
        step = value.step or 1
        if step == 0 or (value.stop - value.start) / step <= 0:
            raise InputError(
                f"{key}=range({value.start}, {value.stop}, step={value.step}) holds no value; "
                "allowed: a range whose step leads from start towards stop"
            )


def quiet_optuna(config: DictConfig) -> None:
    """Optuna's INFO lines (a new study, each trial's value) go to stderr, where dlrun's one
    refusal line must stand alone: they show only with hydra.verbose=optuna (or true)."""
    verbose = config.hydra.get("verbose", False)
    names = [verbose] if isinstance(verbose, str) else list(verbose or [])
    if verbose is True or "optuna" in names:
        return
    import optuna  # installed with the sweeper that optimises

    optuna.logging.set_verbosity(optuna.logging.WARNING)


class SearchGuard(Callback):
    """An optimising sweeper's search space, direction and n_trials, refused in one line with
    exit code 2 before trial 0 and before the sweep directory is made (conf/config.yaml lists
    it first under hydra.callbacks; Hydra would turn an exception here into a warning, so it
    exits); Optuna's INFO lines kept off stderr."""

    def on_multirun_start(self, config: DictConfig, **kwargs) -> None:
        if not optimising(config.hydra.sweeper):
            return
        try:
            check_search(config)
        except InputError as error:
            print(f"dlrun: error: {error}", file=sys.stderr)
            sys.exit(2)
        quiet_optuna(config)
