"""The `dlrun` command: Hydra composes the config, then each seed of the job runs."""

import logging
import re
import sys

import hydra
from omegaconf import DictConfig

from dlrun.config import register_schemas
from dlrun.errors import InputError
from dlrun.paths import config_dir
from dlrun.print_only import is_print_only, quiet_broken_pipe

register_schemas()
# hydra/sweeper=optuna imports alembic (through optuna's storages), which logs a line per plugin
logging.getLogger("alembic").setLevel(logging.WARNING)


@hydra.main(version_base="1.3", config_path=str(config_dir()), config_name="config")
def hydra_main(cfg: DictConfig) -> dict | float | None:
    """Run the composed config: each seed into its directory (dlrun.job, dlrun.run).

    Bad input, a record that cannot be trusted or written (dlrun.record.guard, a full disk) end
    the command with one line and exit code 2; in a sweep a failing run is a result of the
    sweep, not its end. An optimising sweeper (hydra/sweeper=optuna) gets the objective metric
    as a float.
    """
    # imported here, not at the top: `--help`, `--cfg`, shell completion and composition errors
    # never reach this function, so they never pay for torch, pandas or scikit-learn
    from hydra.core.hydra_config import HydraConfig

    from dlrun.console import RunConsole
    from dlrun.interrupt import pending
    from dlrun.job import Job, resume_command, run_job
    from dlrun.objective import job_return
    from dlrun.record.guard import check_output, claim_output, refusal

    hydra_cfg = HydraConfig.get()
    job, console = Job.from_hydra(cfg), RunConsole()
    single = job.sweep_dir is None  # a sweep names its directory in its own lines
    try:
        check_output(cfg, hydra_cfg)
        if single:  # a sweep's command holds its directory (dlrun.sweeps.callback)
            claim_output(cfg, hydra_cfg)
    except Exception as error:  # a damaged record it reads: no run may start on it
        print(f"dlrun: error: {refusal(error)}", file=sys.stderr)
        sys.exit(2)
    try:
        if single:
            console.run_directory("run directory:", job.directory)
            pending.resume = resume_command(hydra_cfg, job.directory, multirun=False)
        summary = run_job(job, console)
        returned = job_return(summary, cfg.objective, None if single else hydra_cfg.sweeper)
    except (InputError, OSError) as error:
        print(f"dlrun: error: {refusal(error)}", file=sys.stderr)
        sys.exit(2)
    if single:
        console.run_directory("results in", job.directory)
    return returned


def refuse_huge_numbers(arguments: list[str]) -> None:
    """An override holding a number of more digits than Python converts (4,300, a guard
    against slow conversions) would end in a traceback inside Hydra's parser: one line here."""
    limit = sys.get_int_max_str_digits()
    for argument in arguments:
        key, _, value = argument.partition("=")
        digits = max(map(len, re.findall(r"\d+", value)), default=0)
        if limit and digits > limit:
            print(
                f"dlrun: error: {key}={value[:24]}... ({digits} digits) is not allowed: "
                "integers must lie within -2^63 .. 2^63 - 1 (19 digits)",
                file=sys.stderr,
            )
            sys.exit(2)


def main() -> None:
    """The `dlrun` entry point. A command that only prints stops quietly when its reader does;
    a run's lines cope with a closed pipe themselves. Ctrl-C and SIGTERM end a run or sweep
    with its record written and one line saying how to resume it (dlrun.interrupt)."""
    from dlrun.interrupt import Interrupted, end_interrupted, signals_interrupt

    refuse_huge_numbers(sys.argv[1:])
    if is_print_only(sys.argv[1:]):
        with quiet_broken_pipe():
            hydra_main()
        return
    from dlrun.record.lock import release_all

    with signals_interrupt():
        try:
            hydra_main()
        except Interrupted as stop:
            end_interrupted(stop)
        finally:
            release_all()


if __name__ == "__main__":
    main()
