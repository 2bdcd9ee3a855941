"""The one check of a composed config before any work (torch-free): unknown keys, a `_target_`
other than the option's own class, interpolations that do not resolve, and every schema's
range rules (their `__post_init__`). Each problem is one InputError line."""

import dataclasses

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import (
    InterpolationResolutionError,
    MissingMandatoryValue,
    ValidationError,
)

from dlrun.errors import InputError

GROUPS = ("model", "dataset", "optimizer", "trainer", "logger")


INT64_MAX = 2**63 - 1


def check_config(cfg: DictConfig) -> None:
    """Raise InputError naming the key, the value and what is allowed, for the first problem."""
    check_integer_sizes(OmegaConf.to_container(cfg, resolve=False))
    for group in GROUPS:
        check_known_keys(group, cfg[group])
        check_target(group, cfg[group])
        check_rules(cfg[group], prefix=f"{group}.")
    check_rules(cfg, prefix="")  # the top-level keys: DlrunConfig.__post_init__


def check_integer_sizes(value, key: str = "") -> None:
    """Every integer as typed fits in 64 bits, what torch, numpy and the file formats hold
    (beyond it, a size or seed ends in an OverflowError deep inside a library)."""
    if isinstance(value, dict):
        for name, item in value.items():
            check_integer_sizes(item, f"{key}.{name}" if key else str(name))
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, int) and not -INT64_MAX - 1 <= item <= INT64_MAX:
                raise InputError(too_large(key, value))
            check_integer_sizes(item, key)
    elif isinstance(value, int) and not isinstance(value, bool):
        if not -INT64_MAX - 1 <= value <= INT64_MAX:
            raise InputError(too_large(key, value))


def too_large(key: str, value) -> str:
    return (
        f"{key}={value} is not allowed: integers must lie within -2^63 .. 2^63 - 1 "
        f"({INT64_MAX}), what the machine's integers hold"
    )


def check_rules(node: DictConfig, prefix: str) -> None:
    """Resolve the node into its schema dataclass, which runs the schema's range rules."""
    try:
        OmegaConf.to_object(node)
    except MissingMandatoryValue as error:
        raise InputError(
            f"{error.full_key} is required: set it on the command line, e.g. {error.full_key}=..."
        ) from None
    except InterpolationResolutionError as error:
        reason = str(error.msg).splitlines()[0]
        typed = as_typed(node, error.full_key.removeprefix(prefix))
        raise InputError(f"{error.full_key}={typed} does not resolve: {reason}") from None
    except ValidationError as error:
        raise InputError(f"{error.full_key}: {error.msg}") from None
    except ValueError as error:  # require(...) in a schema's __post_init__
        raise InputError(f"{prefix}{error}") from None


def as_typed(node: DictConfig, key: str):
    """The value of a dotted key as written, interpolations unresolved."""
    value = OmegaConf.to_container(node, resolve=False)
    for part in key.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def check_known_keys(group: str, node: DictConfig) -> None:
    """Refuse keys the option's schema lacks (a `+group.key=...` override would add them)."""
    schema = OmegaConf.get_type(node)
    if not dataclasses.is_dataclass(schema):
        return
    known = [field.name for field in dataclasses.fields(schema)]
    unknown = [key for key in node.keys() if key not in known]
    if unknown:
        allowed = ", ".join(key for key in known if not key.startswith("_"))
        raise InputError(f"{group}.{unknown[0]} is not a key of this {group}; its keys: {allowed}")


def check_target(group: str, node: DictConfig) -> None:
    """Refuse a `_target_` override: an option builds its own class, nothing else is called."""
    schema = OmegaConf.get_type(node)
    own = getattr(schema, "_target_", None) if dataclasses.is_dataclass(schema) else None
    if not isinstance(own, str) or "_target_" not in node:
        return
    given = OmegaConf.to_container(node, resolve=False)["_target_"]
    if given != own:
        raise InputError(
            f"{group}._target_={given!r} is not allowed: {group} options build their own class "
            f"({own} here); choose another option with {group}=<name>"
        )
