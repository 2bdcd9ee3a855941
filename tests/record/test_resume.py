"""A killed run resumed from its checkpoint ends exactly where an uninterrupted run ends."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
from omegaconf import OmegaConf

from dlrun.console import RunConsole
from dlrun.run import run
from tests.conftest import compose_config, killed_after_checkpoint, run_cli, run_config

# shuffled mini-batches (the batch-order RNG) and SGD momentum (optimizer state) must both resume
OVERRIDES = ("model=mlp", "dataset=wine", "optimizer.momentum=0.9", "trainer.batch_size=16")


def test_resume_after_a_crash_matches_the_uninterrupted_run(tmp_path, monkeypatch):
    overrides = (*OVERRIDES, "trainer.max_epochs=6", "trainer.eval_every=2")
    reference = run_config(tmp_path / "reference", *overrides)

    with killed_after_checkpoint(monkeypatch, 4):
        run_config(tmp_path / "resumed", *overrides)

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


def snapshot(directory) -> dict:
    """Every file under directory with its bytes and modification time."""
    return {
        path.relative_to(directory): (path.read_bytes(), path.stat().st_mtime_ns)
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


def seed_of(job_dir) -> int:
    return json.loads((job_dir / "summary.json").read_text())["seed"]


def test_resumed_sweep_continues_a_killed_job_only_from_its_own_checkpoint(
    dlrun_main, tmp_path, monkeypatch
):
    """Killed in job 0 (seed 0) after its epoch-2 checkpoint, resumed as seed=2,1,0: job 0 is
    now seed 2, which must not continue from seed 0's checkpoint; seed 0 continues from it."""
    overrides = (*OVERRIDES, "trainer.max_epochs=4")
    sweep = ("--multirun", *overrides, f"hydra.sweep.dir={tmp_path / 'sweep'}")
    with killed_after_checkpoint(monkeypatch, 2):
        dlrun_main(*sweep, "seed=0,1,2")
    assert json.loads((tmp_path / "sweep" / "0" / "job.json").read_text())["complete"] is False

    code, out, err = dlrun_main(*sweep, "seed=2,1,0", f"resume={tmp_path / 'sweep'}")
    assert code == 0, err
    assert "resume: continuing" in out + err  # seed 0 continued after epoch 2
    runs = {
        seed_of(path.parent): path.parent for path in (tmp_path / "sweep").glob("*/summary.json")
    }
    assert sorted(runs) == [0, 1, 2]
    assert runs[0] == tmp_path / "sweep" / "0"  # its own directory, its own checkpoint
    for seed, run_dir in runs.items():
        reference = run_config(tmp_path / f"reference{seed}", *overrides, f"seed={seed}")
        summary = json.loads((run_dir / "summary.json").read_text())
        assert summary["metrics"] == reference["metrics"], f"seed {seed}"
        assert json.loads((run_dir / "job.json").read_text())["complete"] is True
        # Hydra's copy of the config describes the run beside it, not a job that ran there
        assert OmegaConf.load(run_dir / ".hydra" / "config.yaml").seed == seed
    # and the table is complete: every seed counted once, none failed
    table = pd.read_csv(tmp_path / "sweep" / "comparison.csv")
    assert set(table["n"]) == {3} and set(table["n_failed"]) == {0}


@pytest.mark.parametrize(
    "changed,named",
    [("optimizer.lr=0.5", "optimizer.lr=0.5 (was 0.1)"), ("dataset=iris", "dataset.name=iris")],
)
def test_resume_with_other_overrides_is_refused_and_touches_nothing(
    dlrun_main, tmp_path, changed, named
):
    run_dir = tmp_path / "run"
    overrides = (*OVERRIDES, "trainer.max_epochs=2", f"hydra.run.dir={run_dir}")
    assert dlrun_main(*overrides)[0] == 0
    before = snapshot(run_dir)
    for resume in ("resume=true", f"resume={run_dir}"):
        code, out, err = dlrun_main(*overrides, resume, changed)
        assert code == 2 and err.startswith("dlrun: error: resume=") and named in err
        assert err.count("\n") == 1 and "Traceback" not in out + err
    assert snapshot(run_dir) == before


def test_resume_ignores_keys_that_are_not_the_runs_identity(dlrun_main, tmp_path):
    run_dir = tmp_path / "run"
    overrides = (*OVERRIDES, "trainer.max_epochs=2", f"hydra.run.dir={run_dir}")
    assert dlrun_main(*overrides)[0] == 0
    (run_dir / "summary.json").unlink()  # as if killed after its last checkpoint
    code, _, err = dlrun_main(*overrides, f"resume={run_dir}", "threads=2", "on_error=fail_fast")
    assert code == 0, err
    assert json.loads((run_dir / "summary.json").read_text())["status"] == "completed"


def test_resume_with_nothing_to_resume_is_refused(dlrun_main, tmp_path):
    code, _, err = dlrun_main(*OVERRIDES, f"resume={tmp_path / 'no' / 'such' / 'dir'}")
    assert code == 2 and "nothing to resume" in err and err.count("\n") == 1
    code, _, err = dlrun_main(*OVERRIDES, "resume=true")  # no hydra.run.dir: a new directory
    assert code == 2 and "resume=true" in err and "nothing to resume" in err
    code, _, err = dlrun_main("--multirun", "seed=0,1", "resume=true")
    assert code == 2 and "hydra.sweep.dir" in err
    (tmp_path / "empty").mkdir()
    code, _, err = dlrun_main(*OVERRIDES, f"resume={tmp_path / 'empty'}")
    assert code == 2 and "holds no dlrun run" in err
    assert not (tmp_path / "no").exists() and not (tmp_path / "outputs").exists()
    assert not (tmp_path / "multirun").exists()


