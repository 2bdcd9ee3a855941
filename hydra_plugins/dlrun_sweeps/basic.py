"""Hydra's BasicSweeper and BasicLauncher with a job's config composed by JobConfigs: the same
jobs, directories, .hydra/ files, callbacks and job numbers, without a full composition per job
(two, counting the sweeper's check that every job composes). Their configs:
conf/hydra/sweeper/dlrun_basic.yaml and conf/hydra/launcher/dlrun_basic.yaml."""

from collections.abc import Sequence

from hydra._internal.core_plugins import basic_launcher, basic_sweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig

from dlrun.sweeps.job_configs import CachedSweepLoader, job_configs


class DlrunSweeper(basic_sweeper.BasicSweeper):
    """BasicSweeper, checking that each job composes through the shared JobConfigs, which
    keeps the configs for dlrun's launcher (another launcher composes its jobs itself)."""

    def validate_batch_is_legal(self, batch: Sequence[Sequence[str]]) -> None:
        assert self.hydra_context is not None and self.config is not None
        configs = job_configs(self.hydra_context.config_loader)
        configs.check_batch(self.config, batch, keep=isinstance(self.launcher, DlrunLauncher))


class DlrunLauncher(basic_launcher.BasicLauncher):
    """BasicLauncher, whose load_sweep_config comes from the shared JobConfigs."""

    def setup(
        self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig
    ) -> None:
        loader = CachedSweepLoader(hydra_context.config_loader)
        context = HydraContext(config_loader=loader, callbacks=hydra_context.callbacks)
        super().setup(hydra_context=context, task_function=task_function, config=config)
