"""The configs travel inside a built wheel, so a non-editable install finds them."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_wheel_carries_the_configs_under_the_package(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True,
        timeout=600,
    )
    (wheel,) = tmp_path.glob("dlrun-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    configs = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "conf").rglob("*.yaml"))
    assert all(f"dlrun/{config}" in names for config in configs)
    assert not any(name.startswith("conf/") for name in names)  # no top-level package `conf`
