"""Convolutional network: conv -> g -> pool blocks, then the deep-GLM head.

A convolution layer computes the cross-correlation of its input with each kernel,
    S(i, j) = b + Σ_c Σ_m Σ_n I(c, s·i + m − p, s·j + n − p) K(c, m, n),
as torch's Conv1d/Conv2d do (stride s, padding p). The grid is 2-D for images (N, H, W) or
(N, C, H, W) and 1-D for signals: tabular rows (N, T) and sequences (N, T, F) with F channels.
"""

from math import prod

import torch
from torch import Tensor, nn

from dlrun.models.base import DataInfo
from dlrun.models.head import DeepGLM
from dlrun.models.mlp import ACTIVATIONS

INPUT_KINDS = ("tabular", "image", "sequence")
POOLS = {"max": (nn.MaxPool1d, nn.MaxPool2d), "avg": (nn.AvgPool1d, nn.AvgPool2d)}
GLOBAL_POOLS = {
    "max": (nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d),
    "avg": (nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d),
}
CONVS = (nn.Conv1d, nn.Conv2d)
# padding modes that copy the input: reflect needs padding < size, circular padding <= size
WRAPPING_PADS = {"reflect": 1, "circular": 0}


class ToGrid(nn.Module):
    """Rows as the model receives them -> (N, C, T) signals or (N, C, H, W) images."""

    def __init__(self, input_shape: tuple[int, ...], input_kind: str) -> None:
        super().__init__()
        self.input_kind = input_kind
        shape = tuple(int(n) for n in input_shape)
        if input_kind == "image" and len(shape) in (2, 3):
            self.shape = shape if len(shape) == 3 else (1, *shape)  # (C, H, W)
        elif input_kind == "sequence" and len(shape) == 2:
            self.shape = (shape[1], shape[0])  # (T, F) rows -> F channels over T steps
        elif input_kind == "tabular" and len(shape) == 1:
            self.shape = (1, shape[0])  # a signal of T steps, one channel
        else:
            raise ValueError(
                f"{input_kind} rows shaped {shape} do not lie on a grid: convolutional models "
                "take images (H, W) or (C, H, W), signals (T,) and sequences (T, F)"
            )
        self.dims = len(self.shape) - 1  # 1-D or 2-D convolution

    def forward(self, x: Tensor) -> Tensor:
        if self.input_kind == "sequence":
            return x.transpose(1, 2)  # (N, T, F) -> (N, F, T)
        return x.reshape(len(x), *self.shape)  # digits' (N, 64) -> (N, 1, 8, 8)


def per_layer(value: int | list[int], n_layers: int) -> list[int]:
    """An int for every layer, or a list of one int per layer (dlrun.config.model.CNNConfig)."""
    values = [value] if isinstance(value, int) else list(value)
    return values * n_layers if len(values) == 1 else values


def conv_output(size: int, kernel: int, stride: int, padding: int) -> int:
    """⌊(n + 2p − k) / s⌋ + 1, the length of a convolution's output along one axis."""
    return (size + 2 * padding - kernel) // stride + 1


class ConvBlock(nn.Module):
    """conv -> activation (the detector stage) -> pooling, the lecture's three stages."""

    def __init__(self, conv: nn.Module, activation: nn.Module, pool: nn.Module) -> None:
        super().__init__()
        self.conv, self.activation, self.pool = conv, activation, pool

    def detector(self, x: Tensor) -> Tensor:
        return self.activation(self.conv(x))

    def forward(self, x: Tensor) -> Tensor:
        return self.pool(self.detector(x))


def conv_blocks(
    grid: ToGrid, layers, padding_mode: str, pool: str, pool_size: int, activation: str
) -> tuple[list[ConvBlock], int, list[int]]:
    """The blocks for (channels, kernel, stride, padding) of each layer, the last one's width
    and its output's size; refuses a layer too wide for what reaches it (the data's check)."""
    d = grid.dims - 1  # index into the (1-D, 2-D) class pairs
    width, size = grid.shape[0], list(grid.shape[1:])
    blocks = []
    for i, (out, k, s, p) in enumerate(layers):
        if padding_mode in WRAPPING_PADS and p > min(size) - WRAPPING_PADS[padding_mode]:
            raise ValueError(
                f"padding {p} at layer {i + 1} is too wide for its input "
                f"{'×'.join(map(str, size))} with padding_mode={padding_mode}: at most "
                f"{min(size) - WRAPPING_PADS[padding_mode]} (the padding copies the input)"
            )
        size = [conv_output(m, k, s, p) for m in size]
        pooling = nn.Identity()
        if pool != "none" and pool_size > 1:
            pooling = POOLS[pool][d](pool_size)
            size = [m // pool_size for m in size]
        if min(size) < 1:
            raise ValueError(
                f"the input {'×'.join(map(str, grid.shape[1:]))} shrinks to nothing after "
                f"layer {i + 1} (kernel_size {k}, stride {s}, padding {p}, pool_size "
                f"{pool_size}): use fewer layers, smaller kernels/strides/pools or padding"
            )
        conv = CONVS[d](width, out, k, stride=s, padding=p, padding_mode=padding_mode)
        blocks.append(ConvBlock(conv, ACTIVATIONS[activation](), pooling))
        width = out
    return blocks, width, size


class CNN(DeepGLM):
    """Convolution blocks with per-layer channels, kernel size, stride and padding; pooling
    max|avg|none after each; the last maps flattened (or globally pooled) into the head."""

    accepts = INPUT_KINDS

    def __init__(
        self,
        data: DataInfo,
        *,
        channels: list[int],
        kernel_size: int | list[int],
        stride: int | list[int],
        padding: int | list[int],
        padding_mode: str,
        pool: str,
        pool_size: int,
        global_pool: str,
        activation: str,
    ) -> None:
        n = len(channels)
        layers = zip(
            channels, *(per_layer(v, n) for v in (kernel_size, stride, padding)), strict=True
        )
        grid = ToGrid(*data.grid())
        blocks, width, size = conv_blocks(grid, layers, padding_mode, pool, pool_size, activation)
        d = grid.dims - 1  # index into the (1-D, 2-D) class pairs
        if global_pool == "none":
            readout, features = nn.Flatten(), width * prod(size)
        else:
            readout, features = nn.Sequential(GLOBAL_POOLS[global_pool][d](1), nn.Flatten()), width
        super().__init__(nn.Sequential(grid, *blocks, readout), features, data)

    @property
    def grid(self) -> ToGrid:
        return self.body[0]

    @property
    def blocks(self) -> list[ConvBlock]:
        return [m for m in self.body if isinstance(m, ConvBlock)]

    @torch.no_grad()
    def feature_maps(self, x: Tensor) -> list[Tensor]:
        """Each block's output, for inspection."""
        maps, h = [], self.grid(x)
        for block in self.blocks:
            h = block(h)
            maps.append(h)
        return maps
