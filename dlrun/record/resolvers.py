"""OmegaConf resolvers used by conf/config.yaml (registered with the schemas)."""

from pathlib import Path

from omegaconf import OmegaConf


def resume_requested(resume) -> bool:
    """resume=true or resume=<dir>; null, false and '' start afresh."""
    if isinstance(resume, str):
        return resume.strip().lower() not in ("", "false", "null", "none")
    return bool(resume)


def hydra_subdir(resume) -> str | None:
    """hydra.output_subdir: none when resuming, so Hydra never overwrites the .hydra/ of the run
    being continued (dlrun.job writes it for the jobs a resumed sweep starts anew)."""
    return None if resume_requested(resume) else ".hydra"


def output_dir(resume, default: str) -> str:
    """hydra.run.dir / hydra.sweep.dir: the directory named by `resume=DIR`, else a fresh one.

    The fresh directory is claimed with an exclusive mkdir, so two runs or sweeps started in the
    same instant (same timestamp) get different directories instead of sharing one.
    """
    if isinstance(resume, str) and resume_requested(resume) and resume.lower() != "true":
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
    OmegaConf.register_new_resolver("dlrun.hydra_subdir", hydra_subdir, replace=True)
