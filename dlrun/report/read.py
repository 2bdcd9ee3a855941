"""Reading run records: the run directories under some paths, and each one's summary.json,
overrides and Hydra choices."""

import json
import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from omegaconf import OmegaConf

from dlrun.errors import InputError

# dlrun.record's name for it; importing it from there would load torch
SUMMARY_FILE = "summary.json"
OK, FAILED, DIVERGED, SKIPPED = "completed", "failed", "diverged", "skipped"
# a summary.json that does not parse: listed with the failures, its cell marked
UNREADABLE = "unreadable"
LEADING_NUMBER = re.compile(r"\d+")


@dataclass
class Run:
    """One run record: where it is, how it ended, its overrides and its final metrics."""

    directory: Path
    status: str
    error: str | None
    overrides: dict[str, str]
    summary: dict

    def value(self, key: str):
        """The run's value of a config key: its override, its group choice, or its config."""
        if key in self.overrides:
            return parse_value(self.overrides[key])
        choices = self.hydra_choices()
        if key in choices:
            return choices[key]
        config = self.load_yaml("config.yaml")
        if config is not None:
            found = OmegaConf.select(OmegaConf.create(config), key, default=None)
            if found is not None and not OmegaConf.is_config(found):
                return found
        return self.summary.get(key)

    def metric(self, name: str) -> float | None:
        """A metric of summary.json, or one of its top-level numbers (n_params, train_time_s)."""
        value = (self.summary.get("metrics") or {}).get(name, self.summary.get(name))
        return value if isinstance(value, int | float) and not isinstance(value, bool) else None

    def job_file(self) -> dict:
        """job.json of the run's job: dlrun.job writes it into the job's directory, the
        parent of a repeat's."""
        for directory in (self.directory, self.directory.parent):
            if (directory / "job.json").is_file():
                return read_record_file(directory / "job.json", json.loads, dict)
        return {}

    def hydra_dir(self) -> Path | None:
        """The .hydra folder of the run's job (repeats write one record per seed below it)."""
        for directory in (self.directory, self.directory.parent):
            if (directory / ".hydra").is_dir():
                return directory / ".hydra"
        return None

    def load_yaml(self, name: str):
        """A file of the job's .hydra folder, parsed; None when there is none."""
        hydra_dir = self.hydra_dir()
        if hydra_dir is None or not (hydra_dir / name).is_file():
            return None
        shape = list if name == "overrides.yaml" else dict
        return read_record_file(hydra_dir / name, yaml.safe_load, shape)

    def hydra_choices(self) -> dict:
        """The config group choices of the run (model, dataset, ...), Hydra's own left out."""
        choices = self.job_file().get("choices")
        if choices is None:
            hydra = self.load_yaml("hydra.yaml") or {}
            choices = hydra.get("hydra", {}).get("runtime", {}).get("choices", {})
        return {k: v for k, v in choices.items() if not k.startswith("hydra")}


def read_record_file(path: Path, parse, shape: type):
    """A job.json or .hydra/ file as dlrun and Hydra write it (a `shape`, or empty); one that
    is not is refused in one line, as the report's rows and columns are read from it."""
    try:
        content = parse(path.read_text())
        valid = content is None or isinstance(content, shape)
    except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError) as error:
        valid, content = False, error
    if not valid:
        kind = {dict: "a mapping", list: "a list"}[shape]
        why = "does not parse" if isinstance(content, Exception) else f"not {kind}"
        raise InputError(
            f"{path} is damaged ({why}); allowed: the file as dlrun and Hydra wrote it, or "
            "leave that run out of the paths"
        )
    return content


def parse_value(text: str):
    """'20' -> 20, '0.1' -> 0.1, anything else stays text (for sorting and plotting)."""
    for convert in (int, float):
        try:
            return convert(text)
        except (TypeError, ValueError):
            pass
    return text


def parse_overrides(lines: list[str]) -> dict[str, str]:
    """['model=mlp', '+x.y=2'] -> {'model': 'mlp', 'x.y': '2'}."""
    pairs = {}
    for line in lines:
        key, _, value = str(line).partition("=")
        pairs[key.lstrip("+~")] = value
    return pairs


def find_run_dirs(paths: list[Path]) -> list[Path]:
    """Every directory at or below `paths` that holds a summary.json, in a stable order."""
    found = []
    for path in map(Path, paths):
        if path.is_file() and path.name == SUMMARY_FILE:
            found.append(path.parent)
        elif path.is_dir():
            found.extend(summary.parent for summary in path.rglob(SUMMARY_FILE))
    return sorted(dict.fromkeys(found), key=lambda path: [name_key(part) for part in path.parts])


def name_key(name: str) -> tuple[int, int, str]:
    """Job directories in order: by their leading number, then by name, so a resumed job's
    `0-f2e5d736` sorts beside `0`, `1`, `10`; names without a number come last."""
    number = LEADING_NUMBER.match(name)
    return (0, int(number.group()), name) if number else (1, 0, name)


def read_summary(path: Path) -> tuple[dict, str | None]:
    """summary.json as a dict, or ({}, why) when it does not parse."""
    try:
        summary = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        return {}, f"{path}: does not parse ({error})"
    if not isinstance(summary, dict):
        return {}, f"{path}: does not parse (a JSON {type(summary).__name__}, not an object)"
    if not isinstance(summary.get("metrics") or {}, dict):
        return {}, f"{path}: does not parse (its metrics are not an object)"
    return summary, None


def load_run(directory: Path) -> Run:
    """The run record in `directory`; one whose summary.json does not parse is `unreadable`."""
    summary, unreadable = read_summary(directory / SUMMARY_FILE)
    status = UNREADABLE if unreadable else str(summary.get("status", "unknown"))
    run = Run(directory, status, unreadable or summary.get("error"), {}, summary)
    overrides = run.job_file().get("overrides")
    if overrides is None:
        overrides = run.load_yaml("overrides.yaml") or []
    run.overrides = parse_overrides(overrides)
    return run


def load_runs(paths: list[Path]) -> list[Run]:
    """The run records under `paths` (run directories or sweep directories)."""
    return [load_run(directory) for directory in find_run_dirs(paths)]
