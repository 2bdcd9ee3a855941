"""dlrun's sweeper and launcher compose each job once per set of group choices
(dlrun.sweeps.job_configs), and give what Hydra's own composition and basic launcher give: the
same job configs, .hydra/ files, job numbers and comparison table."""

import subprocess
import sys

import pytest
from hydra._internal.config_loader_impl import ConfigLoaderImpl
from hydra._internal.utils import create_config_search_path
from hydra.errors import ConfigCompositionException
from hydra.types import RunMode
from omegaconf import OmegaConf

from dlrun.config import register_schemas
from dlrun.paths import config_dir
from dlrun.sweeps.job_configs import JobConfigs
from tests.conftest import compose_config

register_schemas()

# jobs as a sweeper hands them to a launcher: group choices (model=lstm changes the dataset
# default in its defaults list), values, lists, a dict merged into a group's node, additions,
# Hydra's own keys and groups, an experiment (@package _global_), a group chosen twice
JOBS = [
    ["model=logistic", "dataset=breast_cancer", "seed=3"],
    ["model=mlp", "optimizer.lr=0.5", "model.hidden=[8,8]"],
    ["model=logistic", "dataset=breast_cancer", "seed=4", "optimizer.lr=0.1"],
    ["model=lstm", "seq_len=20"],
    ["model=lstm", "dataset=digits", "trainer.max_epochs=3"],
    ["optimizer={lr: 0.3}", "logger=tensorboard"],
    ["+extra_key=1", "hydra.job.name=other", "hydra/launcher=basic"],
    ["experiment=smoke", "model=rnn"],
    ["model=mlp", "model=logistic", "dataset=wine"],
    ["hydra.searchpath=[]", "seed=5"],  # composed as Hydra does, nothing kept
    [],
]
# jobs Hydra refuses: the same exception and message from both
BAD_JOBS = [
    ["trainer.max_epochs=abc"],
    ["trainer.no_such_key=1"],
    ["model=no_such_model"],
    ["+trainer.max_epochs=2"],
    ["seed=1,2"],
    ["~no_such_key"],
]


def node_types(config, path: str = "") -> list[tuple[str, str, str]]:
    """Every node's path, class and schema type: what to_yaml does not show."""
    found = [(path, type(config).__name__, str(OmegaConf.get_type(config)))]
    keys = config.keys() if OmegaConf.is_dict(config) else range(len(config))
    for key in keys:
        node = config._get_node(key)
        if OmegaConf.is_config(node):
            found += node_types(node, f"{path}.{key}")
        else:
            found.append((f"{path}.{key}", type(node).__name__, ""))
    return found


def same_config(ours, hydras) -> None:
    assert OmegaConf.to_yaml(ours) == OmegaConf.to_yaml(hydras)
    assert node_types(ours) == node_types(hydras)
    assert OmegaConf.is_struct(ours) and OmegaConf.is_struct(hydras)
    assert OmegaConf.is_readonly(ours.hydra) == OmegaConf.is_readonly(hydras.hydra)


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    """Hydra's config loader and the primary config of a sweep, as `dlrun -m` composes them."""
    loader = ConfigLoaderImpl(config_search_path=create_config_search_path(str(config_dir())))
    sweep_dir = tmp_path_factory.mktemp("sweep")
    master = loader.load_configuration(
        "config",
        [f"hydra.sweep.dir={sweep_dir}", "hydra/sweeper=basic", "seed=0,1"],
        run_mode=RunMode.MULTIRUN,
    )
    return loader, master


def test_each_job_config_is_the_one_hydra_composes(sweep):
    loader, master = sweep
    configs = JobConfigs(loader)
    for job in JOBS + JOBS:  # the second time every merge is a kept one
        same_config(configs.load_sweep_config(master, job), loader.load_sweep_config(master, job))
    # one merge per distinct list of group overrides (jobs 0 and 2 share one; optimizer={..}
    # and +extra_key are values): 9
    assert len(configs.merged) == 9


def test_a_job_config_is_a_copy_the_next_job_does_not_see(sweep):
    loader, master = sweep
    configs = JobConfigs(loader)
    first = configs.load_sweep_config(master, ["optimizer.lr=0.7"])
    first.optimizer.lr = 0.9
    second = configs.load_sweep_config(master, [])
    assert second.optimizer.lr == compose_config()[0].optimizer.lr != 0.7
    assert list(second.hydra.overrides.task) == []  # not the master's (seed=0,1)


