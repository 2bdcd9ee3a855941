"""The `dlrun` command: compose the config (Hydra) -> build -> train -> record."""

import logging
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from dlrun.config import register_schemas
from dlrun.console import RunConsole
from dlrun.errors import InputError
from dlrun.jobs import Job, run_job
from dlrun.objective import job_return
from dlrun.paths import config_dir

register_schemas()
# hydra/sweeper=optuna imports alembic (through optuna's storages), which logs a line per plugin
logging.getLogger("alembic").setLevel(logging.WARNING)


def command_line(overrides: list[str]) -> str:
    return " ".join(["dlrun", *(f"'{o}'" if " " in o or "[" in o else o for o in overrides)])


@hydra.main(version_base="1.3", config_path=str(config_dir()), config_name="config")
def main(cfg: DictConfig) -> dict | float | None:
    hydra_cfg = HydraConfig.get()
    run_dir = Path(hydra_cfg.runtime.output_dir)
    names = dict(hydra_cfg.runtime.choices)
    command = command_line(list(hydra_cfg.overrides.task))
    # in a sweep, a failing job is recorded as a result of the sweep (dlrun.jobs), not its end
    sweep_dir = Path(hydra_cfg.sweep.dir) if hydra_cfg.mode == RunMode.MULTIRUN else None
    job = Job(cfg, run_dir, names, list(hydra_cfg.overrides.task), command, sweep_dir)
    try:
        # an optimising sweeper (hydra/sweeper=optuna) gets the objective metric as a float
        return job_return(run_job(job, RunConsole()), cfg.objective, hydra_cfg.sweeper)
    except InputError as error:
        print(f"dlrun: error: {error}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
