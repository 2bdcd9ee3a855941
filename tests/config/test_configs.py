"""Every option of every config group composes and passes its schema (every model trains:
tests/models/test_models.py)."""

import pytest
from omegaconf import OmegaConf

from dlrun import check
from dlrun.check import GROUPS
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
