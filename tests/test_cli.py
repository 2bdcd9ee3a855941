"""The dlrun command as a user types it: help, composed config, runs, and bad input."""

import json

import pandas as pd
import pytest
import torch
from conftest import run_cli, run_dirs

QUICK = ("trainer.max_epochs=2",)


def test_default_run_writes_the_whole_run_record(dlrun_main, tmp_path):
    code, out, _ = dlrun_main(*QUICK)
    assert code == 0
    assert "mlp on digits: completed" in out and "test" in out
    (run_dir,) = run_dirs(tmp_path / "outputs")
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "completed"
    assert (summary["model"], summary["dataset"], summary["optimizer"]) == ("mlp", "digits", "sgd")
    assert summary["rows"] == {"train": 1797 - 359 - 180, "val": 180, "test": 359}
    assert summary["epochs"] == 2 and summary["steps"] == 2 * 40  # ceil(1258 / 32) per epoch
    assert summary["n_params"] == 64 * 64 + 64 + 64 * 10 + 10
    assert set(summary["versions"]) == {"dlrun", "torch", "python"}
    metrics = pd.read_csv(run_dir / "metrics.csv")
    assert list(metrics.columns) == [
        "epoch",
        "step",
        "split",
        "loss",
        "acc",
        "grad_norm",
        "lr",
        "elapsed_s",
    ]
    assert metrics["split"].tolist() == ["train", "val", "test"] * 2
    last = metrics[metrics["epoch"] == 2].set_index("split")
    assert summary["metrics"]["val/acc"] == pytest.approx(last.loc["val", "acc"])
    steps = pd.read_csv(run_dir / "steps.csv")
    assert steps["step"].tolist() == list(range(1, 81))
    checkpoint = torch.load(run_dir / "checkpoint.pt", weights_only=True)
    assert checkpoint["step"] == 80 and "head.linear.weight" in checkpoint["model"]
    assert (run_dir / ".hydra" / "config.yaml").exists()
    assert not list(run_dir.glob(".*.tmp"))


def test_same_command_twice_gives_identical_metrics(dlrun_main, tmp_path):
    for _ in range(2):
        assert dlrun_main(*QUICK, "model.hidden=[16]")[0] == 0
    first, second = (pd.read_csv(d / "metrics.csv") for d in run_dirs(tmp_path / "outputs"))
    columns = ["loss", "acc", "grad_norm"]
    pd.testing.assert_frame_equal(first[columns], second[columns])


def test_help_lists_groups_and_options(dlrun_main):
    code, out, _ = dlrun_main("--help")
    assert code == 0 and out.startswith("dlrun: train")
    from dlrun.paths import config_dir

    for group in ("model", "dataset", "optimizer", "trainer", "experiment"):
        names = sorted(path.stem for path in (config_dir() / group).glob("*.yaml"))
        assert f"{group}: {', '.join(names)}" in out


def test_cfg_job_prints_the_composed_config(dlrun_main):
    code, out, _ = dlrun_main("--cfg", "job", "model=logistic", "dataset=breast_cancer")
    assert code == 0 and "family: binary" in out and "name: breast_cancer" in out


def test_installed_command_offers_shell_completion():
    result = run_cli("-sc", "install=bash")
    assert result.returncode == 0 and "complete" in result.stdout


@pytest.mark.parametrize(
    "override,expected",
    [
        ("optimizer.lr=-1", "optimizer.lr=-1.0 is not allowed: a number > 0"),
        ("trainer.max_epochs=0", "trainer.max_epochs=0 is not allowed: an integer >= 1"),
        ("dataset.test_fraction=1.5", "dataset.test_fraction=1.5 is not allowed: 0 <= x < 1"),
        ("+optimizer.foo=1", "optimizer.foo is not a key of this optimizer"),
        ("model.hidden=[]", "model.hidden=[] is not allowed"),
        ("threads=0", "threads=0 is not allowed"),
        ("seed=-1", "seed=-1 is not allowed: an integer >= 0"),
        ("dataset=synthetic_binary dataset.data_seed=-2", "dataset.data_seed=-2 is not allowed"),
        ("dataset=csv", "dataset.path is required"),
        ("model=logistic", "model=logistic needs a binary target with exactly two values"),
        ("model=linear dataset.task=binary", "dataset.task=binary does not fit model=linear"),
    ],
)
def test_bad_values_get_one_line_and_exit_2(dlrun_main, tmp_path, override, expected):
    code, out, err = dlrun_main(*override.split())
    assert code == 2
    assert err.startswith("dlrun: error: ") and expected in err
    assert "Traceback" not in err + out and err.count("\n") == 1
    (run_dir,) = run_dirs(tmp_path / "outputs")
    assert not (run_dir / "metrics.csv").exists() and not (run_dir / "summary.json").exists()


@pytest.mark.parametrize(
    "override,expected",
    [
        ("optimizer.lr=abc", "Value 'abc' of type 'str' could not be converted to Float"),
        ("optimizer.foo=1", "Key 'foo' not in 'SGDConfig'"),
        ("model=bogus", "Could not find 'model/bogus'"),
        ("model.activation=swish", "Invalid value 'swish', expected one of [sigmoid, tanh, relu]"),
        ("device=tpu", "expected one of [auto, cpu, cuda]"),
    ],
)
def test_config_that_does_not_compose_is_refused_before_any_run(
    dlrun_main, tmp_path, override, expected
):
    code, out, err = dlrun_main(override)
    assert code == 1 and expected in err and "Traceback" not in err
    assert not (tmp_path / "outputs").exists()
