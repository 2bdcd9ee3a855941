"""Sequence data sets against their definitions, written out again here."""

import numpy as np
import pytest

from dlrun.build import from_schema
from dlrun.config import dataset
from dlrun.data import sequences
from dlrun.errors import InputError


def test_adding_targets_are_the_sum_of_the_marked_values_one_in_each_half():
    table = from_schema(dataset.AddingConfig, n_samples=300, seq_len=20).load(0)
    assert table.X.shape == (300, 20, 2) and table.kind == "sequence"
    values, markers = table.X[..., 0], table.X[..., 1]
    assert np.all(markers.sum(axis=1) == 2)
    assert np.all(markers[:, :10].sum(axis=1) == 1) and np.all(markers[:, 10:].sum(axis=1) == 1)
    np.testing.assert_allclose(table.y, (values * markers).sum(axis=1))
    # the trivial predictor (the mean, 1) scores Var(u1 + u2) = 1/6
    big = from_schema(dataset.AddingConfig, n_samples=20000, seq_len=10).load(1)
    assert abs(np.mean((big.y - 1.0) ** 2) - 1 / 6) < 0.01


def test_copy_recalls_the_first_symbols_after_the_delay():
    k, delay = 4, 7
    table = from_schema(
        dataset.CopyConfig, n_samples=50, seq_len=delay, n_symbols=5, length=k
    ).load(0)
    tokens = table.X.argmax(axis=-1)
    assert table.X.shape == (50, delay + 2 * k, 7) and table.y.shape == (50, delay + 2 * k)
    np.testing.assert_array_equal(table.y[:, -k:], tokens[:, :k])
    assert np.all(table.y[:, :-k] == 0)
    assert np.all(tokens[:, k + delay - 1] == 6)  # the delimiter, then blanks
    assert np.all(tokens[:, k : k + delay - 1] == 0) and np.all(tokens[:, -k:] == 0)


def test_narma10_follows_its_recursion():
    u, y = sequences.narma10(300, seed=3)
    assert np.all((0 <= u) & (u <= 0.5))
    for t in range(20, 299):
        expected = 0.3 * y[t] + 0.05 * y[t] * y[t - 9 : t + 1].sum() + 1.5 * u[t - 9] * u[t] + 0.1
        assert y[t + 1] == pytest.approx(expected)
    table = from_schema(dataset.Narma10Config, n_samples=200, seq_len=15).load(0)
    series_u, series_y = sequences.narma10(215, 0)
    np.testing.assert_allclose(table.X[5, :, 0], series_u[5:20])
    assert table.y[5] == pytest.approx(series_y[20])


def test_mackey_glass_satisfies_the_delay_equation():
    x = sequences.mackey_glass(600, tau=17, step=1.0, seed=0)
    assert 0.2 < x.min() and x.max() < 1.5 and x.std() > 0.1  # chaotic, not a fixed point
    # central differences of the samples match the right-hand side within the sampling error
    derivative = (x[19:-1] - x[17:-3]) / 2
    rhs = 0.2 * x[1:-19] / (1 + x[1:-19] ** 10) - 0.1 * x[18:-2]
    assert np.mean(np.abs(derivative - rhs)) < 0.01


def test_forecasting_windows_keep_the_future_as_test():
    table = from_schema(
        dataset.MackeyGlassConfig, n_samples=500, seq_len=30, horizon=5, test_fraction=0.2
    ).load(0)
    assert table.X.shape[1:] == (30, 1) and len(table.X_test) == 100
    series = sequences.mackey_glass(500 + 30 + 4, 17, 1.0, 0)
    np.testing.assert_allclose(table.X[3, :, 0], series[3:33])
    assert table.y[3] == pytest.approx(series[32 + 5])
    # no training window reaches a value of the first test window
    assert len(table.X) + 30 <= 500 - 100


def test_forecasting_sets_hand_over_their_series_and_each_rows_step():
    table = from_schema(dataset.Narma10Config, n_samples=200, seq_len=15).load(0)
    u, y = sequences.narma10(215, 0)
    series = table.series
    np.testing.assert_array_equal(series.inputs[:, 0], u)
    # the target at step t is the next output y(t + 1); none after the last step
    np.testing.assert_array_equal(series.targets[:-1], y[1:])
    assert np.isnan(series.targets[-1])
    for X, targets, steps in (
        (table.X, table.y, series.steps),
        (table.X_test, table.y_test, series.test_steps),
    ):
        np.testing.assert_array_equal(targets, series.targets[steps])
        for row in (0, len(X) - 1):
            np.testing.assert_array_equal(X[row, :, 0], u[steps[row] - 14 : steps[row] + 1])
    # the test stretch is the last in time, after the windows that overlap it were dropped
    assert series.test_steps[0] == series.steps[-1] + 15 + 1
    assert series.test_steps[-1] == len(u) - 2


def test_independent_sequences_have_no_series():
    for schema in (dataset.AddingConfig, dataset.CopyConfig):
        assert from_schema(schema, n_samples=20, seq_len=5).load(0).series is None
    assert from_schema(dataset.SeqDigitsConfig).load(0).series is None


