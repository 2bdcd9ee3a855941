"""Sweeps through the `dlrun --multirun` command: failures as results, fail_fast, resume."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from omegaconf import OmegaConf

import dlrun
import dlrun.run
from dlrun.console import RunConsole
from dlrun.job import Job, run_job
from dlrun.paths import config_dir
from dlrun.record.identity import config_hash, differences
from dlrun.report import build_report
from dlrun.sweeps.callback import count_jobs, status_line
from tests.conftest import compose_config, run_config

# 4 jobs: (0.01, 200) completes, (1e3, 200) diverges, both n_samples=2 jobs fail (InputError)
SWEEP = [
    "--multirun",
    "model=linear",
    "dataset=synthetic_regression",
    "optimizer.lr=0.01,1e3",
    "dataset.n_samples=200,2",
    "trainer.max_epochs=2",
]


def progress(out: str) -> list[str]:
    """The status lines a sweep logged, without their time stamps."""
    return [line.split(" - ")[-1] for line in out.splitlines() if " done, " in line]


def statuses(sweep_dir) -> dict[str, str]:
    found = {}
    for path in sweep_dir.glob("*/summary.json"):
        found[path.parent.name] = json.loads(path.read_text())["status"]
    return found


def test_failed_and_diverged_jobs_are_in_the_table(dlrun_main, tmp_path):
    sweep_dir = tmp_path / "sweep"
    code, out, err = dlrun_main(*SWEEP, f"hydra.sweep.dir={sweep_dir}")
    assert code == 1, err  # every job ran, but some failed
    assert "2 job(s) of the sweep failed" in err
    assert statuses(sweep_dir) == {"0": "completed", "1": "failed", "2": "diverged", "3": "failed"}
    lines = progress(out)
    assert [line.split(" done")[0] for line in lines] == [f"sweep: {n}/4" for n in (1, 2, 3, 4)]
    assert lines[-1].startswith("sweep: 4/4 done, 2 failed, 1 diverged, 0 running")
    cells = pd.read_csv(sweep_dir / "comparison.csv").set_index(
        ["optimizer.lr", "dataset.n_samples"]
    )
    assert cells.loc[(0.01, 200), "n"] == 1
    assert cells.loc[(1000.0, 200), "n_diverged"] == 1
    assert cells.loc[(0.01, 2), "cell"] == "failed"
    text = (sweep_dir / "comparison.md").read_text()
    assert text.count("- failed:") == 2 and text.count("- diverged:") == 1
    assert "n_samples=2" in err  # every failure is reported, not only the first
    # each failure is recorded once, with its one-line error and no traceback for bad input
    failed = json.loads((sweep_dir / "1" / "summary.json").read_text())
    assert failed["error"].startswith("dataset.n_samples=2") and failed["traceback"] is None
    assert failed["command"].startswith("dlrun ") and failed["seed"] == 0


def test_fail_fast_stops_and_resume_reruns_only_what_is_missing(dlrun_main, tmp_path):
    sweep_dir = tmp_path / "sweep"
    code, _, err = dlrun_main(*SWEEP, "on_error=fail_fast", f"hydra.sweep.dir={sweep_dir}")
    assert code == 1
    assert "on_error=fail_fast" in err
    assert statuses(sweep_dir) == {"0": "completed", "1": "failed"}  # jobs 2 and 3 never ran
    first = (sweep_dir / "0" / "summary.json").read_text()

    code, out, err = dlrun_main(*SWEEP, f"resume={sweep_dir}")
    assert code == 1, err  # the n_samples=2 jobs fail again
    assert "skipped (completed in" in out + err
    assert (sweep_dir / "0" / "summary.json").read_text() == first  # not trained again
    assert statuses(sweep_dir) == {"0": "completed", "1": "failed", "2": "diverged", "3": "failed"}
    # the status line counts the records the first sweep left too
    assert progress(out)[0].startswith("sweep: 2/4 done, 1 failed, 0 diverged")
    assert progress(out)[-1].startswith("sweep: 4/4 done, 2 failed, 1 diverged, 0 running")
    assert (sweep_dir / "comparison.md").is_file()


def test_repeats_train_each_seed_and_the_table_averages_them(tmp_path):
    overrides = ["model=logistic", "dataset=breast_cancer", "trainer.max_epochs=2", "seed=5"]
    cfg, names = compose_config(*overrides, "repeats=3")
    job = Job(cfg, tmp_path / "0", names, [*overrides, "repeats=3"], "dlrun", tmp_path)
    returned = run_job(job, RunConsole(False))
    records = [
        json.loads((tmp_path / "0" / f"seed-{s}" / "summary.json").read_text()) for s in (5, 6, 7)
    ]
    assert [r["seed"] for r in records] == [5, 6, 7]
    # each repeat is the run that seed gives on its own (batched: to float32 rounding)
    alone = run_config(tmp_path / "alone", *overrides[:-1], "seed=6")
    assert records[1]["metrics"] == pytest.approx(alone["metrics"], rel=1e-5)
    accs = [r["metrics"]["test/acc"] for r in records]
    assert returned["metrics"]["test/acc"] == pytest.approx(np.mean(accs))
    report = build_report([tmp_path / "0"])
    assert report.rows == [] and report.cells["n"].iloc[0] == 3
    assert report.cells["std"].iloc[0] == pytest.approx(np.std(accs, ddof=1))


def test_status_line_counts_the_jobs_of_a_glob_sweep():
    models = [path.stem for path in (config_dir() / "model").glob("*.yaml")]
    kept = [name for name in models if not name.startswith("l")]  # all but linear, lstm, ...
    config = OmegaConf.create(
        {
            "hydra": {
                "sweeper": {"params": {"model": "glob(*,exclude=[l*])"}},
                "overrides": {"task": ["seed=0,1", "trainer.max_epochs=2"]},
            }
        }
    )
    assert count_jobs(config) == 2 * len(kept) > 2
    assert status_line({"completed": 2}, count_jobs(config), 10.0).startswith(
        f"sweep: 2/{2 * len(kept)} done"
    )


def test_status_line_total_counts_every_repeat():
    # the status line counts run records, and repeats=R writes R per job: 2 lrs × 3 = 6
    config = OmegaConf.create(
        {
            "repeats": 3,
            "hydra": {"sweeper": {}, "overrides": {"task": ["optimizer.lr=0.1,1", "repeats=3"]}},
        }
    )
    assert count_jobs(config) == 6
    swept = OmegaConf.create(
        {"hydra": {"sweeper": {}, "overrides": {"task": ["optimizer.lr=0.1,1", "repeats=1,2"]}}}
    )
    assert count_jobs(swept) == 2 * (1 + 2)


def test_a_swept_bad_repeats_is_a_failed_job_not_a_silent_one(dlrun_main, tmp_path):
    sweep_dir = tmp_path / "sweep"
    quick = ("model=logistic", "dataset=breast_cancer", "trainer.max_epochs=1")
    code, _, err = dlrun_main("-m", *quick, "repeats=0,1", f"hydra.sweep.dir={sweep_dir}")
    assert code == 1 and "repeats=0 is not allowed" in err
    assert statuses(sweep_dir) == {"0": "failed", "1": "completed"}


def test_config_hash_ignores_how_a_run_is_executed_but_not_what_it_trains():
    base = config_hash(compose_config("model=logistic", "dataset=breast_cancer")[0])
    for how in ("threads=2", "device=cpu", "logger=tensorboard", "on_error=fail_fast"):
        assert (
            config_hash(compose_config("model=logistic", "dataset=breast_cancer", how)[0]) == base
        )
    for what in ("seed=1", "optimizer.lr=0.5", "trainer.checkpoint=false"):
        assert (
            config_hash(compose_config("model=logistic", "dataset=breast_cancer", what)[0]) != base
        )
    before = {"optimizer": {"lr": 0.1, "momentum": 0.0}, "seed": 0}
    now = {"optimizer": {"lr": 0.5, "momentum": 0.0}, "seed": 0, "extra": 1}
    assert differences(before, now) == ["extra=1 (was (unset))", "optimizer.lr=0.5 (was 0.1)"]


def test_the_identity_keys_import_without_torch():
    code = "import sys, dlrun.record.identity; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0


def test_a_job_that_fails_in_training_is_recorded_once_with_what_was_known(
    tmp_path, monkeypatch, capsys
):
    def broken_fit(*args, **kwargs):
        raise RuntimeError("a bug\nover two lines")

    monkeypatch.setattr(dlrun.run, "fit", broken_fit)
    overrides = ["model=logistic", "dataset=breast_cancer"]
    cfg, names = compose_config(*overrides)
    job = Job(cfg, tmp_path / "0", names, overrides, "dlrun " + " ".join(overrides), tmp_path)
    returned = run_job(job, RunConsole(False))
    summary = json.loads((tmp_path / "0" / "summary.json").read_text())
    assert returned["status"] == summary["status"] == "failed"
    assert summary["error"] == "RuntimeError: a bug over two lines"
    assert "Traceback" in summary["traceback"] and "broken_fit" in summary["traceback"]
    # what run() knew before it failed stays: the record is written once, not overwritten
    assert summary["n_params"] == 31 and summary["versions"]["dlrun"] == dlrun.__version__
    assert "dlrun: failed: dlrun model=logistic" in capsys.readouterr().err


@pytest.mark.parametrize(
    "report, phrase",
    [("report.metrics=[val/nope]", "val/nope"), ("report.rows=[nope]", "report.rows=nope")],
)
def test_a_report_naming_nothing_recorded_ends_the_sweep_in_one_line(
    dlrun_main, tmp_path, report, phrase
):
    quick = ["model=logistic", "dataset=breast_cancer", "trainer.max_epochs=1"]
    code, _, err = dlrun_main("-m", *quick, "seed=0,1", report, f"hydra.sweep.dir={tmp_path}/s")
    assert code == 2 and "Traceback" not in err
    (line,) = [line for line in err.splitlines() if line.startswith("dlrun: error:")]
    assert phrase in line and ("records" in line or "keys" in line)
