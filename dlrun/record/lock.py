"""One writer per run or sweep directory: a lock file, `.dlrun.lock`, held with flock(2) for
as long as the command writes there, and removed when it ends. The kernel drops the lock when
its holder dies, killed with SIGKILL too, so a dead holder never blocks a later run: the file
it leaves behind is locked by no one and is taken over.
"""

import fcntl
import os
import socket
from pathlib import Path

from dlrun.errors import InputError

LOCK_FILE = ".dlrun.lock"
held: dict[Path, int] = {}  # directory -> the open descriptor whose lock this process holds


def claim(directory: Path, key: str) -> None:
    """Lock `directory` for this process (again: nothing to do); InputError naming `key` when
    another live process holds it."""
    directory = Path(directory).resolve()
    if directory in held:
        return
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / LOCK_FILE
    while True:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(descriptor, 200, 0).decode(errors="replace").strip()
            os.close(descriptor)
            raise InputError(
                f"{key}={directory} is being written by another dlrun ({holder or 'starting'});"
                " allowed: another directory, or this one once that command has ended"
            ) from None
        if same_file(descriptor, path):
            break
        os.close(descriptor)  # its holder removed the file as we locked it: lock the new one
    os.ftruncate(descriptor, 0)
    os.pwrite(descriptor, f"pid {os.getpid()} on {socket.gethostname()}\n".encode(), 0)
    held[directory] = descriptor


def same_file(descriptor: int, path: Path) -> bool:
    """The locked descriptor is still the file at path (not one removed meanwhile)."""
    try:
        return os.stat(path).st_ino == os.fstat(descriptor).st_ino
    except FileNotFoundError:
        return False


def release_all() -> None:
    """Remove the lock files of every directory this process claimed (the command ends)."""
    for directory, descriptor in held.items():
        (directory / LOCK_FILE).unlink(missing_ok=True)  # while locked: no one else has it
        os.close(descriptor)  # closing drops the flock
    held.clear()
