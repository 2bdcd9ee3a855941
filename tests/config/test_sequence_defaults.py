"""Recurrent models default to the adding problem, Adam at lr 0.01 and the sequence trainer; the
command line's dataset=, optimizer=, trainer= win; a run says whether it solved the task."""

import pytest

from dlrun.config.optimizer import AdamConfig
from dlrun.config.trainer import TrainerConfig
from tests.conftest import compose_config

RECURRENT = ("rnn", "leaky_rnn", "skip_rnn", "lstm", "gru")
# a tiny adding problem an LSTM solves in a few hundred steps
TINY_ADDING = ("model=lstm", "seq_len=10", "dataset.n_samples=1000", "model.hidden_size=16")


def chosen(*overrides: str) -> dict[str, str]:
    cfg, names = compose_config(*overrides)
    return names | {"optimizer_target": cfg.optimizer._target_, "lr": cfg.optimizer.lr}


@pytest.mark.parametrize("model", RECURRENT)
def test_a_recurrent_model_alone_gets_the_sequence_defaults(model):
    names = chosen(f"model={model}")
    assert (names["dataset"], names["optimizer"], names["trainer"]) == (
        "adding",
        "adam_sequence",
        "sequence",
    )
    assert names["optimizer_target"] == "torch.optim.Adam" and names["lr"] == 0.01
    assert names["lr"] != AdamConfig.lr  # the sequence option says what differs


@pytest.mark.parametrize("model", RECURRENT)
def test_the_command_line_wins_over_a_recurrent_models_defaults(model):
    names = chosen(f"model={model}", "optimizer=sgd", "trainer=default", "dataset=copy")
    assert (names["dataset"], names["optimizer"], names["trainer"]) == ("copy", "sgd", "default")
    assert names["optimizer_target"] == "torch.optim.SGD"
    # the order on the command line does not matter
    assert chosen("optimizer=sgd", f"model={model}")["optimizer_target"] == "torch.optim.SGD"


def test_the_sequence_trainer_keeps_the_best_weights_and_stops_once_solved():
    cfg, _ = compose_config("model=lstm")
    trainer = cfg.trainer
    assert trainer.early_stopping.enabled and trainer.early_stopping.stop_when_solved
    # longer than the LSTM at T = 200 waited for a new best on the mean predictor's plateau
    # before solving (at most 81 evaluations over seeds 0-4): see conf/trainer/sequence.yaml
    assert trainer.early_stopping.patience == 100
    assert trainer.max_steps is not None and trainer.clip_grad_norm is not None
    # a tabular model keeps the plain trainer: no early stopping unless asked for
    default = compose_config("model=mlp")[0].trainer
    assert not default.early_stopping.enabled and not default.early_stopping.stop_when_solved
    assert default.max_epochs == TrainerConfig.max_epochs


@pytest.mark.parametrize("experiment", ["adding_task", "rnn_gradients"])
def test_the_recurrent_experiments_keep_their_fixed_budget(experiment):
    for model in ("lstm", "esn"):
        cfg, names = compose_config(f"experiment={experiment}", f"model={model}")
        assert names["trainer"] == "default" and names["optimizer"] == "adam"
        assert not cfg.trainer.early_stopping.enabled
        assert not cfg.trainer.early_stopping.stop_when_solved


def test_a_tiny_adding_run_stops_once_solved_and_says_so(run_dlrun, capsys):
    summary, run_dir = run_dlrun(*TINY_ADDING, "threads=1")
    assert summary["stopped"] == "solved" and summary["solved"] is True
    assert summary["metrics"]["val/loss"] < 0.5 * 0.01  # the margin stop_when_solved keeps
    assert summary["metrics"]["test/loss"] < 0.01 and summary["beats_baseline"]
    assert summary["criterion"] == "test mse < 0.01"
    assert summary["metrics"]["baseline/test/loss"] == pytest.approx(1 / 6, rel=0.15)
    assert summary["steps"] < 5000  # stopped before the budget
    out = capsys.readouterr().out
    assert summary["verdict"] in out and out.rstrip().endswith(": solved")
    assert (run_dir / "best.pt").is_file()


def test_a_run_that_learned_nothing_does_not_look_like_a_success(run_dlrun, capsys):
    summary, _ = run_dlrun(*TINY_ADDING, "trainer.max_steps=3", "threads=1")
    assert summary["status"] == "completed" and summary["stopped"] == "max_steps"
    assert summary["solved"] is False and summary["beats_baseline"] is False
    assert "no better than the mean predictor" in capsys.readouterr().out
    assert "no better than the mean predictor" in summary["verdict"]


@pytest.mark.slow  # the headline command: about 2,000 steps at T = 200, minutes on 2 cores
def test_the_headline_command_solves_the_adding_problem(run_dlrun):
    summary, _ = run_dlrun("model=lstm", "seq_len=200")
    assert (summary["stopped"], summary["solved"]) == ("solved", True)
    assert summary["metrics"]["test/loss"] < 0.01


def test_stopping_once_solved_without_a_validation_split_is_one_line(dlrun_main):
    off = "trainer.early_stopping.enabled=false"
    code, out, err = dlrun_main("model=lstm", "dataset.val_fraction=0", off)
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in out + err
    assert err.startswith("dlrun: error: trainer.early_stopping.stop_when_solved=true needs a val")
    assert "trainer.early_stopping.stop_when_solved=false" in err


def test_a_hopeless_sequence_run_stops_for_patience_and_keeps_its_verdict(run_dlrun):
    summary, _ = run_dlrun(
        "model=rnn", "seq_len=30", "dataset.n_samples=120", "trainer.early_stopping.patience=3"
    )
    assert summary["stopped"] == "early_stopping"
    assert summary["epochs"] == summary["selected_epoch"] + 3 < 100
    assert summary["solved"] is False and "not solved" in summary["verdict"]
