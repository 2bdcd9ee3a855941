"""The composed config of each job of a sweep, merged once per distinct set of config-group
choices instead of once per job.

Hydra's basic sweeper and launcher compose every job from scratch, each of them
(ConfigLoaderImpl.load_sweep_config: read the primary config, build the defaults list, merge
every option's YAML with its schema): ~0.2 s a composition, twice a job. But the value overrides
of a job (seed=3, optimizer.lr=0.1) never change its defaults list: Hydra applies them to the
merged config afterwards (`_load_configuration_impl`). So the merge is done once for each
distinct list of group overrides (model=mlp, hydra/launcher=...) and kept; each job gets a
copy, with its value overrides applied and its hydra.* bookkeeping (overrides, choices,
runtime, override_dirname) set by the same code, in the same order, as in Hydra 1.3.
tests/test_sweep_compose.py checks the result against Hydra's own load_sweep_config.

Imported by the hydra_plugins.dlrun_sweeps plugin at every `dlrun` start: no torch here.
"""

import copy
import os
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

from hydra import __version__, version
from hydra._internal.config_loader_impl import ConfigLoaderImpl, get_overrides_dirname
from hydra._internal.defaults_list import create_defaults_list
from hydra.conf import ConfigSourceInfo
from hydra.core.config_loader import ConfigLoader
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override
from hydra.core.utils import JobRuntime
from hydra.errors import ConfigCompositionException
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf, open_dict
from omegaconf.errors import OmegaConfBaseException

# merged configs kept per loader: a sweep over more group combinations than this composes the
# least recently used ones again (as Hydra does for every job), so memory stays bounded
KEPT_MERGES = 32
# job configs the sweeper's check composed, kept for the launcher (~120 KiB each)
KEPT_JOBS = 64


@dataclass
class Merged:
    """The config merged from one defaults list, before any value override."""

    config: DictConfig
    choices: dict[str, str | None]  # hydra.runtime.choices
    sources: list[ConfigSourceInfo]  # hydra.runtime.config_sources


class JobConfigs:
    """load_sweep_config as Hydra's config loader has it, merging once per group choices."""

    def __init__(self, loader: ConfigLoaderImpl) -> None:
        self.loader = loader
        self.merged: OrderedDict[tuple[str, ...], Merged] = OrderedDict()
        self.checked: dict[tuple, DictConfig] = {}

    def check_batch(
        self, master_config: DictConfig, batch: Sequence[Sequence[str]], keep: bool
    ) -> None:
        """Compose every job of a batch before any runs, as Hydra's sweeper does (an override
        that does not compose stops the sweep before its first job); with `keep`, the first
        KEPT_JOBS configs are kept for the launcher, which would otherwise compose them again."""
        self.checked.clear()
        for overrides in batch:
            config = self.compose_job(master_config, list(overrides))
            if keep and len(self.checked) < KEPT_JOBS:
                self.checked[(id(master_config), *overrides)] = config

    def load_sweep_config(
        self, master_config: DictConfig, sweep_overrides: list[str]
    ) -> DictConfig:
        """The config of the job with these overrides, equal to Hydra's load_sweep_config: the
        one check_batch composed (handed out once), or composed now."""
        checked = self.checked.pop((id(master_config), *sweep_overrides), None)
        return checked if checked is not None else self.compose_job(master_config, sweep_overrides)

    def compose_job(self, master_config: DictConfig, sweep_overrides: list[str]) -> DictConfig:
        """The config of the job with these overrides, composed from the kept merge."""
        lines = list(master_config.hydra.overrides.hydra) + list(sweep_overrides)
        config_name = master_config.hydra.job.config_name
        overrides = OverridesParser.create().parse_overrides(overrides=lines)
        searchpath = master_config.hydra.get("searchpath")
        if searchpath or any(o.get_key_element() == "hydra.searchpath" for o in overrides):
            # a search path of its own changes where groups are found: compose as Hydra does
            return self.loader.load_sweep_config(master_config, list(sweep_overrides))
        try:
            self.loader.validate_sweep_overrides_legal(
                overrides=overrides, run_mode=RunMode.RUN, from_shell=True
            )
            groups, values = self.split(overrides)
            merged = self.merge(config_name, groups)
            config = copy.deepcopy(merged.config)
            ConfigLoaderImpl._apply_overrides_to_config(values, config)
            record_job(config, overrides, merged, config_name)
        except OmegaConfBaseException as error:  # as ConfigLoaderImpl.load_configuration does
            raise ConfigCompositionException().with_traceback(error.__traceback__) from error
        # the master's resolver cache, so ${now:...} and the output directory are the sweep's
        OmegaConf.copy_cache(from_config=master_config, to_config=config)
        return config

    def split(self, overrides: list[Override]) -> tuple[list[Override], list[Override]]:
        """Group overrides (they choose the defaults list) and value overrides, split by the
        test hydra._internal.defaults_list.Overrides applies."""
        groups, values = [], []
        for override in overrides:
            is_group = self.loader.repository.group_exists(override.key_or_group)
            is_value = isinstance(override.value(), dict) or not is_group
            (values if is_value else groups).append(override)
        return groups, values

    def merge(self, config_name: str | None, groups: list[Override]) -> Merged:
        """The merged config of these group overrides: kept, or composed now."""
        key = (str(config_name), *(o.input_line for o in groups))
        if key in self.merged:
            self.merged.move_to_end(key)
            return self.merged[key]
        merged = self.compose(config_name, groups)
        self.merged[key] = merged
        if len(self.merged) > KEPT_MERGES:
            self.merged.popitem(last=False)
        return merged

    def compose(self, config_name: str | None, groups: list[Override]) -> Merged:
        """The first half of ConfigLoaderImpl._load_configuration_impl (Hydra 1.3): the
        defaults list of the group overrides, merged, in struct mode."""
        self.loader.ensure_main_config_source_available()
        lines = [o.input_line for o in groups]
        groups, repo = self.loader._parse_overrides_and_create_caching_repo(config_name, lines)
        defaults = create_defaults_list(
            repo=repo,
            config_name=config_name,
            overrides_list=groups,
            prepend_hydra=True,
            skip_missing=False,
        )
        config = self.loader._compose_config_from_defaults_list(
            defaults=defaults.defaults, repo=repo
        )
        OmegaConf.set_struct(config, True)
        OmegaConf.set_readonly(config.hydra, False)
        sources = [
            ConfigSourceInfo(path=s.path, schema=s.scheme(), provider=s.provider)
            for s in repo.get_sources()
        ]
        return Merged(config, dict(defaults.overrides.known_choices), sources)


