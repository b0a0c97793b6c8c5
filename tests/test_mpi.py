"""MPI pool under a real ``mpiexec -n 3`` (skips where MPI is not installed)."""
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).with_name("mpi_script.py")


@pytest.mark.mpi
def test_pool_and_error_propagation_on_three_ranks(mpiexec):
    command = mpiexec + ["-n", "3", sys.executable, str(SCRIPT)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "MPI-OK map worker-error after-error task-error tasks" in done.stdout
