"""Line search: the Armijo condition at every accepted step; grid mode picks its grid's best."""

import pytest
import torch

from dlrun.build import from_schema
from dlrun.config.model import GLMConfig
from dlrun.config.optimizer import LBFGSConfig, LineSearchConfig
from dlrun.models.base import DataInfo


def logistic_problem(seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    X = torch.randn(200, 4, generator=generator, dtype=torch.float64)
    y = (
        torch.rand(200, generator=generator, dtype=torch.float64)
        < torch.sigmoid(X @ torch.tensor([1.0, -2.0, 0.5, 3.0], dtype=torch.float64))
    ).double()
    torch.manual_seed(seed)
    model = from_schema(GLMConfig, DataInfo((4,), "binary"), family="binary").double()
    return model, X, y


def closure_for(model, optimizer, X, y):
    def closure(backward: bool = True):
        if not backward:
            return model.loss(X, y)
        optimizer.zero_grad()
        loss = model.loss(X, y)
        loss.backward()
        return loss

    return closure


def flat(tensors) -> torch.Tensor:
    return torch.cat([t.detach().reshape(-1).clone() for t in tensors])


def test_armijo_condition_holds_at_every_accepted_step():
    model, X, y = logistic_problem()
    c1 = 0.3  # a demanding c1, so that backtracking actually happens
    optimizer = from_schema(LineSearchConfig, model.parameters(), lr=8.0, c1=c1)
    closure = closure_for(model, optimizer, X, y)
    shrinks = 0
    for _ in range(30):
        before = flat(model.parameters())
        loss_before = float(closure().detach())
        gradient = flat(p.grad for p in model.parameters())
        optimizer.step(closure)
        eta = optimizer.last_eta
        after = flat(model.parameters())
        with torch.no_grad():
            loss_after = float(model.loss(X, y))
        if eta > 0:
            torch.testing.assert_close(after, before - eta * gradient)
            assert loss_after <= loss_before - c1 * eta * float(gradient @ gradient) + 1e-12
        shrinks += eta < 8.0
    assert shrinks > 0


def test_armijo_stays_put_when_no_step_size_is_accepted():
    model, X, y = logistic_problem()
    optimizer = from_schema(LineSearchConfig, model.parameters(), lr=1e6, max_backtracks=2)
    before = flat(model.parameters())
    optimizer.step(closure_for(model, optimizer, X, y))
    assert optimizer.last_eta == 0.0
    torch.testing.assert_close(flat(model.parameters()), before)


@pytest.mark.parametrize("etas", [[4.0, 1.0, 0.25, 0.01], [0.001, 0.01, 30.0]])
def test_grid_mode_picks_the_best_step_size_of_its_grid(etas):
    model, X, y = logistic_problem(seed=1)
    optimizer = from_schema(LineSearchConfig, model.parameters(), mode="grid", etas=etas)
    closure = closure_for(model, optimizer, X, y)
    closure()
    start = [p.detach().clone() for p in model.parameters()]
    gradient = [p.grad.clone() for p in model.parameters()]
    # brute force: the loss after a step of each size, from the same start
    losses = []
    for eta in etas:
        with torch.no_grad():
            for p, s, g in zip(model.parameters(), start, gradient):
                p.copy_(s - eta * g)
            losses.append(float(model.loss(X, y)))
        for p, s in zip(model.parameters(), start):
            p.data.copy_(s)
    optimizer.step(closure)
    best = etas[min(range(len(etas)), key=losses.__getitem__)]
    assert optimizer.last_eta == best
    expected = flat(s - best * g for s, g in zip(start, gradient))
    torch.testing.assert_close(flat(model.parameters()), expected)


def test_line_search_and_sgd_share_the_train_step(run_dlrun):
    summary, run_dir = run_dlrun(
        "model=logistic",
        "dataset=breast_cancer",
        "optimizer=line_search",
        "optimizer.mode=grid",
        "trainer=full_batch",
        "trainer.max_epochs=30",
        "trainer.eval_every=10",
    )
    import pandas as pd

    steps = pd.read_csv(run_dir / "steps.csv")
    assert len(steps) == 30 and set(steps["lr"]) <= {1.0, 0.3, 0.1, 0.03, 0.01, 0.003}
    assert steps["loss"].iloc[-1] < steps["loss"].iloc[0]
    assert summary["metrics"]["test/acc"] > 0.9


def test_lbfgs_steps_are_the_iterations_of_one_long_lbfgs_call():
    """optimizer=lbfgs takes one L-BFGS iteration per step (max_iter=1, its history kept
    across steps): 8 steps land where torch's LBFGS lands in one call of 8 iterations."""
    model, X, y = logistic_problem()
    reference_model, _, _ = logistic_problem()
    optimizer = from_schema(LBFGSConfig, model.parameters())
    reference = torch.optim.LBFGS(
        reference_model.parameters(),
        max_iter=8,
        max_eval=1000,
        tolerance_grad=0.0,
        tolerance_change=0.0,
        line_search_fn="strong_wolfe",
    )
    for _ in range(8):
        optimizer.step(closure_for(model, optimizer, X, y))
    reference.step(closure_for(reference_model, reference, X, y))
    torch.testing.assert_close(flat(model.parameters()), flat(reference_model.parameters()))
    assert optimizer.state[optimizer._params[0]]["n_iter"] == 8


@pytest.mark.parametrize(
    "override, allowed",
    [
        ("optimizer.line_search_fn=wolfe", "strong_wolfe or null"),
        ("optimizer.max_eval=1", "an integer >= 2"),
        ("optimizer.history_size=0", "an integer >= 1"),
    ],
)
def test_bad_lbfgs_settings_exit_2(dlrun_main, override, allowed):
    code, out, err = dlrun_main("model=logistic", "dataset=iris", "optimizer=lbfgs", override)
    assert code == 2 and allowed in err and "Traceback" not in out + err


@pytest.mark.parametrize("optimizer", ["line_search", "newton", "lbfgs"])
def test_a_closure_optimizers_checkpoint_loads_with_weights_only(run_dlrun, optimizer):
    """resume loads checkpoint.pt with weights_only=True: the optimizer state holds plain data."""
    import torch as torch_

    _, run_dir = run_dlrun(
        "model=logistic",
        "dataset=breast_cancer",
        f"optimizer={optimizer}",
        "trainer=full_batch",
        "trainer.max_epochs=2",
        "trainer.tol=null",
    )
    state = torch_.load(run_dir / "checkpoint.pt", weights_only=True)
    assert state["epoch"] == 2
