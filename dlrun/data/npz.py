"""Reading the user's .npz archive safely: every header first, nothing unpickled, nothing that
would not fit in memory, and every failure one InputError naming dataset.path."""

import math
import zipfile
import zlib
from typing import BinaryIO

import numpy as np
from numpy.lib import format as npy_format

from dlrun.data import memory
from dlrun.errors import InputError

NAMES = ("X", "y", "X_test", "y_test")
ALLOWED = "an .npz archive written by numpy.savez(path, X=X, y=y) with numeric arrays"
# what reading a damaged archive raises: zip structure, inflating, .npy header and data
DAMAGE = (zipfile.BadZipFile, zlib.error, EOFError, ValueError, OSError, NotImplementedError)


def read_arrays(path: str, handle: BinaryIO) -> dict[str, np.ndarray]:
    """Arrays X, y (and X_test, y_test when present) of the archive open in `handle`; the
    archive's other arrays are listed in messages but not read."""
    where = f"dataset.path={path!r}"
    archive = open_archive(where, handle)
    with archive:
        members = {
            name[: -len(".npy")]: name for name in archive.namelist() if name.endswith(".npy")
        }
        for name in ("X", "y"):
            if name not in members:
                held = ", ".join(members) or "no arrays"
                raise InputError(
                    f"{where}: no array named {name!r}; it holds {held} "
                    f"(needed: X, y; optional: X_test, y_test)"
                )
        used = {name: members[name] for name in NAMES if name in members}
        headers = {name: read_header(where, archive, member) for name, member in used.items()}
        require_loadable(where, headers)
        return {name: read_array(where, archive, member) for name, member in used.items()}


def open_archive(where: str, handle: BinaryIO) -> zipfile.ZipFile:
    """The zip archive in `handle`, or an InputError saying what the file is instead."""
    try:
        return zipfile.ZipFile(handle)
    except DAMAGE as error:
        handle.seek(0)
        if handle.read(len(npy_format.MAGIC_PREFIX)) == npy_format.MAGIC_PREFIX:
            raise InputError(
                f"{where} is a single .npy array (numpy.save), not an .npz archive; "
                f"allowed: {ALLOWED}"
            ) from None
        raise InputError(
            f"{where} is not a readable .npz archive (it is no zip file, or a truncated one: "
            f"{one_line(error)}); allowed: {ALLOWED}"
        ) from None


def read_header(where: str, archive: zipfile.ZipFile, member: str) -> tuple[tuple, np.dtype]:
    """(shape, dtype) from a member's .npy header, without reading its data."""
    name = member[: -len(".npy")]
    try:
        with archive.open(member) as stream:
            version = npy_format.read_magic(stream)
            if version == (1, 0):
                shape, _, dtype = npy_format.read_array_header_1_0(stream)
            elif version == (2, 0):
                shape, _, dtype = npy_format.read_array_header_2_0(stream)
            else:  # 3.0 only stores structured dtypes with non-Latin-1 field names
                raise ValueError(f".npy format version {version} is not read")
    except (*DAMAGE, RuntimeError) as error:  # RuntimeError: an encrypted member
        raise InputError(
            f"{where}: array {name!r} has a damaged header ({one_line(error)}); allowed: {ALLOWED}"
        ) from None
    if dtype.hasobject:
        raise InputError(
            f"{where}: array {name!r} holds Python objects (dtype {dtype}), which dlrun does not "
            f"unpickle; allowed: numeric arrays (save X.astype(float))"
        )
    return shape, dtype


def require_loadable(where: str, headers: dict[str, tuple[tuple, np.dtype]]) -> None:
    """Refuse, before reading any data, arrays that would not fit in the memory available."""
    # strings and complex numbers take more than 8 bytes a value: count them by size
    n_values = sum(
        math.prod(shape) * max(1, math.ceil(dtype.itemsize / memory.BYTES_PER_VALUE))
        for shape, dtype in headers.values()
    )
    if not memory.fits(n_values):
        shapes = ", ".join(f"{name} {shape}" for name, (shape, _) in headers.items())
        raise InputError(
            f"{where}: its arrays ({shapes}) need {memory.shortfall(n_values)}; "
            f"allowed: arrays that fit in memory"
        )


def read_array(where: str, archive: zipfile.ZipFile, member: str) -> np.ndarray:
    """One member's array; a truncated or corrupt member is an InputError."""
    try:
        with archive.open(member) as stream:
            return npy_format.read_array(stream, allow_pickle=False)
    except DAMAGE as error:
        raise InputError(
            f"{where}: array {member[: -len('.npy')]!r} cannot be read, the file is damaged or "
            f"truncated ({one_line(error)}); allowed: {ALLOWED}"
        ) from None


def one_line(error: BaseException) -> str:
    """An exception's message with its line breaks and runs of spaces collapsed."""
    return " ".join(str(error).split()) or type(error).__name__
