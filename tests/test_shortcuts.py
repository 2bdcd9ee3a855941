"""torch's step calls without their wrappers: the same numbers, and the public call whenever
a hook, a profiler or a non-scalar loss needs it."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from dlrun import shortcuts


def model_and_batch(seed: int = 0):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(5, 7), nn.Tanh(), nn.Linear(7, 3))
    return model, torch.randn(11, 5), torch.randint(0, 3, (11,))


@pytest.mark.parametrize(
    "make_optimizer",
    [
        lambda params: torch.optim.SGD(params, lr=0.1, momentum=0.9, weight_decay=0.01),
        lambda params: torch.optim.Adam(params, lr=0.01),
    ],
)
def test_three_steps_match_torchs_public_calls_bit_for_bit(make_optimizer):
    states = []
    for public in (True, False):
        model, x, y = model_and_batch()
        optimizer = make_optimizer(model.parameters())
        clear, step = shortcuts.clear_gradients(optimizer), shortcuts.step_function(optimizer)
        for _ in range(3):
            optimizer.zero_grad() if public else clear()
            loss = F.cross_entropy(model(x), y)
            loss.backward() if public else shortcuts.backward(loss)
            optimizer.step() if public else step()
        states.append([p.detach().clone() for p in model.parameters()])
    assert all(torch.equal(a, b) for a, b in zip(*states))


def test_clear_gradients_sets_every_optimized_gradient_to_none():
    model, x, y = model_and_batch()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    F.cross_entropy(model(x), y).backward()
    shortcuts.clear_gradients(optimizer)()
    assert all(p.grad is None for p in model.parameters())


def test_a_non_scalar_loss_gets_torchs_own_error():
    model, x, _ = model_and_batch()
    with pytest.raises(RuntimeError, match="only for scalar outputs"):
        shortcuts.backward(model(x))


def test_step_hooks_still_run():
    model, x, y = model_and_batch()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    calls = []
    optimizer.register_step_pre_hook(lambda *_: calls.append("pre"))
    optimizer.register_step_post_hook(lambda *_: calls.append("post"))
    F.cross_entropy(model(x), y).backward()
    shortcuts.step_function(optimizer)()
    assert calls == ["pre", "post"]


def test_a_profiler_still_sees_the_optimizer_step():
    model, x, y = model_and_batch()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    step = shortcuts.step_function(optimizer)
    F.cross_entropy(model(x), y).backward()
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as profile:
        step()
    assert any(event.name == "Optimizer.step#SGD.step" for event in profile.events())


def test_a_closure_optimizer_gets_its_closure():
    model, x, y = model_and_batch()
    optimizer = torch.optim.LBFGS(model.parameters(), lr=0.5, max_iter=3)
    calls = []

    def closure():
        calls.append(1)
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        return loss

    loss = shortcuts.step_function(optimizer)(closure)
    assert len(calls) >= 2 and loss.item() > 0


@pytest.mark.parametrize("max_norm", [0.05, 1e3])  # clipping, and a norm below the limit
def test_clipping_matches_clip_grad_norm_bit_for_bit(max_norm):
    results = []
    for public in (True, False):
        model, x, y = model_and_batch()
        params = list(model.parameters())
        F.cross_entropy(model(x), y).backward()
        clip = shortcuts.clip_function(params, max_norm)
        norm = torch.nn.utils.clip_grad_norm_(params, max_norm) if public else clip()
        results.append([norm, *(p.grad.clone() for p in params)])
    assert all(torch.equal(a, b) for a, b in zip(*results))
    assert (results[0][0] > max_norm) == (max_norm == 0.05)