def test_seq_digits_reads_rows_and_pixels():
    rows = from_schema(dataset.SeqDigitsConfig).load(0)
    pixels = from_schema(dataset.SeqDigitsConfig, pixel_by_pixel=True).load(0)
    assert rows.X.shape[1:] == (8, 8) and pixels.X.shape[1:] == (64, 1)
    np.testing.assert_array_equal(rows.X.reshape(len(rows.X), -1), pixels.X[..., 0])


def test_sunspots_or_a_clear_message():
    try:
        import statsmodels  # noqa: F401
    except ImportError:
        with pytest.raises(InputError, match="pip install"):
            from_schema(dataset.SunspotsConfig).load(0)
        return
    table = from_schema(dataset.SunspotsConfig, seq_len=10, test_fraction=0.2).load(0)
    assert table.X.shape[1:] == (10, 1) and table.X[0, 0, 0] == 5.0  # the year 1700


def test_too_short_series_is_an_input_error():
    # the windowing itself, on a series as long as sunspots' 309 years (no statsmodels needed)
    series = np.arange(309, dtype=np.float64)
    with pytest.raises(InputError, match="seq_len=400"):
        sequences.windows(series, seq_len=400, horizon=1)
    with pytest.raises(InputError, match="too short for seq_len=300"):
        sequences.forecasting_table(series, 300, 1, test_fraction=0.2, name="sunspots")


def test_too_short_sunspots_is_an_input_error():
    pytest.importorskip("statsmodels")
    with pytest.raises(InputError, match="seq_len"):
        from_schema(dataset.SunspotsConfig, seq_len=400).load(0)


def test_seq_len_reaches_the_sequence_datasets(compose_cfg):
    cfg, names = compose_cfg("model=gru", "seq_len=37")
    assert names["dataset"] == "adding" and cfg.dataset.seq_len == 37
    cfg, names = compose_cfg("model=gru", "dataset=narma10", "seq_len=12")
    assert names["dataset"] == "narma10" and cfg.dataset.seq_len == 12
    cfg, names = compose_cfg("model=mlp")
    assert names["dataset"] == "digits"
    # the top-level seq_len is every sequence dataset's default; dataset.seq_len wins
    cfg, _ = compose_cfg("dataset=sunspots", "seq_len=30")
    assert cfg.dataset.seq_len == 30
    cfg, _ = compose_cfg("dataset=waveforms", "seq_len=40")
    assert cfg.dataset.length == 40
    cfg, _ = compose_cfg("model=gru", "seq_len=37", "dataset.seq_len=12")
    assert cfg.dataset.seq_len == 12 and cfg.seq_len == 37


def test_adding_needs_two_steps_and_says_so_on_the_command_line(tmp_path):
    from tests.conftest import run_cli

    with pytest.raises(ValueError, match="seq_len=1"):
        from_schema(dataset.AddingConfig, seq_len=1)
    result = run_cli("model=gru", "seq_len=1", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "adding problem needs >= 2" in result.stderr


def test_class_tasks_refuse_a_real_valued_target(run_dlrun):
    """The adding problem's sums (or Mackey-Glass values) are no class labels: each distinct
    value became its own class (loss log K, accuracy 0%); whole-number labels stay classes."""
    from dlrun.data.splits import encode_labels

    codes, names = encode_labels("multiclass", np.array([2.0, 0.0, 5.0, 2.0]), "model=gru")
    assert codes.tolist() == [1, 0, 2, 1] and names == ["0", "2", "5"]
    with pytest.raises(InputError, match="multiclass needs class labels.*fractions.*regression"):
        encode_labels("multiclass", np.array([0.5, 1.25, 2.0]), "model=gru")
    with pytest.raises(InputError, match="class labels.*dataset.task=regression"):
        run_dlrun("model=gru", "dataset=adding", "seq_len=5", "dataset.task=multiclass")


def test_per_step_targets_longer_than_the_sequence_are_refused(run_dlrun, tmp_path):
    """A recurrent head reads the last T' steps of T: y (N, T') needs T' <= T (was a shape
    error from the loss)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 6, 2))
    np.savez(tmp_path / "long.npz", X=X, y=rng.normal(size=(40, 8)))
    np.savez(tmp_path / "last5.npz", X=X, y=rng.normal(size=(40, 5)))
    with pytest.raises(InputError, match=r"y has 8 targets per sequence .* X has 6 steps"):
        run_dlrun("model=gru", "dataset=npz", f"dataset.path={tmp_path / 'long.npz'}")
    summary, _ = run_dlrun(
        "model=gru", "dataset=npz", f"dataset.path={tmp_path / 'last5.npz'}", "trainer.max_steps=1"
    )
    assert summary["status"] == "completed"


def test_test_targets_shaped_unlike_the_training_targets_are_refused(run_dlrun, tmp_path):
    rng = np.random.default_rng(0)
    arrays = dict(X=rng.normal(size=(40, 6, 2)), X_test=rng.normal(size=(10, 6, 2)))
    np.savez(
        tmp_path / "t.npz", y=rng.normal(size=(40, 4)), y_test=rng.normal(size=(10, 3)), **arrays
    )
    with pytest.raises(InputError, match=r"y_test rows are \(3,\), y's \(4,\)"):
        run_dlrun("model=gru", "dataset=npz", f"dataset.path={tmp_path / 't.npz'}")