def test_checkpoint_false_writes_none_and_cannot_be_resumed(dlrun_main, tmp_path):
    run_dir = tmp_path / "run"
    overrides = (*OVERRIDES, "trainer.max_epochs=2", "trainer.checkpoint=false")
    assert dlrun_main(*overrides, f"hydra.run.dir={run_dir}")[0] == 0
    assert (run_dir / "summary.json").is_file() and not (run_dir / "checkpoint.pt").exists()
    code, _, err = dlrun_main(*overrides, f"resume={run_dir}")
    assert code == 2 and "trainer.checkpoint=false" in err and err.count("\n") == 1


def corrupt(run_dir, damage: str) -> None:
    """Damage a killed run's record as a disk, another tool or a hostile hand could."""
    checkpoint = run_dir / "checkpoint.pt"
    if damage == "garbage checkpoint":
        checkpoint.write_bytes(np.random.default_rng(3).bytes(600))
    elif damage == "truncated checkpoint":
        checkpoint.write_bytes(checkpoint.read_bytes()[:400])
    elif damage == "pickled object":
        import argparse

        import torch

        torch.save({"model": argparse.Namespace(a=1)}, checkpoint)
    elif damage == "not a checkpoint":
        import torch

        torch.save({"weights": torch.zeros(3)}, checkpoint)
    elif damage == "metrics.csv garbage":
        (run_dir / "metrics.csv").write_bytes(b'a,"b\n\x00\x01')
    elif damage == "steps.csv without lr":
        (run_dir / "steps.csv").write_text("epoch,step,loss\n1,1,0.5\n")


@pytest.mark.parametrize(
    "damage, phrase",
    [
        ("garbage checkpoint", "checkpoint.pt is damaged"),
        ("truncated checkpoint", "checkpoint.pt is damaged"),
        ("pickled object", "weights_only=True"),
        ("not a checkpoint", "is not a dlrun checkpoint"),
        ("metrics.csv garbage", "metrics.csv is damaged"),
        ("steps.csv without lr", "no column lr"),
    ],
)
def test_resume_over_a_damaged_record_is_refused_in_one_line(
    dlrun_main, tmp_path, monkeypatch, damage, phrase
):
    run_dir = tmp_path / "killed"
    args = (*OVERRIDES, "trainer.max_epochs=4", f"hydra.run.dir={run_dir}")
    with killed_after_checkpoint(monkeypatch, 2):
        dlrun_main(*args)
    corrupt(run_dir, damage)
    code, out, err = dlrun_main(*args, "resume=true")
    assert code == 2 and "Traceback" not in out + err, err
    (line,) = [line for line in err.splitlines() if line.strip()]
    assert line.startswith("dlrun: error: resume:") and phrase in line, line


def test_any_garbage_checkpoint_is_one_input_error(tmp_path):
    """Garbage fails anywhere in torch's unpickler (IndexError, EOFError, ...): always one line."""
    from dlrun.errors import InputError
    from dlrun.record.resume import load_checkpoint

    rng = np.random.default_rng(0)
    path = tmp_path / "checkpoint.pt"
    for _ in range(200):
        path.write_bytes(rng.bytes(int(rng.integers(1, 3000))))
        with pytest.raises(InputError, match="is damaged|pickled object|not a dlrun checkpoint"):
            load_checkpoint(path, "cpu")


@pytest.mark.parametrize(
    "garbage", [b"model: [unclosed\n  - :", b"- a list\n- not a config\n", b"\x00\xff\xfe"]
)
def test_a_garbled_saved_config_refuses_the_resume_and_touches_nothing(
    dlrun_main, tmp_path, garbage
):
    """The resume check cannot be skipped: with .hydra/config.yaml garbled it cannot compare
    configurations, so `resume=RUN optimizer.lr=0.5` must not continue a run trained at 0.1."""
    run_dir = tmp_path / "run"
    overrides = (*OVERRIDES, "trainer.max_epochs=2", f"hydra.run.dir={run_dir}")
    assert dlrun_main(*overrides)[0] == 0
    (run_dir / ".hydra" / "config.yaml").write_bytes(garbage)
    before = snapshot(run_dir)
    code, out, err = dlrun_main(*overrides, f"resume={run_dir}", "optimizer.lr=0.5")
    assert code == 2 and "Traceback" not in out + err, err
    (line,) = [line for line in err.splitlines() if line.strip()]
    assert line.startswith("dlrun: error: resume=") and "config.yaml is damaged" in line
    assert snapshot(run_dir) == before


@pytest.mark.parametrize("garbage", [b"{not json", b"[1, 2]", b'{"complete": true}'])
def test_a_damaged_job_file_refuses_the_sweep_resume_and_keeps_its_table(
    dlrun_main, tmp_path, garbage
):
    sweep = tmp_path / "sweep"
    args = ("-m", "model=logistic", "dataset=breast_cancer", "seed=0,1", "trainer.max_epochs=1")
    assert dlrun_main(*args, f"hydra.sweep.dir={sweep}")[0] == 0
    (sweep / "1" / "job.json").write_bytes(garbage)
    before = snapshot(sweep)
    code, out, err = dlrun_main(*args, f"resume={sweep}")
    assert code == 2 and "Traceback" not in out + err, err
    (line,) = [line for line in err.splitlines() if line.strip()]
    assert line.startswith("dlrun: error: resume:") and "job.json is damaged" in line, line
    assert snapshot(sweep) == before
