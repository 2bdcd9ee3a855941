"""report.metrics checked before a sweep's first job, against the metrics its tasks record
(dlrun.sweeps.plan), through the `dlrun` entry point with the configs Hydra composes."""

import pandas as pd
import pytest
import torch

from dlrun.build import build_data, planned_task
from dlrun.errors import InputError
from dlrun.sweeps.plan import check_report_metrics
from tests.conftest import compose_config

# the README's sweep, with the steps cut so that a run takes a moment
README_SWEEP = ["--multirun", "model=rnn,lstm", "seq_len=10,50,100", "repeats=3"]
QUICK = ["dataset=adding", "dataset.n_samples=40", "trainer=sequence", "trainer.max_steps=2"]


def error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("dlrun: error:")]


def test_a_metric_the_task_lacks_is_refused_before_any_job_runs(dlrun_main, tmp_path):
    sweep = tmp_path / "s"
    code, _, err = dlrun_main(
        *README_SWEEP, "report.metrics=[val/loss,val/acc]", f"hydra.sweep.dir={sweep}"
    )
    assert code == 2 and "Traceback" not in err
    (line,) = error_lines(err)
    assert "report.metrics=val/acc" in line and "regression" in line and "r2" in line
    assert not list(sweep.rglob("summary.json"))  # nothing trained


def test_a_metric_without_its_split_is_refused_naming_the_split(dlrun_main, tmp_path):
    code, _, err = dlrun_main(
        "-m",
        "model=logistic",
        "dataset=breast_cancer",
        "seed=0,1",
        "report.metrics=[acc]",
        f"hydra.sweep.dir={tmp_path}/s",
    )
    (line,) = error_lines(err)
    assert code == 2 and "val/acc" in line
    assert not list((tmp_path / "s").rglob("summary.json"))


def test_the_readme_sweep_with_its_metrics_runs_and_tables_both(dlrun_main, tmp_path):
    sweep = tmp_path / "s"
    code, _, err = dlrun_main(
        "--multirun",
        "model=rnn,lstm",
        "seq_len=10,20",
        "repeats=2",
        *QUICK,
        "report.metrics=[val/loss,val/r2]",
        f"hydra.sweep.dir={sweep}",
    )
    assert code == 0, err
    table = pd.read_csv(sweep / "comparison.csv")
    assert set(table.metric) == {"val/loss", "val/r2"}


def test_a_name_only_the_runs_can_tell_is_left_out_without_dropping_the_others(
    dlrun_main, tmp_path
):
    sweep = tmp_path / "s"
    code, out, err = dlrun_main(
        "-m",
        "model=logistic",
        "dataset=breast_cancer",
        "seed=0,1",
        "trainer.max_epochs=1",
        "report.metrics=[val/acc,n_params,init/nope]",
        f"hydra.sweep.dir={sweep}",
    )
    assert code == 0 and not error_lines(err)
    assert "init/nope: left out of the tables" in out + err
    table = pd.read_csv(sweep / "comparison.csv")
    assert set(table.metric) == {"val/acc", "n_params"}


def test_a_sweep_over_tasks_accepts_what_any_of_them_records(dlrun_main, tmp_path):
    code, _, err = dlrun_main(
        "-m",
        "model=mlp",
        "dataset=diabetes,iris",
        "trainer.max_epochs=1",
        "report.metrics=[val/acc,val/r2]",
        f"hydra.sweep.dir={tmp_path}/s",
    )
    assert code == 0 and not error_lines(err)


@pytest.mark.parametrize(
    "metric",
    [
        "val/loss",
        "baseline/test/r2",
        "n_params",
        "train_time_s",
        "init/grad_rate",
        "invariance/max_pool2",
    ],
)
def test_analysis_metrics_and_summary_numbers_are_not_refused(metric):
    check_report_metrics([metric], {"regression"})


@pytest.mark.parametrize("metric", ["val/acc", "baseline/val/acc", "test/accuracy", "acc"])
def test_a_regression_sweep_refuses_what_it_cannot_record(metric):
    with pytest.raises(InputError, match=f"report.metrics={metric}: "):
        check_report_metrics([metric], {"regression"})


@pytest.mark.parametrize(
    "overrides, task",
    [
        (["model=rnn"], "regression"),  # the adding problem
        (["model=lstm", "dataset=copy"], "multiclass"),
        (["dataset=diabetes"], "regression"),
        (["dataset=breast_cancer"], "binary"),
        (["model=poisson"], "count"),  # the GLM's family decides
        (["dataset=shapes", "model=cnn"], "multiclass"),
    ],
)
def test_the_planned_task_is_the_one_the_loaded_data_resolve_to(overrides, task):
    cfg, names = compose_config(*overrides)
    loaded = build_data(cfg, names["model"], torch.device("cpu"), torch.float64)
    assert planned_task(cfg) == loaded.task == task


@pytest.mark.parametrize("target, task", [([0, 1] * 10, "binary"), ([0.5, 1.5] * 10, "regression")])
def test_a_files_task_is_inferred_from_its_target_as_training_does(tmp_path, target, task):
    path = tmp_path / "data.csv"
    pd.DataFrame({"x": range(20), "y": target}).to_csv(path, index=False)
    cfg, _ = compose_config("dataset=csv", f"dataset.path={path}", "dataset.target=y")
    assert planned_task(cfg) == task
