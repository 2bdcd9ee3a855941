"""What `dlrun --help`, `--cfg`, `--info` and shell completion need to end quietly."""

import signal
from collections.abc import Iterator
from contextlib import contextmanager

# Hydra's flags that only print (help, the composed config, shell completion) and exit
PRINT_ONLY_FLAGS = {"--help", "-h", "--hydra-help", "--cfg", "-c", "--info", "-i", "-sc"}
PRINT_ONLY_FLAGS |= {"--shell-completion", "--version"}


def is_print_only(args: list[str]) -> bool:
    """Whether the command line only asks Hydra to print something."""
    return any(arg.split("=")[0] in PRINT_ONLY_FLAGS for arg in args)


@contextmanager
def quiet_broken_pipe() -> Iterator[None]:
    """Stop quietly when the reader does (`dlrun --help | head -3`), killed by SIGPIPE as Unix
    tools are: Hydra would report the BrokenPipeError with a traceback."""
    if not hasattr(signal, "SIGPIPE"):  # Windows has no SIGPIPE
        yield
        return
    previous = signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    try:
        yield
    finally:  # in-process callers (the tests) keep Python's handling
        signal.signal(signal.SIGPIPE, previous)
