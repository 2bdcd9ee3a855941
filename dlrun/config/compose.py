"""Compose a job config outside the `dlrun` command (dlrun-check, tests, benchmarks)."""

from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import DictConfig, open_dict

from dlrun.config import register_schemas
from dlrun.paths import config_dir


def compose_config(*overrides: str) -> tuple[DictConfig, dict[str, str]]:
    """The job config `dlrun <overrides>` would run, and the option chosen in each group; inside
    the running `dlrun` command (a sweep's callback) with the config loader it runs with."""
    register_schemas()
    if GlobalHydra.instance().is_initialized():
        cfg = compose(config_name="config", overrides=list(overrides), return_hydra_config=True)
    else:
        with initialize_config_dir(
            version_base="1.3", config_dir=str(config_dir()), job_name="dlrun"
        ):
            cfg = compose(config_name="config", overrides=list(overrides), return_hydra_config=True)
    names = {k: v for k, v in cfg.hydra.runtime.choices.items() if not k.startswith("hydra")}
    with open_dict(cfg):
        del cfg["hydra"]
    return cfg, names


def options(group: str) -> list[str]:
    """The options of a config group: its conf/<group>/*.yaml files."""
    return sorted(path.stem for path in (config_dir() / group).glob("*.yaml"))
