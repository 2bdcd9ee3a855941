"""Would batched repeats pay? K seeds of one model trained as one batched model through public
APIs only, against the K seeds one after another: training time, one thread.

The batched version is what issue 16 allowed: the K models' parameters stacked
(`torch.func.stack_module_state`), the forward pass and the loss vectorised
(`torch.func.functional_call` under `vmap`), one `torch.optim` optimizer over the stacked
tensors (SGD and Adam are element-wise, so each seed takes its own steps), each seed with its
own batch order. The sequential version is the same loop per seed. Both use dlrun's own data
split and model (`dlrun model=mlp dataset=digits`); only the training loop is timed, so this
is an upper bound for what batching could save in a dlrun job (which also builds, evaluates and
writes each seed's record). Each seed's final parameters are compared between the two.

    python benchmarks/batched_repeats.py [--repeats 8] [--epochs 50] [--optimizer sgd|adam]

dlrun removed its batched repeats in issue 16 because this ratio stays below the 2x they had
to pay (README: "Repeats run one after another"). Figures are printed, not asserted.
"""

import argparse
import copy
from time import perf_counter

import torch
from torch import nn
from torch.func import functional_call, stack_module_state

from dlrun.build import build
from dlrun.config.compose import compose_config


class Loss(nn.Module):
    """A module whose forward is the model's training loss, so functional_call can batch it."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x, y):
        return self.model.loss(x, y)


def experiments(repeats: int):
    """K seeds of `dlrun model=mlp dataset=digits`: (models, training split, batch size, lr)."""
    built = []
    for seed in range(repeats):
        cfg, names = compose_config("model=mlp", "dataset=digits", f"seed={seed}", "threads=1")
        built.append(build(cfg, names))
    first = built[0]
    return [e.model for e in built], first.data.train, int(first.trainer.batch_size), cfg


def batch_orders(n_rows: int, batch_size: int, repeats: int, epochs: int) -> list[list]:
    """Each seed's own shuffled batches for every epoch."""
    orders = []
    for seed in range(repeats):
        generator = torch.Generator().manual_seed(seed)
        orders.append(
            [torch.randperm(n_rows, generator=generator).split(batch_size) for _ in range(epochs)]
        )
    return orders


def optimizer_for(params, name: str, lr: float) -> torch.optim.Optimizer:
    return torch.optim.SGD(params, lr=lr) if name == "sgd" else torch.optim.Adam(params, lr=lr)


def sequential(models, split, orders, epochs, name, lr) -> float:
    start = perf_counter()
    for model, order in zip(models, orders):
        optimizer = optimizer_for(model.parameters(), name, lr)
        for epoch in range(epochs):
            for index in order[epoch]:
                optimizer.zero_grad(set_to_none=True)
                model.loss(split.X[index], split.y[index]).backward()
                optimizer.step()
    return perf_counter() - start


def batched(models, split, orders, epochs, name, lr) -> tuple[float, dict]:
    params, buffers = stack_module_state([Loss(m) for m in models])
    base = copy.deepcopy(Loss(models[0])).to("meta")

    def loss_of(p, b, x, y):
        return functional_call(base, (p, b), (x, y))

    losses = torch.vmap(loss_of)
    optimizer = optimizer_for(list(params.values()), name, lr)
    start = perf_counter()
    for epoch in range(epochs):
        for batches in zip(*(order[epoch] for order in orders)):
            if len({len(index) for index in batches}) > 1:  # the last, short batch
                continue
            index = torch.stack(batches)  # (K, B)
            optimizer.zero_grad(set_to_none=True)
            # each seed's loss depends on its own parameters only: the sum's gradient is theirs
            losses(params, buffers, split.X[index], split.y[index]).sum().backward()
            optimizer.step()
    return perf_counter() - start, params


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--optimizer", choices=("sgd", "adam"), default="sgd")
    args = parser.parse_args()
    torch.set_num_threads(1)
    models, split, batch_size, cfg = experiments(args.repeats)
    lr = float(cfg.optimizer.lr) if args.optimizer == "sgd" else 1e-3
    orders = batch_orders(len(split.X), batch_size, args.repeats, args.epochs)
    # the sequential loop skips the short last batch too, so both take the same steps
    orders = [[[i for i in epoch if len(i) == batch_size] for epoch in o] for o in orders]
    alone = [copy.deepcopy(m) for m in models]
    time_batched, stacked = batched(models, split, orders, args.epochs, args.optimizer, lr)
    time_sequential = sequential(alone, split, orders, args.epochs, args.optimizer, lr)
    worst = 0.0  # ‖θ_batched − θ_alone‖ / ‖θ_alone‖ per parameter tensor of each seed
    with torch.no_grad():
        for k, model in enumerate(alone):
            for key, value in Loss(model).named_parameters():
                gap = torch.linalg.vector_norm(value - stacked[key][k])
                worst = max(worst, float(gap / torch.linalg.vector_norm(value)))
    steps = sum(len(epoch) for epoch in orders[0])
    print(
        f"{args.repeats} seeds of mlp on digits, {args.optimizer}, {args.epochs} epochs "
        f"({steps} steps each), one thread, training loop only:"
    )
    print(f"  one after another  {time_sequential:7.2f} s")
    print(f"  batched (vmap)     {time_batched:7.2f} s   {time_sequential / time_batched:.2f}x")
    print(f"  largest relative difference of a seed's final parameter tensor: {worst:.1e}")


if __name__ == "__main__":
    main()
