"""What a sweep costs beyond its jobs: `dlrun -m` with N small jobs against one start-up plus
N times one job, each job timed inside a single `dlrun` run (summary.json's wall_time_s).

    python benchmarks/sweep_overhead.py [N]

Target (issue 6): sweep wall time <= 1.1 x (start-up + N x one job). Figures are printed, not
asserted; the CPU may be shared, so run it on a quiet machine and read them as measured.
"""

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

JOB = ["model=mlp", "dataset=digits", "trainer.max_epochs=5"]


def timed(args: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "dlrun.cli", *args],
        cwd=cwd,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def main(n: int = 8) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        singles = []
        for i in range(3):
            wall = timed([*JOB, f"hydra.run.dir={tmp}/single{i}"], tmp)
            job = json.loads((tmp / f"single{i}" / "summary.json").read_text())["wall_time_s"]
            singles.append((wall, job))
        wall, job = min(singles)  # the least disturbed of three
        startup = wall - job
        seeds = ",".join(str(s) for s in range(n))
        sweep = timed(["--multirun", *JOB, f"seed={seeds}", f"hydra.sweep.dir={tmp}/sweep"], tmp)
        records = [json.loads(p.read_text()) for p in (tmp / "sweep").glob("*/summary.json")]
        in_sweep = [r["wall_time_s"] for r in records]
        training = sum(r["train_time_s"] for r in records)
    expected = startup + n * job
    print(f"one `dlrun` run: {wall:.2f} s wall = {startup:.2f} s start-up + {job:.2f} s job")
    print(
        f"sweep of {n} such jobs: {sweep:.2f} s wall; jobs inside it {sum(in_sweep):.2f} s "
        f"(mean {sum(in_sweep) / n:.2f} s)"
    )
    print(
        f"training (train_time_s) {training:.2f} s of the sweep; the rest per job: "
        f"{(sweep - startup - training) / n:.3f} s (job set-up, data, records, table)"
    )
    print(
        f"start-up + {n} x job = {expected:.2f} s; ratio sweep / that = {sweep / expected:.3f} "
        "(target <= 1.1)"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 8)
