"""The `dlrun` command: compose the config (Hydra) -> build -> train -> record."""

import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from dlrun.console import RunConsole
from dlrun.errors import InputError
from dlrun.paths import config_dir
from dlrun.record import RunRecord
from dlrun.run import run_experiment
from dlrun.schema import register_schemas

register_schemas()


def command_line(overrides: list[str]) -> str:
    return " ".join(["dlrun", *(f"'{o}'" if " " in o or "[" in o else o for o in overrides)])


@hydra.main(version_base="1.3", config_path=str(config_dir()), config_name="config")
def main(cfg: DictConfig) -> dict | None:
    hydra_cfg = HydraConfig.get()
    run_dir = Path(hydra_cfg.runtime.output_dir)
    names = dict(hydra_cfg.runtime.choices)
    command = command_line(list(hydra_cfg.overrides.task))
    try:
        return run_experiment(cfg, run_dir, names, command, RunConsole())
    except InputError as error:
        if hydra_cfg.mode == RunMode.MULTIRUN:
            # one bad job is a result of the sweep, not its end
            RunRecord(run_dir).write_summary({"status": "failed", "command": command,
                                              "error": str(error)})
            print(f"dlrun: error in {command}: {error}", file=sys.stderr)
            return None
        print(f"dlrun: error: {error}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
