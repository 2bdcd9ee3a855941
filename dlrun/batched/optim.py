"""The optimizer steps of dlrun.batched on stacked tensors (a leading seed dimension):
torch.optim's SGD and Adam with the formulas of torch's single-tensor code, element for element,
and clip_grad_norm_ per seed (tests/test_batched.py compares each with torch's)."""

import torch
from torch import Tensor


def seed_norms(grads: list[Tensor]) -> Tensor:
    """Each seed's global gradient norm (K,): the norm of the per-parameter norms, as
    torch.nn.utils.clip_grad_norm_ and dlrun.steps.global_norms compute it."""
    per_parameter = torch.stack([torch.linalg.vector_norm(g.flatten(1), dim=1) for g in grads])
    return torch.linalg.vector_norm(per_parameter, dim=0)


def clip_(grads: list[Tensor], norms: Tensor, max_norm: float) -> None:
    """torch.nn.utils.clip_grad_norm_ for each seed: its gradient × min(1, max/(‖g‖ + 1e-6))."""
    scale = torch.clamp(max_norm / (norms + 1e-6), max=1.0)
    for grad in grads:
        grad.mul_(scale.view(-1, *[1] * (grad.dim() - 1)))


def sgd_step(params: list[Tensor], grads: list[Tensor], state: dict, group: dict) -> None:
    """torch.optim.SGD's update (its single-tensor code) on stacked tensors."""
    if group["weight_decay"] != 0:
        grads = torch._foreach_add(grads, params, alpha=group["weight_decay"])
    if group["momentum"] != 0:
        if "momentum_buffer" not in state:
            state["momentum_buffer"] = [g.detach().clone() for g in grads]
        else:
            torch._foreach_mul_(state["momentum_buffer"], group["momentum"])
            torch._foreach_add_(state["momentum_buffer"], grads, alpha=1 - group["dampening"])
        grads = state["momentum_buffer"]
    torch._foreach_add_(params, grads, alpha=-group["lr"])


def adam_step(params: list[Tensor], grads: list[Tensor], state: dict, group: dict) -> None:
    """torch.optim.Adam's update (its single-tensor code, without amsgrad) on stacked tensors."""
    beta1, beta2 = group["betas"]
    if group["weight_decay"] != 0:
        grads = torch._foreach_add(grads, params, alpha=group["weight_decay"])
    if not state:
        state.update(step=0, exp_avg=[torch.zeros_like(p) for p in params])
        state["exp_avg_sq"] = [torch.zeros_like(p) for p in params]
    state["step"] += 1
    torch._foreach_lerp_(state["exp_avg"], grads, 1 - beta1)
    torch._foreach_mul_(state["exp_avg_sq"], beta2)
    torch._foreach_addcmul_(state["exp_avg_sq"], grads, grads, value=1 - beta2)
    step_size = group["lr"] / (1 - beta1 ** float(state["step"]))
    denominator = torch._foreach_sqrt(state["exp_avg_sq"])
    torch._foreach_div_(denominator, (1 - beta2 ** float(state["step"])) ** 0.5)
    torch._foreach_add_(denominator, group["eps"])
    torch._foreach_addcdiv_(params, state["exp_avg"], denominator, value=-step_size)


def torch_state(kind: str, state: dict, seed: int, group: dict) -> list[dict]:
    """One seed's slice of the stacked optimizer state, per parameter, as torch's optimizer
    keeps it (so its checkpoint resumes in a sequential run)."""
    if kind == "adam":
        step = torch.tensor(float(state["step"]), dtype=torch.get_default_dtype())
        pairs = zip(state["exp_avg"], state["exp_avg_sq"])
        return [{"step": step.clone(), "exp_avg": m[seed], "exp_avg_sq": v[seed]} for m, v in pairs]
    if group["momentum"] == 0:
        return []
    return [{"momentum_buffer": buffer[seed].clone()} for buffer in state["momentum_buffer"]]
