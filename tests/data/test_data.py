"""Data sources and splits: user files with their errors, standardisation, task inference."""

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import run_dirs

from dlrun.build import from_schema
from dlrun.config.dataset import BundledConfig, CsvConfig, NpzConfig
from dlrun.data.splits import infer_task, prepare
from dlrun.errors import InputError


def csv_source(path, target: str, **keys):
    return from_schema(CsvConfig, path=str(path), target=target, **keys)


def visits_csv(path, rows: int = 60, seed: int = 0):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"age": rng.normal(40, 10, rows), "dose": rng.uniform(0, 2, rows)})
    frame["visits"] = rng.poisson(np.exp(0.5 + 0.3 * frame["dose"]))
    frame.to_csv(path, index=False)
    return frame


def test_poisson_on_a_users_csv_end_to_end(dlrun_main, tmp_path):
    visits_csv(tmp_path / "visits.csv")
    code, out, err = dlrun_main(
        "model=poisson",
        "dataset=csv",
        "dataset.path=visits.csv",
        "dataset.target=visits",
        "trainer.max_epochs=3",
    )
    assert code == 0, err
    (run_dir,) = run_dirs(tmp_path / "outputs")
    terms = pd.read_csv(run_dir / "coefficients.csv")["term"].tolist()
    assert terms == ["intercept", "age", "dose"]
    assert "deviance" in pd.read_csv(run_dir / "metrics.csv").columns


@pytest.mark.parametrize(
    "content,expected",
    [
        ("", "the file is empty"),
        ("age,visits\n", "has a header but no data rows"),
        (
            "age,count\n1,2\n",
            "dataset.target='visits' is not a column of bad.csv; its columns are: age, count",
        ),
        (
            "age,visits\n1,2\n3,4\nabc,5\n",
            "column 'age' has the non-numeric value 'abc' in data row 3 (line 4",
        ),
        ("age,visits\n1,2\n,4\n", "column 'age' has a missing value (NaN) in data row 2 (line 3"),
        ("age,visits\n1,2\n2,-1\n3,0\n", "model=poisson needs counts >= 0; the target has -1"),
        ("age,visits\n1,2.5\n2,1\n3,0\n", "model=poisson needs whole-number counts"),
    ],
)
def test_bad_csv_files_get_a_clear_message_and_no_run_record(
    dlrun_main, tmp_path, content, expected
):
    (tmp_path / "bad.csv").write_text(content)
    code, _, err = dlrun_main(
        "model=poisson", "dataset=csv", "dataset.path=bad.csv", "dataset.target=visits"
    )
    assert code == 2 and expected in err, err
    (run_dir,) = run_dirs(tmp_path / "outputs")
    written = {p.name for p in run_dir.iterdir()}
    assert not written & {
        "metrics.csv",
        "steps.csv",
        "summary.json",
        "checkpoint.pt",
        "coefficients.csv",
    }
    assert not [name for name in written if name.endswith(".tmp")]


def test_missing_file_and_non_binary_target(dlrun_main, tmp_path):
    code, _, err = dlrun_main("dataset=csv", "dataset.path=nowhere.csv", "dataset.target=y")
    assert code == 2 and "dataset.path='nowhere.csv': no such CSV file" in err
    visits_csv(tmp_path / "visits.csv")
    code, _, err = dlrun_main(
        "model=logistic", "dataset=csv", "dataset.path=visits.csv", "dataset.target=visits"
    )
    assert code == 2 and "model=logistic needs a binary target with exactly two values" in err


def test_npz_with_a_fixed_test_split(dlrun_main, tmp_path):
    rng = np.random.default_rng(0)
    X, X_test = rng.normal(size=(80, 3)), rng.normal(size=(20, 3))
    np.savez(
        tmp_path / "d.npz",
        X=X,
        y=X @ [1.0, 2.0, 3.0],
        X_test=X_test,
        y_test=X_test @ [1.0, 2.0, 3.0],
    )
    code, _, err = dlrun_main(
        "model=linear", "dataset=npz", "dataset.path=d.npz", "trainer.max_epochs=2"
    )
    assert code == 0, err
    (run_dir,) = run_dirs(tmp_path / "outputs")
    import json

    rows = json.loads((run_dir / "summary.json").read_text())["rows"]
    assert rows == {"train": 72, "val": 8, "test": 20}
    np.savez(tmp_path / "e.npz", X=X)
    code, _, err = dlrun_main("dataset=npz", "dataset.path=e.npz")
    assert code == 2 and "no array named 'y'" in err


