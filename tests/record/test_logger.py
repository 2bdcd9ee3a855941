"""logger=tensorboard: the event files hold the run record's numbers, read back with
TensorBoard's own reader; without the package the run stops before training with one line."""

import json
import sys

import numpy as np
import pandas as pd
import pytest
from omegaconf import OmegaConf

from dlrun.console import RunConsole
from dlrun.record.files import RunRecord
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


MLFLOW = ("logger=mlflow", "model=mlp", "dataset=iris", "trainer.batch_size=16")


def read_mlflow_run(store):
    """The one MLflow run in the file store: (run, {metric: value-by-step series})."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=store.resolve().as_uri())
    experiment = client.get_experiment_by_name("dlrun")
    (run,) = client.search_runs([experiment.experiment_id])
    series = {}
    for name in run.data.metrics:
        history = client.get_metric_history(run.info.run_id, name)
        steps = [metric.step for metric in history]
        assert len(steps) == len(set(steps)), f"{name}: a step logged twice"
        series[name] = pd.Series([m.value for m in history], index=steps, name=name)
    return run, series


def test_mlflow_metrics_and_params_equal_the_run_record(tmp_path, monkeypatch):
    pytest.importorskip("mlflow")
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # restored after the test
    overrides = (*MLFLOW, "trainer.max_epochs=3", "model.hidden=[8,4]")
    summary = run_config(tmp_path / "run", *overrides)
    run, found = read_mlflow_run(tmp_path / "run" / "mlruns")
    assert run.info.status == "FINISHED" and run.info.run_name == "run"
    expected = expected_scalars(tmp_path / "run")
    assert sorted(found) == sorted(expected)
    for name, series in expected.items():
        assert list(found[name].index) == list(series.index), name
        # the file store keeps doubles as text: the CSV's figures to the last digit
        np.testing.assert_allclose(found[name].to_numpy(), series.to_numpy(), rtol=1e-12)
    for name in ("train/loss", "val/acc", "test/loss"):
        assert found[name].iloc[-1] == summary["metrics"][name]
    cfg, _ = compose_config(*overrides)
    params = run.data.params
    assert len(params) == len(pd.json_normalize(OmegaConf.to_container(cfg)).columns)
    assert params["model.hidden"] == "[8, 4]" and float(params["optimizer.lr"]) == cfg.optimizer.lr
    assert params["model._target_"] == cfg.model._target_ and params["seed"] == "0"


def test_missing_mlflow_is_one_line_before_training(dlrun_main, tmp_path, monkeypatch):
    for name in [name for name in sys.modules if name.split(".")[0] == "mlflow"]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "mlflow", None)  # import mlflow raises
    code, _, err = dlrun_main("logger=mlflow", "trainer.max_epochs=1")
    assert code == 2
    assert err.strip() == (
        "dlrun: error: logger=mlflow needs the mlflow-skinny package: pip install 'dlrun[mlflow]'"
    )
    assert not list(tmp_path.rglob("metrics.csv")) and not list(tmp_path.rglob("mlruns"))


@pytest.mark.parametrize("override", ["logger.subdir=../elsewhere", "logger.experiment=' '"])
def test_mlflow_settings_out_of_range_are_one_line(dlrun_main, tmp_path, override):
    code, _, err = dlrun_main("logger=mlflow", override, "trainer.max_epochs=1")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert err.startswith(f"dlrun: error: logger.{override.split('.')[1].split('=')[0]}=")
    assert not list(tmp_path.rglob("metrics.csv"))


def test_mlflow_run_of_a_failed_training_is_marked_failed(tmp_path, monkeypatch):
    """Killed at epoch 2's checkpoint: the MLflow run holds epochs 1-2 and says FAILED."""
    pytest.importorskip("mlflow")
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    save = RunRecord.save_checkpoint

    def die_at_epoch_two(self, model, optimizer, epoch, step, **state):
        if epoch == 2:
            raise Killed
        save(self, model, optimizer, epoch, step, **state)

    monkeypatch.setattr(RunRecord, "save_checkpoint", die_at_epoch_two)
    with pytest.raises(Killed):
        run_config(tmp_path / "run", *MLFLOW, "trainer.max_epochs=3")
    run, found = read_mlflow_run(tmp_path / "run" / "mlruns")
    assert run.info.status == "FAILED"
    assert list(found["val/loss"].index) == list(
        pd.read_csv(tmp_path / "run" / "metrics.csv").step.unique()
    )


def test_mlflow_runs_share_a_store_given_by_tracking_uri(tmp_path, monkeypatch):
    pytest.importorskip("mlflow")
    from mlflow.tracking import MlflowClient

    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    store = (tmp_path / "store").as_uri()
    for name in ("a", "b"):
        run_config(tmp_path / name, *MLFLOW, "trainer.max_epochs=1", f"logger.tracking_uri={store}")
        assert not (tmp_path / name / "mlruns").exists()
    client = MlflowClient(tracking_uri=store)
    runs = client.search_runs([client.get_experiment_by_name("dlrun").experiment_id])
    assert sorted(run.info.run_name for run in runs) == ["a", "b"]
