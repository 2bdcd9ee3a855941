"""What logger=tensorboard adds to a run: the cost of logging one step's loss, gradient norm
and step size, and a whole run's wall time with logger=csv against logger=tensorboard.

    python benchmarks/logger_overhead.py

The logger runs at each evaluation, outside the training loop, so train_time_s is unchanged;
the cost shows in wall_time_s. Figures are printed, not asserted; the CPU may be shared.
"""

import statistics
import tempfile
import time
from pathlib import Path

import pandas as pd
import torch

from dlrun.config.compose import compose_config
from dlrun.console import RunConsole
from dlrun.record.logger import TensorBoardLogger
from dlrun.run import run

RUN = ["model=mlp", "dataset=digits", "trainer.max_epochs=20", "threads=1"]
STEPS = 20_000


def per_step_us(directory: Path) -> float:
    """Microseconds to log one row of steps.csv, over STEPS rows."""
    frame = pd.DataFrame(
        {"step": range(1, STEPS + 1), "epoch": 1, "loss": 0.5, "grad_norm": 1.5, "lr": 0.1}
    )
    logger = TensorBoardLogger(directory, subdir="tensorboard")
    started = time.perf_counter()
    logger.log_steps(frame)
    logger.close()
    return (time.perf_counter() - started) / STEPS * 1e6


def run_times(directory: Path, logger: str, repeats: int = 3) -> tuple[float, float, int]:
    """Median wall and training time of a run, and its steps."""
    walls, trains = [], []
    for i in range(repeats):
        cfg, names = compose_config(*RUN, f"logger={logger}")
        summary = run(cfg, directory / f"{logger}{i}", names, "", RunConsole(False))
        walls.append(summary["wall_time_s"])
        trains.append(summary["train_time_s"])
    return statistics.median(walls), statistics.median(trains), summary["steps"]


def main() -> None:
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        print(f"logging one step (3 scalars): {per_step_us(tmp / 'steps'):.1f} µs")
        run_times(tmp, "tensorboard", repeats=1)  # warm-up: first-use imports
        for logger in ("csv", "tensorboard", "csv", "tensorboard"):  # interleaved: shared CPU
            wall, train, steps = run_times(tmp, logger)
            print(
                f"{' '.join(RUN)} logger={logger}: {steps} steps, "
                f"wall {wall:.3f} s, train {train:.3f} s (median of 3)"
            )


if __name__ == "__main__":
    main()
