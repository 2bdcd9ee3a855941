"""logger=tensorboard: the event files hold the run record's numbers, read back with
TensorBoard's own reader; without the package the run stops before training with one line."""

import json
import sys

import numpy as np
import pandas as pd
import pytest

from dlrun.console import RunConsole
from dlrun.record import RunRecord
from dlrun.run import run
from tests.conftest import compose_config, run_config

OVERRIDES = ("logger=tensorboard", "model=mlp", "dataset=iris", "trainer.batch_size=16")


def read_scalars(directory) -> dict[str, pd.Series]:
    """Every scalar tag of the event files in directory, as value-by-step series."""
    accumulator_module = pytest.importorskip(
        "tensorboard.backend.event_processing.event_accumulator"
    )
    reader = accumulator_module.EventAccumulator(str(directory), size_guidance={"scalars": 0})
    reader.Reload()
    series = {}
    for tag in reader.Tags()["scalars"]:
        events = reader.Scalars(tag)
        steps = [event.step for event in events]
        assert len(steps) == len(set(steps)), f"{tag}: a step logged twice"
        series[tag] = pd.Series([event.value for event in events], index=steps, name=tag)
    return series


def expected_scalars(run_dir) -> dict[str, pd.Series]:
    """What the record says: metrics.csv's split/metric at each evaluation's step, the test
    split's summary.json metrics at the last step (evaluated once, at the end), and steps.csv's
    loss, gradient norm and step size at each step."""
    expected = {}
    metrics = pd.read_csv(run_dir / "metrics.csv")
    for split, rows in metrics.groupby("split"):
        for name in ("loss", "acc"):
            expected[f"{split}/{name}"] = rows.set_index("step")[name]
    summary = json.loads((run_dir / "summary.json").read_text())
    for name in ("loss", "acc"):
        value = summary["metrics"][f"test/{name}"]
        expected[f"test/{name}"] = pd.Series([value], index=[summary["steps"]])
    steps = pd.read_csv(run_dir / "steps.csv").set_index("step")
    for name in ("loss", "grad_norm", "lr"):
        expected[f"step/{name}"] = steps[name]
    return expected


def assert_same_scalars(run_dir) -> None:
    found, expected = read_scalars(run_dir / "tensorboard"), expected_scalars(run_dir)
    assert sorted(found) == sorted(expected)
    for tag, series in expected.items():
        assert list(found[tag].index) == list(series.index), tag
        # event files keep 32-bit floats
        np.testing.assert_allclose(found[tag].to_numpy(), series.to_numpy(), rtol=1e-6, err_msg=tag)


def test_tensorboard_scalars_equal_the_csv_files(tmp_path):
    pytest.importorskip("tensorboard")
    summary = run_config(tmp_path / "run", *OVERRIDES, "trainer.max_epochs=3")
    assert_same_scalars(tmp_path / "run")
    # the last evaluation's scalars are summary.json's metrics, under the same names
    found = read_scalars(tmp_path / "run" / "tensorboard")
    for name in ("train/loss", "val/acc", "test/loss"):
        assert found[name].iloc[-1] == pytest.approx(summary["metrics"][name], rel=1e-6)
        assert found[name].index[-1] == summary["steps"]


class Killed(Exception):
    pass


def test_resumed_run_logs_each_step_once(tmp_path, monkeypatch):
    """Killed at epoch 6's evaluation with its last checkpoint at epoch 4: epochs 5-6 are
    logged twice on disk, and the reader sees only the resumed run's values."""
    pytest.importorskip("tensorboard")
    overrides = (*OVERRIDES, "trainer.max_epochs=6", "trainer.eval_every=2")
    save = RunRecord.save_checkpoint

    def die_at_epoch_six(self, model, optimizer, epoch, step, **state):
        if epoch == 6:
            raise Killed  # after epoch 6 was logged, before its checkpoint
        save(self, model, optimizer, epoch, step, **state)

    monkeypatch.setattr(RunRecord, "save_checkpoint", die_at_epoch_six)
    with pytest.raises(Killed):
        run_config(tmp_path / "run", *overrides)
    monkeypatch.setattr(RunRecord, "save_checkpoint", save)
    cfg, names = compose_config(*overrides)
    run(cfg, tmp_path / "run", names, "dlrun", RunConsole(False), resume=True)
    assert len(list((tmp_path / "run" / "tensorboard").glob("events.out.tfevents.*"))) == 2
    assert_same_scalars(tmp_path / "run")


def test_missing_tensorboard_is_one_line_before_training(dlrun_main, tmp_path, monkeypatch):
    for name in [name for name in sys.modules if name.split(".")[0] == "tensorboard"]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "tensorboard", None)  # import tensorboard raises
    code, _, err = dlrun_main("logger=tensorboard", "trainer.max_epochs=1")
    assert code == 2
    assert err.strip() == (
        "dlrun: error: logger=tensorboard needs the tensorboard package: "
        "pip install 'dlrun[tensorboard]'"
    )
    assert not list(tmp_path.rglob("metrics.csv")) and not list(tmp_path.rglob("tensorboard"))


def test_csv_logger_writes_no_event_files(tmp_path):
    run_config(tmp_path / "run", "model=mlp", "dataset=iris", "trainer.max_epochs=1")
    assert not (tmp_path / "run" / "tensorboard").exists()
