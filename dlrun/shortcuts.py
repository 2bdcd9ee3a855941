"""torch's per-step calls without the Python wrappers a training loop does not need.

`loss.backward()`, `optimizer.zero_grad()` and `optimizer.step()` each spend a few µs in
Python before any arithmetic: argument checks for the general case, a profiler label, hook
dispatch. For a small model that is a quarter of a step (benchmarks/loop_overhead.py). These
call the same arithmetic in the same order, so the numbers are identical, and fall back to the
public call wherever the general case could apply: a tensor subclass, a non-scalar loss, a
registered hook, a running profiler, an optimizer that overrides the method.
"""

from collections.abc import Callable

import torch
from torch import Tensor
from torch.autograd import graph, profiler
from torch.optim import optimizer as optimizer_module

# torch's own entry to the C++ engine, once its checks pass (torch >= 2.3); else None
_run_backward = getattr(graph, "_engine_run_backward", None)


def backward(loss: Tensor) -> None:
    """`loss.backward()` for a scalar loss: the engine call, without the general case's checks."""
    if _run_backward is None or type(loss) is not Tensor or loss.dim() != 0:
        loss.backward()
        return
    # what torch.autograd.backward passes after its checks: ∂loss/∂loss = 1, graph freed
    _run_backward((loss,), (torch.ones_like(loss),), False, False, (), True, True)


def clear_gradients(optimizer: torch.optim.Optimizer) -> Callable[[], None]:
    """A function doing `optimizer.zero_grad(set_to_none=True)`, without its profiler label."""
    if type(optimizer).zero_grad is not torch.optim.Optimizer.zero_grad:
        return lambda: optimizer.zero_grad(set_to_none=True)
    params = [p for group in optimizer.param_groups for p in group["params"]]

    def clear() -> None:
        for p in params:
            p.grad = None

    return clear


def step_function(optimizer: torch.optim.Optimizer) -> Callable[..., Tensor | None]:
    """A function doing `optimizer.step(closure)`: the optimizer's own step, without the
    wrapper torch puts around it (profiler label, hooks) while no hook and no profiler is on."""
    wrapped = type(optimizer).step
    step = getattr(wrapped, "__wrapped__", None)
    # an instance-level step (an LR scheduler's counter) or an unwrapped class: the public call
    if step is None or not getattr(wrapped, "hooked", False) or "step" in vars(optimizer):
        return optimizer.step

    def run(closure=None):
        if (
            profiler._is_profiler_enabled
            or optimizer._optimizer_step_pre_hooks
            or optimizer._optimizer_step_post_hooks
            or optimizer_module._global_optimizer_pre_hooks
            or optimizer_module._global_optimizer_post_hooks
        ):
            return optimizer.step(closure)
        return step(optimizer, closure)

    return run


def clip_function(params: list[Tensor], max_norm: float) -> Callable[[], Tensor]:
    """A function doing `torch.nn.utils.clip_grad_norm_(params, max_norm)`, returning the global
    norm before clipping: its foreach ops called directly when the parameters share one device
    (CPU or CUDA) and dtype, the one group its grouping would find."""
    devices = {(p.device.type, p.dtype) for p in params}
    if len(devices) != 1 or next(iter(devices))[0] not in ("cpu", "cuda"):
        return lambda: torch.nn.utils.clip_grad_norm_(params, max_norm)

    def clip() -> Tensor:
        grads = [p.grad for p in params if p.grad is not None]
        if not grads or any(type(grad) is not Tensor for grad in grads):
            return torch.nn.utils.clip_grad_norm_(params, max_norm)
        total = torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads, 2.0)), 2.0)
        # clip_grad_norm_'s factor: no branch on the norm, so no device synchronisation
        torch._foreach_mul_(grads, torch.clamp(max_norm / (total + 1e-6), max=1.0))
        return total

    return clip
