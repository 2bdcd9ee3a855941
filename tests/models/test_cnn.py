"""CNN: convolution equals a numpy cross-correlation, shifts commute with it, pooling absorbs
small shifts, the grid follows the data's shape, and every data kind trains."""

import numpy as np
import pytest
import torch

from dlrun.build import from_schema
from dlrun.config.dataset import NpzConfig, ShapesConfig, WaveformsConfig
from dlrun.config.model import CNNConfig
from dlrun.models.base import DataInfo
from dlrun.models.cnn import ToGrid, conv_output


def cross_correlation_2d(image, kernel, bias, stride, padding):
    """S[o, i, j] = b[o] + Σ_cmn I[c, s·i + m − p, s·j + n − p] K[o, c, m, n], zero-padded."""
    padded = np.pad(image, ((0, 0), (padding, padding), (padding, padding)))
    n_out, _, kh, kw = kernel.shape
    rows = (padded.shape[1] - kh) // stride + 1
    cols = (padded.shape[2] - kw) // stride + 1
    out = np.empty((n_out, rows, cols))
    for o in range(n_out):
        for i in range(rows):
            for j in range(cols):
                window = padded[:, i * stride : i * stride + kh, j * stride : j * stride + kw]
                out[o, i, j] = bias[o] + np.sum(window * kernel[o])
    return out


def cross_correlation_1d(signal, kernel, bias, stride, padding):
    padded = np.pad(signal, ((0, 0), (padding, padding)))
    n_out, _, k = kernel.shape
    steps = (padded.shape[1] - k) // stride + 1
    return np.array(
        [
            [
                bias[o] + np.sum(padded[:, t * stride : t * stride + k] * kernel[o])
                for t in range(steps)
            ]
            for o in range(n_out)
        ]
    )


def cnn(input_shape, input_kind="image", **options):
    data = DataInfo(input_shape, "multiclass", 3, kind=input_kind)
    return from_schema(CNNConfig, data, **options).double()


@pytest.mark.parametrize(
    "stride,padding,kernel", [(1, 0, 3), (1, 1, 3), (2, 1, 3), (2, 0, 2), (3, 2, 5)]
)
def test_conv_layer_is_the_cross_correlation_written_in_numpy(stride, padding, kernel):
    torch.manual_seed(0)
    model = cnn(
        (2, 9, 11), channels=[3], kernel_size=kernel, stride=stride, padding=padding, pool="none"
    )
    conv = model.blocks[0].conv
    x = torch.randn(2, 2, 9, 11, dtype=torch.float64)
    out = conv(x).detach().numpy()
    K, b = conv.weight.detach().numpy(), conv.bias.detach().numpy()
    for n in range(2):
        expected = cross_correlation_2d(x[n].numpy(), K, b, stride, padding)
        np.testing.assert_allclose(out[n], expected, rtol=1e-12, atol=1e-12)
    # the usual formula ⌊(n + 2p − k)/s⌋ + 1, written out here
    assert out.shape[2:] == (
        (9 + 2 * padding - kernel) // stride + 1,
        (11 + 2 * padding - kernel) // stride + 1,
    )
    assert conv_output(9, kernel, stride, padding) == out.shape[2]


@pytest.mark.parametrize("stride,padding", [(1, 0), (1, 2), (2, 1)])
def test_1d_conv_on_sequences_is_the_cross_correlation_over_time(stride, padding):
    torch.manual_seed(1)
    model = cnn(
        (13, 2),
        input_kind="sequence",
        channels=[4],
        kernel_size=3,
        stride=stride,
        padding=padding,
        pool="none",
    )
    conv = model.blocks[0].conv
    assert isinstance(conv, torch.nn.Conv1d)
    x = torch.randn(3, 13, 2, dtype=torch.float64)  # (N, T, F): F channels over T steps
    out = conv(model.grid(x)).detach().numpy()
    K, b = conv.weight.detach().numpy(), conv.bias.detach().numpy()
    for n in range(3):
        expected = cross_correlation_1d(x[n].numpy().T, K, b, stride, padding)
        np.testing.assert_allclose(out[n], expected, rtol=1e-12, atol=1e-12)


def test_circular_padding_makes_conv_exactly_shift_equivariant():
    torch.manual_seed(2)
    model = cnn(
        (12, 12),
        channels=[5, 6],
        kernel_size=[3, 5],
        padding=[1, 2],
        padding_mode="circular",
        pool="none",
    )
    x = torch.randn(4, 12, 12, dtype=torch.float64)
    for shift in [(0, 1), (3, 0), (-2, 5)]:
        shifted_input = torch.roll(x, shift, dims=(1, 2))
        for block_out, block_out_shifted in zip(
            model.feature_maps(x), model.feature_maps(shifted_input), strict=True
        ):
            expected = torch.roll(block_out, shift, dims=(2, 3))
            torch.testing.assert_close(block_out_shifted, expected, rtol=1e-12, atol=1e-12)


