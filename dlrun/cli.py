"""The `dlrun` command: Hydra composes the config, then each seed of the job runs."""

import logging
import signal
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
def hydra_main(cfg: DictConfig) -> dict | float | None:
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

    job, console = Job.from_hydra(cfg), RunConsole()
    single = job.sweep_dir is None  # a sweep names its directory in its own lines
    try:
        if single:
            console.run_directory("run directory:", job.directory)
        summary = run_job(job, console)
        returned = job_return(summary, cfg.objective, HydraConfig.get().sweeper)
    except (InputError, OSError) as error:
        print(f"dlrun: error: {' '.join(str(error).split())}", file=sys.stderr)
        sys.exit(2)
    if single:
        console.run_directory("results in", job.directory)
    return returned


# Hydra's flags that only print (help, the composed config, shell completion) and exit
PRINT_ONLY_FLAGS = {"--help", "-h", "--hydra-help", "--cfg", "-c", "--info", "-i", "-sc"}
PRINT_ONLY_FLAGS |= {"--shell-completion", "--version"}


def main() -> None:
    """The `dlrun` entry point. A command that only prints stops quietly when its reader does
    (`dlrun --help | head -3`), killed by SIGPIPE as Unix tools are: Hydra would report the
    BrokenPipeError with a traceback. A run's lines cope with a closed pipe themselves."""
    print_only = any(arg.split("=")[0] in PRINT_ONLY_FLAGS for arg in sys.argv[1:])
    if not (print_only and hasattr(signal, "SIGPIPE")):  # Windows has no SIGPIPE
        hydra_main()
        return
    previous = signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    try:
        hydra_main()
    finally:  # in-process callers (the tests) keep Python's handling
        signal.signal(signal.SIGPIPE, previous)


if __name__ == "__main__":
    main()
