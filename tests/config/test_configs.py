"""Every option of every config group composes and passes its schema; every model trains."""

import pytest
from omegaconf import OmegaConf

from dlrun import check
from dlrun.check import GROUPS, data_for
from dlrun.config.compose import compose_config, options
from dlrun.config.validate import check_config


@pytest.mark.parametrize("group,option", [(g, o) for g in GROUPS for o in options(g)])
def test_every_option_composes(group, option):
    cfg, names = compose_config(f"{group}={option}")
    if group != "experiment":
        assert names[group] == option
    if OmegaConf.missing_keys(cfg):  # csv/npz need a path from the user
        assert group == "dataset" and option in ("csv", "npz")
    else:
        check_config(cfg)


@pytest.mark.parametrize("model", options("model"))
def test_every_model_trains_two_steps_on_data_it_fits(run_dlrun, model):
    summary, run_dir = run_dlrun(
        f"model={model}",
        *data_for(model),
        "trainer.max_steps=2",
        "trainer.batch_size=16",
        "seq_len=8",
    )
    cfg, _ = compose_config(f"model={model}")
    closed_form = cfg.model.get("readout") == "ridge"  # the ESN's readout is one solve
    assert summary["status"] in ("completed", "diverged")
    assert summary["steps"] == (0 if closed_form else 2) or summary["status"] == "diverged"
    assert (run_dir / "metrics.csv").exists()


def test_dlrun_check_reports_every_problem_at_once(monkeypatch, capsys):
    listed = {"model": ["mlp", "bogus", "logistic"], "optimizer": ["sgd", "nowhere"]}
    monkeypatch.setattr(check, "options", lambda group: listed.get(group, []))
    found = check.problems()
    assert [(what, option) for what, option, _ in found] == [
        ("model", "bogus"),
        ("optimizer", "nowhere"),
        ("model build", "bogus"),
    ]
    assert "Could not find 'model/bogus'" in found[0][2]
    with pytest.raises(SystemExit) as exit_:
        check.main()
    assert exit_.value.code == 1 and "3 problem(s)" in capsys.readouterr().out
