"""Every command the project shows, run through its entry point with a tiny budget.

The commands are read at test time, so a new example is tested without editing this module:
- README.md's code blocks (fenced, except YAML, and indented): a line is a command when its first
  word is `dlrun`, `dlrun-report` or `dlrun-eval`. Not run: `pip ... && dlrun`, `eval "$(dlrun
  -sc install=bash)"`, `python benchmarks/...`, `python -m pytest`, `tensorboard`, printed output,
  the layout listing, and `bash experiments/...` (run below). `dlrun-report` and `dlrun-eval` run
  on records this module produced: `outputs/sweeps/...` becomes a sweep's directory,
  `outputs/runs/...` a run's, `DIR` a new directory, `[more dirs...]` is dropped;
- the command comment lines right after `# @package _global_` of each conf/experiment/*.yaml;
- each experiments/*/run.sh: bash runs a copy of the script (so that nothing is written into
  the repository) with `dlrun`, `dlrun-report`, `python` and `cp` as shell functions that record
  their arguments, so bash expands the variables, arrays and functions; the recorded `dlrun` and
  `dlrun-report` commands are then replayed in order through the entry points (plots and copies
  are not). test_experiment_script_runs_whole (slow) runs each whole script, plots included, with
  `dlrun` on PATH appending the budget;
- single runs without a validation split, a test split or both, for each task (the GLM of the
  task on its synthetic data), and sweeps whose hydra.sweep.subdir interpolates ${seed},
  ${hydra.job.num} and ${hydra.job.override_dirname}.

`dlrun` runs in-process through `dlrun.cli.main()` (fixture `dlrun_main`: Hydra composes as for
the installed command; cwd is tmp_path, so `outputs/` lands there); `dlrun-report` and
`dlrun-eval` through their `main(argv)`. Appended to each `dlrun` command that runs (not to
`--help`/`--cfg`, which only print), each only where the command does not set the key (BUDGET):
- `trainer.max_epochs=1 trainer.max_steps=2`: two optimizer steps, then the final evaluation and
  the whole record (every model composes the trainer group);
- `seq_len=16`: sequence data of 16 steps (the top-level key every sequence set reads; waveforms
  needs at least its width, 10). It replaces a swept seq_len too, as the command line wins over
  the sweeper's params in Hydra's basic sweeper: such a grid loses that axis;
- `dataset.n_samples=200`: only where the sweep's own config and every job's (each combination
  of the swept groups, composed here) have that key; Hydra refuses unknown keys.
Each run's `.hydra/config.yaml` must hold the appended values. Each command must exit 0, and
every run record it wrote must have summary.json with status completed (or diverged: a result)
and metrics.csv. The number of records must equal jobs times `repeats` (the sweep lists counted
here, with Hydra's parser), and a sweep's comparison.csv must count every record (n + n_failed +
n_diverged of its most complete metric; a CNN-only metric counts the CNN's runs).

Whole grids and large models are marked slow (SLOW, SLOW_SCRIPTS: seconds measured); in the
default run, test_long_commands_compose composes and validates each of their jobs' configs.
"""

import functools
import itertools
import json
import math
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import pandas as pd
import pytest
from hydra import compose, initialize_config_dir
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Glob
from omegaconf import OmegaConf, open_dict

from dlrun.config import register_schemas
from dlrun.paths import config_dir

register_schemas()  # the typed schemas the configs extend, as `dlrun` registers them

ROOT = Path(__file__).resolve().parents[2]
CONF = config_dir()
COMMANDS = ("dlrun", "dlrun-report", "dlrun-eval")
PRINT_ONLY = ("--help", "-h", "--cfg", "-c", "--info", "--hydra-help", "-sc", "--shell-completion")
STATUSES = ("completed", "diverged")  # diverged is a result of the run, not a failure
BUDGET = {"trainer.max_epochs": "1", "trainer.max_steps": "2", "seq_len": "16"}
N_SAMPLES = ("dataset.n_samples", "200")
GROUPS = ("model", "dataset", "optimizer", "trainer", "logger", "experiment")


# ---------------------------------------------------------------- where the commands come from


