"""threads=null: one thread for small steps; for large ones the cores nobody else keeps busy."""

import pytest
import torch

from dlrun import build
from dlrun.compose import compose_config


@pytest.fixture(scope="module")
def experiments():
    small = build.build(*compose_config("model=logistic", "dataset=breast_cancer", "threads=1"))
    large = build.build(
        *compose_config("model.hidden=[1024,1024]", "trainer.batch_size=256", "threads=1")
    )
    return small, large


@pytest.mark.parametrize("load,expected", [(0.2, 4), (1.0, 4), (2.0, 3), (3.6, 1), (9.0, 1)])
def test_large_steps_take_the_idle_cores(monkeypatch, experiments, load, expected):
    _, large = experiments
    monkeypatch.setattr(build, "TORCH_DEFAULT_THREADS", 4)
    monkeypatch.setattr(build.os, "getloadavg", lambda: (load, load, load))
    assert build.step_work(large.model, large.data, 256) > build.SMALL_STEP_WORK
    assert build.resolve_threads(None, large.model, large.data, 256) == expected


def test_small_steps_use_one_thread_and_explicit_threads_win(monkeypatch, experiments):
    small, large = experiments
    monkeypatch.setattr(build.os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    expected_work = 31 * len(small.data.train)  # 30 weights + bias, full batch
    assert build.step_work(small.model, small.data, None) == expected_work
    assert build.resolve_threads(None, small.model, small.data, None) == 1
    assert build.resolve_threads(3, large.model, large.data, 256) == 3
    torch.set_num_threads(1)
