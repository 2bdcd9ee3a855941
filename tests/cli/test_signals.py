"""Ctrl-C (SIGINT) and SIGTERM end a run or a sweep as a result (dlrun.interrupt): summary.json
says `interrupted`, one line gives the command that resumes it, exit code 130 or 143, and the
resumed run ends with the metrics of a run never interrupted.

The fast tests send the real signal to this process through the real entry point, right after
a checkpoint is written; the slow ones kill a `dlrun` subprocess from outside, mid-training.
"""

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from contextlib import contextmanager

import pandas as pd
import pytest
import torch

from dlrun.record.files import RunRecord
from tests.conftest import run_cli, run_config

OVERRIDES = ("model=mlp", "dataset=wine", "optimizer.momentum=0.9", "trainer.batch_size=16")
CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}
SIGNALS = [signal.SIGINT, signal.SIGTERM]


@contextmanager
def signalled_after_checkpoint(monkeypatch, epoch: int, signum: int, job_dir_name: str = ""):
    """This process gets `signum` right after the checkpoint of `epoch` is written (of the run
    whose directory is named job_dir_name, when given)."""
    save = RunRecord.save_checkpoint

    def save_then_signal(self, model, optimizer, at_epoch, step, **state):
        save(self, model, optimizer, at_epoch, step, **state)
        if at_epoch == epoch and self.directory.name.endswith(job_dir_name):
            os.kill(os.getpid(), signum)

    monkeypatch.setattr(RunRecord, "save_checkpoint", save_then_signal)
    yield
    monkeypatch.setattr(RunRecord, "save_checkpoint", save)


def resume_line(err: str, signum: int) -> list[str]:
    """The one line of an interruption; returns the resume command's arguments after `dlrun`."""
    lines = [line for line in err.splitlines() if line.startswith("dlrun: interrupted")]
    assert len(lines) == 1, err
    assert "Traceback" not in err, err
    prefix = f"dlrun: interrupted by {signal.Signals(signum).name}; resume with: dlrun "
    assert lines[0].startswith(prefix), lines[0]
    return shlex.split(lines[0].removeprefix(prefix))


def summary_of(run_dir) -> dict:
    return json.loads((run_dir / "summary.json").read_text())


