"""Reading a run's ``chain.h5`` defensively: every reader checks the file before trusting it.

A chain file is emcee's ``HDFBackend`` layout: group ``mcmc`` with attributes
``iteration``, ``nwalkers``, ``ndim``, ``has_blobs`` and datasets ``chain`` (steps,
walkers, ndim), ``log_prob`` (steps, walkers), ``accepted`` (walkers) and, with blobs,
``blobs`` (steps, walkers). `check_chain` verifies all of it (an empty, truncated or
foreign file, a missing group, a dataset shorter than the step count, shapes that
disagree) and raises `ChainFileError` naming the file, what is wrong and the fix.

`ChainReader` is the backend readers use: it opens the file without HDF5's file lock
(``locking=False``), so that reading a chain never blocks the single writer (`globalfit.
runlock` guarantees there is only one), and it turns a read failure into `ChainFileError`.
"""
from __future__ import annotations

from pathlib import Path

import emcee
import h5py
import numpy as np

CHAIN_FILE = "chain.h5"
GROUP = "mcmc"
REQUIRED_ATTRS = ("iteration", "nwalkers", "ndim")
FIX = ("restore it from a backup, or start the run afresh with `globalfit run CARD --output "
       "RUN_DIR --force` (this deletes the run folder)")


class ChainFileError(ValueError):
    """A chain file that is damaged or inconsistent; the message names it and the fix."""


def _damaged(path, what: str) -> ChainFileError:
    from globalfit.runlock import is_locked

    owner = is_locked(Path(path).parent)
    if owner is not None:
        return ChainFileError(f"{path}: {what}; a run is writing it right now (process "
                              f"{owner.get('pid', '?')} on {owner.get('host', '?')}): retry "
                              f"in a moment")
    return ChainFileError(f"{path}: {what}: the chain file is damaged; {FIX}")


def open_chain_file(path, mode: str = "r") -> h5py.File:
    """``h5py.File`` without HDF5's file lock; an unreadable file is a `ChainFileError`."""
    try:
        return h5py.File(path, mode, locking=False)
    except FileNotFoundError:
        raise
    except (OSError, ValueError) as error:
        text = " ".join(str(error).split())
        if Path(path).is_file() and Path(path).stat().st_size == 0:
            reason = "is empty (0 bytes)"
        elif "signature" in text:
            reason = "is not an HDF5 file"
        elif "truncated" in text or "eof" in text.lower():
            reason = "is truncated"
        else:
            reason = f"cannot be read ({text[:160]})"
        raise _damaged(path, reason) from None


def check_chain(path: str | Path, group: str = GROUP) -> int:
    """Check the chain file at ``path`` and return its number of saved steps.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ChainFileError
        If the file is not a readable HDF5 file, lacks ``group`` or one of its attributes
        or datasets, or their shapes disagree with each other or with ``iteration``.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found (has the run started?)")
    with open_chain_file(path) as handle:
        try:
            return _check_group(path, handle, group)
        except (OSError, KeyError, TypeError, ValueError) as error:
            if isinstance(error, ChainFileError):
                raise
            raise _damaged(path, f"group {group!r} cannot be read "
                                 f"({type(error).__name__}: {str(error)[:160]})") from None


def _check_group(path: Path, handle: h5py.File, group: str) -> int:
    if group not in handle:
        raise _damaged(path, f"has no {group!r} group (groups: "
                             f"{', '.join(list(handle)[:8]) or 'none'})")
    node = handle[group]
    if not isinstance(node, h5py.Group):
        raise _damaged(path, f"{group!r} is not a group")
    missing = [a for a in REQUIRED_ATTRS if a not in node.attrs]
    if missing:
        raise _damaged(path, f"group {group!r} lacks the attributes {', '.join(missing)}")
    steps, walkers, ndim = (int(node.attrs[a]) for a in REQUIRED_ATTRS)
    if steps < 0 or walkers < 1 or ndim < 0:
        raise _damaged(path, f"iteration {steps}, nwalkers {walkers}, ndim {ndim} are not "
                             f"valid sizes")
    expected = {"chain": (walkers, ndim), "log_prob": (walkers,)}
    if bool(node.attrs.get("has_blobs", False)):
        expected["blobs"] = (walkers,)
    for name, tail in expected.items():
        if name not in node:
            raise _damaged(path, f"group {group!r} has no dataset {name!r}")
        shape = node[name].shape
        if tuple(shape[1:])[: len(tail)] != tail or shape[0] < steps:
            raise _damaged(path, f"dataset {group}/{name} has shape {shape}, but the file "
                                 f"records {steps} steps of {walkers} walkers in {ndim} "
                                 f"dimensions")
    if "accepted" not in node or node["accepted"].shape != (walkers,):
        raise _damaged(path, f"dataset {group}/accepted is missing or not of {walkers} walkers")
    names = node.attrs.get("parameter_names")
    if names is not None and len(names) != ndim:
        raise _damaged(path, f"{len(names)} parameter names for {ndim} dimensions")
    if steps:  # the last saved step must be readable (a truncated file fails here)
        np.asarray(node["chain"][steps - 1])
        np.asarray(node["log_prob"][steps - 1])
    return steps


def saved_steps(run_dir: str | Path) -> int:
    """Steps saved in ``run_dir/chain.h5``: 0 if there is no chain file or an HDF5 file with
    no group yet; `ChainFileError` if it is damaged (``mcmc`` group missing among others)."""
    path = Path(run_dir) / CHAIN_FILE
    if not path.exists():
        return 0
    if path.is_file() and path.stat().st_size > 0:
        with open_chain_file(path) as handle:
            if len(handle) == 0:  # created, not yet initialised (emcee's reset)
                return 0
    return check_chain(path)


class ChainReader(emcee.backends.HDFBackend):
    """Read-only emcee backend of a checked chain file (`check_chain` runs first), opened
    without HDF5's file lock; read failures become `ChainFileError`."""

    def __init__(self, path: str | Path, name: str = GROUP):
        check_chain(path, name)
        super().__init__(str(path), name=name, read_only=True)

    def open(self, mode: str = "r"):
        handle = open_chain_file(self.filename, mode)
        if not self.dtype_set and self.name in handle and "chain" in handle[self.name]:
            self.dtype = handle[self.name]["chain"].dtype
            self.dtype_set = True
        return handle

    def get_value(self, name, flat=False, thin=1, discard=0):
        try:
            return super().get_value(name, flat=flat, thin=thin, discard=discard)
        except (OSError, KeyError) as error:
            raise _damaged(self.filename, f"reading {name!r} failed ({str(error)[:160]})"
                           ) from None
