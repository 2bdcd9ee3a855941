"""repeats=K as one batched model (dlrun.batched): each seed's record equals its sequential
run's to float32 rounding; the functional steps equal torch.optim's; what cannot batch falls
back (auto) or is refused in one line (true)."""

import logging
import math

import numpy as np
import pandas as pd
import pytest
import torch

from dlrun import tasks
from dlrun.batched.fit import BatchedFit, StackedSeeds, epoch_order, seed_losses
from dlrun.batched.optim import adam_step, clip_, seed_norms, sgd_step, torch_state
from dlrun.build import build
from dlrun.console import RunConsole
from dlrun.data.splits import Split
from dlrun.errors import InputError
from dlrun.loop import fit
from dlrun.record import RunRecord
from dlrun.steps import Batches
from dlrun.sweeps.compose import compose_config
from dlrun.sweeps.identity import config_hash
from dlrun.sweeps.jobs import Job, batching, holds_records, run_seeds

RTOL = 1e-5
TINY_MLP = ["trainer.max_epochs=2", "model.hidden=[8]"]
SHAPES = [(5, 4), (5,), (3, 5), (3,)]  # a two-layer network's weights and biases


def stacked(k: int, seed: int) -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return [torch.randn(k, *shape, generator=generator) for shape in SHAPES]


@pytest.mark.parametrize(
    "optimizer, step, options",
    [
        (torch.optim.SGD, sgd_step, dict(lr=0.1)),
        (torch.optim.SGD, sgd_step, dict(lr=0.05, momentum=0.9, weight_decay=0.01)),
        (torch.optim.Adam, adam_step, dict(lr=0.01)),
        (torch.optim.Adam, adam_step, dict(lr=0.003, weight_decay=0.1)),
    ],
)
def test_functional_steps_equal_torch_optim(optimizer, step, options):
    """Five steps on stacked tensors = torch.optim on each seed's slice, to the bit, and the
    per-seed state reads back as torch's own."""
    params, k = stacked(3, 0), 3
    seeds = [[p[i].clone().requires_grad_() for p in params] for i in range(k)]
    torch_optimizers = [optimizer(seed_params, **options) for seed_params in seeds]
    group, state = torch_optimizers[0].param_groups[0], {}
    for n in range(5):
        grads = stacked(k, 100 + n)
        step(params, grads, state, group)
        for i, torch_optimizer in enumerate(torch_optimizers):
            for p, g in zip(seeds[i], grads):
                p.grad = g[i].clone()
            torch_optimizer.step()
    kind = "adam" if optimizer is torch.optim.Adam else "sgd"
    for i, torch_optimizer in enumerate(torch_optimizers):
        for ours, theirs in zip(params, seeds[i]):
            assert torch.equal(ours[i], theirs.detach())
        ours_state = torch_state(kind, state, i, group)
        theirs_state = [torch_optimizer.state[p] for p in seeds[i] if p in torch_optimizer.state]
        assert len(ours_state) == len(theirs_state)
        for mine, torch_own in zip(ours_state, theirs_state):
            assert mine.keys() == torch_own.keys()
            for key in mine:
                assert torch.equal(mine[key], torch_own[key]), key


@pytest.mark.parametrize("task", tasks.TASKS)
def test_seed_losses_are_each_seeds_task_loss(task):
    generator = torch.Generator().manual_seed(1)
    eta = torch.randn(3, 7, 4 if task == "multiclass" else 1, generator=generator).squeeze(-1)
    y = {
        "regression": torch.randn(3, 7, generator=generator),
        "binary": torch.randint(0, 2, (3, 7), generator=generator).float(),
        "count": torch.randint(0, 5, (3, 7), generator=generator).float(),
        "multiclass": torch.randint(0, 4, (3, 7), generator=generator),
    }[task]
    expected = torch.stack([tasks.loss(task, eta[i], y[i]) for i in range(3)])
    torch.testing.assert_close(seed_losses(task, eta, y), expected, rtol=1e-6, atol=0)


def test_seed_norms_and_clipping_are_clip_grad_norm_per_seed():
    grads, max_norm = stacked(3, 2), 6.0  # norms 5.5, 6.6, 6.5
    norms = seed_norms(grads)
    clipped = [g.clone() for g in grads]
    clip_(clipped, norms, max_norm)
    for i in range(3):
        seed_grads = [torch.zeros(g.shape[1:], requires_grad=True) for g in grads]
        for p, g in zip(seed_grads, grads):
            p.grad = g[i].clone()
        norm = torch.nn.utils.clip_grad_norm_(seed_grads, max_norm)
        torch.testing.assert_close(norms[i], norm, rtol=1e-6, atol=0)
        for ours, p in zip(clipped, seed_grads):
            torch.testing.assert_close(ours[i], p.grad, rtol=1e-6, atol=0)
    assert (norms > max_norm).any() and (norms < max_norm).any()  # both branches are tested


