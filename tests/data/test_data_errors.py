"""Bad data input ends in one line `dlrun: error: key=value ... allowed ...`, exit code 2, no
traceback and no run record, before anything large is allocated."""

import io
import os
import re
import zipfile

import numpy as np
import pytest
from conftest import run_dirs
from numpy.lib import format as npy_format

from dlrun.data import files

RUN_FILES = {"metrics.csv", "steps.csv", "summary.json", "checkpoint.pt", "coefficients.csv"}
GOOD_X, GOOD_Y = np.arange(60.0).reshape(20, 3), np.arange(20.0)


def npz_bytes(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def zip_of(**members: bytes) -> bytes:
    """A zip archive of raw .npy members (name -> bytes), as numpy.savez would lay it out."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            archive.writestr(f"{name}.npy", content)
    return buffer.getvalue()


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def npy_header_only(shape: tuple[int, ...]) -> bytes:
    """A float64 .npy header declaring `shape`, with no data after it."""
    buffer = io.BytesIO()
    npy_format.write_array_header_1_0(
        buffer, {"descr": "<f8", "fortran_order": False, "shape": shape}
    )
    return buffer.getvalue()


def write(name: str, content: bytes):
    """A setup that writes `content` to tmp_path/name."""

    def setup(tmp_path, monkeypatch) -> None:
        (tmp_path / name).write_bytes(content)

    return setup


def make_directory(name: str):
    def setup(tmp_path, monkeypatch) -> None:
        (tmp_path / name).mkdir()

    return setup


def unreadable(name: str, content: bytes):
    """A file without read permission; root reads it anyway, so there opening it is refused
    the way the kernel refuses anyone else."""

    def setup(tmp_path, monkeypatch) -> None:
        path = tmp_path / name
        path.write_bytes(content)
        path.chmod(0)
        if os.access(path, os.R_OK):  # root
            real_open = open

            def refuse(file, *args, **kwargs):
                if os.path.abspath(file) == os.fspath(path):
                    raise PermissionError(13, "Permission denied", os.fspath(file))
                return real_open(file, *args, **kwargs)

            monkeypatch.setattr(files, "open", refuse, raising=False)

    return setup


def nothing(tmp_path, monkeypatch) -> None:
    pass


GOOD_NPZ = npz_bytes(X=GOOD_X, y=GOOD_Y)
NPZ = ("dataset=npz", "dataset.path=d.npz")
CSV = ("dataset=csv", "dataset.path=d.csv", "dataset.target=y")
TB = 1e12  # the estimate is 8 bytes × 3 copies per value, in powers of 1000

CASES = {
    "npz object array": (
        write("d.npz", npz_bytes(X=np.array([[{"a": 1}, None]] * 20, dtype=object), y=GOOD_Y)),
        NPZ,
        r"dataset.path='d.npz': array 'X' holds Python objects \(dtype object\).*allowed: numeric",
    ),
    "npz truncated": (
        write("d.npz", GOOD_NPZ[: len(GOOD_NPZ) // 2]),
        NPZ,
        r"dataset.path='d.npz' is not a readable .npz archive .*truncated.*allowed: an .npz",
    ),
    "npz member data truncated": (
        write("d.npz", zip_of(X=npy_bytes(GOOD_X)[:-40], y=npy_bytes(GOOD_Y))),
        NPZ,
        r"dataset.path='d.npz': array 'X' cannot be read, the file is damaged or truncated",
    ),
    "npz damaged header": (
        write("d.npz", zip_of(X=b"\x93NUMPY\x01\x00garbage", y=npy_bytes(GOOD_Y))),
        NPZ,
        r"dataset.path='d.npz': array 'X' has a damaged header .*allowed: an .npz",
    ),
    "zip garbage": (
        write("d.npz", b"PK\x03\x04" + bytes(range(256)) * 4),
        NPZ,
        r"dataset.path='d.npz' is not a readable .npz archive",
    ),
    "npy renamed npz": (
        write("d.npz", npy_bytes(GOOD_X)),
        NPZ,
        r"dataset.path='d.npz' is a single .npy array \(numpy.save\), not an .npz archive",
    ),
    "npz header of 10^12 values": (
        write("d.npz", zip_of(X=npy_header_only((10**6, 10**6)), y=npy_bytes(GOOD_Y))),
        NPZ,
        rf"dataset.path='d.npz': its arrays \(X \(1000000, 1000000\), y \(20,\)\) need about "
        rf"{(10**12 + 20) * 24 / TB:.1f} TB of memory .* are available; allowed: arrays that fit",
    ),
    "npz unreadable": (
        unreadable("d.npz", GOOD_NPZ),
        NPZ,
        r"dataset.path='d.npz' cannot be read \(Permission denied\); allowed: an .npz file",
    ),
    "npz directory": (
        make_directory("d.npz"),
        NPZ,
        r"dataset.path='d.npz' is a directory; allowed: an .npz file",
    ),
    "csv unreadable": (
        unreadable("d.csv", b"a,y\n1,2\n3,4\n"),
        CSV,
        r"dataset.path='d.csv' cannot be read \(Permission denied\); allowed: a CSV file",
    ),
    "csv directory": (
        make_directory("d.csv"),
        CSV,
        r"dataset.path='d.csv' is a directory; allowed: a CSV file",
    ),
    "csv ragged": (
        write("d.csv", b"a,y\n1,2\n3,4,5\n6,7\n"),
        CSV,
        r"dataset.path='d.csv' is not a readable CSV table \(.*Expected 2 fields in line 3, "
        r"saw 3\); allowed: a CSV file with a header line and the same number of fields",
    ),
    "csv binary": (
        write("d.csv", GOOD_NPZ),
        CSV,
        r"dataset.path='d.csv' is not a readable CSV table .*allowed: a CSV file",
    ),
    "seq_len beyond memory": (
        nothing,
        ("model=gru", "seq_len=1000000000"),
        # X (N, T, 2) and y (N,), N = 2000
        rf"dataset.seq_len=1000000000 is not allowed: with n_samples=2000 the data need about "
        rf"{2000 * (2 * 10**9 + 1) * 24 / TB:.1f} TB of memory .*; allowed: sizes that fit",
    ),
    "n_samples beyond memory": (
        nothing,
        ("dataset=synthetic_regression", "dataset.n_samples=1000000000000"),
        # X (N, 5), η (N, 3 classes), y (N,)
        rf"dataset.n_samples=1000000000000 is not allowed: with n_features=5 the data need "
        rf"about {10**12 * 9 * 24 / TB:.1f} TB of memory",
    ),
    "Mackey-Glass sampled finer than it is integrated": (
        nothing,
        ("dataset=mackey_glass", "dataset.step=0.01"),
        r"dataset.step=0.01 is not allowed: an interval >= 0.1",
    ),
    "Mackey-Glass sampled too sparsely for memory": (
        nothing,
        ("dataset=mackey_glass", "dataset.step=1e12"),
        r"dataset.step=1000000000000.0 is not allowed: with n_samples=2000, seq_len=50, .* the "
        r"data need about",
    ),
}


@pytest.mark.parametrize("setup,arguments,message", CASES.values(), ids=CASES.keys())
def test_bad_data_input_is_one_line_and_no_run_record(
    dlrun_main, tmp_path, monkeypatch, setup, arguments, message
):
    setup(tmp_path, monkeypatch)
    code, out, err = dlrun_main(*arguments, "trainer.max_epochs=1")
    assert code == 2, err
    assert err.startswith("dlrun: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in out + err
    assert re.search(message, err), err
    for run_dir in run_dirs(tmp_path / "outputs"):
        written = {path.name for path in run_dir.iterdir()}
        assert not written & RUN_FILES and not any(n.endswith(".tmp") for n in written)


def test_a_good_npz_still_trains(dlrun_main, tmp_path):
    """The careful reader reads what numpy.savez and savez_compressed write."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, X=GOOD_X, y=GOOD_Y, notes=np.array([{"ignored": 1}]))
    (tmp_path / "c.npz").write_bytes(buffer.getvalue())
    code, _, err = dlrun_main("model=linear", "dataset=npz", "dataset.path=c.npz")
    assert code == 0, err


def test_the_estimate_is_compared_with_the_memory_available_now(dlrun_main, monkeypatch):
    """With 4 MB free, the default adding problem (2000 × (2·50 + 1) float64 values, 3 copies:
    4.8 MB) is refused and 1000 sequences (2.4 MB) are not."""
    from dlrun.data import memory

    monkeypatch.setattr(memory, "available_bytes", lambda: 4_000_000)
    code, _, err = dlrun_main("model=gru", "trainer.max_steps=1")
    assert code == 2 and "dataset.n_samples=2000 is not allowed" in err, err
    assert "about 4.8 MB of memory" in err and "4.0 MB are available" in err
    code, _, err = dlrun_main("model=gru", "dataset.n_samples=1000", "trainer.max_steps=1")
    assert code == 0, err


def test_available_memory_is_positive_and_below_the_physical_memory():
    from dlrun.data import memory

    physical = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    assert 0 < memory.available_bytes() <= physical
    assert [memory.human_bytes(n) for n in (999, 1000, 24 * 10**12)] == [
        "999 B",
        "1.0 kB",
        "24.0 TB",
    ]
