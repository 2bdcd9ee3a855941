"""The options of a config group as its YAML files say (conf/<group>/*.yaml): which class an
option builds, and which dataset options yield a kind of data (named when a model is refused)."""

from hydra.utils import get_class
from omegaconf import OmegaConf

from dlrun.config import SCHEMAS
from dlrun.paths import config_dir


def option_target(group: str, path) -> str | None:
    """The _target_ of a group option's YAML: its own, or that of the schema it extends."""
    node = OmegaConf.load(path)
    if "_target_" in node:
        return node._target_
    for entry in node.get("defaults", []):
        prefix = f"/schema.{group}."
        if isinstance(entry, str) and entry.startswith(prefix):
            schema = SCHEMAS[group][entry[len(prefix) :].split("@")[0]]
            return schema._target_
    return None


def datasets_of_kind(kinds: tuple[str, ...]) -> list[str]:
    """The dataset options (conf/dataset/*.yaml) whose source yields one of `kinds`."""
    names = []
    for path in sorted((config_dir() / "dataset").glob("*.yaml")):
        target = option_target("dataset", path)
        if target is not None and get_class(target).kind in (*kinds, "any"):
            names.append(path.stem)
    return names