def readme_code_lines() -> list[str]:
    """The lines of README.md's code blocks: fenced ones (not YAML) and indented ones."""
    lines, fence = [], None
    for line in (ROOT / "README.md").read_text().splitlines():
        if line.startswith("```"):
            fence = None if fence is not None else line[3:].strip()
        elif fence is not None:
            if fence != "yaml":
                lines.append(line.strip())
        elif line.startswith("    ") and line.strip():
            lines.append(line.strip())
    return [line for line in lines if line and not line.startswith("#")]


def readme_commands() -> list[list[str]]:
    """The dlrun, dlrun-report and dlrun-eval commands README.md shows, split as a shell does."""
    commands = []
    for line in readme_code_lines():
        # other lines are other programs, printed output or the project's layout
        if line.split()[0] in COMMANDS:
            commands.append(shlex.split(line, comments=True))
    return commands


def experiment_commands() -> dict[str, list[list[str]]]:
    """The command lines each conf/experiment/*.yaml names right after `# @package _global_`."""
    found = {}
    for path in sorted((CONF / "experiment").glob("*.yaml")):
        lines = path.read_text().splitlines()
        start = lines.index("# @package _global_") + 1
        commands = []
        for line in lines[start:]:
            if not line.startswith("# dlrun "):
                break
            commands.append(shlex.split(line[2:]))
        assert commands, f"{path.name}: no command line after # @package _global_"
        found[path.stem] = commands
    return found


def scripts() -> list[Path]:
    """experiments/*/run.sh."""
    return sorted((ROOT / "experiments").glob("*/run.sh"))


def all_dlrun_commands() -> dict[tuple[str, ...], list[str]]:
    """Each distinct `dlrun` command of the README and the experiments, with where it is shown."""
    shown: dict[tuple[str, ...], list[str]] = {}
    for words in readme_commands():
        if words[0] == "dlrun":
            shown.setdefault(tuple(words), []).append("README")
    for name, commands in experiment_commands().items():
        for words in commands:
            shown.setdefault(tuple(words), []).append(f"experiment/{name}")
    return shown


# ---------------------------------------------------------------- the budget and its checks


def override_key(word: str) -> str | None:
    """The key an override sets (`+a.b=1` -> a.b), None for a flag."""
    if word.startswith("-") or "=" not in word:
        return None
    return word.split("=", 1)[0].lstrip("+~")


def compose_hydra(overrides: list[str]):
    """The config Hydra composes for these overrides (no sweep lists), hydra node included."""
    return composed(tuple(overrides)).copy()


@functools.cache
def composed(overrides: tuple[str, ...]):
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF), job_name="dlrun"):
        return compose(config_name="config", overrides=list(overrides), return_hydra_config=True)


def parse(words: list[str]) -> list:
    """Hydra's own parse of these overrides."""
    return OverridesParser.create().parse_overrides(words)


def choices(override) -> list[str]:
    """The values a group override takes: the items of a list sweep or a glob, or the one value."""
    group = override.get_key_element()
    value = override.value()
    if isinstance(value, Glob):
        return value.filter(sorted(path.stem for path in (CONF / group).glob("*.yaml")))
    if override.is_discrete_sweep():
        return list(override.sweep_string_iterator())
    return [override.get_value_element_as_str()]


class Sweep:
    """What Hydra's basic sweeper makes of a command: the overrides every job shares, the swept
    keys with their values (the sweeper's params, the command line winning), and whether a
    searching sweeper (Optuna's intervals) chooses the values instead."""

    def __init__(self, argv: list[str]) -> None:
        words = [w for w in argv if override_key(w) is not None]
        self.base = [o.input_line for o in parse(words) if not o.is_sweep_override()]
        self.cfg = compose_hydra(self.composable(self.base))
        params = [f"{k}={v}" for k, v in (self.cfg.hydra.sweeper.get("params") or {}).items()]
        try:
            final = {o.get_key_element(): o for o in parse(params + words)}
        except Exception:  # another sweeper's syntax: interval(...)
            final = {o.get_key_element(): o for o in parse(words)}
        self.searched = any(
            o.is_sweep_override() and not o.is_discrete_sweep() for o in final.values()
        )
        self.swept = {key: choices(o) for key, o in final.items() if o.is_discrete_sweep()}

    @staticmethod
    def composable(words: list[str]) -> list[str]:
        """Overrides the compose API takes: not Hydra's own."""
        return [w for w in words if not w.startswith("hydra")]

    def job(self, values: dict[str, str]) -> list[str]:
        """One job's overrides: the shared ones with these swept values."""
        shared = [w for w in self.composable(self.base) if override_key(w) not in values]
        return shared + [f"{key}={value}" for key, value in values.items()]

    def group_jobs(self) -> list[list[str]]:
        """A job for each combination of the swept config groups (the other keys at their first
        value): enough to know which keys every job's config has."""
        groups = {k: v for k, v in self.swept.items() if k in GROUPS}
        firsts = {k: v[0] for k, v in self.swept.items() if k not in GROUPS}
        return [
            self.job({**firsts, **dict(zip(groups, combo))})
            for combo in itertools.product(*groups.values())
        ]

    def records(self) -> int | None:
        """The run records the sweep writes: jobs times repeats (None when searched)."""
        if self.searched:
            return None
        repeats = [int(v) for v in self.swept.get("repeats", [self.cfg.repeats])]
        jobs = [len(values) for key, values in self.swept.items() if key != "repeats"]
        return math.prod(jobs) * sum(repeats)


