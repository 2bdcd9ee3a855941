"""What makes two runs the same run: the composed config without the keys that only say how a
run is executed, resumed, logged or reported.

The one list of those keys (NOT_IDENTITY) is shared by resume (a run continues only with its own
configuration), a resumed sweep (jobs matched by config hash) and the comparison tables, which
also aggregate over the replicate keys (seeds) instead of pivoting on them. No torch here.
"""

import hashlib
import json

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import InterpolationResolutionError

# top-level keys that change how a run is executed, resumed, logged or reported, never its
# numbers beyond the low bits (threads: a resumed run keeps its checkpoint's thread count)
NOT_IDENTITY = (
    "resume",
    "on_error",
    "report",
    "logger",
    "threads",
    "device",
    "objective",
)
# keys that make replicates of one configuration: part of a run's identity, but aggregated
# (mean ± std) by the comparison tables rather than pivoted on
REPLICATE_KEYS = ("seed", "repeats")
SHOWN_DIFFERENCES = 4  # keys named in a refusal; the rest are counted


def identity(cfg: DictConfig) -> dict:
    """The resolved config as a plain dict, without `hydra` and the NOT_IDENTITY keys."""
    kept = [key for key in cfg.keys() if key not in (*NOT_IDENTITY, "hydra")]
    content = OmegaConf.masked_copy(cfg, kept)
    try:
        return OmegaConf.to_container(content, resolve=True, enum_to_str=True)
    except InterpolationResolutionError:  # refused by check_config; as typed, it still names
        return OmegaConf.to_container(content, resolve=False, enum_to_str=True)


def config_hash(cfg: DictConfig) -> str:
    """A short hash of identity(cfg): what job.json records and a resumed sweep matches."""
    text = json.dumps(identity(cfg), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def flatten(content: dict, prefix: str = "") -> dict[str, object]:
    """{'optimizer': {'lr': 0.1}} -> {'optimizer.lr': 0.1}."""
    flat = {}
    for key, value in content.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat |= flatten(value, f"{name}.")
        else:
            flat[name] = value
    return flat


def differences(before: dict, now: dict) -> list[str]:
    """'optimizer.lr=0.5 (was 0.1)' for every dotted key whose value differs, sorted by key."""
    old, new = flatten(before), flatten(now)
    missing = "(unset)"
    keys = sorted(
        key for key in old.keys() | new.keys() if old.get(key, missing) != new.get(key, missing)
    )
    return [f"{key}={new.get(key, missing)} (was {old.get(key, missing)})" for key in keys]


def describe_differences(found: list[str]) -> str:
    """The first few differences on one line, and how many more there are."""
    shown = ", ".join(found[:SHOWN_DIFFERENCES])
    more = len(found) - SHOWN_DIFFERENCES
    return shown if more <= 0 else f"{shown} and {more} more"
