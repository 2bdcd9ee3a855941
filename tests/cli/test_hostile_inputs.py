"""A corpus of hostile inputs across every config group, run in-process through `dlrun`.

Each must end in ONE line `dlrun: error: ...` naming what is wrong, exit code 2, no traceback
and no run-record file (only Hydra's .hydra/). Files are made in tmp_path by `make_file`.
"""

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import run_dirs, run_tool

RECORD_FILES = ("metrics.csv", "steps.csv", "summary.json", "checkpoint.pt", "job.json")
SEQ = "model=gru model.hidden_size=4"

# (overrides, a phrase the one line must contain)
VALUES = [
    # top level
    ("seed=-1", "seed=-1"),
    ("seed=9223372036854775808", "seed=9223372036854775808"),
    ("seed=100000000000000000000000", "seed="),
    ("seed=9223372036854775807 repeats=2", "seed="),
    ("threads=0", "threads=0"),
    ("threads=-3", "threads=-3"),
    ("seq_len=0 model=gru", "seq_len=0"),
    ("seq_len=-5", "seq_len=-5"),
    ("on_error=explode", "on_error='explode'"),
    ("repeats=0", "repeats=0"),
    ("repeats=-2", "repeats=-2"),
    ("analyze.lanczos_steps=1", "analyze.lanczos_steps=1"),
    ("analyze.hessian_exact_max_params=-1", "analyze.hessian_exact_max_params=-1"),
    ("model=mlp_numpy analyze.hessian=true", "analyze.hessian"),
    ("device=cuda", "device=cuda"),
    # integers beyond what the machine holds, paths beyond what the file system holds
    ("seed=" + "9" * 5000, "(5000 digits)"),
    ("model.hidden=[99999999999999999999]", "model.hidden=[99999999999999999999]"),
    ("trainer.batch_size=-99999999999999999999", "trainer.batch_size=-99999999999999999999"),
    ("model=esn model.washout=99999999999999999999", "model.washout=99999999999999999999"),
    ("hydra.run.dir=" + "d" * 300, "has a name of 300 bytes"),
    ("hydra.run.dir=/tmp/" + "/".join(["e" * 200] * 21), "allowed: at most"),
    # model: mlp, mlp_numpy
    ("model.hidden=[]", "model.hidden=[]"),
    ("model.hidden=[0]", "model.hidden=[0]"),
    ("model.hidden=[16,-4]", "model.hidden=[16, -4]"),
    ("model=mlp_numpy model.hidden=[-1]", "model.hidden=[-1]"),
    # cnn
    ("model=cnn dataset=shapes model.channels=[]", "model.channels"),
    ("model=cnn dataset=shapes model.channels=[0,4]", "model.channels"),
    ("model=cnn dataset=shapes model.kernel_size=[3,3,3]", "model.kernel_size"),
    ("model=cnn dataset=shapes model.kernel_size=0", "model.kernel_size"),
    ("model=cnn dataset=shapes model.stride=0", "model.stride"),
    ("model=cnn dataset=shapes model.padding=-1", "model.padding"),
    ("model=cnn dataset=shapes model.pool=median", "model.pool='median'"),
    ("model=cnn dataset=shapes model.pool_size=0", "model.pool_size=0"),
    ("model=cnn dataset=shapes model.global_pool=sum", "model.global_pool='sum'"),
    ("model=cnn dataset=shapes model.padding_mode=mirror", "model.padding_mode"),
    ("model=cnn dataset=shapes model.kernel_size=40", "kernel"),
    ("model=cnn dataset=shapes model.padding=20 model.padding_mode=reflect", "padding"),
    # resnet
    ("model=resnet model.depth=0", "model.depth=0"),
    ("model=resnet model.width=0", "model.width=0"),
    ("model=resnet model.form=tree", "model.form='tree'"),
    ("model=resnet model.norm=group", "model.norm='group'"),
    ("model=resnet model.branch_scale=half", "model.branch_scale='half'"),
    ("model=resnet model.kernel_size=2", "model.kernel_size=2"),
    ("model=resnet model.global_pool=sum", "model.global_pool='sum'"),
    # recurrent
    (f"{SEQ} model.hidden_size=0", "model.hidden_size=0"),
    (f"{SEQ} model.num_layers=0", "model.num_layers=0"),
    ("model=lstm model.hidden_size=-1", "model.hidden_size=-1"),
    ("model=rnn model.activation=gelu", "model.activation='gelu'"),
    ("model=rnn model.init=zeros", "model.init='zeros'"),
    ("model=rnn model.spectral_radius=-1", "model.spectral_radius=-1"),
    ("model=leaky_rnn model.leak=1", "model.leak=1"),
    ("model=leaky_rnn model.leak=-0.5", "model.leak=-0.5"),
    ("model=skip_rnn model.skip=1", "model.skip=1"),
    ("model=rnn model.remove_one_step=true", "model.remove_one_step=True"),
    ("model=rnn model.grad_reg=-1", "model.grad_reg=-1"),
    # esn
    ("model=esn model.reservoir_size=0", "model.reservoir_size=0"),
    ("model=esn model.spectral_radius=-1", "model.spectral_radius=-1"),
    ("model=esn model.input_scaling=-1", "model.input_scaling=-1"),
    ("model=esn model.sparsity=1", "model.sparsity=1"),
    ("model=esn model.leak_rate=0", "model.leak_rate=0"),
    ("model=esn model.readout=lasso", "model.readout='lasso'"),
    ("model=esn dataset=mackey_glass model.washout=1000000", "leaves no training row"),
    ("model=esn model.ridge=-1", "model.ridge=-1"),
    # model and data that do not fit
    ("model=rnn dataset=iris", "datasets that fit"),
    ("model=logistic dataset=digits", "model=logistic"),
    ("model=poisson dataset=wine dataset.task=regression", "model=poisson"),
    ("model=linear dataset=breast_cancer dataset.task=multiclass", "model=linear"),
    ("model=cnn dataset=copy", "model="),
    # dataset: common
    ("dataset.val_fraction=1", "dataset.val_fraction=1"),
    ("dataset.val_fraction=-0.1", "dataset.val_fraction=-0.1"),
    ("dataset.test_fraction=1.5", "dataset.test_fraction=1.5"),
    ("dataset.val_fraction=0.5 dataset.test_fraction=0.5", "val_fraction + test_fraction"),
    ("dataset=adding dataset.task=multiclass model=gru", "task multiclass"),
    # synthetic
    ("dataset=synthetic_binary dataset.n_samples=1", "dataset.n_samples=1"),
    ("dataset=synthetic_binary dataset.n_features=0", "dataset.n_features=0"),
    ("dataset=synthetic_multiclass dataset.n_classes=1", "dataset.n_classes=1"),
    ("dataset=synthetic_regression dataset.noise=-1", "dataset.noise=-1"),
    ("dataset=synthetic_binary dataset.data_seed=-2", "dataset.data_seed=-2"),
    ("dataset=synthetic_regression dataset.n_samples=1000000000000", "dataset.n_samples"),
    ("dataset=synthetic_regression dataset.n_features=100000000000", "dataset.n_features"),
    # images and signals
    ("dataset=shapes dataset.size=3", "dataset.size=3"),
    ("dataset=shapes dataset.n_classes=7", "dataset.n_classes=7"),
    ("dataset=shapes dataset.n_samples=2", "dataset.n_samples=2"),
    ("dataset=waveforms dataset.width=2", "dataset.width=2"),
    ("dataset=waveforms dataset.length=5", "dataset.length=5"),
    ("dataset=waveforms dataset.noise=-0.2", "dataset.noise=-0.2"),
    # sequences
    (f"{SEQ} seq_len=1", "seq_len=1"),
    (f"{SEQ} seq_len=1000000000", "seq_len=1000000000"),
    (f"{SEQ} dataset.n_samples=3", "dataset.n_samples=3"),
    (f"{SEQ} dataset=copy dataset.n_symbols=0", "dataset.n_symbols=0"),
    (f"{SEQ} dataset=copy dataset.length=0", "dataset.length=0"),
    (f"{SEQ} dataset=mackey_glass dataset.horizon=0", "dataset.horizon=0"),
    (f"{SEQ} dataset=mackey_glass dataset.tau=0", "dataset.tau=0"),
    (f"{SEQ} dataset=mackey_glass dataset.step=-1", "dataset.step=-1"),
    (f"{SEQ} dataset=mackey_glass seq_len=100000", "seq_len"),
    # optimizer
    ("optimizer.lr=0", "optimizer.lr=0"),
    ("optimizer.lr=-1", "optimizer.lr=-1"),
    ("optimizer.momentum=1", "optimizer.momentum=1"),
    ("optimizer.weight_decay=-1", "optimizer.weight_decay=-1"),
    ("optimizer=adam optimizer.weight_decay=-0.1", "optimizer.weight_decay=-0.1"),
    ("optimizer=line_search optimizer.c1=0", "optimizer.c1=0"),
    ("optimizer=line_search optimizer.c1=1", "optimizer.c1=1"),
    ("optimizer=line_search optimizer.shrink=1.5", "optimizer.shrink=1.5"),
    ("optimizer=line_search optimizer.max_backtracks=0", "optimizer.max_backtracks=0"),
    ("optimizer=line_search optimizer.etas=[]", "optimizer.etas=[]"),
    ("optimizer=line_search optimizer.etas=[0.1,0]", "optimizer.etas"),
    ("optimizer=newton optimizer.damping=-1", "optimizer.damping=-1"),
    ("optimizer=newton optimizer.max_params=0", "optimizer.max_params=0"),
    ("optimizer=newton model=mlp model.hidden=[64,64]", "optimizer.max_params=2000"),
    ("optimizer=newton model=mlp_numpy", "second derivatives"),
    # trainer
    ("trainer.max_epochs=0", "trainer.max_epochs=0"),
    ("trainer.max_steps=0", "trainer.max_steps=0"),
    ("trainer.batch_size=0", "trainer.batch_size=0"),
    ("trainer.eval_every=0", "trainer.eval_every=0"),
    ("trainer.clip_grad_norm=0", "trainer.clip_grad_norm=0"),
    ("trainer.clip_grad_norm=-1", "trainer.clip_grad_norm=-1"),
    # logger
    ("logger=tensorboard logger.subdir=../../..", "subdir"),
    ("logger=tensorboard logger.subdir=/tmp/elsewhere", "subdir"),
    ("logger=tensorboard logger.subdir=.", "subdir"),
    ("logger=mlflow logger.tracking_uri=ftp://host/store", "logger.tracking_uri=ftp://host/store"),
    ("logger=mlflow logger.tracking_uri=nonsense:store", "logger.tracking_uri=nonsense:store"),
    ("logger=mlflow logger.tracking_uri=/dev/null", "logger.tracking_uri=/dev/null"),
    ("logger=mlflow logger.tracking_uri=file:///dev/null/mlruns", "logger.tracking_uri=file:"),
    ("logger=mlflow logger.tracking_uri=/proc/dlrun/mlruns", "logger.tracking_uri=/proc"),
    # objects other than the option's own class
    ("optimizer._target_=os.system", "optimizer._target_"),
    ("model._target_=builtins.eval", "model._target_"),
    ("dataset._target_=shutil.rmtree", "dataset._target_"),
    ("logger._target_=os.remove", "logger._target_"),
    # interpolations that do not resolve
    (
        "dataset=csv dataset.path=${oc.env:DLRUN_SURELY_UNSET} dataset.target=y",
        "DLRUN_SURELY_UNSET",
    ),
    ("model.hidden=${nope.nope}", "nope"),
    ("optimizer.lr=${oc.env:DLRUN_SURELY_UNSET}", "DLRUN_SURELY_UNSET"),
    # csv
    ("dataset=csv", "dataset.path"),
    ("dataset=csv dataset.path=/no/such/file.csv dataset.target=y", "/no/such/file.csv"),
]


