"""The `dlrun` command: Hydra composes the config, then each seed of the job runs."""

import logging
import sys

import hydra
from omegaconf import DictConfig

from dlrun.config import register_schemas
from dlrun.errors import InputError
from dlrun.paths import config_dir

register_schemas()
# hydra/sweeper=optuna imports alembic (through optuna's storages), which logs a line per plugin
logging.getLogger("alembic").setLevel(logging.WARNING)


@hydra.main(version_base="1.3", config_path=str(config_dir()), config_name="config")
def main(cfg: DictConfig) -> dict | float | None:
    """Run the composed config: each seed into its directory (dlrun.sweeps.jobs, dlrun.run).

    Bad input, and a run record that cannot be written (a full disk), end a run with one line
    and exit code 2; in a sweep a failing job is a result of the sweep, not its end. An
    optimising sweeper (hydra/sweeper=optuna) gets the objective metric as a float.
    """
    # imported here, not at the top: `--help`, `--cfg`, shell completion and composition errors
    # never reach this function, so they never pay for torch, pandas or scikit-learn
    from hydra.core.hydra_config import HydraConfig

    from dlrun.console import RunConsole
    from dlrun.objective import job_return
    from dlrun.sweeps.jobs import Job, run_job

    try:
        summary = run_job(Job.from_hydra(cfg), RunConsole())
        return job_return(summary, cfg.objective, HydraConfig.get().sweeper)
    except (InputError, OSError) as error:
        print(f"dlrun: error: {' '.join(str(error).split())}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