def has_key(cfg, key: str) -> bool:
    return OmegaConf.select(cfg, key, default=None) is not None


class Budgeted(NamedTuple):
    command: list[str]  # the command with the budget appended
    appended: dict[str, str]  # key -> value, as appended
    records: int | None  # the run records it must write (None: a searching sweeper decides)
    jobs: list  # each swept group combination's composed job config, before n_samples


def with_budget(argv: list[str]) -> Budgeted:
    """The command with the tiny budget appended (each key only where the command does not set
    it; dataset.n_samples only where every job's dataset and the sweep's own config have it)."""
    if any(word in PRINT_ONLY for word in argv):
        return Budgeted(argv, {}, None, [])
    set_keys = {override_key(word) for word in argv}
    appended = {key: value for key, value in BUDGET.items() if key not in set_keys}
    sweep = Sweep(argv + [f"{k}={v}" for k, v in appended.items()])
    # Hydra composes a sweep's own config without its sweep lists, then each job's
    jobs = [compose_hydra(job) for job in sweep.group_jobs()]
    key, value = N_SAMPLES
    if key not in set_keys and all(has_key(cfg, key) for cfg in [sweep.cfg, *jobs]):
        appended[key] = value
    command = argv + [f"{k}={v}" for k, v in appended.items()]
    return Budgeted(command, appended, sweep.records(), jobs)


def run_records(root: Path) -> list[Path]:
    """The run records (directories with summary.json) under root."""
    return sorted(path.parent for path in root.rglob("summary.json"))


def check_records(
    root: Path, appended: dict[str, str], expected: int | None, records: list[Path] | None = None
) -> list[Path]:
    """Every record under root (or those given) completed with its metrics and the appended
    budget; every sweep's table counts each of its records. Returns the records."""
    records = run_records(root) if records is None else records
    assert records, f"no run record under {root}"
    for record in records:
        summary = json.loads((record / "summary.json").read_text())
        assert summary["status"] in STATUSES, (record, summary.get("error"))
        assert (record / "metrics.csv").is_file(), record
        hydra_dir = next(p for p in [record, *record.parents] if (p / ".hydra").is_dir())
        config = OmegaConf.load(hydra_dir / ".hydra" / "config.yaml")
        for key, value in appended.items():
            assert str(OmegaConf.select(config, key)) == value, (record, key)
    if expected is not None:
        assert len(records) == expected, [str(r.relative_to(root)) for r in records]
    for multirun in root.rglob("multirun.yaml"):
        sweep = multirun.parent
        table = pd.read_csv(sweep / "comparison.csv")
        counted = table.groupby("metric")[["n", "n_failed", "n_diverged"]].sum().sum(axis=1)
        # a metric only some models record (a CNN's equivariance) counts those runs alone
        assert counted.max() == len(run_records(sweep)), (sweep, counted.to_dict())
    return records


def run_dlrun(dlrun_main, argv: list[str]) -> tuple[dict[str, str], int | None, str]:
    """Run one dlrun command with the budget; it must exit 0. Returns what was appended, the
    records it must write and its output."""
    command, appended, expected, _ = with_budget(argv)
    code, out, err = dlrun_main(*command[1:])
    assert code == 0, f"{shlex.join(command)} exited {code}:\n{err[-3000:]}\n{out[-2000:]}"
    return appended, expected, out