@pytest.mark.parametrize(
    "overrides, taken",
    [("logger=tensorboard", "tensorboard"), ("logger=mlflow", "mlruns")],
    ids=["tensorboard", "mlflow"],
)
def test_a_logger_folder_that_cannot_be_written_is_refused_before_training(
    dlrun_main, tmp_path, overrides, taken
):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / taken).write_text("a file where the logger's folder goes")
    code, out, err = dlrun_main("trainer.max_epochs=1", overrides, f"hydra.run.dir={run_dir}")
    assert_refused(tmp_path, code, out, err, f"logger.subdir={taken}: {run_dir / taken}")
    written = [name for name in RECORD_FILES if (run_dir / name).exists()]
    assert written == [] and (run_dir / taken).read_text().startswith("a file")


OPTUNA = "hydra/sweeper=optuna hydra.sweeper.n_trials=2"
LR = "optimizer.lr=interval(0.01,1)"
# an optimising sweep: refused before trial 0 trains (the search space before any job starts)
SEARCHES = [
    ("optimizer.lr=interval(1,0.001)", "optimizer.lr=interval(1.0, 0.001) is empty"),
    ("optimizer.lr=interval(0.1,0.1)", "is empty"),
    ("optimizer.lr=tag(log,interval(0,1))", "on a log scale"),
    ("optimizer.lr=tag(log,interval(-1,1))", "a log interval needs 0 < low"),
    ("trainer.max_epochs=range(5,1)", "trainer.max_epochs=range(5, 1, step=1) holds no value"),
    (f"hydra.sweeper.direction=sideways {LR}", "hydra.sweeper.direction=sideways"),
    (f"hydra.sweeper.direction=[minimize,maximize] {LR}", "objective is one metric"),
    (f"hydra.sweeper.n_trials=0 {LR}", "hydra.sweeper.n_trials=0"),
    (f"hydra.sweeper.n_trials=-3 {LR}", "hydra.sweeper.n_trials=-3"),
    (f"objective=n_params {LR}", "objective=n_params is not a metric"),
    (f"objective=val/mae {LR}", "objective=val/mae is not a metric of this run (binary task"),
    (f"objective=val/acc dataset.val_fraction=0 {LR}", "objective=val/acc"),
]


