"""Shared test fixtures."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from globalfit.paths import RELEASES_ENV, releases_dir

TEAM_RELEASES = Path(__file__).resolve().parents[1].parent / "shared" / "data"
"""The team's copy of the official releases (``../shared/data``, one folder per release)."""
if not os.environ.get(RELEASES_ENV) and TEAM_RELEASES.is_dir():
    # Tests read the releases through the data folder, as a user's run would.
    os.environ[RELEASES_ENV] = str(TEAM_RELEASES)

NUFIT52_NO = {
    "th12": np.radians(33.41),
    "th13": np.radians(8.58),
    "th23": np.radians(42.2),
    "dcp": np.radians(232.0),
    "dm21": 7.41e-5,
    "dm31": 2.507e-3,
}
"""NuFIT 5.2 normal-ordering best fit with SK atmospheric data (inputs.md, VERIFIED-3P)."""


@pytest.fixture
def nufit_no():
    return dict(NUFIT52_NO)


@pytest.fixture(scope="session")
def shared_data():
    """The releases folder (``$GLOBALFIT_DATA``, by default ``../shared/data``); tests that
    need a public release skip where it is absent."""
    path = releases_dir()
    if not path.is_dir() or not any(path.iterdir()):
        pytest.skip(f"no official data releases in {path} (set {RELEASES_ENV})")
    return path


@pytest.fixture
def mpiexec() -> list[str]:
    """``mpiexec`` and, for Open MPI, the flags a container needs; skips without mpi4py or
    an MPI runtime."""
    import shutil
    import subprocess

    pytest.importorskip("mpi4py")
    exe = shutil.which("mpiexec")
    if exe is None:
        pytest.skip("mpiexec not found")
    version = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout
    openmpi = "Open MPI" in version or "OpenRTE" in version
    return [exe, *(["--allow-run-as-root", "--oversubscribe"] if openmpi else [])]