def test_the_configs_the_sweeper_checked_go_to_the_launcher_once(sweep):
    loader, master = sweep
    configs = JobConfigs(loader)
    batch = [["seed=1"], ["model=mlp", "seed=2"]]
    configs.check_batch(master, batch, keep=True)
    first = configs.load_sweep_config(master, ["seed=1"])
    assert configs.load_sweep_config(master, ["seed=1"]) is not first  # composed anew
    for job in batch:
        same_config(configs.load_sweep_config(master, job), loader.load_sweep_config(master, job))
    configs.check_batch(master, batch, keep=False)  # for another launcher: nothing kept
    assert configs.checked == {}
    with pytest.raises(ConfigCompositionException, match="trainer.max_epochs=abc"):
        configs.check_batch(master, [*batch, ["trainer.max_epochs=abc"]], keep=True)


def test_a_job_that_does_not_compose_stops_the_sweep_before_any_job_runs(dlrun_main, tmp_path):
    quick = ("model=logistic", "dataset=breast_cancer", "trainer.max_epochs=1,abc")
    code, _, err = dlrun_main("-m", *quick, f"hydra.sweep.dir={tmp_path}/s")
    assert code == 1 and "trainer.max_epochs=abc" in err
    assert not list(tmp_path.rglob("summary.json"))


@pytest.mark.parametrize("job", BAD_JOBS, ids=lambda job: job[0])
def test_a_job_hydra_refuses_is_refused_with_its_message(sweep, job):
    loader, master = sweep
    with pytest.raises(Exception) as hydras:
        loader.load_sweep_config(master, job)
    with pytest.raises(type(hydras.value)) as ours:
        JobConfigs(loader).load_sweep_config(master, job)
    assert str(ours.value) == str(hydras.value)


SWEEP = [
    "-m",
    "model=logistic,mlp",
    "optimizer.lr=0.1,0.5",
    "dataset=breast_cancer",
    "trainer.max_epochs=1",
]
# what differs in hydra.yaml between the two sweeps: the plugins chosen, and the sweep directory
NOT_COMPARED = [
    "sweeper",
    "launcher",
    "sweep.dir",
    "runtime.output_dir",
    "runtime.choices.hydra/sweeper",
    "runtime.choices.hydra/launcher",
]


def hydra_files(job_dir) -> dict[str, str]:
    """A job's .hydra/ files; hydra.yaml without what names the sweeper, launcher or dir."""
    files = {
        name: (job_dir / ".hydra" / name).read_text() for name in ("config.yaml", "overrides.yaml")
    }
    written = OmegaConf.load(job_dir / ".hydra" / "hydra.yaml")
    for key in NOT_COMPARED:
        parent, _, leaf = f"hydra.{key}".rpartition(".")
        del OmegaConf.select(written, parent)[leaf]
    overrides = written.hydra.overrides
    overrides.hydra = [o for o in overrides.hydra if not o.startswith(("hydra.sweep", "hydra/"))]
    return {**files, "hydra.yaml": OmegaConf.to_yaml(written)}


def test_a_sweep_writes_what_hydras_basic_launcher_writes(dlrun_main, tmp_path):
    ours, hydras = tmp_path / "ours", tmp_path / "hydras"
    # in batches of 3 jobs: each batch checked, then launched (job numbers run on)
    assert dlrun_main(*SWEEP, "hydra.sweeper.max_batch_size=3", f"hydra.sweep.dir={ours}")[0] == 0
    basic = ["hydra/sweeper=basic", "hydra/launcher=basic"]
    assert dlrun_main(*SWEEP, *basic, f"hydra.sweep.dir={hydras}")[0] == 0
    jobs = [
        ["model=logistic", "optimizer.lr=0.1"],
        ["model=logistic", "optimizer.lr=0.5"],
        ["model=mlp", "optimizer.lr=0.1"],
        ["model=mlp", "optimizer.lr=0.5"],
    ]
    for num, job in enumerate(jobs):
        overrides = [*job, "dataset=breast_cancer", "trainer.max_epochs=1"]
        written = hydra_files(ours / str(num))
        assert written == hydra_files(hydras / str(num))
        assert OmegaConf.load(ours / str(num) / ".hydra" / "overrides.yaml") == overrides
        assert OmegaConf.create(written["config.yaml"]) == compose_config(*overrides)[0]
        hydra = OmegaConf.load(ours / str(num) / ".hydra" / "hydra.yaml").hydra
        assert hydra.job.num == num and hydra.runtime.output_dir == str(ours / str(num))
        assert hydra.runtime.choices.model == job[0].split("=")[1]
    for table in ("comparison.csv", "comparison.md"):
        assert (ours / table).read_text() == (hydras / table).read_text()
    assert (ours / "comparison.csv").read_text().count("\n") == 5  # header + 4 configurations


def test_the_plugins_import_without_torch():
    # Hydra imports every plugin module at each start, `dlrun --help` included
    code = "import sys, hydra_plugins.dlrun_sweeps.basic; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0
