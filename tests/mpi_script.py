"""Run under ``mpiexec -n 3``: MPIPool against serial evaluation, and error propagation.

Rank 0 prints ``MPI-OK <checks>`` when everything held; any failure exits non-zero.
"""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from globalfit.config import load_config  # noqa: E402
from globalfit.mpi import MPIPool, WorkerError, map_tasks  # noqa: E402
from globalfit.posterior import build_posterior  # noqa: E402

CARD = {
    "name": "mpi",
    "model": {"name": "plugins:DiagonalNSIModel"},
    "parameters": {"eps_ee": {"prior": "uniform", "min": -1, "max": 1},
                   "eps_mumu": {"prior": "uniform", "min": -1, "max": 1},
                   "mzp": {"value": 1.0, "unit": "GeV"}},
    "likelihoods": {"plugins:GaussianLikelihood": {}},
    "sampler": {"name": "emcee", "walkers": 8, "steps": 20, "burn_in": 5, "seed": 9},
}


def explode(x):
    if x == 3:
        raise RuntimeError("task 3 exploded on purpose")
    return x * x


def main() -> int:
    posterior = build_posterior(load_config(CARD))
    pool = MPIPool(posterior)
    if not pool.is_master():
        pool.wait()
        map_tasks(explode, list(range(6)))
        map_tasks(abs, [-1, -2, -3, -4])
        return 0
    checks = []
    thetas = np.random.default_rng(1).uniform(-1, 1, size=(11, 2))
    serial = [posterior(t) for t in thetas]
    assert pool.map(posterior, thetas) == serial
    checks.append("map")
    try:
        pool.map(explode, [1, 2, 3, 4, 5, 6])
    except WorkerError as error:
        assert "exploded on purpose" in str(error)
        checks.append("worker-error")
    assert pool.map(np.square, [1, 2, 3]) == [1, 4, 9]  # still in step after an error
    checks.append("after-error")
    pool.close()
    try:
        map_tasks(explode, list(range(6)))
    except WorkerError:
        checks.append("task-error")
    assert map_tasks(abs, [-1, -2, -3, -4]) == [1, 2, 3, 4]
    checks.append("tasks")
    print("MPI-OK", " ".join(checks), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
