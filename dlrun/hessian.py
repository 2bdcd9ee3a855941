"""The gradient and Hessian of a scalar loss in its flattened parameters, by double backward.

The one exact Hessian of dlrun: optimizer=newton (dlrun.optim) solves with it every step, and
analyze.hessian (dlrun.analyses.hessian) takes its spectrum.
"""

import torch
from torch import Tensor

# a parameter the loss does not reach gets a zero gradient (and zero Hessian rows), not None
UNUSED = dict(allow_unused=True, materialize_grads=True)


def gradient_with_graph(loss: Tensor, params: list[Tensor]) -> Tensor:
    """∇L flattened (P,), with its graph kept for a second backward."""
    grads = torch.autograd.grad(loss, params, create_graph=True, **UNUSED)
    return torch.cat([g.reshape(-1) for g in grads])


def flat_hessian(loss: Tensor, params: list[Tensor]) -> tuple[Tensor, Tensor]:
    """(∇L, ∇²L) of a scalar loss in the flattened params, by double backward.

    The Hessian's rows are the gradients of ∇L's entries, taken in one batched backward
    (`is_grads_batched`, vmap over the identity), so a P-parameter model costs P rows at once.
    """
    gradient = gradient_with_graph(loss, params)
    identity = torch.eye(len(gradient), dtype=gradient.dtype, device=gradient.device)

    def rows_of(units: Tensor, batched: bool) -> Tensor:
        rows = torch.autograd.grad(
            gradient, params, units, retain_graph=True, is_grads_batched=batched, **UNUSED
        )
        return torch.cat([r.reshape(len(units) if batched else 1, -1) for r in rows], dim=1)

    try:
        hessian = rows_of(identity, batched=True)
    except RuntimeError:  # an op without a batching rule: one backward per row
        hessian = torch.cat([rows_of(unit, batched=False) for unit in identity])
    return gradient.detach(), hessian.detach()
