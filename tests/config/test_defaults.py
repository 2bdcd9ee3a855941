"""Each default is stated once, in its schema (dlrun/config/): an option YAML states only what
differs from it, and dlrun's own constructors give no default to a key their schema has."""

import dataclasses
import inspect
from enum import Enum
from pathlib import Path

import pytest
from hydra.utils import get_class
from omegaconf import OmegaConf

from dlrun.config import SCHEMAS
from dlrun.config.settings import DlrunConfig
from dlrun.paths import config_dir

SCHEMA_PREFIX = "/schema."


def schema_defaults(schema: type) -> dict:
    """Field name -> default, for the fields of a schema dataclass that have one."""
    defaults = {}
    for field in dataclasses.fields(schema):
        if field.default is not dataclasses.MISSING:
            defaults[field.name] = field.default
        elif field.default_factory is not dataclasses.MISSING:
            defaults[field.name] = field.default_factory()
    return defaults


def plain(value):
    """A default or a YAML value as plain data, so that the two compare."""
    if isinstance(value, Enum):
        return value.value
    if dataclasses.is_dataclass(value):
        return {k: plain(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def extended_schema(node, group: str) -> type | None:
    """The schema an option YAML extends through `/schema.<group>.<name>@_here_`."""
    for entry in node.get("defaults", []):
        if isinstance(entry, str) and entry.startswith(f"{SCHEMA_PREFIX}{group}."):
            return SCHEMAS[group][entry[len(SCHEMA_PREFIX) + len(group) + 1 :].split("@")[0]]
    return None


def repeated_keys(values: dict, defaults: dict) -> list[str]:
    """The keys of `values` whose value equals the schema's default (compared as plain data)."""
    return [
        key
        for key, value in values.items()
        if key in defaults and plain(value) == plain(defaults[key])
    ]


def option_files() -> list[tuple[str, Path]]:
    return [(g, p) for g in SCHEMAS for p in sorted((config_dir() / g).glob("*.yaml"))]


@pytest.mark.parametrize(
    "group, path", option_files(), ids=[f"{g}={p.stem}" for g, p in option_files()]
)
def test_an_option_yaml_states_only_what_differs_from_its_schema(group, path):
    node = OmegaConf.load(path)
    schema = extended_schema(node, group)
    values = OmegaConf.to_container(node, resolve=False)
    values.pop("defaults", None)
    if schema is None:  # an option extending another option (trainer=full_batch)
        parent = next(e for e in node.defaults if isinstance(e, str) and "/" not in e)
        schema = extended_schema(OmegaConf.load(path.with_name(f"{parent}.yaml")), group)
    assert schema is not None, f"{path} extends no schema"
    assert repeated_keys(values, schema_defaults(schema)) == []


def test_the_primary_config_states_no_top_level_default():
    values = OmegaConf.to_container(OmegaConf.load(config_dir() / "config.yaml"), resolve=False)
    assert repeated_keys(values, schema_defaults(DlrunConfig)) == []
    assert set(values) <= {"defaults", "hydra"}


def own_targets() -> list[tuple[str, type]]:
    """(group/name, schema) of every schema whose target is one of dlrun's own classes."""
    found = []
    for group, schemas in SCHEMAS.items():
        for name, schema in schemas.items():
            target = schema_defaults(schema).get("_target_")
            if isinstance(target, str) and target.startswith("dlrun."):
                found.append((f"{group}/{name}", schema))
    return found


@pytest.mark.parametrize("schema", [s for _, s in own_targets()], ids=[n for n, _ in own_targets()])
def test_a_constructor_gives_no_default_to_a_key_of_its_schema(schema):
    target = get_class(schema_defaults(schema)["_target_"])
    parameters = inspect.signature(target).parameters
    keys = {field.name for field in dataclasses.fields(schema)}
    with_default = [
        name
        for name, parameter in parameters.items()
        if name in keys and parameter.default is not inspect.Parameter.empty
    ]
    assert with_default == []


def test_the_check_finds_a_repeated_default():
    """The checks above can fail: a YAML repeating a default is caught."""
    schema = SCHEMAS["optimizer"]["sgd"]
    assert repeated_keys({"lr": 0.1, "momentum": 0.9}, schema_defaults(schema)) == ["lr"]
