"""Shared test fixtures."""
from __future__ import annotations

import numpy as np
import pytest

from globalfit.paths import shared_data_dir

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
    """``../shared/data``; tests that need a public release skip where it is absent."""
    path = shared_data_dir()
    if path is None:
        pytest.skip("../shared/data (public data releases) not present")
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
