"""Writing a file whole: to a temporary name beside it, then renamed onto it, and checking
that a directory can be written before any work (torch-free, so the report can use both
without loading torch)."""

import os
from collections.abc import Callable
from pathlib import Path

from dlrun.errors import InputError


def write_atomically(path: Path, write: Callable[[Path], None]) -> None:
    """Call write(temporary_path), then rename the result onto path: a reader never sees half
    a file, and a failed write leaves none."""
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        write(temporary)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def check_writable_directory(directory: Path, key: str, value: str | None = None) -> None:
    """Create `directory` and write a probe file into it; raise InputError naming `key` (and
    `value`, the setting that chose the directory, when it is not the directory itself) when
    that is impossible (a file in the way, a read-only folder, /proc), before a run starts."""
    directory = Path(directory)
    key = f"{key}={directory}" if value is None else f"{key}={value}: {directory}"
    allowed = "allowed: a directory dlrun can create and write"
    check_path_length(directory, key)
    if directory.exists() and not directory.is_dir():
        raise InputError(f"{key} is a file, not a directory; {allowed}")
    probe = directory / ".dlrun_write_check"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe.write_text("")
        probe.unlink()
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise InputError(f"{key} cannot be written ({reason}); {allowed}") from None


def check_path_length(directory: Path, key: str) -> None:
    """Each name in the path, and the path, within the file system's limits (255 and 4,096
    bytes on Linux), leaving room for the longest file dlrun writes into it."""
    existing = next((p for p in (directory, *directory.parents) if os.path.exists(p)), Path("/"))
    try:
        name_max = os.pathconf(existing, "PC_NAME_MAX")
        path_max = os.pathconf(existing, "PC_PATH_MAX")
    except (OSError, ValueError):  # a system without pathconf: the write probe tells
        return
    longest = max(directory.parts, key=lambda part: len(os.fsencode(part)))
    if len(os.fsencode(longest)) > name_max:
        raise InputError(
            f"{key} has a name of {len(os.fsencode(longest))} bytes ({longest[:20]}...); "
            f"allowed: names of at most {name_max} bytes, the file system's limit"
        )
    # room for a seed's folder and a file in it: seed-<19 digits>/.checkpoint.pt.tmp
    room = 64
    size = len(os.fsencode(str(directory.resolve())))
    if size + room > path_max:
        raise InputError(
            f"{key} is a path of {size} bytes; allowed: at most {path_max - room} bytes, "
            f"the file system's limit ({path_max}) less room for the files in it"
        )
