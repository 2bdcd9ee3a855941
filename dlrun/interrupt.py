"""Ctrl-C (SIGINT) and SIGTERM end a run as a result, not a crash: the run writes its summary
with status `interrupted` (its last checkpoint stays as it was: every file is written whole), a
sweep writes its comparison table for the jobs that ended, and the command prints one line with
the command that resumes it, exiting 130 or 143 as a shell expects of a signal.

The signal becomes an `Interrupted` exception where the main thread is; it derives from
BaseException, so no `except Exception` in dlrun, Hydra or torch mistakes it for a failure.
Who knows how to resume (cli: a single run; the sweep callback: a sweep) says so in `pending`.
"""

import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(BaseException):
    """The command was told to stop by a signal."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(f"interrupted by {self.name}")

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name

    @property
    def exit_code(self) -> int:
        """130 for SIGINT, 143 for SIGTERM: 128 + the signal's number, as a shell reports it."""
        return 128 + self.signum


@dataclass
class Pending:
    """What the command does when interrupted: the command line that resumes it, and for a
    sweep what writes its table (set by whoever started the work)."""

    resume: str | None = None
    finish: Callable[[], None] | None = None


pending = Pending()


def raise_interrupted(signum: int, frame) -> None:
    raise Interrupted(signum)


@contextmanager
def signals_interrupt() -> Iterator[None]:
    """Inside, SIGINT and SIGTERM raise Interrupted (in the main thread; elsewhere, as with a
    launcher's worker thread, Python cannot install handlers and nothing changes)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    # a signal the parent ignores stays ignored (a background job of a script ignores SIGINT)
    before = {s: signal.getsignal(s) for s in SIGNALS if signal.getsignal(s) != signal.SIG_IGN}
    for signum in before:
        signal.signal(signum, raise_interrupted)
    try:
        yield
    finally:
        for signum, handler in before.items():
            signal.signal(signum, handler)
        pending.resume, pending.finish = None, None


def end_interrupted(stop: Interrupted) -> None:
    """Finish what was pending (a sweep's table), print the one line, exit 130 or 143. A second
    signal meanwhile is ignored: the table takes a moment and must not be cut in half."""
    for signum in SIGNALS:
        signal.signal(signum, signal.SIG_IGN)
    if pending.finish is not None:
        try:
            pending.finish()
        except SystemExit:  # its own one line said why there is no table; the records stand
            pass
    line = f"dlrun: interrupted by {stop.name}"
    if pending.resume:
        line += f"; resume with: {pending.resume}"
    print(line, file=sys.stderr)
    sys.exit(stop.exit_code)
