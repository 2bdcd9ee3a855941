"""Writing a file whole: to a temporary name beside it, then renamed onto it (torch-free, so the
report can use it without loading torch)."""

import os
from collections.abc import Callable
from pathlib import Path


def write_atomically(path: Path, write: Callable[[Path], None]) -> None:
    """Call write(temporary_path), then rename the result onto path: a reader never sees half
    a file, and a failed write leaves none."""
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        write(temporary)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
