"""`objective`: what a job returns to an optimising sweeper. A completed run gives its metric;
a failed or diverged one the worst value for the direction; an Optuna sweep's best trial is
the best of the trials' summary.json figures."""

import json
import math

import pytest
from omegaconf import OmegaConf

from dlrun.errors import InputError
from dlrun.objective import job_return, objective_value

COMPLETED = {"status": "completed", "metrics": {"val/loss": 0.25, "val/acc": 0.9}}
TINY = (
    "model=softmax",
    "dataset=synthetic_multiclass",
    "dataset.n_samples=120",
    "trainer.max_epochs=2",
    "trainer.batch_size=16",
)


def test_completed_run_gives_its_metric():
    assert objective_value(COMPLETED, "val/loss") == 0.25
    assert objective_value(COMPLETED, "val/acc", "maximize") == 0.9


@pytest.mark.parametrize(
    "summary",
    [
        {"status": "diverged", "metrics": {"val/loss": math.nan}},
        {"status": "failed", "error": "RuntimeError: boom"},
        {"status": "incomplete", "metrics": {"val/loss": 0.1}},  # a seed of repeats=K failed
        {"status": "completed", "metrics": {"val/loss": None}},  # non-finite, as JSON keeps it
        None,  # skipped: the sweep was stopped by on_error=fail_fast
    ],
)
def test_unfinished_run_gives_the_worst_value(summary):
    assert objective_value(summary, "val/loss") == math.inf
    assert objective_value(summary, "val/loss", "maximize") == -math.inf


def test_unknown_metric_is_refused_naming_the_metrics():
    with pytest.raises(InputError, match=r"objective=val/los .* allowed: val/acc, val/loss"):
        objective_value(COMPLETED, "val/los")


def composed_sweeper(*overrides: str):
    """hydra.sweeper as `dlrun -m <overrides>` composes it."""
    from hydra import compose, initialize_config_dir

    from dlrun.paths import config_dir

    with initialize_config_dir(version_base="1.3", config_dir=str(config_dir())):
        cfg = compose("config", overrides=list(overrides), return_hydra_config=True)
    return cfg.hydra.sweeper


def test_the_default_sweeper_gets_the_summary_and_optuna_a_float():
    grid = composed_sweeper()
    assert job_return(COMPLETED, "val/loss", grid) is COMPLETED
    assert job_return(COMPLETED, "no/such/metric", grid) is COMPLETED
    assert job_return(COMPLETED, "no/such/metric", None) is COMPLETED  # a single run
    pytest.importorskip("hydra_plugins.hydra_optuna_sweeper")
    optuna = composed_sweeper("hydra/sweeper=optuna", "hydra.sweeper.direction=maximize")
    assert job_return(COMPLETED, "val/acc", optuna) == 0.9
    assert job_return(None, "val/acc", optuna) == -math.inf
    several = composed_sweeper(
        "hydra/sweeper=optuna", "hydra.sweeper.direction=[minimize,maximize]"
    )
    with pytest.raises(InputError, match="direction"):
        job_return(COMPLETED, "val/loss", several)


def test_a_run_without_a_validation_split_completes(dlrun_main, tmp_path):
    code, _, err = dlrun_main("dataset.val_fraction=0", "trainer.max_epochs=1")
    assert code == 0, err
    (summary,) = tmp_path.glob("outputs/runs/*/*/summary.json")
    assert json.loads(summary.read_text())["status"] == "completed"


def test_a_grid_sweep_ignores_the_objective_and_writes_its_table(dlrun_main, tmp_path):
    code, _, err = dlrun_main(
        "-m",
        "model=logistic",
        "dataset=breast_cancer",
        "seed=0,1",
        "objective=no/such",
        "trainer.max_epochs=1",
        f"hydra.sweep.dir={tmp_path}/sweep",
    )
    assert code == 0, err
    assert len(list((tmp_path / "sweep").glob("*/summary.json"))) == 2
    assert (tmp_path / "sweep" / "comparison.csv").is_file()


def trial_objectives(sweep_dir, name: str) -> list[float]:
    summaries = [json.loads(path.read_text()) for path in sweep_dir.glob("*/summary.json")]
    return [summary["metrics"][name] for summary in summaries]


@pytest.mark.parametrize(
    ("objective", "direction", "best"),
    [("val/loss", "minimize", min), ("train/loss", "maximize", max)],
)
def test_optuna_sweep_best_is_the_best_trial(dlrun_main, tmp_path, objective, direction, best):
    pytest.importorskip("hydra_plugins.hydra_optuna_sweeper")
    sweep_dir = tmp_path / "sweep"
    code, out, err = dlrun_main(
        "-m",
        "hydra/sweeper=optuna",
        "hydra.sweeper.n_trials=3",
        "hydra.sweeper.sampler.seed=0",
        f"hydra.sweeper.direction={direction}",
        f"objective={objective}",
        "optimizer.lr=interval(0.01,1)",
        f"hydra.sweep.dir={sweep_dir}",
        *TINY,
    )
    assert code == 0, err
    values = trial_objectives(sweep_dir, objective)
    assert len(values) == 3 and len(set(values)) == 3
    results = OmegaConf.load(sweep_dir / "optimization_results.yaml")
    assert results.best_value == best(values)
    assert f"sweep: best {objective} {best(values):.6g} with optimizer.lr=" in out
    assert objective in (sweep_dir / "comparison.md").read_text()  # the table shows it


def test_optuna_sweep_of_diverging_runs_ends_with_a_table(dlrun_main, tmp_path):
    """Every trial diverges: Optuna ranks +inf trials (NaN would fail them, and a study without
    a completed trial has no best one: the sweep would end in an error)."""
    pytest.importorskip("hydra_plugins.hydra_optuna_sweeper")
    sweep_dir = tmp_path / "sweep"
    code, out, err = dlrun_main(
        "-m",
        "hydra/sweeper=optuna",
        "hydra.sweeper.n_trials=2",
        "optimizer.lr=interval(1e7,1e8)",
        f"hydra.sweep.dir={sweep_dir}",
        *TINY,
        "model=mlp",
    )
    assert code == 0, err
    assert OmegaConf.load(sweep_dir / "optimization_results.yaml").best_value == math.inf
    assert "diverged" in out and "sweep: best val/loss inf" in out


def test_misspelt_objective_ends_the_sweep_with_one_line(dlrun_main, tmp_path):
    pytest.importorskip("hydra_plugins.hydra_optuna_sweeper")
    code, _, err = dlrun_main(
        "-m",
        "hydra/sweeper=optuna",
        "hydra.sweeper.n_trials=2",
        "objective=val/los",
        "optimizer.lr=interval(0.01,1)",
        f"hydra.sweep.dir={tmp_path / 'sweep'}",
        *TINY,
    )
    assert code == 2
    assert err.strip().splitlines()[-1].startswith("dlrun: error: objective=val/los is not")


def test_objective_is_not_part_of_a_jobs_identity(compose_cfg):
    """resume=<sweep dir> matches jobs by config hash: the objective changes what a job
    returns, not what it trains."""
    from dlrun.record.identity import config_hash

    plain, _ = compose_cfg(*TINY)
    other, _ = compose_cfg(*TINY, "objective=val/acc")
    assert config_hash(plain) == config_hash(other)
    assert config_hash(plain) != config_hash(compose_cfg(*TINY, "seed=1")[0])
