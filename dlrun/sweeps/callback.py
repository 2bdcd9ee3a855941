"""dlrun's Hydra callback for multiruns: during a sweep a status line; at its end the comparison
table and plot from the run records on disk, and every failure. (The checks before Hydra writes
anything are dlrun.record.guard's.)

Everything is read from the sweep directory, so it works the same whether the jobs ran in this
process (basic launcher) or in others (joblib, submitit, ray).
"""

import logging
import sys
from pathlib import Path
from time import perf_counter

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Glob
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from dlrun.config.compose import options
from dlrun.errors import InputError
from dlrun.interrupt import pending
from dlrun.job import STOP_FILE, resume_command
from dlrun.record.resolvers import resume_requested
from dlrun.report import build_report, find_run_dirs, load_run, print_report, write_report
from dlrun.sweeps.plan import check_report_metrics, planned_tasks

log = logging.getLogger("dlrun")
OPTIMIZATION_RESULTS = "optimization_results.yaml"  # written by hydra-optuna-sweeper


def count_jobs(config: DictConfig) -> int | None:
    """The number of run records a basic sweep writes: the product of the sweep lists'
    lengths, times `repeats` (each job writes one record per seed)."""
    try:
        params = [f"{k}={v}" for k, v in (config.hydra.sweeper.get("params") or {}).items()]
        overrides = OverridesParser.create().parse_overrides(
            params + list(config.hydra.overrides.task)
        )
    except Exception:  # another sweeper's syntax (ranges, intervals): no total known
        return None
    final = {override.get_key_element(): override for override in overrides}  # last one wins
    total, repeats = 1, [config.get("repeats", 1)]
    for key, override in final.items():
        if override.is_sweep_override():
            if not override.is_discrete_sweep():
                return None
            if key == "repeats":
                repeats = [int(value) for value in override.sweep_string_iterator()]
            else:
                total *= sweep_length(override)
    return total * sum(repeats)


def sweep_length(override) -> int:
    """The number of values of a discrete sweep; a glob (`model=glob(*)`) counts the group's
    options it matches (conf/<group>/*.yaml)."""
    value = override.value()
    if isinstance(value, Glob):
        return len(value.filter(options(override.get_key_element())))
    return len(list(override.sweep_string_iterator()))


def record_statuses(directory: Path) -> dict[Path, str]:
    """The status of each run record at or below directory."""
    return {run_dir: load_run(run_dir).status for run_dir in find_run_dirs([directory])}


class SweepStatus:
    """The status of every run record of a sweep: all read once at its start (a resumed sweep
    has some), then after each job only those in the job's directory, so a job costs reads of
    its own records, not of the whole sweep's (which grew as N^2 over a sweep)."""

    def __init__(self, sweep_dir: Path) -> None:
        self.sweep_dir = sweep_dir
        self.statuses = record_statuses(sweep_dir)
        self.running = 0  # jobs started in this process and not ended yet

    def job_ended(self, config: DictConfig) -> None:
        """Read the records of the job that ended; of the whole sweep when it resumed (its job
        may have continued in the directory of an earlier job, not in Hydra's)."""
        self.running = max(0, self.running - 1)
        resumed = resume_requested(config.get("resume"))
        job_dir = Path(str(config.hydra.runtime.output_dir))
        self.statuses |= record_statuses(self.sweep_dir if resumed else job_dir)

    def counts(self) -> dict[str, int]:
        """Run records by status, and the jobs running."""
        counts: dict[str, int] = {}
        for status in self.statuses.values():
            counts[status] = counts.get(status, 0) + 1
        return counts | {"running": self.running}


def status_line(counts: dict[str, int], total: int | None, elapsed_s: float) -> str:
    """sweep: 3/8 done, 1 failed, 0 diverged, 1 running, ~12 s left"""
    done = sum(n for status, n in counts.items() if status != "running")
    parts = [f"sweep: {done}/{total if total else '?'} done"]
    parts += [f"{counts.get(s, 0)} {s}" for s in ("failed", "diverged", "running")]
    if total and done:
        left = elapsed_s / done * max(0, total - done)
        parts.append(f"~{left:.0f} s left")
    return ", ".join(parts)


def best_result(sweep_dir: Path, objective: str) -> str | None:
    """The best trial an optimising sweeper (optuna) wrote to optimization_results.yaml."""
    path = sweep_dir / OPTIMIZATION_RESULTS
    if not path.is_file():
        return None
    results = OmegaConf.to_container(OmegaConf.load(path))
    if "best_value" in results:
        params = " ".join(f"{key}={value}" for key, value in results["best_params"].items())
        return f"sweep: best {objective} {results['best_value']:.6g} with {params} ({path.name})"
    count = len(results.get("solutions") or [])  # several directions: the Pareto front
    return f"sweep: {count} Pareto-optimal trials in {path}"