def test_max_pooling_ignores_shifts_that_stay_inside_a_pooling_window():
    model = cnn(
        (16,), input_kind="tabular", channels=[1], kernel_size=1, padding=0, pool="max", pool_size=4
    )
    with torch.no_grad():  # the detector passes the (non-negative) signal through
        model.blocks[0].conv.weight.fill_(1.0)
        model.blocks[0].conv.bias.zero_()
    rng = np.random.default_rng(0)
    x = np.zeros((5, 16))
    x[:, 0::4] = rng.random((5, 4)) + 0.1  # one spike at the start of every window of 4
    pooled = model.feature_maps(torch.tensor(x))[0]
    np.testing.assert_allclose(pooled[:, 0].numpy(), x.reshape(5, 4, 4).max(axis=2))
    for k in (1, 2, 3):  # stays within each window: the max-pooled output is unchanged
        shifted = model.feature_maps(torch.tensor(np.roll(x, k, axis=1)))[0]
        torch.testing.assert_close(shifted, pooled)
    moved = model.feature_maps(torch.tensor(np.roll(x, 4, axis=1)))[0]  # into the next window
    assert not torch.allclose(moved, pooled)


@pytest.mark.parametrize(
    "shape,kind,grid",
    [
        ((8, 8), "image", (1, 8, 8)),
        ((3, 8, 6), "image", (3, 8, 6)),
        ((20, 2), "sequence", (2, 20)),
        ((30,), "tabular", (1, 30)),
    ],
)
def test_grid_is_chosen_from_the_data_shape(shape, kind, grid):
    to_grid = ToGrid(shape, kind)
    assert to_grid.shape == grid and to_grid.dims == len(grid) - 1
    x = torch.randn(2, *shape)
    assert to_grid(x).shape == (2, *grid)
    if kind == "sequence":
        torch.testing.assert_close(to_grid(x)[1, :, 7], x[1, 7])


def test_cnn_sees_digits_as_8x8_images_while_glms_keep_named_features(run_dlrun):
    summary, run_dir = run_dlrun("model=cnn", "trainer.max_steps=2")
    assert summary["status"] == "completed"
    # conv 1→16 3×3, pool to 4×4; conv 16→32 3×3, pool to 2×2; head 32·2·2 → 10
    expected = (16 * 1 * 9 + 16) + (32 * 16 * 9 + 32) + (32 * 2 * 2 * 10 + 10)
    assert summary["n_params"] == expected
    summary, run_dir = run_dlrun("model=softmax", "trainer.max_steps=2")
    coefficients = (run_dir / "coefficients.csv").read_text()
    assert "pixel_0_0" in coefficients and summary["n_params"] == 65 * 10


def test_too_small_an_input_is_refused_with_the_layer_named(run_dlrun):
    from dlrun.errors import InputError

    with pytest.raises(InputError, match="shrinks to nothing after layer 4"):
        run_dlrun("model=cnn", "model.channels=[4,4,4,4]", "trainer.max_steps=1")
    with pytest.raises(InputError, match="kernel_size"):
        run_dlrun("model=cnn", "model.kernel_size=[3,3,3]", "trainer.max_steps=1")


@pytest.mark.parametrize(("mode", "widest"), [("reflect", 7), ("circular", 8), ("zeros", 20)])
def test_padding_wider_than_the_input_is_refused_for_modes_that_copy_the_input(mode, widest):
    """torch's rule: reflect padding < the input's size, circular <= it, zeros anything."""

    def build(padding):
        return cnn((8, 8), channels=[2], padding=padding, padding_mode=mode)

    assert build(widest)(torch.randn(2, 8, 8).double()).shape == (2, 3)  # the widest allowed runs
    if mode != "zeros":
        with pytest.raises(ValueError, match=f"padding {widest + 1} .*padding_mode={mode}"):
            build(widest + 1)


def test_reflect_padding_past_the_input_is_one_input_error(run_dlrun):
    from dlrun.errors import InputError

    with pytest.raises(InputError, match="layer 1 .*8×8.*padding_mode=reflect"):
        run_dlrun(
            "model=cnn", "model.padding_mode=reflect", "model.padding=8", "trainer.max_steps=1"
        )


