"""Start-up: what `dlrun --help`, `--cfg job` and a one-epoch run cost against a minimal Hydra
app and the imports a plain PyTorch script pays anyway.

    python benchmarks/startup.py [REPEATS]

Each command runs REPEATS times (default 5), interleaved, and the median wall time is printed
with the ratios the performance issue sets goals for (`dlrun --help` <= 2x the minimal Hydra
app; a one-epoch run <= 1.3x `import torch, sklearn.datasets`). It also times what a schema
generated from constructor signatures (hydra-zen's builds) would add to composition: importing
the model modules, i.e. torch. On a 2-core machine other processes move these figures: read
the ratios of one run, not the seconds across runs.
"""

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MINIMAL_APP = """
import hydra
from omegaconf import DictConfig

@hydra.main(version_base="1.3", config_path=".", config_name="config")
def main(cfg: DictConfig) -> None:
    print(cfg.x)

if __name__ == "__main__":
    main()
"""


def commands(tmp: Path) -> dict[str, list[str]]:
    python = sys.executable
    dlrun = [python, "-m", "dlrun.cli"]
    return {
        "minimal Hydra app --help": [python, str(tmp / "app.py"), "--help"],
        "python -c 'import torch'": [python, "-c", "import torch"],
        "import torch, sklearn.datasets": [python, "-c", "import torch, sklearn.datasets"],
        "import dlrun's models (schemas from signatures)": [
            python,
            "-c",
            "import dlrun.models.mlp, dlrun.models.recurrent, dlrun.models.cnn",
        ],
        "dlrun --help": [*dlrun, "--help"],
        "dlrun --cfg job": [*dlrun, "--cfg", "job"],
        "dlrun trainer.max_epochs=1": [
            *dlrun,
            "trainer.max_epochs=1",
            f"hydra.run.dir={tmp}/run",
            "resume=null",
        ],
    }


def wall(command: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - started


def main(repeats: int = 5) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "app.py").write_text(MINIMAL_APP)
        (tmp / "config.yaml").write_text("x: 1\n")
        runs = commands(tmp)
        times: dict[str, list[float]] = {name: [] for name in runs}
        for _ in range(repeats):  # interleaved, so a busy moment hits every command alike
            for name, command in runs.items():
                if name.startswith("dlrun trainer"):
                    subprocess.run(["rm", "-rf", str(tmp / "run")], check=True)
                times[name].append(wall(command, tmp))
    median = {name: statistics.median(values) for name, values in times.items()}
    width = max(len(name) for name in median)
    for name, seconds in median.items():
        print(f"{name:<{width}}  {seconds:6.2f} s")
    hydra_app = median["minimal Hydra app --help"]
    imports = median["import torch, sklearn.datasets"]
    print(
        f"dlrun --help / minimal Hydra app: {median['dlrun --help'] / hydra_app:.2f}x (goal <= 2)"
    )
    print(f"dlrun --cfg job / minimal Hydra app: {median['dlrun --cfg job'] / hydra_app:.2f}x")
    print(
        f"one-epoch run / import torch, sklearn.datasets: "
        f"{median['dlrun trainer.max_epochs=1'] / imports:.2f}x (goal <= 1.3)"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
