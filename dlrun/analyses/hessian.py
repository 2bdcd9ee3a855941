"""analyze.hessian: the extreme eigenvalues of the mean training loss's Hessian (convexity).

A GLM's mean loss has Hessian (1/m) Σ x̃ᵢ t′(ηᵢ) x̃ᵢᵀ (a sum of outer products weighted by the
transfer's derivative, ≥ 0), so it is positive semidefinite at every weight: the loss is convex.
A network's is not: its Hessian has negative eigenvalues somewhere.

Small models get the exact Hessian (dlrun.hessian, the one optimizer=newton uses) and its full
spectrum; large ones the Ritz values of Lanczos on Hessian-vector products (double backward),
which lie inside the spectrum and converge to its ends first. Computed in float64 whatever the
run's dtype.
"""

import copy

import torch
from omegaconf import DictConfig
from torch import Tensor, nn

from dlrun.hessian import UNUSED, flat_hessian, gradient_with_graph


def trained_parameters(model: nn.Module) -> list[Tensor]:
    """The parameters the Hessian is taken in (those that train), in the model's order."""
    return [p for p in model.parameters() if p.requires_grad]


def exact_hessian(model: nn.Module, x: Tensor, y: Tensor) -> Tensor:
    """The (P, P) Hessian of model.loss(x, y) in its flattened parameters."""
    with torch.enable_grad():
        _, hessian = flat_hessian(model.loss(x, y), trained_parameters(model))
    return hessian


def hessian_vector_product(model: nn.Module, x: Tensor, y: Tensor):
    """(v ↦ H v, P) by double backward at the model's current weights."""
    params = trained_parameters(model)
    with torch.enable_grad():
        gradient = gradient_with_graph(model.loss(x, y), params)

    def product(v: Tensor) -> Tensor:
        # v lives where Lanczos keeps its basis (the CPU), the graph where the model is
        v_here = v.to(gradient.device)
        pieces = torch.autograd.grad(gradient, params, v_here, retain_graph=True, **UNUSED)
        return torch.cat([piece.reshape(-1) for piece in pieces]).to(v.device)

    return product, gradient.numel()


def lanczos_extremes(product, n: int, steps: int, generator: torch.Generator, dtype) -> tuple:
    """(smallest, largest) Ritz value after `steps` Lanczos steps (full reorthogonalisation)."""
    steps = min(steps, n)
    basis = torch.zeros(steps + 1, n, dtype=dtype)
    v = torch.randn(n, generator=generator, dtype=dtype)
    basis[0] = v / v.norm()
    alphas, betas = [], []
    for j in range(steps):
        w = product(basis[j])
        alphas.append(float(w @ basis[j]))
        for _ in range(2):  # twice is enough (Kahan): keeps the basis orthogonal in floating point
            w = w - basis[: j + 1].T @ (basis[: j + 1] @ w)
        beta = float(w.norm())
        if beta < 1e-12 * max(1.0, abs(alphas[-1])):
            break  # an invariant subspace: the Ritz values are exact eigenvalues
        betas.append(beta)
        basis[j + 1] = w / beta
    k = len(alphas)
    tridiagonal = torch.diag(torch.tensor(alphas, dtype=dtype))
    off = torch.tensor(betas[: k - 1], dtype=dtype)
    tridiagonal += torch.diag(off, 1) + torch.diag(off, -1)
    ritz = torch.linalg.eigvalsh(tridiagonal)
    return float(ritz[0]), float(ritz[-1])


def extreme_eigenvalues(
    model: nn.Module, x: Tensor, y: Tensor, exact_max_params: int, lanczos_steps: int, seed: int
) -> dict:
    """{'min_eig', 'max_eig', 'method'} of the Hessian of model.loss(x, y), in float64."""
    model = copy.deepcopy(model).double()
    x = x.double() if x.is_floating_point() else x
    y = y.double() if y.is_floating_point() else y
    n = sum(p.numel() for p in trained_parameters(model))
    if n <= exact_max_params:
        eigenvalues = torch.linalg.eigvalsh(exact_hessian(model, x, y))
        return {
            "min_eig": float(eigenvalues[0]),
            "max_eig": float(eigenvalues[-1]),
            "method": "exact",
        }
    product, n = hessian_vector_product(model, x, y)
    generator = torch.Generator().manual_seed(seed)
    smallest, largest = lanczos_extremes(product, n, lanczos_steps, generator, torch.float64)
    return {"min_eig": smallest, "max_eig": largest, "method": f"lanczos({lanczos_steps})"}


def randomized(model: nn.Module, seed: int) -> nn.Module:
    """A copy of the model at fresh random weights (each layer's own reset_parameters)."""
    fresh = copy.deepcopy(model)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for module in fresh.modules():
            if hasattr(module, "reset_parameters"):
                module.reset_parameters()
    return fresh


def hessian_summary(
    model: nn.Module, x: Tensor, y: Tensor, exact_max_params: int, lanczos_steps: int, seed: int
) -> dict:
    """Extreme Hessian eigenvalues of the mean loss at the fitted and at random weights."""
    n_params = sum(p.numel() for p in trained_parameters(model))
    args = (exact_max_params, lanczos_steps, seed)
    fitted = extreme_eigenvalues(model, x, y, *args)
    random = extreme_eigenvalues(randomized(model, seed + 1), x, y, *args)
    return {
        "n_params": n_params,
        "method": fitted.pop("method"),
        "fitted/min_eig": fitted["min_eig"],
        "fitted/max_eig": fitted["max_eig"],
        "random/min_eig": random["min_eig"],
        "random/max_eig": random["max_eig"],
    }


def refusal(experiment) -> str | None:
    """Why this model has no Hessian to analyse, or None."""
    if not experiment.model.second_derivatives:
        return (
            "analyze.hessian=true needs second derivatives, which the numpy backprop does not "
            "compute: use model=mlp (the same network in torch)"
        )
    return None


def run(cfg: DictConfig, experiment, record, initial: dict) -> dict:
    """summary.json's `hessian`: the extreme eigenvalues at the fitted and at random weights."""
    model, train = experiment.model, experiment.data.train
    if not all(bool(p.isfinite().all()) for p in model.parameters()):
        return {"hessian": {"skipped": "the fitted weights are not finite (diverged)"}}
    settings = cfg.analyze
    summary = hessian_summary(
        model, train.X, train.y, settings.hessian_exact_max_params, settings.lanczos_steps, cfg.seed
    )
    return {"hessian": summary}
