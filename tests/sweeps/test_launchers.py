"""The joblib, submitit_local and ray_local launchers give the same comparison table as the basic
one.

The jobs run in other processes there, so this also checks that the table is built from the
records on disk. Skipped when the launcher plugin (an optional extra) is not installed.
"""

import importlib.util

import pandas as pd
import pytest

from tests.conftest import run_cli

SWEEP = [
    "--multirun",
    "model=logistic",
    "dataset=breast_cancer",
    "optimizer.lr=0.1,0.5",
    "trainer.max_epochs=2",
    "report.metrics=[test/acc,val/loss]",
]
PLUGINS = {
    "joblib": "hydra_plugins.hydra_joblib_launcher",
    "submitit_local": "hydra_plugins.hydra_submitit_launcher",
    "ray_local": "hydra_plugins.hydra_ray_launcher",
}


def sweep_table(tmp_path, *launcher: str) -> pd.DataFrame:
    sweep_dir = tmp_path / "sweep"
    result = run_cli(*SWEEP, *launcher, f"hydra.sweep.dir={sweep_dir}", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return pd.read_csv(sweep_dir / "comparison.csv")


@pytest.fixture(scope="module")
def basic_table(tmp_path_factory):
    return sweep_table(tmp_path_factory.mktemp("basic"))


# sweeps through the CLI: submitit polls its jobs (~40 s for three sweeps); Ray starts a local
# cluster in-process (~40 s on the 2-core machine)
@pytest.mark.slow
@pytest.mark.parametrize(
    "launcher",
    [
        ["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"],
        ["hydra/launcher=submitit_local"],
        ["hydra/launcher=ray_local", "hydra.launcher.ray.init.num_cpus=2"],
    ],
    ids=["joblib", "submitit_local", "ray_local"],
)
def test_process_launchers_give_the_basic_table(launcher, basic_table, tmp_path):
    name = launcher[0].split("=")[1]
    if importlib.util.find_spec(PLUGINS[name]) is None:
        pytest.skip(f"the {name} launcher plugin is not installed (an optional extra)")
    table = sweep_table(tmp_path, *launcher)
    assert len(table) == 4  # 2 configs × 2 metrics
    pd.testing.assert_frame_equal(table, basic_table)
