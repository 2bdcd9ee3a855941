"""Every option of every config group composes and passes its schema; every model trains."""

import pytest
from conftest import compose_config
from hydra.utils import get_class
from omegaconf import OmegaConf

from dlrun.build import check_config, datasets_of_kind
from dlrun.paths import config_dir

GROUPS = ("model", "dataset", "optimizer", "trainer", "experiment")


def options(group: str) -> list[str]:
    return sorted(path.stem for path in (config_dir() / group).glob("*.yaml"))


@pytest.mark.parametrize("group,option", [(g, o) for g in GROUPS for o in options(g)])
def test_every_option_composes(group, option):
    cfg, names = compose_config(f"{group}={option}")
    if group != "experiment":
        assert names[group] == option
    if OmegaConf.missing_keys(cfg):  # csv/npz need a path from the user
        assert group == "dataset" and option in ("csv", "npz")
    else:
        check_config(cfg)


def dataset_for(model: str) -> list[str]:
    cfg, _ = compose_config(f"model={model}")
    family = cfg.model.get("family")
    if family is not None:
        return [f"dataset=synthetic_{family}", "dataset.n_samples=40"]
    accepts = getattr(get_class(cfg.model._target_), "accepts", ("tabular",))
    fitting = [name for name in datasets_of_kind(accepts) if name not in ("csv", "npz")]
    if "digits" in fitting:
        return ["dataset=digits"]
    return [f"dataset={fitting[0]}"]


@pytest.mark.parametrize("model", options("model"))
def test_every_model_trains_two_steps_on_data_it_fits(run_dlrun, model):
    summary, run_dir = run_dlrun(
        f"model={model}",
        *dataset_for(model),
        "trainer.max_steps=2",
        "trainer.batch_size=16",
        "seq_len=8",
    )
    cfg, _ = compose_config(f"model={model}")
    closed_form = cfg.model.get("readout") == "ridge"  # the ESN's readout is one solve
    assert summary["status"] in ("completed", "diverged")
    assert summary["steps"] == (0 if closed_form else 2) or summary["status"] == "diverged"
    assert (run_dir / "metrics.csv").exists()