@pytest.mark.parametrize("signum", SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_a_signalled_run_is_interrupted_and_resumes_to_the_same_metrics(
    dlrun_main, tmp_path, monkeypatch, signum
):
    overrides = (*OVERRIDES, "trainer.max_epochs=4")
    run_dir = tmp_path / "run"
    with signalled_after_checkpoint(monkeypatch, 2, signum):
        code, out, err = dlrun_main(*overrides, f"hydra.run.dir={run_dir}")
    assert code == CODES[signum], err
    summary = summary_of(run_dir)
    assert summary["status"] == "interrupted" and summary["error"].startswith("interrupted by")
    checkpoint = torch.load(run_dir / "checkpoint.pt", weights_only=True)
    assert checkpoint["epoch"] == 2  # whole: a file is written to a temporary name, renamed
    assert not list(run_dir.glob(".*.tmp"))
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored

    arguments = resume_line(err, signum)
    assert arguments == [*overrides, f"resume={run_dir}"]
    code, out, err = dlrun_main(*arguments)
    assert code == 0, err
    assert "resume: continuing" in out + err
    reference = run_config(tmp_path / "reference", *overrides)
    assert summary_of(run_dir)["metrics"] == reference["metrics"]
    assert summary_of(run_dir)["status"] == "completed"


@pytest.mark.parametrize("signum", SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_a_signalled_sweep_writes_its_table_and_resumes_the_rest(
    dlrun_main, tmp_path, monkeypatch, signum
):
    """seed=0,1,2: job 0 completes, job 1 is interrupted after its epoch-2 checkpoint, job 2
    never starts; resume=<sweep dir> keeps job 0, continues job 1 and runs job 2."""
    overrides = (*OVERRIDES, "trainer.max_epochs=3")
    sweep_dir = tmp_path / "sweep"
    sweep = ("--multirun", *overrides, "seed=0,1,2")
    with signalled_after_checkpoint(monkeypatch, 2, signum, job_dir_name="1"):
        code, out, err = dlrun_main(*sweep, f"hydra.sweep.dir={sweep_dir}")
    assert code == CODES[signum], err
    assert summary_of(sweep_dir / "0")["status"] == "completed"
    assert summary_of(sweep_dir / "1")["status"] == "interrupted"
    assert not (sweep_dir / "2").exists()
    table = pd.read_csv(sweep_dir / "comparison.csv")
    assert set(table["n"]) == {1}  # the completed job; the interrupted one is listed
    assert "interrupted" in (sweep_dir / "comparison.md").read_text()
    completed = (sweep_dir / "0" / "summary.json").read_bytes()

    arguments = resume_line(err, signum)
    assert arguments == ["-m", *overrides, "seed=0,1,2", f"resume={sweep_dir}"]
    code, out, err = dlrun_main(*arguments)
    assert code == 0, err
    assert (sweep_dir / "0" / "summary.json").read_bytes() == completed
    for seed in (0, 1, 2):
        reference = run_config(tmp_path / f"reference{seed}", *overrides, f"seed={seed}")
        assert summary_of(sweep_dir / str(seed))["metrics"] == reference["metrics"], seed
    table = pd.read_csv(sweep_dir / "comparison.csv")
    assert set(table["n"]) == {3} and set(table["n_failed"]) == {0}


def start_dlrun(tmp_path, *arguments: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "dlrun.cli", *arguments]
    return subprocess.Popen(
        command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def signal_when(process: subprocess.Popen, path, signum: int) -> tuple[int, str]:
    """Send signum once path exists; returns the exit code and stderr."""
    deadline = time.monotonic() + 120
    while not path.exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.01)
    process.send_signal(signum)
    _, err = process.communicate(timeout=120)
    return process.returncode, err


@pytest.mark.slow
@pytest.mark.parametrize("signum", SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_a_killed_subprocess_run_resumes_to_the_uninterrupted_metrics(tmp_path, signum):
    overrides = (*OVERRIDES, "trainer.max_epochs=150", "trainer.batch_size=8")
    run_dir = tmp_path / "run"
    process = start_dlrun(tmp_path, *overrides, f"hydra.run.dir={run_dir}")
    code, err = signal_when(process, run_dir / "checkpoint.pt", signum)
    assert code == CODES[signum], err
    assert summary_of(run_dir)["status"] == "interrupted", "the run ended before the signal"
    torch.load(run_dir / "checkpoint.pt", weights_only=True)

    resumed = run_cli(*resume_line(err, signum), cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    reference = run_config(tmp_path / "reference", *overrides)
    assert summary_of(run_dir)["metrics"] == pytest.approx(reference["metrics"], rel=1e-6)
    assert summary_of(run_dir)["steps"] == reference["steps"]


@pytest.mark.slow
@pytest.mark.parametrize("signum", SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_a_killed_subprocess_sweep_keeps_its_records_and_resumes(tmp_path, signum):
    overrides = (*OVERRIDES, "trainer.max_epochs=60", "trainer.batch_size=8")
    sweep_dir = tmp_path / "sweep"
    process = start_dlrun(tmp_path, "-m", *overrides, "seed=0,1", f"hydra.sweep.dir={sweep_dir}")
    code, err = signal_when(process, sweep_dir / "1" / "checkpoint.pt", signum)
    assert code == CODES[signum], err
    assert summary_of(sweep_dir / "0")["status"] == "completed"
    assert summary_of(sweep_dir / "1")["status"] == "interrupted", "job 1 ended before the signal"
    assert (sweep_dir / "comparison.csv").is_file()

    resumed = run_cli(*resume_line(err, signum), cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    for seed in (0, 1):
        reference = run_config(tmp_path / f"reference{seed}", *overrides, f"seed={seed}")
        metrics = summary_of(sweep_dir / str(seed))["metrics"]
        assert metrics == pytest.approx(reference["metrics"], rel=1e-6), seed
