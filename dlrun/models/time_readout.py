"""What a recurrent model's head reads of its states over time.

`global_pool` has the CNN's name and meaning, over time instead of space:

    last   the final state of each direction: h⁽ᵀ⁾, or [forward h⁽ᵀ⁾; backward h⁽¹⁾]   (D)
    avg    the mean over t of each step's state                                      (D)
    max    the maximum over t, feature by feature                                    (D)
    none   every step's state side by side, flattened                              (T·D)

with D = H, or 2H for a bidirectional model (each step's state is [forward; backward]).
"""

import torch
from torch import Tensor

POOLS = ("last", "none", "avg", "max")


def check_pool(global_pool: str, out_steps: int | None) -> None:
    """Refuse a pooling over time when the target has a time axis (a prediction per step)."""
    assert global_pool in POOLS, global_pool  # the schema's rule
    if out_steps is not None and global_pool != "last":
        raise ValueError(
            f"model.global_pool={global_pool} is not allowed with a target at each of "
            f"{out_steps} steps (each step's state feeds the head): last"
        )


def readout_width(global_pool: str, state_size: int, steps: int) -> int:
    """The head's input width: T·D for `none`, D otherwise."""
    return state_size * steps if global_pool == "none" else state_size


def read_over_time(states: Tensor, global_pool: str, directions: int) -> Tensor:
    """(B, T, D) -> (B, D), or (B, T·D) for `none` (see the module docstring)."""
    if global_pool == "avg":
        return states.mean(dim=1)
    if global_pool == "max":
        return states.amax(dim=1)
    if global_pool == "none":
        return states.flatten(start_dim=1)
    if directions == 1:
        return states[:, -1]
    forward, backward = states.chunk(2, dim=-1)  # the backward recursion ends at t = 1
    return torch.cat([forward[:, -1], backward[:, 0]], dim=-1)
