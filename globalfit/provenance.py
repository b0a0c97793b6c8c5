"""``provenance.json``: what produced a run, so a result can be traced and reproduced.

Written when a run starts and updated when it (or a resumed session) ends: globalfit
version and git commit, Python / numpy / scipy / emcee versions, the command line, the
seed, the model and each likelihood's class, data files (with SHA-256 checksums) and
approximations, the official data releases read (name and SHA-256 of every file), plus
one entry per session (start/end time, steps reached, status).
"""
from __future__ import annotations

import json
import platform
import subprocess
import sys
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from globalfit import __version__
from globalfit.likelihood import file_sha256
from globalfit.paths import DATA_DIR, PROJECT_ROOT
from globalfit.physics import oscillation
from globalfit.releases import releases_read

PROVENANCE_FILE = "provenance.json"


def utc_now() -> str:
    """Current time, ISO 8601, UTC."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def git_state(root: Path = PROJECT_ROOT) -> dict[str, Any] | None:
    """Commit hash and whether the tree has uncommitted changes; ``None`` outside git."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                                text=True, timeout=10, check=True).stdout.strip()
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                                cwd=root, capture_output=True, text=True, timeout=10,
                                check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": commit, "dirty": bool(status.strip())}


def software_versions() -> dict[str, str]:
    """Versions of globalfit and the numerical packages a result depends on."""
    versions = {"globalfit": __version__, "python": platform.python_version(),
                "numpy": np.__version__, "platform": platform.platform()}
    for name in ("scipy", "emcee", "h5py"):
        try:
            versions[name] = __import__(name).__version__
        except ImportError:
            versions[name] = "not installed"
    try:               # the compiled oscillation kernel's compiler; its version without importing it
        versions["numba"] = metadata.version("numba")
    except metadata.PackageNotFoundError:
        versions["numba"] = "not installed"
    return versions


def data_file_record(path) -> dict[str, Any]:
    """Path, size and SHA-256 of one data file (or why it could not be read)."""
    path = Path(path)
    try:
        return {"path": str(path), "bytes": path.stat().st_size, "sha256": file_sha256(path)}
    except OSError as error:
        return {"path": str(path), "error": f"{type(error).__name__}: {error}"}


def run_inputs(posterior) -> dict[str, Any]:
    """Model, likelihoods (class, options, data files with checksums, approximations) and
    the official releases read (`globalfit.releases.releases_read`: name, SHA-256 of each
    file, whether all match the manifest)."""
    model = posterior.model
    config = posterior.config
    likelihoods = {}
    files_read = []
    for name, likelihood in posterior.likelihoods.items():
        files_read += likelihood.data_files()
        likelihoods[name] = {
            "class": f"{type(likelihood).__module__}:{type(likelihood).__qualname__}",
            "options": dict(getattr(likelihood, "options", {})),
            "data_files": [data_file_record(p) for p in likelihood.data_files()],
            "approximations": list(likelihood.approximations()),
        }
    return {
        "model": {"name": config.model.name if config else model.name,
                  "class": f"{type(model).__module__}:{type(model).__qualname__}",
                  "options": dict(getattr(model, "options", {}))},
        "likelihoods": likelihoods,
        "releases": releases_read(files_read),
        "oscillation_defaults": data_file_record(DATA_DIR / "oscillation" / "nufit52.yaml"),
        # which kernel computed the probabilities (globalfit.physics.oscillation, kernel=)
        "oscillation_kernels": {"constant_density": oscillation.DEFAULT_KERNEL, "layered_matter": "numpy"},
    }


def start_record(posterior, config, argv: list[str] | None = None) -> dict[str, Any]:
    """The provenance of a new run (before sampling)."""
    return {
        "run": config.name,
        "software": software_versions(),
        "git": git_state(),
        "command_line": list(sys.argv if argv is None else argv),
        "seed": config.sampler.get("seed"),
        "parameter_names": list(posterior.names),
        "blob_names": list(posterior.blob_names),
        "started_utc": utc_now(),
        "finished_utc": None,
        "inputs": _plain(run_inputs(posterior)),
        "sessions": [],
    }


def read(run_dir) -> dict[str, Any]:
    """The run's provenance record (empty if there is none)."""
    path = Path(run_dir) / PROVENANCE_FILE
    if not path.is_file():
        return {}
    try:
        return dict(json.loads(path.read_text()))
    except (ValueError, TypeError) as error:
        raise ValueError(f"{path}: not valid JSON ({error}); the file is damaged: restore it, "
                         f"or move it away to start a new record (the chain is not affected)"
                         ) from None


def write(run_dir, record: dict[str, Any]) -> Path:
    """Write the record atomically; returns the file path."""
    path = Path(run_dir) / PROVENANCE_FILE
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(_plain(record), indent=2) + "\n")
    temporary.replace(path)
    return path


def add_session(run_dir, *, command: str, argv: list[str] | None, started: str,
                steps_before: int, steps_after: int, target: int, status: str,
                posterior=None) -> dict[str, Any]:
    """Append one sampling session to the record and stamp the finishing time.

    A resumed session also checks that data files still have the checksums recorded at
    the start; any change is written under ``data_changed``.
    """
    record = read(run_dir)
    session = {"command": command, "command_line": list(sys.argv if argv is None else argv),
               "started_utc": started, "finished_utc": utc_now(),
               "steps_before": int(steps_before), "steps_after": int(steps_after),
               "target_steps": int(target), "status": status,
               "software": software_versions(), "git": git_state()}
    if posterior is not None and record.get("inputs"):
        changed = changed_data_files(record["inputs"], run_inputs(posterior))
        if changed:
            session["data_changed"] = changed
    record.setdefault("sessions", []).append(session)
    record["finished_utc"] = session["finished_utc"]
    record["status"] = status
    write(run_dir, record)
    return record


def changed_data_files(recorded: dict, current: dict) -> list[str]:
    """Data files whose checksum differs from the recorded one."""
    old = {f["path"]: f.get("sha256") for lk in recorded.get("likelihoods", {}).values()
           for f in lk.get("data_files", [])}
    new = {f["path"]: f.get("sha256") for lk in current.get("likelihoods", {}).values()
           for f in lk.get("data_files", [])}
    return sorted(p for p in set(old) | set(new) if old.get(p) != new.get(p))


def _plain(value):
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return repr(value)
