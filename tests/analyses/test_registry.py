"""The registry of analyses (dlrun.analyses): every analyze key has its analysis, refusals come
before any work, and measurements before training survive a resume."""

import dataclasses
import json
import math

import pandas as pd
import pytest
import torch

from dlrun import analyses
from dlrun.build import build
from dlrun.config.settings import AnalyzeConfig
from dlrun.console import RunConsole
from dlrun.record.files import RunRecord
from dlrun.run import run
from tests.conftest import compose_config, killed_after_checkpoint, run_config

RECURRENT = (
    "model=rnn",
    "seq_len=12",
    "model.hidden_size=8",
    "dataset.n_samples=80",
    "dtype=float64",
    "trainer.batch_size=16",
    "trainer.max_epochs=4",
    "trainer.eval_every=1",
)


def test_every_analyze_switch_names_a_registered_analysis():
    switches = {f.name for f in dataclasses.fields(AnalyzeConfig) if f.type is bool}
    requested = {name for name, analysis in analyses.REGISTRY.items() if not analysis.automatic}
    assert switches == requested


@pytest.mark.parametrize(
    "overrides,message",
    [
        (("model=mlp_numpy", "analyze.hessian=true"), "analyze.hessian=true needs second"),
        (("model=resnet", "analyze.equivariance=true"), "analyze.equivariance=true measures"),
    ],
)
def test_a_refused_analysis_is_one_line_before_any_file(dlrun_main, tmp_path, overrides, message):
    code, _, err = dlrun_main(*overrides, "trainer.max_steps=1")
    assert code == 2 and err.splitlines() == [err.splitlines()[0]]
    assert err.startswith(f"dlrun: error: {message}")
    run_files = {p.name for p in (tmp_path / "outputs").rglob("*") if p.is_file()}
    assert run_files <= {"dlrun.log", "config.yaml", "hydra.yaml", "overrides.yaml"}  # Hydra's


def test_gradients_through_time_runs_on_recurrent_models_only(compose_cfg):
    for model, expected in (("rnn", True), ("esn", True), ("mlp", False), ("cnn", False)):
        cfg, names = compose_cfg(f"model={model}")
        chosen = analyses.selected(cfg, build(cfg, names))
        assert ("gradients_through_time" in chosen) == expected, model


def test_a_resumed_recurrent_run_keeps_the_measurements_at_initialisation(tmp_path, monkeypatch):
    reference = run_config(tmp_path / "reference", *RECURRENT)
    with killed_after_checkpoint(monkeypatch, 2):
        run_config(tmp_path / "resumed", *RECURRENT)

    def measure_again(experiment):
        raise AssertionError("a resumed run measured its initialisation again")

    watch = analyses.REGISTRY["gradients_through_time"]
    entry = dataclasses.replace(watch, before=measure_again)
    monkeypatch.setitem(analyses.REGISTRY, "gradients_through_time", entry)
    cfg, names = compose_config(*RECURRENT)
    resumed = run(cfg, tmp_path / "resumed", names, "dlrun", RunConsole(False), resume=True)

    init = {key: value for key, value in reference["metrics"].items() if key.startswith("init/")}
    assert len(init) == 7  # 5 from the norms, 2 from the spectrum of W
    assert {key: resumed["metrics"][key] for key in init} == init
    assert resumed["metrics"] == reference["metrics"]  # the end too: resume is exact
    tables = [pd.read_csv(tmp_path / run / "grad_norms.csv") for run in ("reference", "resumed")]
    pd.testing.assert_frame_equal(*tables)
    kept = json.loads((tmp_path / "resumed" / analyses.INIT_FILE).read_text())
    assert (
        kept["gradients_through_time"]["norms"]
        == tables[0].norm[tables[0].phase == "init"].tolist()
    )


def test_measuring_before_training_leaves_the_random_stream_alone(
    compose_cfg, tmp_path, monkeypatch
):
    def draws(experiment):
        return {"draw": float(torch.rand(()))}

    entry = analyses.Analysis(run=lambda *_: {}, before=draws, automatic=True)
    monkeypatch.setattr(analyses, "REGISTRY", {"draws": entry})
    cfg, names = compose_cfg("model=logistic", "dataset=synthetic_binary")
    experiment, record = build(cfg, names), RunRecord(tmp_path)
    state = torch.get_rng_state()
    analyses.before_training(cfg, experiment, record)
    assert torch.equal(torch.get_rng_state(), state)
    assert json.loads((tmp_path / analyses.INIT_FILE).read_text()) == {
        "draws": {"draw": pytest.approx(0.5, abs=0.5)}
    }


def test_measurements_before_training_read_back_exactly(compose_cfg, tmp_path, monkeypatch):
    measured = {"norms": [math.inf, math.nan, 0.1 + 0.2, 1e-320]}
    entry = analyses.Analysis(run=lambda *_: {}, before=lambda _: measured, automatic=True)
    monkeypatch.setattr(analyses, "REGISTRY", {"probe": entry})
    cfg, names = compose_cfg("model=logistic", "dataset=synthetic_binary")
    record = RunRecord(tmp_path)
    analyses.before_training(cfg, build(cfg, names), record)
    (inf, nan, *rest) = analyses.read_initial(record)["probe"]["norms"]
    assert inf == math.inf and math.isnan(nan) and rest == measured["norms"][2:]
