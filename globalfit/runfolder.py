"""Run folders: creating one (resolved card + provenance), refusing to overwrite, seeds.

A run folder ``chains/<name>/`` holds ``config.yaml`` (the resolved card), ``provenance.json``
and what the sampler wrote (``chain.h5``, ``diagnostics.json``, ``evidence.csv``,
``scan.csv``...); `globalfit.load` reads it back.
"""
from __future__ import annotations

import secrets
import shutil
from pathlib import Path

from globalfit import provenance
from globalfit.chainfile import saved_steps
from globalfit.config import RunConfig
from globalfit.runlock import LOCK_FILE, RunLockError, describe_owner, is_locked

RUN_MARKERS = ("config.yaml", "chain.h5", "provenance.json", "scan.csv")
"""Files that make a folder a globalfit run folder."""


def check_run_dir(run_dir: Path, force: bool) -> bool:
    """Whether ``run_dir`` holds a run that ``force`` allows to replace (False: empty/new).

    Raises
    ------
    ValueError
        If the folder holds a run and ``force`` is not set (suggesting ``resume``), or it
        holds other files (never deleted).
    """
    run_dir = Path(run_dir)
    if not (run_dir.exists() and any(p.name != LOCK_FILE for p in run_dir.iterdir())):
        return False
    owner = is_locked(run_dir)
    if owner is not None:
        raise RunLockError(f"output {run_dir}: is being written by {describe_owner(owner)}; "
                           f"wait for it to finish, or choose another output folder")
    if not any((run_dir / marker).exists() for marker in RUN_MARKERS):
        raise ValueError(f"output {run_dir}: folder exists and is not a globalfit run "
                         f"folder; choose another output folder (nothing was deleted)")
    if not force:
        raise ValueError(f"output {run_dir}: already holds a run; continue it with "
                         f"`globalfit resume {run_dir}` (globalfit.resume) or start afresh "
                         f"with --force (force=True)")
    return True


def prepare_run(config: RunConfig, posterior, *, force: bool = False,
                arguments: dict | None = None, card: str | None = None) -> None:
    """Create the run folder (with ``force``, replacing the run it holds; the lock file of
    this writer stays) and write the resolved card (``config.yaml``) and the provenance
    record."""
    run_dir = Path(config.output)
    if check_run_dir(run_dir, force):
        for path in run_dir.iterdir():
            if path.name == LOCK_FILE:
                continue
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
    run_dir.mkdir(parents=True, exist_ok=True)
    config.write(run_dir / "config.yaml")
    record = provenance.start_record(posterior, config)
    record["card"] = card or config.source
    if arguments is not None:
        record["arguments"] = arguments
    provenance.write(run_dir, record)


def ensure_seed(config: RunConfig) -> None:
    """A run without ``sampler.seed`` gets a random one (recorded in its folder)."""
    if config.sampler.get("seed") is None:
        config.sampler["seed"] = secrets.randbelow(2**32)


def stored_steps(run_dir: Path) -> int:
    """Steps already saved in ``run_dir/chain.h5`` (0 if none; `globalfit.chainfile.
    ChainFileError` if the file is damaged)."""
    return saved_steps(run_dir)
