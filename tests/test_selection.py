"""Model selection: early stopping counts patience in evaluations, best.pt holds the best
validation weights and is restored before the one evaluation of the test split, and a resumed
run continues its early-stopping state."""

import pandas as pd
import pytest
import torch

from dlrun.build import build
from dlrun.config.trainer import EarlyStoppingConfig, Mode
from dlrun.console import RunConsole
from dlrun.loop import evaluate
from dlrun.record.files import RunRecord
from dlrun.run import run
from dlrun.selection import EarlyStopping
from tests.conftest import compose_config, killed_after_checkpoint, run_config

# 42 training rows of 40 noisy features, full-batch gradient descent: the validation loss falls
# to its minimum at epoch 9, then rises as the linear model fits the noise
OVERFITTING = (
    "model=linear",
    "dataset=synthetic_regression",
    "dataset.n_samples=60",
    "dataset.n_features=40",
    "dataset.noise=1.0",
    "trainer=full_batch",
    "trainer.eval_every=1",
    "trainer.max_epochs=60",
    "trainer.early_stopping.enabled=true",
    "trainer.early_stopping.patience=5",
)


def evaluation(value: float) -> dict:
    return {"val": {"loss": value, "acc": value}}


def stops_after(config: EarlyStoppingConfig, values: list[float]) -> tuple[int | None, int]:
    """(the 1-based evaluation at which training stops or None, the best evaluation)."""
    stopping = EarlyStopping(config, None, None)
    for index, value in enumerate(values, start=1):
        stopping.update(index, 10 * index, evaluation(value))
        if stopping.state.stopped:
            return index, stopping.state.epoch
    return None, stopping.state.epoch


@pytest.mark.parametrize(
    "options, values, expected",
    [
        # best at evaluation 2; evaluations 3, 4, 5 do not improve: patience 3 stops at 5
        ({"patience": 3}, [1.0, 0.8, 0.9, 0.85, 0.81, 0.7], (5, 2)),
        # an improvement resets the count: 0.79 at evaluation 4
        ({"patience": 3}, [1.0, 0.8, 0.9, 0.79, 0.85, 0.81, 0.95], (7, 4)),
        # min_delta 0.05: 0.97 and 0.96 are not improvements over 1.0, 0.94 is
        ({"patience": 3, "min_delta": 0.05}, [1.0, 0.97, 0.96, 0.94, 0.93], (None, 4)),
        ({"patience": 2, "mode": Mode.max}, [0.5, 0.7, 0.6, 0.7, 0.9], (4, 2)),
        # NaN never improves
        ({"patience": 2}, [1.0, float("nan"), float("nan")], (3, 1)),
        ({"patience": None}, [1.0, 2.0, 3.0, 4.0], (None, 1)),
    ],
)
def test_patience_counts_evaluations_without_improvement(options, values, expected):
    config = EarlyStoppingConfig(enabled=True, monitor="val/loss", **options)
    if options.get("mode") == Mode.max:
        config = EarlyStoppingConfig(enabled=True, monitor="val/acc", **options)
    assert stops_after(config, values) == expected


def test_the_best_validation_weights_are_restored_and_test_is_evaluated_once(tmp_path):
    summary = run_config(tmp_path / "run", *OVERFITTING)
    rows = pd.read_csv(tmp_path / "run" / "metrics.csv")
    assert set(rows.split) == {"train", "val"}  # no test rows per epoch
    val = rows[rows.split == "val"].set_index("epoch")
    best = int(val.loss.idxmin())
    assert 1 < best < val.index.max() and val.loss.iloc[-1] > val.loss.min()  # it rose
    assert summary["stopped"] == "early_stopping"
    assert summary["epochs"] == best + 5 == val.index.max()  # patience 5, counted right
    assert summary["selected_epoch"] == best
    assert summary["selected_step"] == best  # one full-batch step per epoch
    for split in ("train", "val"):
        row = rows[(rows.split == split) & (rows.epoch == best)].iloc[0]
        for name in ("loss", "mae", "r2"):
            assert summary["metrics"][f"{split}/{name}"] == pytest.approx(row[name], rel=1e-6)
    # the test metrics are those of best.pt's weights, evaluated independently here
    state = torch.load(tmp_path / "run" / "best.pt", weights_only=True)
    assert (state["epoch"], state["step"]) == (best, best) and "optimizer" in state
    cfg, names = compose_config(*OVERFITTING)
    experiment = build(cfg, names)
    experiment.model.load_state_dict(state["model"])
    test = evaluate(experiment.model, {"test": experiment.data.splits["test"]})["test"]
    assert summary["metrics"]["test/loss"] == pytest.approx(test["loss"], rel=1e-6)


