"""threads=null: one thread for small steps, torch's default for large ones, never the load;
a resumed run keeps the thread count its checkpoint recorded."""

import os

import pytest
import torch

from dlrun import build
from dlrun.config.compose import compose_config
from dlrun.console import RunConsole
from dlrun.run import run
from tests.conftest import run_config


@pytest.fixture(scope="module")
def experiments():
    small = build.build(*compose_config("model=logistic", "dataset=breast_cancer", "threads=1"))
    large = build.build(
        *compose_config("model.hidden=[1024,1024]", "trainer.batch_size=256", "threads=1")
    )
    torch.set_num_threads(1)
    return small, large


@pytest.mark.parametrize("cores", [1, 4])
def test_large_steps_take_the_machines_threads_whatever_the_load(monkeypatch, experiments, cores):
    _, large = experiments
    monkeypatch.setattr(build, "TORCH_DEFAULT_THREADS", cores)
    assert build.step_work(large.model, large.data, 256) > build.SMALL_STEP_WORK
    chosen = []
    for load in (0.0, 10.0):  # a quiet machine, then one busy with other processes
        monkeypatch.setattr(os, "getloadavg", lambda load=load: (load, load, load))
        chosen.append(build.resolve_threads(None, large.model, large.data, 256))
    assert chosen == [cores, cores]


def test_small_steps_use_one_thread_and_explicit_threads_win(monkeypatch, experiments):
    small, large = experiments
    monkeypatch.setattr(os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    expected_work = 31 * len(small.data.train)  # 30 weights + bias, full batch
    assert build.step_work(small.model, small.data, None) == expected_work
    assert build.resolve_threads(None, small.model, small.data, None) == 1
    assert build.resolve_threads(3, large.model, large.data, 256) == 3


def test_a_resumed_run_keeps_its_checkpoints_thread_count(tmp_path):
    overrides = ("model=logistic", "dataset=breast_cancer", "trainer.max_epochs=2")
    run_config(tmp_path / "run", *overrides, "threads=2")
    checkpoint = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)
    assert checkpoint["threads"] == 2
    cfg, names = compose_config(*overrides, "threads=1")
    try:
        resumed = run(cfg, tmp_path / "run", names, "dlrun", RunConsole(False), resume=True)
        assert resumed["threads"] == 2 and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(1)


def test_a_recurrent_step_is_sized_by_one_time_step_not_the_sequence():
    """An LSTM's T = 200 steps run one after another: each operation is parameters × rows."""
    lstm = build.build(*compose_config("model=lstm", "seq_len=200", "threads=1"))
    params = sum(p.numel() for p in lstm.model.parameters())
    assert build.step_work(lstm.model, lstm.data, 64) == params * 64
    assert build.resolve_threads(None, lstm.model, lstm.data, 64) == 1
