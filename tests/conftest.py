"""Fixtures: compose configs exactly as `dlrun` does, and run them into tmp_path."""

import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest
import torch

from dlrun.config import register_schemas
from dlrun.config.compose import compose_config
from dlrun.console import RunConsole
from dlrun.run import run

register_schemas()
torch.set_num_threads(1)


class KilledHard(BaseException):
    """A kill that nothing in dlrun catches (as SIGKILL): training stops right there."""


@contextmanager
def killed_after_checkpoint(monkeypatch, epoch: int):
    """Whatever runs inside dies right after the checkpoint of `epoch` is written, as a run
    killed then would; the context checks that it did die."""
    from dlrun.record.files import RunRecord

    save = RunRecord.save_checkpoint

    def save_then_die(self, model, optimizer, at_epoch, step, **state):
        save(self, model, optimizer, at_epoch, step, **state)
        if at_epoch == epoch:
            raise KilledHard

    monkeypatch.setattr(RunRecord, "save_checkpoint", save_then_die)
    with pytest.raises(KilledHard):
        yield
    monkeypatch.setattr(RunRecord, "save_checkpoint", save)


def run_config(run_dir: Path, *overrides: str) -> dict:
    """Run dlrun in-process with these overrides into run_dir; returns summary.json's content."""
    cfg, names = compose_config(*overrides)
    return run(cfg, run_dir, names, "dlrun " + " ".join(overrides), RunConsole(False))


def run_tool(main, args: list[str], capsys) -> tuple[int, str, str]:
    """An entry point in-process with these arguments: (exit code, stdout, stderr)."""
    capsys.readouterr()
    old_argv, sys.argv = sys.argv, ["prog", *args]
    try:
        returned = main()
        code = returned if isinstance(returned, int) else 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    finally:
        sys.argv = old_argv
    out, err = capsys.readouterr()
    return code, out, err


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """The dlrun command in a subprocess (as a user types it)."""
    return subprocess.run(
        [sys.executable, "-m", "dlrun.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def compose_cfg():
    return compose_config


@pytest.fixture
def run_dlrun(tmp_path):
    """run_dlrun(*overrides) trains into a fresh directory under tmp_path."""
    counter = iter(range(10**6))

    def run(*overrides: str) -> tuple[dict, Path]:
        run_dir = tmp_path / f"run{next(counter)}"
        return run_config(run_dir, *overrides), run_dir

    return run


@pytest.fixture
def dlrun_main(tmp_path, monkeypatch, capsys):
    """dlrun_main(*args) runs the `dlrun` entry point in-process in tmp_path.

    Returns (exit code, stdout, stderr); run directories land in tmp_path/outputs.
    """
    from dlrun.cli import main

    monkeypatch.chdir(tmp_path)

    def run(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["dlrun", *args])
        capsys.readouterr()
        try:
            main()
            code = 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
        out, err = capsys.readouterr()
        return code, out, err

    return run


def run_dirs(root: Path) -> list[Path]:
    """The run directories (those holding .hydra/) under root, oldest first."""
    return sorted(path.parent for path in root.rglob(".hydra"))
