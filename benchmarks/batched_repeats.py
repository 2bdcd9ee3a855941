"""repeats=8 trained as one batched model against the 8 seeds one after another.

Both run the same job (dlrun.job.run_seeds, same config, repeats_batched=true or false)
in this process, into a temporary directory, after one warm-up job of each, and write the same
run records. Printed: the job's wall time, its training time (sequential: the seeds' train_time_s
summed; batched: the one shared train_time_s) and its CPU time, and the speed-ups. Figures are
printed, not asserted; on a shared machine the CPU time is the steadier figure. What batching
does not shorten is each seed's own record keeping: its build, its evaluations and the
metrics.csv, steps.csv and checkpoint.pt it rewrites at each evaluation.

    python benchmarks/batched_repeats.py [--repeats 8] [--rounds 1]
"""

import argparse
import tempfile
import time
from pathlib import Path

from dlrun.config import register_schemas
from dlrun.config.compose import compose_config
from dlrun.console import RunConsole
from dlrun.job import Job, run_seeds

CASES = {
    "mlp on digits, 20 epochs (dlrun's default)": [],
    "trainer.max_epochs=5": ["trainer.max_epochs=5"],
}


def run_job(directory: Path, overrides: list[str]) -> tuple[float, float, float]:
    """(wall s, training s, CPU s) of one job."""
    cfg, names = compose_config(*overrides)
    job = Job(cfg, directory, names, overrides, "dlrun", None)
    wall, cpu = time.perf_counter(), time.process_time()
    summaries = run_seeds(job, RunConsole(False))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    assert all(s["status"] == "completed" for s in summaries), summaries
    times = [s["train_time_s"] for s in summaries]
    training = max(times) if "batched_seeds" in summaries[0] else sum(times)
    return wall, training, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=1, help="jobs per mode; the best is kept")
    args = parser.parse_args()
    register_schemas()
    quiet = ["hydra/job_logging=disabled"]
    with tempfile.TemporaryDirectory() as root:
        count = iter(range(10**6))
        for mode in ("true", "false"):  # warm-up: imports, data files, first calls
            run_job(
                Path(root) / str(next(count)),
                ["trainer.max_epochs=1", "repeats=2", f"repeats_batched={mode}"],
            )
        print(f"repeats={args.repeats}, best of {args.rounds}: seconds (speed-up)")
        print(f"{'job':<44} {'mode':<11} {'wall':>7} {'training':>9} {'CPU':>7}")
        for name, overrides in CASES.items():
            best = {}
            for mode in ("false", "true"):
                case = [*overrides, *quiet, f"repeats={args.repeats}", f"repeats_batched={mode}"]
                rounds = [run_job(Path(root) / str(next(count)), case) for _ in range(args.rounds)]
                best[mode] = [min(r[i] for r in rounds) for i in range(3)]
            for mode, label in (("false", "sequential"), ("true", "batched")):
                cells = [f"{value:7.2f}" for value in best[mode]]
                if mode == "true":
                    ups = [s / b for s, b in zip(best["false"], best["true"])]
                    cells = [f"{c} ({u:.1f}×)" for c, u in zip(cells, ups)]
                print(f"{name if mode == 'false' else '':<44} {label:<11} {' '.join(cells)}")


if __name__ == "__main__":
    main()