def run_report(argv: list[str]) -> None:
    """dlrun-report through its entry point; it must exit 0 and write the table."""
    from dlrun.report.cli import main

    assert main(argv[1:]) == 0, shlex.join(argv)


# ---------------------------------------------------------------- the README and the presets


def command_id(words: tuple[str, ...]) -> str:
    return " ".join(words)[:80]


DLRUN_COMMANDS = all_dlrun_commands()
# Whole grids or big models even at the tiny budget: seconds measured here (2 shared cores,
# load 4-5). They run with -m slow; test_long_commands_compose checks every job of them composes.
SLOW = {
    "dlrun --multirun model=rnn,lstm seq_len=10,50,100 repeats=3 "
    "report.metrics=[val/loss,val/r2]": 23,  # 18 recurrent records
    "dlrun -m hydra/sweeper=optuna hydra.sweeper.n_trials=20 hydra.sweeper.sampler.seed=0 "
    "optimizer.lr=tag(log, interval(1e-3, 1))": 10,
    "dlrun --multirun experiment=esn_mackey_glass": 63,  # 72 records
    "dlrun --multirun experiment=resnet_depth": 40,  # 48 records
    "dlrun --multirun experiment=rnn_gradients": 10,
    "dlrun --multirun experiment=adding_task": 7,
    "dlrun --multirun experiment=conv_equivariance": 6,
    # the same 10 headline-size recurrent runs as the lstm_vs_gru script's replay (below)
    "dlrun --multirun experiment=lstm_vs_gru": 14,
    "dlrun -m experiment=smoke": 16,  # every model
    "dlrun model=resnet model.residual=false model.norm=batch": 16,  # 64 conv blocks on digits
}
# experiments/*/run.sh replayed: seconds measured as above
SLOW_SCRIPTS = {
    "adding_task": 7,
    "conv_equivariance": 5,
    "convexity": 13,
    "esn_mackey_glass": 68,
    "glm_optimizers": 18,
    "lstm_vs_gru": 14,  # 10 headline-size recurrent runs, even at two steps each
    "model_comparison": 18,
    "resnet_depth": 99,
    "rnn_gradients": 10,
}


def slow_if(slow: bool) -> list:
    return [pytest.mark.slow] if slow else []


@pytest.mark.parametrize(
    "words",
    [pytest.param(w, marks=slow_if(" ".join(w) in SLOW), id=command_id(w)) for w in DLRUN_COMMANDS],
)
def test_shown_dlrun_command_completes(dlrun_main, tmp_path, words):
    argv = list(words)
    if "dataset=csv" in argv:  # the README's own CSV file: a count target and two features
        rows = [f"{i % 7},{(i * 3) % 5},{i % 4}" for i in range(60)]
        (tmp_path / "visits.csv").write_text("age,dose,visits\n" + "\n".join(rows) + "\n")
    appended, expected, out = run_dlrun(dlrun_main, argv)
    if not appended:  # --help, --cfg: prints only
        assert out.strip() and not (tmp_path / "outputs").exists()
        return
    check_records(tmp_path / "outputs", appended, expected)


def check_composes(argv: list[str]) -> int:
    """Validate, as each job does before any work, the config of each swept group combination
    of the command with its budget; returns how many were checked."""
    from dlrun.config.validate import check_config

    budgeted = with_budget(argv)
    for cfg in budgeted.jobs:
        with open_dict(cfg):
            del cfg["hydra"]
        check_config(cfg)
        for key, value in budgeted.appended.items():
            if key != N_SAMPLES[0]:  # the jobs were composed before it was chosen
                assert str(OmegaConf.select(cfg, key)) == value, (argv, key)
    return len(budgeted.jobs)


