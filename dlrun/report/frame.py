"""Run records as one tidy pandas DataFrame, for notebooks: `dlrun.report.load(DIR)`."""

from pathlib import Path

import pandas as pd

from dlrun.record.identity import REPLICATE_KEYS
from dlrun.report.read import load_runs, parse_value


def load(*paths: str | Path) -> pd.DataFrame:
    """One row per run and metric: the run's directory, its config group choices and overrides
    (one column each), seed, status, verdict, and `metric`, `value`. A run that recorded no
    metric (failed) keeps one row with metric and value empty, and its error."""
    rows = []
    for run in load_runs([Path(path) for path in paths]):
        config = run.hydra_choices() | {
            key: parse_value(value)
            for key, value in run.overrides.items()
            if key not in REPLICATE_KEYS
        }
        base = {
            "directory": str(run.directory),
            "status": run.status,
            "seed": run.summary.get("seed", run.value("seed")),
            "verdict": run.summary.get("verdict"),
            "error": run.error,
        } | config
        metrics = run.summary.get("metrics") or {None: None}
        rows += [base | {"metric": name, "value": value} for name, value in metrics.items()]
    return pd.DataFrame(rows)