def refuse_report_metrics(config: DictConfig) -> None:
    """End the command with one line and exit code 2, before any job runs, when report.metrics
    names a metric no job of the sweep will record (dlrun.sweeps.plan). Hydra turns an exception
    raised in a callback into a warning, so this exits."""
    metrics = OmegaConf.select(config, "report.metrics")
    if not metrics:
        return
    tasks = planned_tasks(config)
    if tasks is None:  # not known before the sweep: the end of the sweep checks what was recorded
        return
    try:
        check_report_metrics(list(metrics), tasks)
    except InputError as error:
        print(f"dlrun: error: {error}", file=sys.stderr)
        sys.exit(2)


class DlrunCallback(Callback):
    """Configured in conf/config.yaml under hydra.callbacks; only a multirun's hooks."""

    def __init__(self) -> None:
        self.started = perf_counter()
        self.total: int | None = None
        self.status: SweepStatus | None = None  # a sweep whose jobs run in this process

    def on_multirun_start(self, config: DictConfig, **kwargs) -> None:
        refuse_report_metrics(config)
        self.started = perf_counter()
        sweep_dir = Path(str(config.hydra.sweep.dir))
        self.total = count_jobs(config)
        (sweep_dir / STOP_FILE).unlink(missing_ok=True)  # from an earlier, resumed sweep
        self.status = SweepStatus(sweep_dir)
        # Ctrl-C or SIGTERM (dlrun.interrupt): the table of the jobs that ended, how to go on
        pending.resume = resume_command(config.hydra, sweep_dir, multirun=True)
        pending.finish = lambda: self.write_table(config)

    def on_job_start(self, config: DictConfig, **kwargs) -> None:
        if self.status is not None:  # else a single run, or a job in another process
            self.status.running += 1

    def on_job_end(self, config: DictConfig, job_return, **kwargs) -> None:
        if self.status is None:
            return
        self.status.job_ended(config)
        log.info(status_line(self.status.counts(), self.total, perf_counter() - self.started))

    def write_table(self, config: DictConfig) -> tuple | None:
        """Print and write the comparison table from the run records in the sweep directory;
        returns the report and the sweeper's best result, None when there are no records."""
        sweep_dir = Path(str(config.hydra.sweep.dir))
        spec = OmegaConf.to_container(config.report) if "report" in config else {}
        objective = config.get("objective", "val/loss")
        best = best_result(sweep_dir, objective)
        # an optimising sweep's table shows what it optimised, unless report.metrics says
        metrics = spec.get("metrics") or ([objective] if best else None)
        try:
            report = build_report(
                [sweep_dir],
                spec.get("rows"),
                spec.get("cols"),
                metrics,
                reference=spec.get("reference"),
                test=spec.get("test", "t"),
                skip_unknown_metrics=True,
            )
        except InputError as error:  # report.rows or report.cols naming nothing recorded
            print(f"dlrun: error: {error}", file=sys.stderr)
            sys.exit(2)
        if not report.runs:
            log.warning(f"sweep: no run records in {sweep_dir}")
            return None
        print_report(report)
        written = write_report(report, sweep_dir)
        if spec.get("html", True):
            from dlrun.report.html import write_html

            written.append(write_html(report, sweep_dir))
        log.info(f"sweep: wrote {', '.join(path.name for path in written)} to {sweep_dir}")
        return report, best

    def on_multirun_end(self, config: DictConfig, **kwargs) -> None:
        pending.finish = None  # the table is written here, once
        sweep_dir = Path(str(config.hydra.sweep.dir))
        written = self.write_table(config)
        if written is None:
            return
        report, best = written
        if best:
            print(best)
        if report.failures:
            log.warning(
                f"sweep: {len(report.failures)} of {len(report.runs)} runs did not "
                "complete (listed above)"
            )
        stop = sweep_dir / STOP_FILE
        if stop.is_file():
            print(
                f"dlrun: sweep stopped (on_error=fail_fast): {stop.read_text().strip()}",
                file=sys.stderr,
            )
            sys.exit(1)
        failed = [run for run in report.failures if run.status == "failed"]
        if failed:  # the table is written; the exit code still tells scripts and CI
            print(
                f"dlrun: {len(failed)} job(s) of the sweep failed (listed above)", file=sys.stderr
            )
            sys.exit(1)