def test_without_early_stopping_the_last_weights_are_the_result(tmp_path):
    overrides = (*OVERFITTING[:-2], "trainer.max_epochs=15")
    summary = run_config(tmp_path / "run", *overrides)
    rows = pd.read_csv(tmp_path / "run" / "metrics.csv")
    last = rows[(rows.split == "val") & (rows.epoch == 15)].iloc[0]
    assert (summary["stopped"], summary["selected_epoch"]) == ("max_epochs", 15)
    assert summary["metrics"]["val/loss"] == pytest.approx(last.loss, rel=1e-6)
    assert not (tmp_path / "run" / "best.pt").exists()


class Killed(Exception):
    pass


@pytest.mark.parametrize("killed_at", [7, 12])  # before the best epoch (9), and after it
def test_a_resumed_run_continues_its_early_stopping_state(tmp_path, monkeypatch, killed_at):
    reference = run_config(tmp_path / "reference", *OVERFITTING)
    with killed_after_checkpoint(monkeypatch, killed_at):
        run_config(tmp_path / "resumed", *OVERFITTING)
    cfg, names = compose_config(*OVERFITTING)
    resumed = run(cfg, tmp_path / "resumed", names, "dlrun", RunConsole(False), resume=True)
    for key in ("metrics", "epochs", "steps", "selected_epoch", "stopped"):
        assert resumed[key] == reference[key], key


def test_a_run_killed_after_it_stopped_early_does_not_train_on_when_resumed(tmp_path, monkeypatch):
    reference = run_config(tmp_path / "reference", *OVERFITTING)
    write = RunRecord.write_summary

    def die(self, summary):
        raise Killed  # after the last checkpoint, before summary.json

    monkeypatch.setattr(RunRecord, "write_summary", die)
    with pytest.raises(Killed):
        run_config(tmp_path / "resumed", *OVERFITTING)
    monkeypatch.setattr(RunRecord, "write_summary", write)
    cfg, names = compose_config(*OVERFITTING)
    resumed = run(cfg, tmp_path / "resumed", names, "dlrun", RunConsole(False), resume=True)
    assert (resumed["epochs"], resumed["stopped"]) == (reference["epochs"], "early_stopping")
    assert resumed["metrics"] == reference["metrics"]


@pytest.mark.parametrize(
    "overrides, named",
    [
        (("trainer.early_stopping.monitor=val/acc",), "monitor=val/acc is not a metric"),
        (("trainer.early_stopping.monitor=test/loss",), "monitor='test/loss' is not allowed"),
        (("dataset.val_fraction=0",), "monitor=val/loss needs a val split"),
        (("trainer.early_stopping.patience=0",), "patience=0 is not allowed"),
    ],
)
def test_a_monitor_the_run_cannot_watch_is_one_line(dlrun_main, tmp_path, overrides, named):
    code, out, err = dlrun_main(*OVERFITTING, *overrides)
    assert code == 2 and err.startswith("dlrun: error: trainer.early_stopping.") and named in err
    assert err.count("\n") == 1 and "Traceback" not in out + err
    assert not (tmp_path / "outputs").exists() or not list((tmp_path / "outputs").rglob("*.csv"))
