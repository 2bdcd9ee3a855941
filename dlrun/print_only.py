"""What `dlrun --help`, `--cfg`, `--info` and shell completion need to be quick and quiet.

Hydra's help lists every config group by asking for each group's options, and each ask builds
a fresh config repository, deep-copying every stored schema (~50 of them): about 0.7 s of a
1 s `dlrun --help`. In a command that only prints, the overrides never change, so one
repository per (config name, overrides) serves every ask; runs and sweeps are left alone.
"""

import signal
from collections.abc import Iterator
from contextlib import contextmanager

from hydra._internal.config_loader_impl import ConfigLoaderImpl

# Hydra's flags that only print (help, the composed config, shell completion) and exit
PRINT_ONLY_FLAGS = {"--help", "-h", "--hydra-help", "--cfg", "-c", "--info", "-i", "-sc"}
PRINT_ONLY_FLAGS |= {"--shell-completion", "--version"}


def is_print_only(args: list[str]) -> bool:
    """Whether the command line only asks Hydra to print something."""
    return any(arg.split("=")[0] in PRINT_ONLY_FLAGS for arg in args)


@contextmanager
def one_config_repository() -> Iterator[None]:
    """Reuse Hydra's config repository across its group listings (a private Hydra method,
    patched for the duration only; hydra-core is pinned below 1.4)."""
    original = ConfigLoaderImpl._parse_overrides_and_create_caching_repo
    made: dict = {}

    def reused(self, config_name, overrides):
        key = (config_name, tuple(overrides))
        if key not in made:
            made[key] = original(self, config_name, overrides)
        return made[key]

    ConfigLoaderImpl._parse_overrides_and_create_caching_repo = reused
    try:
        yield
    finally:
        ConfigLoaderImpl._parse_overrides_and_create_caching_repo = original


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