def record_job(
    config: DictConfig, overrides: list[Override], merged: Merged, config_name: str | None
) -> None:
    """The second half of _load_configuration_impl, after the value overrides: what Hydra
    records under hydra.* about the job (its overrides, choices, runtime)."""
    app_overrides = []
    for override in overrides:
        if override.is_hydra_override():
            config.hydra.overrides.hydra.append(override.input_line)
        else:
            config.hydra.overrides.task.append(override.input_line)
            app_overrides.append(override)
    with open_dict(config.hydra):
        config.hydra.runtime.choices.update(merged.choices)
        for key in config.hydra.job.env_copy:
            config.hydra.job.env_set[key] = os.environ[key]
    config.hydra.runtime.version = __version__
    config.hydra.runtime.version_base = version.getbase()
    config.hydra.runtime.cwd = os.getcwd()
    config.hydra.runtime.config_sources = merged.sources  # copied into nodes
    if "name" not in config.hydra.job:
        config.hydra.job.name = JobRuntime().get("name")
    dirname = config.hydra.job.config.override_dirname
    config.hydra.job.override_dirname = get_overrides_dirname(
        overrides=app_overrides,
        kv_sep=dirname.kv_sep,
        item_sep=dirname.item_sep,
        exclude_keys=dirname.exclude_keys,
    )
    config.hydra.job.config_name = config_name


_job_configs: "WeakKeyDictionary[ConfigLoader, JobConfigs]" = WeakKeyDictionary()


def job_configs(loader: ConfigLoader) -> JobConfigs:
    """The JobConfigs of this config loader, shared by dlrun's sweeper (which checks that every
    job composes before any runs) and its launcher (which then runs them)."""
    if loader not in _job_configs:
        _job_configs[loader] = JobConfigs(loader)
    return _job_configs[loader]


class CachedSweepLoader:
    """Hydra's config loader, with load_sweep_config from JobConfigs (for BasicLauncher)."""

    def __init__(self, loader: ConfigLoader) -> None:
        self.loader = loader
        self.load_sweep_config = job_configs(loader).load_sweep_config

    def __getattr__(self, name: str) -> Any:
        return getattr(self.loader, name)
