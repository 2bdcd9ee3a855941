"""The dlrun command as a user types it: help, composed config, runs, and bad input."""

import errno
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch
from conftest import run_dirs

from dlrun.record import files as record
from dlrun.record.files import RunRecord

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
    assert metrics["split"].tolist() == ["train", "val"] * 2  # test: once, in summary.json
    assert "test/acc" in summary["metrics"] and "baseline/test/acc" in summary["metrics"]
    assert (summary["stopped"], summary["selected_epoch"]) == ("max_epochs", 2)
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


def test_installed_command_offers_shell_completion(dlrun_main):
    code, out, _ = dlrun_main("-sc", "install=bash")
    assert code == 0 and "complete" in out


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


def test_repeats_zero_is_refused_before_any_seed_runs(dlrun_main, tmp_path):
    code, out, err = dlrun_main(*QUICK, "repeats=0")
    assert code == 2 and err == "dlrun: error: repeats=0 is not allowed: an integer >= 1\n"
    (run_dir,) = run_dirs(tmp_path / "outputs")
    assert sorted(path.name for path in run_dir.iterdir()) == [".hydra", "dlrun.log"]


def no_space(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device", "metrics.csv")


def test_a_full_disk_ends_the_run_as_failed_with_one_line(dlrun_main, tmp_path, monkeypatch):
    monkeypatch.setattr(RunRecord, "write_text", no_space)  # the first evaluation's metrics.csv
    code, out, err = dlrun_main(*QUICK, "model.hidden=[8]")
    assert code == 2 and err.startswith("dlrun: error: ") and err.count("\n") == 1
    assert "No space left on device" in err and "Traceback" not in out + err
    (run_dir,) = run_dirs(tmp_path / "outputs")
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "failed" and "No space left on device" in summary["error"]
    assert "\n" not in summary["error"]


def test_a_disk_that_takes_nothing_still_gives_one_line(dlrun_main, tmp_path, monkeypatch):
    monkeypatch.setattr(record, "write_atomically", no_space)  # the failed summary too
    code, out, err = dlrun_main(*QUICK, "model.hidden=[8]")
    assert code == 2 and err.count("\n") == 1 and "No space left on device" in err
    assert "Traceback" not in out + err


def test_a_full_disk_in_a_sweep_is_one_failed_job(dlrun_main, tmp_path, monkeypatch):
    writes = RunRecord.write_text

    def full_for_job_one(self, name, text):
        if self.directory.name == "1":  # the disk fills up while job 1 trains
            no_space()
        writes(self, name, text)

    monkeypatch.setattr(RunRecord, "write_text", full_for_job_one)
    sweep = tmp_path / "sweep"
    code, _, err = dlrun_main(
        "-m", *QUICK, "model.hidden=[8]", "optimizer.lr=0.1,1", f"hydra.sweep.dir={sweep}"
    )
    assert code == 1 and "1 job(s) of the sweep failed" in err
    statuses = [json.loads((sweep / job / "summary.json").read_text())["status"] for job in "01"]
    assert statuses == ["completed", "failed"]


@pytest.mark.parametrize("where", ["file", "proc", "read_only"])
def test_a_run_directory_that_cannot_be_written_is_one_line(dlrun_main, tmp_path, where):
    if where == "file":
        (tmp_path / "taken").write_text("")
        run_dir = tmp_path / "taken"
    elif where == "proc":
        run_dir = Path("/proc/dlrun-test/run")
    else:
        if os.geteuid() == 0:
            pytest.skip("root writes into read-only folders")
        (tmp_path / "locked").mkdir(mode=0o555)
        run_dir = tmp_path / "locked" / "run"
    code, out, err = dlrun_main(*QUICK, f"hydra.run.dir={run_dir}")
    assert code == 2 and err.startswith(f"dlrun: error: hydra.run.dir={run_dir}")
    assert err.count("\n") == 1 and "Traceback" not in out + err and "allowed" in err


def test_a_sweep_directory_that_cannot_be_written_is_one_line(dlrun_main, tmp_path):
    code, out, err = dlrun_main("-m", *QUICK, "seed=0,1", "hydra.sweep.dir=/proc/dlrun-test")
    assert code == 2 and err.startswith("dlrun: error: hydra.sweep.dir=/proc/dlrun-test")
    assert err.count("\n") == 1 and "Traceback" not in out + err


def test_help_lists_the_config_groups_and_not_the_schemas(dlrun_main):
    code, out, _ = dlrun_main("--help")
    groups = out.split("== Config groups")[1].split("== Config:")[0]
    listed = [line.split(":")[0] for line in groups.splitlines()[1:] if ":" in line]
    assert listed == ["dataset", "experiment", "logger", "model", "optimizer", "trainer"]
    assert "schema" not in out.split("== Config:")[0]


@pytest.mark.parametrize("typed,expected", [("sch", []), ("", ["model=", "optimizer="])])
def test_shell_completion_offers_groups_but_no_schemas(dlrun_main, monkeypatch, typed, expected):
    monkeypatch.setenv("COMP_LINE", f"dlrun {typed}")
    code, out, _ = dlrun_main("-sc", "query=bash")
    offered = out.split()
    assert code == 0 and all(word in offered for word in expected)
    assert not [word for word in offered if word.startswith("schema")]


@pytest.mark.parametrize("args", [("--help",), ("--cfg", "job"), ("-sc", "install=bash")])
def test_a_reader_that_stops_early_ends_dlrun_quietly(args):
    # `dlrun --help | head -3`: here the reader is gone before dlrun writes a byte
    dlrun = subprocess.Popen(
        [sys.executable, "-m", "dlrun.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    dlrun.stdout.close()
    err = dlrun.stderr.read()
    # ended by SIGPIPE, as `yes | head` is (a shell reports 141 = 128 + 13); nothing on stderr
    assert dlrun.wait(timeout=120) == -signal.SIGPIPE
    assert err == ""


def test_a_run_whose_reader_stops_early_still_completes_its_record(tmp_path):
    # `dlrun | head -1`: the run goes on without its terminal and writes its whole record
    dlrun = subprocess.Popen(
        [sys.executable, "-m", "dlrun.cli", *QUICK, "model.hidden=[8]"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    dlrun.stdout.close()
    err = dlrun.stderr.read()
    assert dlrun.wait(timeout=300) == 0 and err == ""
    (run_dir,) = run_dirs(tmp_path / "outputs")
    assert json.loads((run_dir / "summary.json").read_text())["status"] == "completed"
