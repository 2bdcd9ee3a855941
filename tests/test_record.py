"""The run directory's text and figures are written whole, as its CSV and JSON files are."""

import pytest
from matplotlib.figure import Figure

from dlrun.record import RunRecord

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def curve() -> Figure:
    figure = Figure()
    figure.subplots().plot([1, 2, 3])
    return figure


class BrokenFigure(Figure):
    """A figure whose savefig dies half-way, as a killed run's would."""

    def savefig(self, path, **options):
        path.write_bytes(PNG_SIGNATURE + b"half")
        raise OSError("disk full")


def files(directory) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.is_file())


def test_write_figure_writes_a_png_under_its_name_and_nothing_else(tmp_path):
    RunRecord(tmp_path).write_figure("curve.png", curve())
    assert files(tmp_path) == ["curve.png"]
    assert (tmp_path / "curve.png").read_bytes().startswith(PNG_SIGNATURE)


def test_a_failed_figure_leaves_the_previous_one_and_no_temporary(tmp_path):
    record = RunRecord(tmp_path)
    record.write_figure("curve.png", curve())
    before = (tmp_path / "curve.png").read_bytes()
    with pytest.raises(OSError, match="disk full"):
        record.write_figure("curve.png", BrokenFigure())
    assert (tmp_path / "curve.png").read_bytes() == before
    assert files(tmp_path) == ["curve.png"]


def test_write_text_replaces_the_file_whole(tmp_path):
    record = RunRecord(tmp_path)
    record.write_text("table.md", "| a |\n|---|\n| 1 |\n")
    record.write_text("table.md", "| b |\n")
    assert (tmp_path / "table.md").read_text() == "| b |\n" and files(tmp_path) == ["table.md"]