def test_shapes_stamps_each_pattern_somewhere_on_the_canvas():
    table = from_schema(ShapesConfig, n_samples=50, size=10, noise=0.0).load(seed=0)
    assert table.kind == "image" and table.X.shape == (50, 10, 10)
    from dlrun.data.images import PATTERNS

    patterns = list(PATTERNS.values())
    for image, label in zip(table.X, table.y, strict=True):
        row, col = np.argwhere(image > 0).min(axis=0)  # top-left of the pattern's box
        found = [
            (r, c)
            for r in range(6)
            for c in range(6)
            if np.array_equal(image[r : r + 5, c : c + 5], patterns[label])
        ]
        assert found and image.sum() == patterns[label].sum()
    offsets = {tuple(np.argwhere(image > 0).min(axis=0)) for image in table.X}
    assert len(offsets) > 10  # objects move


def test_waveforms_are_one_feature_sequences():
    table = from_schema(WaveformsConfig, n_samples=20, length=30, width=8, noise=0.0).load(seed=0)
    assert table.kind == "sequence" and table.X.shape == (20, 30, 1)
    assert ((np.abs(table.X[:, :, 0]) > 0).sum(axis=1) <= 8).all()
    flat = from_schema(
        WaveformsConfig, n_samples=20, length=30, width=8, noise=0.0, sequence=False
    ).load(seed=0)
    assert flat.kind == "tabular" and np.array_equal(flat.X, table.X[:, :, 0])
    assert np.array_equal(flat.y, table.y)


@pytest.mark.parametrize(
    "overrides",
    [
        ("dataset=shapes", "dataset.n_samples=60"),
        ("dataset=waveforms", "seq_len=20", "dataset.n_samples=60", "model.pool=avg"),
        ("dataset=breast_cancer", "model.channels=[4]", "model.global_pool=max"),
        ("dataset=waveforms", "dataset.sequence=false", "dataset.n_samples=60"),
        (
            "dataset=shapes",
            "dataset.n_samples=60",
            "model.pool=none",
            "model.stride=[2,1]",
            "model.padding_mode=circular",
        ),
    ],
)
def test_cnn_trains_two_steps_on_each_kind_of_data(run_dlrun, overrides):
    summary, _ = run_dlrun("model=cnn", *overrides, "trainer.max_steps=2")
    assert summary["status"] == "completed" and summary["steps"] == 2


def test_npz_images_and_channels_first_signals_reach_the_cnn(run_dlrun, tmp_path):
    from dlrun.errors import InputError

    rng = np.random.default_rng(0)
    y = rng.integers(2, size=40)
    np.savez(tmp_path / "images.npz", X=rng.normal(size=(40, 6, 7)), y=y)
    signals = rng.normal(size=(40, 3, 25))  # (N, C, T)
    np.savez(tmp_path / "signals.npz", X=signals, y=y)
    summary, _ = run_dlrun(
        "model=cnn",
        "dataset=npz",
        f"dataset.path={tmp_path}/images.npz",
        "dataset.layout=image",
        "model.channels=[4]",
        "trainer.max_steps=2",
    )
    # 2-D conv over 6×7: conv 1→4 (3×3), max-pool to 3×3, head 4·3·3 → 1
    assert summary["n_params"] == (4 * 9 + 4) + (4 * 3 * 3 + 1)
    summary, _ = run_dlrun(
        "model=cnn",
        "dataset=npz",
        f"dataset.path={tmp_path}/signals.npz",
        "dataset.layout=signal",
        "model.channels=[4]",
        "trainer.max_steps=2",
    )
    # 1-D conv with 3 input channels over 25 steps: conv 3→4 (3), pool to 12, head 4·12 → 1
    assert summary["n_params"] == (4 * 3 * 3 + 4) + (4 * 12 + 1)
    table = from_schema(NpzConfig, path=str(tmp_path / "signals.npz"), layout="signal").load(0)
    np.testing.assert_array_equal(table.X[5, :, 2], signals[5, 2])  # channel 2 over time
    np.savez(tmp_path / "flat.npz", X=rng.normal(size=(40, 5)), y=y)
    with pytest.raises(InputError, match=r"layout=image takes X shaped"):
        from_schema(NpzConfig, path=str(tmp_path / "flat.npz"), layout="image").load(0)


@pytest.mark.parametrize("model", ["cnn", "resnet"])
def test_per_step_targets_are_refused_naming_models_that_fit(run_dlrun, model):
    from dlrun.errors import InputError

    with pytest.raises(InputError, match="a target at each of .* steps: use a recurrent model"):
        run_dlrun(f"model={model}", "dataset=copy", "seq_len=5", "trainer.max_steps=1")