def test_standardisation_is_fitted_on_the_training_split_only():
    source = from_schema(BundledConfig, name="diabetes", val_fraction=0.2, test_fraction=0.2)
    data = prepare(source, None, "model=linear", 0, torch.float64, torch.device("cpu"))
    train = data.splits["train"].X
    torch.testing.assert_close(train.mean(0), torch.zeros(10, dtype=torch.float64))
    torch.testing.assert_close(train.std(0, unbiased=False), torch.ones(10, dtype=torch.float64))
    assert data.splits["test"].X.mean(0).abs().max() > 1e-3  # test data are not re-centred
    raw = source.load(0).X
    order = np.random.default_rng(0).permutation(len(raw))
    train_rows = raw[order[round(0.2 * 442) + round(0.2 * 442) :]]
    np.testing.assert_allclose(data.mean, train_rows.mean(0))


def test_zero_test_and_val_fractions_train_on_every_row():
    source = from_schema(BundledConfig, name="iris", val_fraction=0.0, test_fraction=0.0)
    data = prepare(source, None, "model=softmax", 0, torch.float32, torch.device("cpu"))
    assert list(data.splits) == ["train"] and len(data.train) == 150
    assert data.task == "multiclass" and data.n_classes == 3


@pytest.mark.parametrize(
    "y,task",
    [
        ([0.5, 1.0, 2.0], "regression"),
        ([0, 1, 1, 0], "binary"),
        ([0, 1, 2, 5], "multiclass"),
        (list(range(40)), "count"),
        ([-3, -1] + list(range(40)), "regression"),
    ],
)
def test_task_inference(y, task):
    assert infer_task(np.asarray(y, dtype=float)) == task


def test_csv_feature_selection(tmp_path):
    visits_csv(tmp_path / "v.csv")
    table = csv_source(tmp_path / "v.csv", "visits", features=["dose"]).load(0)
    assert table.feature_names == ["dose"] and table.X.shape == (60, 1)
    with pytest.raises(InputError, match="dataset.features names 'height'"):
        csv_source(tmp_path / "v.csv", "visits", features=["height"]).load(0)


def test_csv_features_may_not_include_the_target(tmp_path):
    visits_csv(tmp_path / "v.csv")
    for features in (["dose", "visits"], ["visits"]):
        with pytest.raises(InputError, match="dataset.features names the target 'visits'"):
            csv_source(tmp_path / "v.csv", "visits", features=features).load(0)


def test_a_single_row_is_refused(tmp_path):
    (tmp_path / "one.csv").write_text("a,y\n1,2.0\n")
    source = csv_source(tmp_path / "one.csv", "y")
    with pytest.raises(InputError, match="the dataset has 1 row"):
        prepare(source, None, "model=linear", 0, torch.float32, torch.device("cpu"))


def test_npz_target_column_vector_is_read_as_one_target_per_row(tmp_path):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(30, 3)), rng.normal(size=(30, 1))
    np.savez(tmp_path / "d.npz", X=X, y=y)
    table = from_schema(NpzConfig, path=str(tmp_path / "d.npz")).load(0)
    np.testing.assert_array_equal(table.y, y[:, 0])


@pytest.mark.parametrize(
    "y,message",
    [
        (
            np.zeros((30, 2)),
            r"y must hold one target per row of X: shape \(30,\).*; it is \(30, 2\)",
        ),
        (np.array(["a", "b"] * 15), "y must be a numeric array; its dtype is <U1"),
        (np.ones(30) * 1j, "y must be a numeric array; its dtype is complex128"),
    ],
)
def test_npz_target_of_wrong_shape_or_dtype_is_refused(dlrun_main, tmp_path, y, message):
    np.savez(tmp_path / "d.npz", X=np.zeros((30, 3)), y=y)
    code, _, err = dlrun_main("dataset=npz", "dataset.path=d.npz", "trainer.max_epochs=1")
    assert code == 2 and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    import re

    assert re.search(message, err), err


def test_csv_infinite_cells_are_refused_like_missing_ones(tmp_path):
    (tmp_path / "inf.csv").write_text("a,y\n1,3\n2,5\ninf,7\n4,9\n")
    with pytest.raises(InputError, match=r"column 'a' has the value inf in data row 3 \(line 4"):
        csv_source(tmp_path / "inf.csv", "y").load(0)


def test_csv_spaces_after_the_commas_are_not_part_of_the_names(tmp_path):
    (tmp_path / "sp.csv").write_text("a, y\n1, 3\n2, 5\n3, 7\n")
    table = csv_source(tmp_path / "sp.csv", "y").load(0)
    assert table.feature_names == ["a"]
    np.testing.assert_array_equal(table.y, [3.0, 5.0, 7.0])


def test_every_bundled_name_the_schema_allows_has_a_loader():
    from dlrun.config.dataset import BUNDLED
    from dlrun.data.bundled import LOADERS

    assert sorted(BUNDLED) == sorted(LOADERS)
