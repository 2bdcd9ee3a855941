"""dlrun-eval: evaluate a run's saved model on its own splits, or on other data.

    dlrun-eval RUN_DIR                                  the run's data: summary.json's figures
    dlrun-eval RUN_DIR dataset=synthetic_multiclass dataset.data_seed=3   other data

The run's composed config (.hydra/config.yaml) is rebuilt, the overrides applied, data and
model built through dlrun.build, and best.pt (the early-stopped weights) or else checkpoint.pt
loaded. The figures go to RUN_DIR/eval.json and a table.
"""

import json
import pickle
import re
import sys
import warnings
from pathlib import Path

import torch
from hydra.errors import HydraException
from omegaconf import DictConfig, ListConfig, OmegaConf, open_dict
from omegaconf.errors import OmegaConfBaseException

from dlrun.build import build
from dlrun.config.compose import compose_config
from dlrun.console import print_table, result_table
from dlrun.errors import InputError
from dlrun.loop import evaluate
from dlrun.record.files import (
    CHECKPOINT_FILE,
    SUMMARY_FILE,
    RunRecord,
    check_writable_directory,
    flatten_metrics,
)

EVAL_FILE = "eval.json"
BEST_FILE = "best.pt"  # the best evaluation's weights, kept by early stopping
USAGE = "usage: dlrun-eval RUN_DIR [key=value ...]"


def hydra_dir(run_dir: Path) -> Path:
    """The .hydra folder of the run: its own, or its job's for a seed-<s> run of repeats=K."""
    for directory in (run_dir, run_dir.parent) if run_dir.name.startswith("seed-") else (run_dir,):
        if (directory / ".hydra" / "config.yaml").is_file():
            return directory / ".hydra"
    raise InputError(f"{run_dir} is not a dlrun run directory (no .hydra/config.yaml in it)")


def override_key(override: str) -> str:
    """`dataset.data_seed=3` -> `dataset.data_seed`; `+x=1`, `~x`, `model@y=z` alike."""
    return override.split("=", 1)[0].lstrip("+~").split("@")[0]


def kept_overrides(run_overrides: list[str], overrides: list[str]) -> list[str]:
    """The run's overrides less those the new ones replace: the same key, or a key inside a
    group the new ones choose anew (`dataset=iris` drops the run's `dataset.n_samples=200`)."""
    changed = {override_key(o) for o in overrides}
    return [
        o
        for o in run_overrides
        if not any(
            override_key(o) == key or override_key(o).startswith(key + ".") for key in changed
        )
    ]


def untouched_keys(saved: DictConfig, overrides: list[str]) -> DictConfig:
    """The saved config less the top-level keys the overrides change (those come composed)."""
    changed = {override_key(o).split(".")[0] for o in overrides}
    return OmegaConf.masked_copy(saved, [key for key in saved if key not in changed])


def first_lines(error: Exception) -> str:
    """Hydra's and OmegaConf's message on one line, without the HYDRA_FULL_ERROR hint."""
    lines = [line.strip() for line in str(error).strip().splitlines()]
    lines = lines[: next((i for i, x in enumerate(lines) if x.startswith("Config search")), None)]
    return " ".join(line for line in lines if line and "HYDRA_FULL_ERROR" not in line)


def run_seed(run_dir: Path, default: int) -> int:
    """The seed summary.json names: a seed-<s> run of repeats=K has its own."""
    try:
        seed = json.loads((run_dir / SUMMARY_FILE).read_text()).get("seed")
    except (OSError, ValueError, AttributeError):
        return default
    return default if seed is None else int(seed)


def run_config(run_dir: Path, overrides: list[str]) -> tuple[DictConfig, dict[str, str]]:
    """The run's composed config with `overrides` applied, and its group choices.

    Composing the run's own overrides gives the schema's types; the saved config.yaml's values
    then win, so the config is the run's even if conf/ changed since it ran.
    """
    folder = hydra_dir(run_dir)
    saved = read_saved(folder / "config.yaml", DictConfig)
    run_overrides = [str(o) for o in read_saved(folder / "overrides.yaml", ListConfig)]
    try:
        cfg, names = compose_config(*kept_overrides(run_overrides, overrides), *overrides)
        cfg = OmegaConf.merge(cfg, untouched_keys(saved, overrides))
    except (HydraException, OmegaConfBaseException, OSError, ValueError) as error:
        raise InputError(first_lines(error)) from None
    with open_dict(cfg):
        if "seed" not in {override_key(o) for o in overrides}:
            cfg.seed = run_seed(run_dir, cfg.seed)
        cfg.resume = None
    return cfg, names


def read_saved(path: Path, kind: type) -> DictConfig | ListConfig:
    """One of Hydra's files in .hydra/, refused in one line when it is not what Hydra wrote."""
    allowed = "allowed: the file as Hydra wrote it"
    try:
        content = OmegaConf.load(path)
    except Exception as error:  # noqa: BLE001 - yaml's ParserError, bad bytes, a folder
        reason = " ".join(str(error).split()[:12]) or type(error).__name__
        raise InputError(f"{path} is damaged ({reason}); {allowed}") from None
    if not isinstance(content, kind):
        shape = "mapping" if kind is DictConfig else "list"
        raise InputError(f"{path} is damaged (not a YAML {shape}); {allowed}")
    return content


