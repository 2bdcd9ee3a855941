"""What the `dlrun` command imports before a job runs: `--help`, `--cfg`, shell completion and a
config that does not compose never load torch, scikit-learn, matplotlib or pandas (each costs
a second or more of start-up; benchmarks/startup.py measures the whole)."""

import subprocess
import sys

import pytest

HEAVY = ("torch", "sklearn", "matplotlib", "pandas")
PROBE = """
import runpy, sys
sys.argv = ["dlrun", *sys.argv[1:]]
try:
    runpy.run_module("dlrun.cli", run_name="__main__")
except SystemExit:
    pass
print("loaded:", ",".join(m for m in {heavy!r} if m in sys.modules))
"""


@pytest.mark.parametrize(
    "args",
    [["--help"], ["--cfg", "job", "model=lstm"], ["-sc", "query=bash"], ["model=bogus"]],
    ids=["help", "cfg", "completion", "composition-error"],
)
def test_no_heavy_import_before_a_job_runs(args, tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=HEAVY), *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("loaded:")]
    assert line == "loaded: ", line


def test_the_probe_sees_what_a_run_imports(tmp_path):
    """The check above can fail: a run that trains does import torch."""
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            PROBE.format(heavy=HEAVY),
            "trainer.max_steps=1",
            f"hydra.run.dir={tmp_path}/run",
            "model=logistic",
            "dataset=breast_cancer",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("loaded:")]
    assert "torch" in line, result.stderr
