"""A killed run resumed from its checkpoint ends exactly where an uninterrupted run ends."""

import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from dlrun.console import RunConsole
from dlrun.record import RunRecord
from dlrun.run import run
from tests.conftest import compose_config, run_cli, run_config

# shuffled mini-batches (the batch-order RNG) and SGD momentum (optimizer state) must both resume
OVERRIDES = ("model=mlp", "dataset=wine", "optimizer.momentum=0.9", "trainer.batch_size=16")


class Killed(Exception):
    pass


def test_resume_after_a_crash_matches_the_uninterrupted_run(tmp_path, monkeypatch):
    overrides = (*OVERRIDES, "trainer.max_epochs=6", "trainer.eval_every=2")
    reference = run_config(tmp_path / "reference", *overrides)

    save = RunRecord.save_checkpoint

    def save_then_die(self, model, optimizer, epoch, step, **state):
        save(self, model, optimizer, epoch, step, **state)
        if epoch == 4:
            raise Killed  # after epoch 4's checkpoint, before anything else is written

    monkeypatch.setattr(RunRecord, "save_checkpoint", save_then_die)
    with pytest.raises(Killed):
        run_config(tmp_path / "resumed", *overrides)
    monkeypatch.setattr(RunRecord, "save_checkpoint", save)

    cfg, names = compose_config(*overrides)
    resumed = run(cfg, tmp_path / "resumed", names, "dlrun", RunConsole(False), resume=True)
    assert resumed["metrics"] == reference["metrics"]
    assert (resumed["epochs"], resumed["steps"]) == (reference["epochs"], reference["steps"])
    columns = ["epoch", "step", "split", "loss", "acc"]
    for name in ("metrics.csv",):
        expected = pd.read_csv(tmp_path / "reference" / name)[columns]
        pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "resumed" / name)[columns], expected)
    steps = pd.read_csv(tmp_path / "resumed" / "steps.csv")
    pd.testing.assert_frame_equal(steps, pd.read_csv(tmp_path / "reference" / "steps.csv"))


@pytest.mark.slow  # two CLI runs of 150 epochs: ~20 s
def test_sigkill_then_resume_true_matches_the_uninterrupted_run(tmp_path):
    overrides = (*OVERRIDES, "trainer.max_epochs=150", "trainer.batch_size=8")
    run_dir = tmp_path / "run"
    command = [sys.executable, "-m", "dlrun.cli", *overrides, f"hydra.run.dir={run_dir}"]
    process = subprocess.Popen(
        command, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 120
    while not (run_dir / "checkpoint.pt").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert not (run_dir / "summary.json").exists(), "the run ended before it could be killed"

    result = run_cli(*overrides, "resume=true", f"hydra.run.dir={run_dir}", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "resume: continuing" in result.stderr + result.stdout
    resumed = json.loads((run_dir / "summary.json").read_text())
    reference = run_config(tmp_path / "reference", *overrides)
    assert resumed["metrics"] == pytest.approx(reference["metrics"], rel=1e-6)
    assert resumed["steps"] == reference["steps"]