@pytest.mark.parametrize("overrides, phrase", SEARCHES, ids=[s[0] for s in SEARCHES])
def test_an_optimising_sweep_is_refused_before_trial_0(dlrun_main, tmp_path, overrides, phrase):
    pytest.importorskip("hydra_plugins.hydra_optuna_sweeper")
    quick = ("model=logistic", "dataset=breast_cancer", "trainer.max_epochs=1")
    code, out, err = dlrun_main("-m", *quick, *OPTUNA.split(), *overrides.split())
    assert_refused(tmp_path, code, out, err, phrase)  # Optuna's INFO lines are off stderr too
    assert not list((tmp_path / "outputs").rglob("metrics.csv"))


def make_files(root) -> dict[str, str]:
    """Broken input files, by name; returns name -> path."""
    files = {}

    def put(name: str, content: bytes) -> None:
        path = root / name
        path.write_bytes(content)
        files[name] = str(path)

    put("ragged.csv", b"a,b,y\n1,2,3\n4,5\n6,7,8,9,10\n")
    put("binary.csv", np.random.default_rng(1).bytes(2048))
    put("empty.csv", b"")
    put("header_only.csv", b"a,b,y\n")
    put("text_target.csv", b"a,y\n1,x\n2,y\n3,z\n")
    put("inf.csv", b"a,y\n1,0\ninf,1\n3,0\n4,1\n5,0\n")
    put("one_row.csv", b"a,y\n1,0\n")
    put("garbage.npz", np.random.default_rng(2).bytes(4096))
    np.save(root / "array.npy", np.zeros((10, 3)))
    (root / "array.npy").rename(root / "renamed.npz")
    files["renamed.npz"] = str(root / "renamed.npz")
    np.savez(root / "good.npz", X=np.random.rand(40, 3), y=np.arange(40) % 2)
    content = (root / "good.npz").read_bytes()
    put("truncated.npz", content[: len(content) // 2])
    np.savez(root / "objects.npz", X=np.array([{"a": 1}] * 10, dtype=object), y=np.zeros(10))
    files["objects.npz"] = str(root / "objects.npz")
    np.savez(root / "no_y.npz", X=np.random.rand(10, 3))
    files["no_y.npz"] = str(root / "no_y.npz")
    np.savez(root / "mismatch.npz", X=np.random.rand(10, 3), y=np.zeros(7))
    files["mismatch.npz"] = str(root / "mismatch.npz")
    huge = root / "huge.npz"  # a header declaring 10^12 float64 values, and no data
    header = {"descr": "<f8", "fortran_order": False, "shape": (10**6, 10**6)}
    with zipfile.ZipFile(huge, "w") as archive:
        with archive.open("X.npy", "w") as member:
            np.lib.format.write_array_header_1_0(member, header)
        with archive.open("y.npy", "w") as member:
            np.lib.format.write_array(member, np.zeros(10**6))
    files["huge.npz"] = str(huge)
    os.mkdir(root / "a_folder.csv")
    files["a_folder.csv"] = str(root / "a_folder.csv")
    return files


FILES = [
    ("csv", "ragged.csv", "y", "dataset.path="),
    ("csv", "binary.csv", "y", "dataset.path="),
    ("csv", "empty.csv", "y", "dataset.path="),
    ("csv", "header_only.csv", "y", "dataset.path="),
    ("csv", "text_target.csv", "y", "dataset.path="),
    ("csv", "inf.csv", "y", "dataset.path="),
    ("csv", "one_row.csv", "y", "1 row"),
    ("csv", "ragged.csv", "nope", "dataset.path="),
    ("csv", "a_folder.csv", "y", "dataset.path="),
    ("npz", "garbage.npz", None, "dataset.path="),
    ("npz", "renamed.npz", None, "dataset.path="),
    ("npz", "truncated.npz", None, "dataset.path="),
    ("npz", "objects.npz", None, "dataset.path="),
    ("npz", "no_y.npz", None, "dataset.path="),
    ("npz", "mismatch.npz", None, "dataset.path="),
    ("npz", "huge.npz", None, "dataset.path="),
]


def assert_refused(tmp_path, code: int, out: str, err: str, phrase: str) -> None:
    assert "Traceback" not in out + err, err
    assert code == 2, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("dlrun: error: "), err
    assert phrase in lines[0], lines[0]
    for run_dir in run_dirs(tmp_path / "outputs"):
        written = [name for name in RECORD_FILES if (run_dir / name).exists()]
        assert written == [], f"{written} written in {run_dir}"


@pytest.mark.parametrize("overrides, phrase", VALUES, ids=[v[0][:60] for v in VALUES])
def test_a_bad_value_is_refused_in_one_line(dlrun_main, tmp_path, overrides, phrase):
    code, out, err = dlrun_main("trainer.max_epochs=1", *overrides.split())
    assert_refused(tmp_path, code, out, err, phrase)


@pytest.mark.parametrize(
    "kind, name, target, phrase", FILES, ids=[f[1] + "-" + str(f[2]) for f in FILES]
)
def test_a_bad_file_is_refused_in_one_line(dlrun_main, tmp_path, kind, name, target, phrase):
    path = make_files(tmp_path)[name]
    overrides = ["trainer.max_epochs=1", f"dataset={kind}", f"dataset.path={path}"]
    if target is not None:
        overrides.append(f"dataset.target={target}")
    code, out, err = dlrun_main(*overrides)
    assert_refused(tmp_path, code, out, err, phrase)


# dlrun-eval and dlrun-report: damaged or unexpected files in a run or sweep directory, and
# outputs that cannot be written. Each is one `<tool>: error:` line, exit code 2, and every
# file in the directory left byte for byte as it was.
TINY = ("model=logistic", "dataset=breast_cancer", "trainer.max_epochs=1")


def snapshot(directory: Path) -> dict:
    """Every file under directory with its bytes."""
    return {
        path.relative_to(directory): path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(scope="module")
def trained_sweep(tmp_path_factory):
    """A two-job sweep through the `dlrun` command (so its jobs have .hydra/ and job.json)."""
    from dlrun.cli import main

    sweep_dir = tmp_path_factory.mktemp("tools") / "sweep"
    old_argv, sys.argv = (
        sys.argv,
        ["dlrun", "-m", *TINY, "seed=0,1", f"hydra.sweep.dir={sweep_dir}"],
    )
    try:
        main()
    finally:
        sys.argv = old_argv
    return sweep_dir


def write(relative: str, content: bytes):
    def change(directory: Path) -> None:
        (directory / relative).write_bytes(content)

    return change


def make_folder(relative: str):
    return lambda directory: (directory / relative).mkdir()


def pickled_checkpoint(directory: Path) -> None:
    import argparse

    import torch

    torch.save({"model": argparse.Namespace(weights=1)}, directory / "0" / "checkpoint.pt")


def raw_pickle(directory: Path) -> None:
    import pickle

    (directory / "0" / "checkpoint.pt").write_bytes(pickle.dumps({"model": object}, protocol=4))


def halved(relative: str):
    def change(directory: Path) -> None:
        data = (directory / relative).read_bytes()
        (directory / relative).write_bytes(data[: len(data) // 2])

    return change


GARBAGE = np.random.default_rng(3).bytes(300)
# (what is wrong, change to the sweep, a phrase the one line must contain)
EVAL_CASES = [
    ("config.yaml garbage", write("0/.hydra/config.yaml", b"a: [b\n"), "config.yaml is damaged"),
    ("config.yaml a list", write("0/.hydra/config.yaml", b"- 1\n"), "not a YAML mapping"),
    ("config.yaml binary", write("0/.hydra/config.yaml", GARBAGE), "config.yaml is damaged"),
    ("overrides.yaml garbage", write("0/.hydra/overrides.yaml", b"{a: ["), "overrides.yaml"),
    ("overrides.yaml a mapping", write("0/.hydra/overrides.yaml", b"a: 1\n"), "not a YAML list"),
    ("eval.json a folder", make_folder("0/eval.json"), "eval.json is a folder"),
    ("checkpoint pickled object", pickled_checkpoint, "holds a pickled object (argparse"),
    ("checkpoint raw pickle", raw_pickle, "holds a pickled object; refused"),
    ("checkpoint garbage", write("0/checkpoint.pt", GARBAGE), "checkpoint.pt is damaged"),
    ("checkpoint empty", write("0/checkpoint.pt", b""), "checkpoint.pt is damaged"),
    ("checkpoint halved", halved("0/checkpoint.pt"), "checkpoint.pt is damaged"),
]


@pytest.mark.parametrize("case, change, phrase", EVAL_CASES, ids=[c[0] for c in EVAL_CASES])
def test_dlrun_eval_refuses_a_damaged_run_in_one_line(
    trained_sweep, tmp_path, capsys, case, change, phrase
):
    from dlrun.evaluate import main

    sweep = shutil.copytree(trained_sweep, tmp_path / "sweep")
    change(sweep)
    before = snapshot(sweep)
    code, out, err = run_tool(main, [str(sweep / "0")], capsys)
    assert_tool_refused("dlrun-eval", code, out, err, phrase)
    assert "weights_only=False" not in err and "Warning" not in err
    assert snapshot(sweep) == before


def remove(relative: str):
    return lambda directory: (directory / relative).unlink()


REPORT_CASES = [
    ("job.json garbage", write("0/job.json", GARBAGE), "job.json is damaged (does not parse)"),
    ("job.json a list", write("0/job.json", b"[1, 2]"), "job.json is damaged (not a mapping)"),
    (
        "overrides.yaml garbage",
        lambda d: (remove("0/job.json")(d), write("0/.hydra/overrides.yaml", b"{a: [")(d)),
        "overrides.yaml is damaged",
    ),
    ("--out a file", write("taken", b"x"), "--out="),
    ("--out under /proc", lambda d: None, "--out=/proc"),
]
OUT = {"--out a file": "{sweep}/taken", "--out under /proc": "/proc/dlrun-test/out"}


@pytest.mark.parametrize("case, change, phrase", REPORT_CASES, ids=[c[0] for c in REPORT_CASES])
def test_dlrun_report_refuses_a_damaged_sweep_in_one_line(
    trained_sweep, tmp_path, capsys, case, change, phrase
):
    from dlrun.report.cli import main

    sweep = shutil.copytree(trained_sweep, tmp_path / "sweep")
    change(sweep)
    before = snapshot(sweep)
    args = [str(sweep)] + (["--out", OUT[case].format(sweep=sweep)] if case in OUT else [])
    code, out, err = run_tool(main, args, capsys)
    assert_tool_refused("dlrun-report", code, out, err, phrase)
    assert out == ""  # refused before the table is printed
    assert snapshot(sweep) == before


def test_dlrun_report_lists_a_summary_whose_metrics_are_not_an_object(
    trained_sweep, tmp_path, capsys
):
    from dlrun.report.cli import main

    sweep = shutil.copytree(trained_sweep, tmp_path / "sweep")
    summary = json.loads((sweep / "0" / "summary.json").read_text())
    (sweep / "0" / "summary.json").write_text(json.dumps(summary | {"metrics": [1, 2]}))
    code, out, err = run_tool(main, [str(sweep)], capsys)
    assert code == 0 and "Traceback" not in out + err
    assert "metrics are not an object" in out


def test_dlrun_report_adds_up_repeated_metric_flags(trained_sweep, tmp_path, capsys):
    from dlrun.report.cli import main

    args = [str(trained_sweep), "--metric", "test/acc", "--metric", "val/loss,test/loss"]
    code, out, err = run_tool(main, [*args, "--out", str(tmp_path)], capsys)
    assert code == 0, err
    table = pd.read_csv(tmp_path / "comparison.csv")
    assert set(table["metric"]) == {"test/acc", "val/loss", "test/loss"}


def assert_tool_refused(tool: str, code: int, out: str, err: str, phrase: str) -> None:
    assert "Traceback" not in out + err, err
    assert code == 2, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"{tool}: error: "), err
    assert phrase in lines[0], lines[0]


# One writer per directory (dlrun.record.lock): a directory another live process holds, and
# one holding an earlier run's or sweep's records, are refused before anything is written.
QUICK_RUN = ("model=logistic", "dataset=breast_cancer", "trainer.max_epochs=1")
HOLD = (
    "import fcntl, os, sys, time\n"
    "fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)\n"
    "fcntl.flock(fd, fcntl.LOCK_EX)\n"
    "os.write(fd, b'pid %d on this host' % os.getpid())\n"
    "print('locked', flush=True)\n"
    "time.sleep(120)\n"
)


def hold_lock(directory: Path) -> subprocess.Popen:
    """Another process holding directory's lock, as a running dlrun does."""
    directory.mkdir(parents=True, exist_ok=True)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(directory / ".dlrun.lock")],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "locked"
    return holder


@pytest.mark.parametrize("multirun", [False, True], ids=["run", "sweep"])
def test_a_directory_another_process_writes_is_refused_until_it_dies(
    dlrun_main, tmp_path, multirun
):
    directory = tmp_path / "taken"
    holder = hold_lock(directory)
    key = "hydra.sweep.dir" if multirun else "hydra.run.dir"
    args = (*(("-m",) if multirun else ()), *QUICK_RUN, "seed=0", f"{key}={directory}")
    try:
        before = snapshot(directory)
        code, out, err = dlrun_main(*args)
        assert_refused(tmp_path, code, out, err, f"{key}={directory} is being written by")
        assert f"pid {holder.pid}" in err
        assert snapshot(directory) == before
    finally:
        holder.kill()  # SIGKILL: the lock file stays, and nobody holds it
        holder.wait()
    code, out, err = dlrun_main(*args)
    assert code == 0, err
    assert not (directory / ".dlrun.lock").exists()  # removed by the run that ended


@pytest.mark.parametrize("multirun", [False, True], ids=["run", "sweep"])
def test_a_new_run_into_an_earlier_record_is_refused_and_resume_keeps_it(
    dlrun_main, tmp_path, multirun
):
    directory = tmp_path / "earlier"
    key = "hydra.sweep.dir" if multirun else "hydra.run.dir"
    args = (*(("-m",) if multirun else ()), *QUICK_RUN, "seed=0")
    code, _, err = dlrun_main(*args, f"{key}={directory}")
    assert code == 0, err
    before = snapshot(directory)
    code, out, err = dlrun_main(*args, f"{key}={directory}")
    assert_refused(tmp_path, code, out, err, f"{key}={directory} holds the record")
    assert f"resume={directory}" in err
    assert snapshot(directory) == before
    code, _, err = dlrun_main(*args, f"resume={directory}")  # the way on it names
    assert code == 0, err
    summary = "0/summary.json" if multirun else "summary.json"
    assert (directory / summary).read_bytes() == before[Path(summary)]


@pytest.mark.parametrize(
    "swept",
    ["seed=0,-1", "repeats=1,0", "trainer.batch_size=16,99999999999999999999"],
    ids=["seed", "repeats", "huge batch"],
)
def test_a_sweep_job_that_cannot_run_is_a_failed_job(dlrun_main, tmp_path, swept):
    """on_error=continue (the default): the refused job is a failed record and the table is
    written; the sweep goes on and exits 1."""
    sweep_dir = tmp_path / "sweep"
    code, out, err = dlrun_main("-m", *QUICK_RUN, swept, f"hydra.sweep.dir={sweep_dir}")
    assert code == 1 and "Traceback" not in out + err, err
    statuses = [json.loads((sweep_dir / j / "summary.json").read_text())["status"] for j in "01"]
    assert statuses == ["completed", "failed"]
    assert (sweep_dir / "comparison.csv").is_file()
    assert "1 job(s) of the sweep failed" in err
