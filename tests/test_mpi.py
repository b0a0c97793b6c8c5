"""MPI pool under a real ``mpiexec -n 3`` (skips where MPI is not installed)."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).with_name("mpi_script.py")


def _mpiexec() -> list[str]:
    pytest.importorskip("mpi4py")
    exe = shutil.which("mpiexec")
    if exe is None:
        pytest.skip("mpiexec not found")
    version = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout
    extra = ["--allow-run-as-root", "--oversubscribe"] if "Open MPI" in version or "OpenRTE" in version else []
    return [exe, *extra]


@pytest.mark.mpi
def test_pool_and_error_propagation_on_three_ranks():
    command = _mpiexec() + ["-n", "3", sys.executable, str(SCRIPT)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "MPI-OK map worker-error after-error task-error tasks" in done.stdout
