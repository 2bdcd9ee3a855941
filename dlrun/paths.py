"""Where the configs are: inside the package in a wheel, beside it in a source checkout."""

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def config_dir() -> Path:
    """dlrun/conf in an installed wheel, else the repository's top-level conf/."""
    packaged = _PACKAGE / "conf"
    return packaged if packaged.is_dir() else _PACKAGE.parent / "conf"