def test_long_commands_compose(tmp_path):
    """Each slow command, and each dlrun line of the slow scripts, composes and validates for
    every value it sweeps, with the budget appended: a renamed key or option fails here fast."""
    long = [list(words) for words in DLRUN_COMMANDS if " ".join(words) in SLOW]
    for script in scripts():
        if script.parent.name in SLOW_SCRIPTS:
            root = tmp_path / script.parent.name
            commands = script_commands(script, root)
            long += [words for words in commands if words[0] == "dlrun"]
    # a slow entry that no longer names a shown command or a script is stale
    assert set(SLOW) <= {" ".join(words) for words in DLRUN_COMMANDS}
    assert set(SLOW_SCRIPTS) <= {script.parent.name for script in scripts()}
    for words in long:
        assert check_composes(words) >= 1, shlex.join(words)


def test_readme_report_and_eval_commands_rebuild_from_produced_records(dlrun_main, tmp_path):
    """dlrun-report and dlrun-eval, as the README shows them, on records made here."""
    appended, _, _ = run_dlrun(
        dlrun_main,
        ["dlrun", "-m", "model=rnn,lstm", "seq_len=12,16", "report.metrics=[val/loss,val/r2]"],
    )
    (sweep,) = (tmp_path / "outputs" / "sweeps").glob("*/*")
    # a synthetic set, whose draw `dataset.data_seed=` changes (the second dlrun-eval line)
    appended, _, _ = run_dlrun(dlrun_main, ["dlrun", "dataset=synthetic_multiclass"])
    (run,) = (tmp_path / "outputs" / "runs").glob("*/*")
    shown = [w for w in readme_commands() if w[0] != "dlrun"]
    assert {w[0] for w in shown} == {"dlrun-report", "dlrun-eval"}
    for index, words in enumerate(shown):
        argv = []
        for word in words:
            if word.startswith("outputs/sweeps/"):
                word = str(sweep)
            elif word.startswith("outputs/runs/"):
                word = str(run)
            elif word == "DIR" and argv[-1:] == ["--out"]:
                word = str(tmp_path / f"report{index}")
            elif word == "DIR":  # a directory to read: the sweep
                word = str(sweep)
            elif word in ("[more", "dirs...]"):
                continue
            argv.append(word)
        if argv[0] == "dlrun-report":
            run_report(argv)
            out = Path(argv[argv.index("--out") + 1]) if "--out" in argv else sweep
            table = pd.read_csv(out / "comparison.csv")
            counted = table.groupby("metric")["n"].sum()
            assert (counted == 4).all(), shlex.join(argv)  # 2 models x 2 lengths
        else:
            from dlrun.evaluate import main

            main(argv[1:])
            assert json.loads((run / "eval.json").read_text()), shlex.join(argv)


# ---------------------------------------------------------------- splits and sweep directories

TASKS = {
    "regression": ("model=linear", "dataset=synthetic_regression"),
    "binary": ("model=logistic", "dataset=synthetic_binary"),
    "count": ("model=poisson", "dataset=synthetic_count"),
    "multiclass": ("model=softmax", "dataset=synthetic_multiclass"),
}
SPLITS = {
    "no_val": ("dataset.val_fraction=0",),
    "no_test": ("dataset.test_fraction=0",),
    "neither": ("dataset.val_fraction=0", "dataset.test_fraction=0"),
}


@pytest.mark.parametrize("task", TASKS)
def test_single_runs_without_validation_or_test_split_complete(dlrun_main, tmp_path, task):
    """Each task, each missing split: one run each, exit 0, a complete record with the task."""
    for name, split in SPLITS.items():
        appended, expected, _ = run_dlrun(
            dlrun_main, ["dlrun", *TASKS[task], *split, f"hydra.run.dir=runs/{name}"]
        )
        (record,) = check_records(tmp_path / "runs" / name, appended, expected)
        summary = json.loads((record / "summary.json").read_text())
        assert summary["task"] == task
        rows = summary["rows"]
        assert (rows.get("val", 0) == 0) == ("dataset.val_fraction=0" in split), rows
        assert (rows.get("test", 0) == 0) == ("dataset.test_fraction=0" in split), rows


def override_dirname(overrides: list[str]) -> str:
    """Hydra's default hydra.job.override_dirname: the job's task overrides, sorted."""
    return ",".join(sorted(overrides))


