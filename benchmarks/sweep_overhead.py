"""What a sweep costs per job beyond training: `dlrun -m` with N tiny jobs against a sweep of 1,
through Hydra's basic sweeper and launcher (the default: each job composed twice, once to check
the batch, once to launch it), beside a minimal Hydra app's sweep of N jobs, in one run.

    python benchmarks/sweep_overhead.py [N [REPEATS]]

Per job outside training = (sweep of N jobs - sweep of 1 job) / (N - 1) - mean train_time_s:
start-up, first-use imports and the table are in both sweeps and cancel; what is left is each
job's composition, Hydra's job set-up and .hydra/ files, dlrun's data, model, records and status
line. Each sweep runs REPEATS times (default 2), the variants taking turns, and the smallest
time counts. Wall time and CPU time (user + system, of the dlrun process and its children) are
both printed: on a shared machine the CPU time is the steadier figure. Target (issue 16):
<= 0.2 s per job by public means. Figures are printed, not asserted.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

JOB = ["model=logistic", "dataset=breast_cancer", "trainer.max_epochs=1"]
VARIANTS = {"dlrun -m (Hydra's basic pair)": []}
MINIMAL_APP = """
import hydra

@hydra.main(version_base="1.3", config_path=None, config_name=None)
def main(cfg) -> None:
    pass

main()
"""


def timed_sweep(args: list[str], n: int, sweep_dir: Path) -> tuple[float, float, float]:
    """(wall s, CPU s, summed train_time_s) of `dlrun -m JOB seed=0,..,n-1 args`; with
    args = [app.py], of that minimal Hydra app's sweep of n jobs instead."""
    seeds = ",".join(str(s) for s in range(n))
    command = [sys.executable, "-m", "dlrun.cli", "--multirun", *JOB, f"seed={seeds}", *args]
    if args and args[0].endswith(".py"):
        command = [sys.executable, args[0], "--multirun", f"+seed={seeds}"]
    before = os.times()
    started = time.perf_counter()
    subprocess.run(
        [*command, f"hydra.sweep.dir={sweep_dir}"],
        cwd=sweep_dir.parent,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wall = time.perf_counter() - started
    after = os.times()
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    records = [json.loads(p.read_text()) for p in sweep_dir.glob("*/summary.json")]
    if args and args[0].endswith(".py"):
        return wall, cpu, 0.0
    assert len(records) == n, f"{sweep_dir}: {len(records)} records, {n} expected"
    return wall, cpu, sum(r["train_time_s"] for r in records)


def per_job(n: int, tmp: Path, repeats: int) -> dict[str, tuple[float, float, float]]:
    """Per variant: (wall s, CPU s) per job outside training, and the N-job sweep's wall time;
    each sweep's least disturbed (smallest) of `repeats`, the variants taking turns."""
    runs: dict[tuple[str, int], list[tuple[float, float, float]]] = {}
    for repeat in range(repeats):
        for variant, (name, args) in enumerate(VARIANTS.items()):
            for size in (1, n):
                sweep_dir = tmp / f"{repeat}-{variant}-{size}"
                runs.setdefault((name, size), []).append(timed_sweep(args, size, sweep_dir))
    found = {}
    for name in VARIANTS:
        (wall_1, _, train_1), (wall_n, _, train_n) = (min(runs[name, s]) for s in (1, n))
        cpu_1, cpu_n = (min(cpu for _, cpu, _ in runs[name, s]) for s in (1, n))
        train = (train_n - train_1) / (n - 1)
        found[name] = (
            (wall_n - wall_1) / (n - 1) - train,
            (cpu_n - cpu_1) / (n - 1) - train,
            wall_n,
        )
    return found


def main(n: int = 16, repeats: int = 2) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        app = Path(tmp) / "app.py"
        app.write_text(MINIMAL_APP)
        VARIANTS["minimal Hydra app -m"] = [str(app)]
        found = per_job(n, Path(tmp), repeats)
    print(f"sweep of {n} jobs: {' '.join(JOB)} seed=0..{n - 1}; smallest of {repeats} runs each")
    print("per job outside training          wall s   CPU s   sweep wall s")
    for name, (wall, cpu, sweep) in found.items():
        print(f"{name:<34}{wall:>6.3f}  {cpu:>6.3f}   {sweep:>8.2f}")
    (dlrun, minimal) = found.values()
    print(
        f"dlrun / minimal Hydra app per job: wall {dlrun[0] / minimal[0]:.2f}, CPU "
        f"{dlrun[1] / minimal[1]:.2f} (target: dlrun <= 0.2 s per job)"
    )


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:3]))
