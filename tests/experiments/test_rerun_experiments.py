"""Every experiment reruns to its committed data (slow: about 30 minutes for all on 2 cores).

The same check as `python experiments/rerun_all.py`, one test per experiment: run.sh into
tmp_path, then every non-timing CSV cell compared with the committed file.
"""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "experiments"))

import rerun_all  # noqa: E402


@pytest.mark.slow
@pytest.mark.parametrize("name", rerun_all.ORDER)
def test_experiment_reruns_to_its_committed_data(name: str, tmp_path: Path) -> None:
    seconds, status, tail = rerun_all.rerun(name, tmp_path)
    assert status == 0, tail
    differences, _ = rerun_all.compare(name, tmp_path / "results" / name, rtol=1e-6)
    assert not differences, "\n".join(differences)