def check_eval_output(run_dir: Path) -> None:
    """eval.json can be written into run_dir: checked before anything is built or loaded."""
    target = run_dir / EVAL_FILE
    if target.exists() and not target.is_file():
        raise InputError(
            f"{target} is a folder, not a file, so eval.json cannot be written; allowed: "
            "remove or rename it"
        )
    check_writable_directory(run_dir, "RUN_DIR")


def load_weights(path: Path, device: torch.device) -> dict:
    """The model's state dict from a checkpoint (a bare state dict, or one under 'model');
    weights_only=True, so a file holding other pickled objects is refused, not executed.
    torch's own words are not repeated: its warnings and its advice to load the file unsafely
    are no help with a file that should hold tensors only."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Detected pickle protocol 4 ...": a raw pickle
            state = torch.load(path, map_location=device, weights_only=True)
    except Exception as error:  # noqa: BLE001 - torch raises anything from a damaged file
        raise InputError(unreadable_checkpoint(path, error)) from None
    if isinstance(state, dict) and isinstance(state.get("model"), dict):
        state = state["model"]
    if not isinstance(state, dict):
        raise InputError(f"{path} holds no model state dict")
    return state


def unreadable_checkpoint(path: Path, error: Exception) -> str:
    """Why torch.load(weights_only=True) refused path, in dlrun's words."""
    refused = re.search(r"Unsupported global: GLOBAL (\S+)", str(error))
    if refused or (isinstance(error, pickle.UnpicklingError) and is_raw_pickle(path)):
        named = f" ({refused.group(1)})" if refused else ""
        return (
            f"{path} holds a pickled object{named}; refused: a checkpoint holds tensors only, "
            "so nothing in it was run"
        )
    first = next((line.strip() for line in str(error).splitlines() if line.strip()), "")
    if isinstance(error, pickle.UnpicklingError) or "weights_only" in first:
        first = "not a checkpoint file"
    reason = f"{type(error).__name__}: {first[:200]}" if first else type(error).__name__
    return f"{path} is damaged: torch.load cannot read it ({reason})"


def is_raw_pickle(path: Path) -> bool:
    """A pickle stream of protocol 2 or later (torch.save writes a zip archive instead)."""
    try:
        with open(path, "rb") as file:
            head = file.read(2)
    except OSError:
        return False
    return len(head) == 2 and head[0] == 0x80 and 2 <= head[1] <= 5


def checkpoint_path(run_dir: Path) -> Path:
    """best.pt when early stopping kept one, else the last checkpoint."""
    for name in (BEST_FILE, CHECKPOINT_FILE):
        if (run_dir / name).is_file():
            return run_dir / name
    raise InputError(
        f"{run_dir} has no {BEST_FILE} or {CHECKPOINT_FILE} (trainer.checkpoint=false?)"
    )


def evaluate_run(run_dir: Path, overrides: list[str]) -> dict:
    """Evaluate the run's saved model with `overrides`; write and return eval.json's content."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise InputError(f"no such run directory: {run_dir}")
    cfg, names = run_config(run_dir, overrides)
    path = checkpoint_path(run_dir)
    check_eval_output(run_dir)
    experiment = build(cfg, names)
    state = load_weights(path, experiment.device)
    try:
        experiment.model.load_state_dict(state)
    except (RuntimeError, KeyError) as error:
        first = str(error).strip().splitlines()
        detail = first[1].strip() if len(first) > 1 else first[0]
        raise InputError(
            f"{path.name} does not fit the model these overrides build "
            f"({' '.join(overrides) or 'none'}): {detail}"
        ) from None
    metrics = evaluate(experiment.model, experiment.data.splits)
    result = {
        "checkpoint": path.name,
        "overrides": overrides,
        "model": names.get("model"),
        "dataset": names.get("dataset"),
        "rows": {name: len(split) for name, split in experiment.data.splits.items()},
        "metrics": flatten_metrics(metrics),
    }
    try:
        RunRecord(run_dir).write_json(EVAL_FILE, result)
    except OSError as error:  # a full disk: nothing half-written (an atomic write)
        reason = error.strerror or type(error).__name__
        raise InputError(f"{run_dir / EVAL_FILE} cannot be written ({reason})") from None
    on = " ".join(overrides) or "its own splits"
    print_table(f"{run_dir.name} ({path.name}) on {on}", result_table(metrics))
    return result


def main(argv: list[str] | None = None) -> None:
    """The dlrun-eval command: one line and exit code 2 on bad input."""
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] in ("-h", "--help"):
        print(USAGE + "\n" + __doc__.split("\n\n")[1])
        sys.exit(0)
    if not args:
        print(f"dlrun-eval: error: no run directory given ({USAGE})", file=sys.stderr)
        sys.exit(2)
    try:
        evaluate_run(Path(args[0]), args[1:])
    except InputError as error:
        print(f"dlrun-eval: error: {error}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
