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
