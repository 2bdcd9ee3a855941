"""Typed schemas behind the YAML configs, registered in Hydra's ConfigStore: one module per group.

A wrong type fails at composition with Hydra's own message; a value out of range fails in
`__post_init__`, which `dlrun.config.validate.check_config` runs before any work starts.
Each YAML option extends its schema through its defaults list (`/schema.<group>.<name>@_here_`).
The schemas are top-level configs, not a config group: Hydra lists groups in `dlrun --help` and
in shell completion, and a schema is not an option to pick.
"""

from hydra.core.config_store import ConfigStore

from dlrun.config import dataset, model, optimizer, trainer
from dlrun.config.settings import DlrunConfig

SCHEMAS: dict[str, dict[str, type]] = {
    "model": model.SCHEMAS,
    "dataset": dataset.SCHEMAS,
    "optimizer": optimizer.SCHEMAS,
    "trainer": trainer.TRAINER_SCHEMAS,
    "logger": trainer.LOGGER_SCHEMAS,
}


def register_schemas() -> None:
    """Put every schema into Hydra's ConfigStore as the config schema.<group>.<name>."""
    from dlrun.record.resolvers import register_resolvers

    register_resolvers()
    store = ConfigStore.instance()
    store.store(name="dlrun_schema", node=DlrunConfig)
    for group, schemas in SCHEMAS.items():
        for name, node in schemas.items():
            store.store(name=f"schema.{group}.{name}", node=node)
