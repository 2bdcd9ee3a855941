"""Run records -> comparison tables and plots: comparison.csv, comparison.md, comparison.png.

Everything is read from disk (summary.json and .hydra/ of each run directory), so the same
table comes out of a finished sweep, a partial one, several sweeps from different days, or
jobs that ran in other processes or on other machines. One module per step: read (run
records), aggregate (the comparison), render (text and tables), write (files), plot (the
figure), cli (`dlrun-report`). Nothing here imports torch, and matplotlib only when plotting.
"""

from dlrun.report.aggregate import Report, build_report
from dlrun.report.frame import load
from dlrun.report.read import Run, find_run_dirs, load_run, load_runs
from dlrun.report.render import print_report
from dlrun.report.write import write_report

__all__ = [
    "Report",
    "Run",
    "build_report",
    "find_run_dirs",
    "load",
    "load_run",
    "load_runs",
    "print_report",
    "write_report",
]
