"""The dlrun-report command (dlrun.report.cli): files written, errors as one line, start-up."""

import subprocess
import sys

import numpy as np
import pytest
from scipy import stats as scipy_stats
from test_report import write_sweep

from dlrun.report.cli import main
from dlrun.report.stats import format_estimate


@pytest.fixture
def sweep(tmp_path):
    """The fake sweep of test_report: its directory and accuracies by (model, seq_len)."""
    return tmp_path, write_sweep(tmp_path)


def test_dlrun_report_command(sweep, tmp_path_factory, capsys):
    sweep_dir, _ = sweep
    out = tmp_path_factory.mktemp("cli")
    assert (
        main([str(sweep_dir), "--rows", "seq_len", "--metric", "val/loss", "--out", str(out)]) == 0
    )
    assert "val/loss" in (out / "comparison.md").read_text()
    assert main([str(sweep_dir / "missing")]) == 2
    assert "no such directory" in capsys.readouterr().err


@pytest.mark.parametrize(
    "option, value, known",
    [("--metric", "val/nope", "val/acc, val/loss"), ("--rows", "nope", "model, seed, seq_len")],
)
def test_dlrun_report_refuses_an_unknown_metric_or_key(
    sweep, tmp_path_factory, capsys, option, value, known
):
    sweep_dir, _ = sweep
    out = tmp_path_factory.mktemp("cli")
    assert main([str(sweep_dir), option, value, "--out", str(out)]) == 2
    captured = capsys.readouterr()
    [line] = captured.err.splitlines()
    assert line.startswith(f"dlrun-report: error: {option}={value}: ") and known in line
    assert captured.out == "" and list(out.iterdir()) == []


def test_dlrun_report_lists_an_unreadable_record_and_tabulates_the_rest(sweep, capsys):
    sweep_dir, values = sweep
    (sweep_dir / "0-f2e5d736").mkdir()  # a resumed job's directory beside 0, 1, 2, ...
    (sweep_dir / "0-f2e5d736" / "summary.json").write_text('{"status": "compl')
    assert main([str(sweep_dir)]) == 0
    out = capsys.readouterr().out
    assert out.count("summary.json") == 1
    assert f"unreadable: {sweep_dir / '0-f2e5d736' / 'summary.json'}: does not parse" in out
    text = (sweep_dir / "comparison.md").read_text()
    assert "| None |" not in text  # a record without overrides is listed, in no cell
    accs = values[("lstm", 10)]
    half = scipy_stats.t.ppf(0.975, len(accs) - 1) * np.std(accs, ddof=1) / np.sqrt(len(accs))
    assert f"| lstm | {format_estimate('val/acc', np.mean(accs), half)} |" in text


def test_dlrun_report_runs_without_importing_torch(sweep):
    # torch takes seconds to import; the report reads files only
    sweep_dir, _ = sweep
    code = (
        "import sys; from dlrun.report.cli import main; code = main(sys.argv[1:]); "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'hydra'})); sys.exit(code)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(sweep_dir)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "[]"
    assert (sweep_dir / "comparison.png").read_bytes()[:4] == b"\x89PNG"
