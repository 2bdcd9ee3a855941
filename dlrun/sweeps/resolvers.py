"""OmegaConf resolvers used by conf/config.yaml (registered with the schemas)."""

from pathlib import Path

from omegaconf import OmegaConf


def output_dir(resume, default: str) -> str:
    """hydra.run.dir / hydra.sweep.dir: the directory named by `resume=DIR`, else a fresh one.

    The fresh directory is claimed with an exclusive mkdir, so two runs or sweeps started in the
    same instant (same timestamp) get different directories instead of sharing one.
    """
    if isinstance(resume, str) and resume.lower() not in ("true", "false", ""):
        return str(Path(resume).expanduser())
    path, n = Path(default), 1
    while True:
        try:
            path.mkdir(parents=True, exist_ok=False)
            return str(path)
        except FileExistsError:
            n += 1
            path = Path(f"{default}-{n}")


def register_resolvers() -> None:
    # cached: every later resolution (and every job of a sweep) sees the same directory
    OmegaConf.register_new_resolver("dlrun.output_dir", output_dir, use_cache=True, replace=True)
