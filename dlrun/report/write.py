"""Writing a comparison to disk: comparison.csv, comparison.md and comparison.png."""

from pathlib import Path

from dlrun.record.atomic import write_atomically
from dlrun.report.aggregate import Report
from dlrun.report.render import markdown_report

CSV_FILE, MARKDOWN_FILE, PLOT_FILE = "comparison.csv", "comparison.md", "comparison.png"


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
