"""Reading run records (dlrun.report.read): the order of run directories, unreadable records."""

import pytest
from test_report import write_run

from dlrun.report import build_report, find_run_dirs, load_run, print_report, write_report
from dlrun.report.render import failure_lines


def test_resumed_job_directories_sort_by_number_then_name(tmp_path):
    # a resumed sweep writes `0-f2e5d736` beside `1`, `2`; repeats write `<job>/seed-<s>`
    names = ["10", "2", "0-f2e5d736", "1", "0", "b", "2-aa/seed-1", "2-aa/seed-0"]
    for name in names:
        write_run(tmp_path / name, ["model=mlp"], "completed", {"val/acc": 0.5})
    found = [path.relative_to(tmp_path).as_posix() for path in find_run_dirs([tmp_path])]
    assert found == ["0", "0-f2e5d736", "1", "2", "2-aa/seed-0", "2-aa/seed-1", "10", "b"]
    assert len(build_report([tmp_path]).runs) == len(names)


@pytest.mark.parametrize("text", ["garbage", '{"status": "compl', "[1, 2]", ""])
def test_an_unreadable_summary_is_listed_and_the_rest_is_read(tmp_path, text):
    write_run(tmp_path / "0", ["model=a"], "completed", {"val/acc": 0.25})
    write_run(tmp_path / "1", ["model=a"], "completed", {"val/acc": 0.75})
    write_run(tmp_path / "2", ["model=b"], "completed", {"val/acc": 0.5})
    (tmp_path / "2" / "summary.json").write_text(text)
    assert load_run(tmp_path / "2").status == "unreadable"
    report = build_report([tmp_path])
    cells = report.cells.set_index("model")
    assert cells.loc["a", "mean"] == 0.5 and cells.loc["a", "n"] == 2
    assert cells.loc["b", "n"] == 0 and cells.loc["b", "cell"] == "unreadable"
    [line] = failure_lines(report)
    assert line.startswith("unreadable:") and str(tmp_path / "2" / "summary.json") in line


def test_a_directory_of_unreadable_records_only_lists_them(tmp_path, capsys):
    (tmp_path / "0").mkdir()
    (tmp_path / "0" / "summary.json").write_text("garbage")
    report = build_report([tmp_path])
    assert report.cells.empty and [run.status for run in report.runs] == ["unreadable"]
    print_report(report)
    assert capsys.readouterr().out.startswith(f"unreadable: {tmp_path / '0' / 'summary.json'}")
    write_report(report, tmp_path)
    assert "- unreadable: " in (tmp_path / "comparison.md").read_text()