@pytest.mark.parametrize(
    "subdir, names",
    [
        ("s${seed}", lambda seed, job, task: f"s{seed}"),
        ("job_${hydra.job.num}", lambda seed, job, task: f"job_{job}"),
        ("${hydra.job.override_dirname}", lambda seed, job, task: override_dirname(task)),
    ],
    ids=["seed", "job_num", "override_dirname"],
)
def test_sweep_subdir_interpolations_give_each_job_its_directory(
    dlrun_main, tmp_path, subdir, names
):
    argv = ["dlrun", "-m", "model=logistic", "dataset=breast_cancer", "seed=1,2"]
    appended, count, _ = run_dlrun(
        dlrun_main, [*argv, f"hydra.sweep.subdir={subdir}", "hydra.sweep.dir=sweep"]
    )
    records = check_records(tmp_path / "sweep", appended, count)
    budget = [f"{key}={value}" for key, value in appended.items()]
    expected = {
        names(seed, job, [*argv[2:4], f"seed={seed}", *budget]) for job, seed in enumerate((1, 2))
    }
    assert count == 2 and {record.name for record in records} == expected


# ---------------------------------------------------------------- experiments/*/run.sh

RECORDER = r"""
record() { { printf '%s\x1f' "$@"; printf '\x1e'; } >> "$DLRUN_COMMAND_LOG"; }
dlrun() { record dlrun "$@"; }
dlrun-report() { record dlrun-report "$@"; }
python() { record python "$@"; }
cp() { record cp "$@"; }
export -f record dlrun dlrun-report python cp
exec bash "$0" "$@"
"""


def script_commands(script: Path, root: Path) -> list[list[str]]:
    """The commands the script runs, expanded by bash, from a copy of it under root."""
    copy = root / script.relative_to(ROOT)
    copy.parent.mkdir(parents=True)
    shutil.copy(script, copy)
    log = root / "commands.log"
    env = {**os.environ, "DLRUN_COMMAND_LOG": str(log)}
    subprocess.run(["bash", "-c", RECORDER, str(copy)], env=env, check=True, timeout=60)
    return [entry.split("\x1f")[:-1] for entry in log.read_text().split("\x1e")[:-1]]


@pytest.mark.parametrize(
    "script",
    [
        pytest.param(s, marks=slow_if(s.parent.name in SLOW_SCRIPTS), id=s.parent.name)
        for s in scripts()
    ],
)
def test_experiment_script_commands_complete(dlrun_main, tmp_path, script):
    commands = script_commands(script, tmp_path)
    assert any(words[0] == "dlrun" for words in commands), script
    for words in commands:
        if words[0] == "dlrun":
            done = set(run_records(tmp_path))
            appended, expected, _ = run_dlrun(dlrun_main, words)
            new = sorted(set(run_records(tmp_path)) - done)
            check_records(tmp_path / "outputs", appended, expected, new)
        elif words[0] == "dlrun-report":
            run_report(words)


def budget_shim(bin_dir: Path) -> None:
    """`dlrun` and `dlrun-report` on PATH: the real entry points, the budget appended to dlrun."""
    bin_dir.mkdir()
    dlrun = bin_dir / "dlrun"
    dlrun.write_text(
        f"#!{sys.executable}\n"
        "import sys\n"
        f"sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        "from test_commands import with_budget\n"
        "sys.argv = with_budget(sys.argv).command\n"
        "from dlrun.cli import main\n"
        "main()\n"
    )
    report = bin_dir / "dlrun-report"
    report.write_text(
        f"#!{sys.executable}\nimport sys\nfrom dlrun.report.cli import main\nsys.exit(main())\n"
    )
    for path in (dlrun, report):
        path.chmod(0o755)


@pytest.mark.slow
@pytest.mark.parametrize("script", scripts(), ids=lambda s: s.parent.name)
def test_experiment_script_runs_whole(tmp_path, script):
    """The script itself, plots and tables included, on a copy of its folder; dlrun with the
    budget (a subprocess per dlrun line: start-up dominates)."""
    shutil.copytree(script.parent, tmp_path / script.parent.relative_to(ROOT))
    budget_shim(tmp_path / "bin")
    env = {
        **os.environ,
        "PATH": f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    copy = tmp_path / script.relative_to(ROOT)
    done = subprocess.run(
        ["bash", str(copy)], env=env, capture_output=True, text=True, timeout=1800
    )
    assert done.returncode == 0, done.stderr[-3000:]
    for record in run_records(tmp_path / "outputs"):
        assert json.loads((record / "summary.json").read_text())["status"] in STATUSES
