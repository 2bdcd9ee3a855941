"""Writing a comparison to disk: comparison.csv, comparison.md and comparison.png."""

import os
from collections.abc import Callable
from pathlib import Path

from dlrun.report.aggregate import Report
from dlrun.report.render import markdown_report

CSV_FILE, MARKDOWN_FILE, PLOT_FILE = "comparison.csv", "comparison.md", "comparison.png"


def write_atomically(path: Path, write: Callable[[Path], None]) -> None:
    """Call write(temporary_path), then rename the result onto path, so a reader never sees
    half a file (as dlrun.record does; importing it from there would load torch)."""
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        write(temporary)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def write_report(report: Report, out_dir: Path) -> list[Path]:
    """Write comparison.csv (one line per cell and metric), comparison.md and comparison.png."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path, md_path = out_dir / CSV_FILE, out_dir / MARKDOWN_FILE
    write_atomically(csv_path, lambda tmp: report.cells.to_csv(tmp, index=False))
    text = markdown_report(report)
    write_atomically(md_path, lambda tmp: tmp.write_text(text))
    written = [csv_path, md_path]
    if not report.cells.empty:
        from dlrun.report.plot import plot_report  # matplotlib takes a second to import

        written.append(plot_report(report, out_dir / PLOT_FILE))
    return written