@pytest.mark.parametrize("shuffle, batch_size", [(True, 4), (False, 4), (True, 3)])
def test_epoch_order_is_the_order_batches_yields(shuffle, batch_size):
    rows = torch.arange(10)
    ours = Batches(Split(rows, rows), batch_size, shuffle, torch.Generator().manual_seed(3))
    theirs = Batches(Split(rows, rows), batch_size, shuffle, torch.Generator().manual_seed(3))
    for _ in range(3):  # epochs: the generators must stay in step
        assert torch.equal(epoch_order(ours), torch.cat([index for index, _ in theirs]))


def run_job(tmp_path, name: str, *overrides: str) -> list[dict]:
    cfg, names = compose_config(*overrides)
    job = Job(cfg, tmp_path / name, names, list(overrides), "dlrun", None)
    return run_seeds(job, RunConsole(False))


def assert_close_tensor(ours: torch.Tensor, theirs: torch.Tensor) -> None:
    """Equal to RTOL relative to the tensor's largest entry (an entry near 0 differs in more
    of its own digits, not in more of the weights')."""
    assert ours.shape == theirs.shape
    assert float((ours - theirs).abs().max()) <= RTOL * float(theirs.abs().max())


def assert_same_numbers(batched: pd.DataFrame, alone: pd.DataFrame) -> None:
    """Every number equal to float32 rounding (elapsed_s is a time, not a result)."""
    assert list(batched.columns) == list(alone.columns) and batched.shape == alone.shape
    for column in batched.columns.drop("elapsed_s", errors="ignore"):
        if not pd.api.types.is_numeric_dtype(batched[column]):
            assert batched[column].tolist() == alone[column].tolist(), column
        else:
            np.testing.assert_allclose(batched[column], alone[column], rtol=RTOL, err_msg=column)


@pytest.mark.parametrize(
    "overrides",
    [
        [*TINY_MLP, "optimizer.momentum=0.9", "optimizer.weight_decay=0.001"],
        [*TINY_MLP, "optimizer=adam", "trainer.clip_grad_norm=0.5"],
        ["model=logistic", "dataset=breast_cancer", "trainer.max_epochs=3", "trainer.eval_every=2"],
    ],
    ids=["mlp-sgd-momentum", "mlp-adam-clipped", "logistic-sgd"],
)
def test_batched_seeds_equal_their_sequential_runs(tmp_path, overrides):
    batched = run_job(tmp_path, "batched", *overrides, "repeats=3", "repeats_batched=true")
    alone = run_job(tmp_path, "alone", *overrides, "repeats=3", "repeats_batched=false")
    assert [s["batched_seeds"] for s in batched] == [3, 3, 3]
    assert all("batched_seeds" not in s for s in alone)
    for seed, ours, theirs in zip((0, 1, 2), batched, alone):
        assert (ours["status"], ours["epochs"], ours["steps"]) == (
            theirs["status"],
            theirs["epochs"],
            theirs["steps"],
        )
        assert ours["metrics"] == pytest.approx(theirs["metrics"], rel=RTOL)
        files = ["metrics.csv", "steps.csv"]
        files += ["coefficients.csv"] if "model=logistic" in overrides else []
        for name in files:
            frames = [
                pd.read_csv(tmp_path / run / f"seed-{seed}" / name) for run in ("batched", "alone")
            ]
            assert_same_numbers(*frames)
        ours_state, theirs_state = (
            torch.load(tmp_path / run / f"seed-{seed}" / "checkpoint.pt", weights_only=True)
            for run in ("batched", "alone")
        )
        assert ours_state.keys() == theirs_state.keys()
        for key in ("epoch", "step", "threads"):
            assert ours_state[key] == theirs_state[key]
        for key in ("generator", "torch_rng"):  # resume continues with the same streams
            assert torch.equal(ours_state[key], theirs_state[key])
        for name, weight in theirs_state["model"].items():
            assert_close_tensor(ours_state["model"][name], weight)
        for i, state in theirs_state["optimizer"]["state"].items():
            for key, value in state.items():
                assert_close_tensor(ours_state["optimizer"]["state"][i][key], value)


def poisoned_experiments(overrides: list[str], seeds, poisoned: int):
    """Each seed's experiment, the training data of seed `poisoned` holding a NaN: its loss
    turns NaN at the first batch holding that row, so it diverges while the others train on."""
    experiments = []
    for seed in seeds:
        cfg, names = compose_config(*overrides, f"seed={seed}")
        experiment = build(cfg, names)
        if seed == poisoned:
            experiment.data.train.X[5, 0] = math.nan
        experiments.append(experiment)
    return experiments


