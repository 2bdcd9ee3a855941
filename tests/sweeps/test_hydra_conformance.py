"""Hydra's own conformance suites for plugins, run against the sweeper and launcher that dlrun's
config selects (conf/config.yaml), as Hydra's plugins run them against themselves."""

import subprocess
import sys

import pytest
import yaml
from hydra.test_utils.launcher_common_tests import (
    BatchedSweeperTestSuite,
    IntegrationTestSuite,
    LauncherTestSuite,
)
from hydra.version import setbase
from pytest import mark


def dlrun_choices() -> dict[str, str]:
    """The option of each config group that the `dlrun` command composes, as it prints them.
    (Asked of the command, not composed here: composing with version_base 1.3 in this process
    would switch these suites to 1.3's defaults, which they do not expect.)"""
    printed = subprocess.run(
        [sys.executable, "-m", "dlrun.cli", "--cfg", "hydra", "--package", "hydra.runtime.choices"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return yaml.safe_load(printed)


@pytest.fixture(autouse=True)
def hydra_defaults_the_suites_expect(hydra_restore_singletons):
    """The suites expect Hydra's compatibility defaults (a job runs in its output directory);
    a dlrun test in the same worker may have set version_base 1.3 (restored afterwards)."""
    setbase("1.1")


CHOICES = dlrun_choices()
LAUNCHER, SWEEPER = CHOICES["hydra/launcher"], CHOICES["hydra/sweeper"]


@mark.parametrize("launcher_name, overrides", [(LAUNCHER, [f"hydra/sweeper={SWEEPER}"])])
class TestDlrunLauncher(LauncherTestSuite):
    pass


@mark.parametrize(
    "launcher_name, overrides",
    [(LAUNCHER, [f"hydra/sweeper={SWEEPER}", "hydra.sweeper.max_batch_size=2"])],
)
class TestDlrunSweeperWithBatching(BatchedSweeperTestSuite):
    pass


@mark.parametrize(
    "task_launcher_cfg, extra_flags",
    [({}, ["-m", f"hydra/launcher={LAUNCHER}", f"hydra/sweeper={SWEEPER}"])],
)
class TestDlrunLauncherIntegration(IntegrationTestSuite):
    pass
