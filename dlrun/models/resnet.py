"""Residual networks (He et al. 2016) in MLP form for vectors and conv form for grids.

Each block maps h to h + α F(h) with the pre-activation branch (He et al., "Identity
mappings in deep residual networks", 2016)
    F(h) = W₂ g(N₂(W₁ g(N₁(h)))),
where W are linear layers (MLP form) or same-padded convolutions (conv form) of constant
width and N is the optional normalisation; the conv form's last maps are flattened into the
head, or pooled per channel (`global_pool=avg|max`, as He et al. do on large images).
`residual=false` drops the shortcut, h -> F(h): the plain network of the same depth, width and
parameter count. α scales the residual branch:
`zero` initialises W₂ at zero (each block starts as the identity), `sqrt_depth` uses
α = 1/√depth, `none` α = 1; plain networks take no scaling, their W₂ initialised like the rest.
"""

import math

import torch
from torch import Tensor, nn

from dlrun.models.base import DataInfo
from dlrun.models.cnn import CONVS, GLOBAL_POOLS, ToGrid
from dlrun.models.head import DeepGLM
from dlrun.models.mlp import ACTIVATIONS, initialize

ACTIVATION_FUNCTIONS = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}


def make_norm(norm: str, width: int, dims: int) -> nn.Module:
    """Batch or layer norm over `width` features (dims=0) or channels of a 1-/2-D grid."""
    if norm == "none":
        return nn.Identity()
    if norm == "layer":  # over all of a row's features: LayerNorm, or GroupNorm(1) on grids
        return nn.LayerNorm(width) if dims == 0 else nn.GroupNorm(1, width)
    return (nn.BatchNorm1d, nn.BatchNorm1d, nn.BatchNorm2d)[dims](width)


class ResidualBlock(nn.Module):
    """h + α F(h) (residual) or F(h) (plain), F(h) = W₂ g(N₂(W₁ g(N₁(h))))."""

    def __init__(
        self, make_layer, make_norm, activation: str, residual: bool, scale: float
    ) -> None:
        super().__init__()
        self.norm1, self.layer1 = make_norm(), make_layer()
        self.norm2, self.layer2 = make_norm(), make_layer()
        # functional g and no identity-norm calls: module calls cost as much as these small layers
        self.activation = ACTIVATION_FUNCTIONS[activation]
        self.normalized = not isinstance(self.norm1, nn.Identity)
        self.residual, self.scale = residual, scale

    def branch(self, h: Tensor) -> Tensor:
        a = self.layer1(self.activation(self.norm1(h) if self.normalized else h))
        return self.layer2(self.activation(self.norm2(a) if self.normalized else a))

    def forward(self, h: Tensor) -> Tensor:
        if not self.residual:
            return self.branch(h)
        return torch.add(h, self.branch(h), alpha=self.scale)  # h + α F(h), one kernel


def conv_stem(shape: tuple[int, ...], kind: str, width: int, kernel_size: int, global_pool: str):
    """The conv form: (stem, make_layer, readout, features, grid dims) for rows of `kind`."""
    grid = ToGrid(shape, kind)
    dims = grid.dims

    def make_layer(n_in: int = width) -> nn.Module:
        return CONVS[dims - 1](n_in, width, kernel_size, padding=kernel_size // 2)

    stem = nn.Sequential(grid, make_layer(grid.shape[0]))
    if global_pool == "none":  # same padding keeps the grid: width × its cells
        return stem, make_layer, nn.Flatten(), width * math.prod(grid.shape[1:]), dims
    pool = GLOBAL_POOLS[global_pool][dims - 1](1)
    return stem, make_layer, nn.Sequential(pool, nn.Flatten()), width, dims


def mlp_stem(shape: tuple[int, ...], width: int):
    """The MLP form: (stem, make_layer, readout, features, 0) on the flattened rows."""

    def make_layer(n_in: int = width) -> nn.Module:
        return nn.Linear(n_in, width)

    stem = nn.Sequential(nn.Flatten(), make_layer(math.prod(shape)))
    return stem, make_layer, nn.Identity(), width, 0


class ResNet(DeepGLM):
    """stem -> `depth` residual (or plain) blocks of `width` -> g(N(h)) -> the deep-GLM head;
    the conv form's last maps are flattened (`global_pool=none`) or pooled per channel."""

    accepts = ("tabular", "image", "sequence")

    def __init__(
        self,
        data: DataInfo,
        *,
        depth: int,
        width: int,
        residual: bool,
        form: str,
        norm: str,
        branch_scale: str,
        kernel_size: int,
        global_pool: str,
        activation: str,
        init: str,
    ) -> None:
        shape, kind = data.grid()
        if form == "auto":
            form = "mlp" if kind == "tabular" else "conv"
        stem, make_layer, readout, features, dims = (
            conv_stem(shape, kind, width, kernel_size, global_pool)
            if form == "conv"
            else mlp_stem(shape, width)
        )
        scale = 1 / math.sqrt(depth) if residual and branch_scale == "sqrt_depth" else 1.0
        blocks = [
            ResidualBlock(
                make_layer, lambda: make_norm(norm, width, dims), activation, residual, scale
            )
            for _ in range(depth)
        ]
        final = nn.Sequential(make_norm(norm, width, dims), ACTIVATIONS[activation]())
        body = nn.Sequential(stem, *blocks, final, readout)
        super().__init__(body, features, data)
        self.initialize(init, activation, zero_branches=residual and branch_scale == "zero")

    @property
    def blocks(self) -> list[ResidualBlock]:
        return [m for m in self.body if isinstance(m, ResidualBlock)]

    @property
    def first_layer(self) -> nn.Module:
        return self.body[0][-1]

    def initialize(self, init: str, activation: str, zero_branches: bool) -> None:
        """Initialise every body layer; with zero_branches each block's W₂ starts at zero."""
        for module in self.body.modules():
            if isinstance(module, (nn.Linear, *CONVS)):
                initialize(module, init, activation)
        if zero_branches:
            for block in self.blocks:
                nn.init.zeros_(block.layer2.weight)
                nn.init.zeros_(block.layer2.bias)