def test_a_diverged_seed_is_recorded_and_dropped_without_touching_the_others(tmp_path):
    overrides = [*TINY_MLP, "trainer.max_epochs=3"]
    experiments = poisoned_experiments(overrides, (0, 1, 2), poisoned=1)
    rngs = [torch.get_rng_state()] * 3
    records = [RunRecord(tmp_path / "batched" / str(seed)) for seed in (0, 1, 2)]
    stack = StackedSeeds(experiments)
    results = BatchedFit(stack, records, rngs, [0, 1, 2], RunConsole(False)).run()
    assert [r.status for r in results] == ["completed", "diverged", "completed"]
    assert [r.epochs for r in results] == [3, 1, 3]
    assert stack.active == [0, 2]  # the diverged seed left the stack
    assert not (tmp_path / "batched" / "1" / "checkpoint.pt").exists()
    for seed, experiment in zip((0, 1, 2), poisoned_experiments(overrides, (0, 1, 2), 1)):
        record = RunRecord(tmp_path / "alone" / str(seed))
        alone = fit(
            experiment.model,
            experiment.data,
            experiment.optimizer,
            experiment.trainer,
            experiment.generator,
            record,
            RunConsole(False),
        )
        assert (alone.status, alone.epochs, alone.steps) == (
            results[seed].status,
            results[seed].epochs,
            results[seed].steps,
        )
        for name in ("metrics.csv", "steps.csv"):
            frames = [
                pd.read_csv(tmp_path / run / str(seed) / name) for run in ("batched", "alone")
            ]
            assert_same_numbers(*frames)  # NaN where the run alone has NaN


def job_of(*overrides: str) -> Job:
    cfg, names = compose_config(*overrides)
    return Job(cfg, None, names, list(overrides), "dlrun", None)


@pytest.mark.parametrize(
    "option, named",
    [
        ("optimizer=line_search", "optimizer=line_search has no batched step"),
        ("model=mlp_numpy", "model=mlp_numpy has no batched training"),
        ("model=resnet", "model=resnet has no batched training"),  # batch norm
        ("model=esn", "model=esn has no batched training"),  # closed-form readout
    ],
)
def test_what_cannot_batch_falls_back_on_auto_and_is_refused_on_true(option, named):
    assert batching(job_of(option, "repeats=2")) is False  # auto: one seed after another
    with pytest.raises(InputError) as refused:
        batching(job_of(option, "repeats=2", "repeats_batched=true"))
    message = str(refused.value)
    assert message.startswith(f"repeats_batched=true: {named}") and "\n" not in message
    assert "allowed with" in message


def test_batching_needs_repeats_and_allows_opting_out():
    assert batching(job_of("repeats=2")) is True
    assert batching(job_of("repeats=2", "model=softmax", "optimizer=adam")) is True
    assert batching(job_of("repeats=1", "repeats_batched=true")) is False
    assert batching(job_of("repeats=2", "repeats_batched=false")) is False
    # a resumed job continues each seed from its own checkpoint
    assert batching(job_of("repeats=2", "repeats_batched=true", "resume=/tmp")) is False


def test_refusal_is_one_line_exit_2_and_writes_nothing(dlrun_main, tmp_path):
    run_dir = tmp_path / "refused"
    code, _, err = dlrun_main(
        "repeats=2", "repeats_batched=true", "optimizer=line_search", f"hydra.run.dir={run_dir}"
    )
    assert code == 2 and err.count("\n") == 1
    assert err.startswith("dlrun: error: repeats_batched=true: optimizer=line_search")
    assert not holds_records(run_dir)  # Hydra's .hydra/ and log only


def test_repeats_batched_takes_auto_true_or_false(dlrun_main):
    code, _, err = dlrun_main("repeats_batched=maybe")
    assert code == 2
    assert err == "dlrun: error: repeats_batched='maybe' is not allowed: auto | true | false\n"


def test_repeats_batched_is_not_part_of_a_runs_identity():
    """A sweep started batched resumes (matched by config hash) whatever repeats_batched says."""
    cfg, _ = compose_config("repeats=2")
    for mode in ("true", "false"):
        assert config_hash(compose_config("repeats=2", f"repeats_batched={mode}")[0]) == (
            config_hash(cfg)
        )


def test_a_batched_job_cut_short_resumes_seed_by_seed(tmp_path, caplog):
    """A batched job killed after its epoch-1 checkpoints continues each seed from its own
    checkpoint, and ends where one seed after another ends."""
    overrides = [*TINY_MLP[1:], "optimizer=adam", "repeats=2"]
    run_job(tmp_path, "cut", *overrides, "trainer.max_epochs=1", "repeats_batched=true")
    for seed in (0, 1):
        (tmp_path / "cut" / f"seed-{seed}" / "summary.json").unlink()  # as if killed here
    resume = f"resume={tmp_path / 'cut'}"
    with caplog.at_level(logging.INFO, logger="dlrun"):
        resumed = run_job(tmp_path, "cut", *overrides, "trainer.max_epochs=2", resume)
    continued = [r.message for r in caplog.records if "continuing" in r.message]
    assert len(continued) == 2 and all("after epoch 1, step 40" in m for m in continued)
    alone = run_job(tmp_path, "alone", *overrides, "trainer.max_epochs=2", "repeats_batched=false")
    assert all("batched_seeds" not in s for s in resumed)  # resumed one after another
    for seed, ours, theirs in zip((0, 1), resumed, alone):
        assert (ours["status"], ours["epochs"], ours["steps"]) == ("completed", 2, 2 * 40)
        assert ours["metrics"] == pytest.approx(theirs["metrics"], rel=RTOL)
        for name in ("metrics.csv", "steps.csv"):
            frames = [
                pd.read_csv(tmp_path / run / f"seed-{seed}" / name) for run in ("cut", "alone")
            ]
            assert_same_numbers(*frames)
