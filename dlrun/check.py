"""dlrun-check: compose every option of every group and every experiment, validate each against
its schema, and build every model on a few rows of data it fits; report all problems at once.

    dlrun-check            exit 0 when everything passes, 1 otherwise
"""

import sys
import traceback
from functools import partial

import torch
from hydra.utils import get_class
from omegaconf import OmegaConf
from rich.console import Console
from rich.table import Table

from dlrun.build import build
from dlrun.config.compose import compose_config, options
from dlrun.config.options import datasets_of_kind
from dlrun.config.validate import GROUPS as CONFIG_GROUPS
from dlrun.config.validate import check_config
from dlrun.errors import InputError

GROUPS = (*CONFIG_GROUPS, "experiment")
USER_FILES = ("csv", "npz")  # need a path from the user: composed and typed, not loaded
TINY = ("seq_len=8", "trainer.batch_size=4")


def data_for(model: str) -> list[str]:
    """Overrides choosing a small dataset the model fits (a GLM's synthetic family, digits, or
    the first dataset of a kind the model accepts)."""
    cfg, names = compose_config(f"model={model}")
    family = cfg.model.get("family")
    if family is not None:
        return [f"dataset=synthetic_{family}", "dataset.n_samples=40"]
    accepts = get_class(cfg.model._target_).accepts
    if names["dataset"] in datasets_of_kind(accepts):
        return []  # the model's own default data (e.g. the adding problem for sequence models)
    fitting = [name for name in datasets_of_kind(accepts) if name not in USER_FILES]
    return ["dataset=digits"] if "digits" in fitting else [f"dataset={fitting[0]}"]


def check_option(group: str, option: str) -> None:
    """Compose group=option and run its schema's checks (raises on a problem)."""
    cfg, _ = compose_config(f"{group}={option}")
    if OmegaConf.missing_keys(cfg) and group == "dataset" and option in USER_FILES:
        return
    check_config(cfg)


def check_model(model: str) -> None:
    """Build the model on data it fits and take one forward and backward pass on 4 rows."""
    cfg, names = compose_config(f"model={model}", *data_for(model), *TINY)
    experiment = build(cfg, names)
    train = experiment.data.train
    loss = experiment.model.loss(train.X[:4], train.y[:4])
    if not torch.isfinite(loss):
        raise ValueError(f"loss on 4 rows is {float(loss)}")
    if loss.requires_grad:
        loss.backward()


def problems() -> list[tuple[str, str, str]]:
    """(what, option, problem) for every check that failed; every check runs."""
    checks = [(g, o, partial(check_option, g, o)) for g in GROUPS for o in options(g)]
    checks += [("model build", o, partial(check_model, o)) for o in options("model")]
    found = []
    for what, option, check in checks:
        try:
            check()
        except InputError as error:
            found.append((what, option, str(error)))
        except Exception as error:  # noqa: BLE001 - report every problem, whatever it is
            last = traceback.extract_tb(error.__traceback__)[-1]
            where = f" ({last.filename.rsplit('/', 1)[-1]}:{last.lineno})"
            found.append((what, option, f"{type(error).__name__}: {error}{where}"))
    return found


def main() -> None:
    counts = {group: len(options(group)) for group in GROUPS}
    found = problems()
    console = Console()
    summary = ", ".join(f"{n} {group} options" for group, n in counts.items())
    if not found:
        console.print(f"dlrun-check: all good ({summary}; every model built and stepped)")
        sys.exit(0)
    table = Table(title=f"dlrun-check: {len(found)} problem(s)")
    for column in ("check", "option", "problem"):
        table.add_column(column)
    for row in found:
        table.add_row(*row)
    console.print(table)
    sys.exit(1)


if __name__ == "__main__":
    main()
