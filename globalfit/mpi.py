"""MPI parallelism: walkers' likelihood evaluations and independent tasks on MPI ranks.

Every rank runs the same command (``mpiexec -n N globalfit run CARD --pool mpi``) and builds
the same posterior from the card (data loaded once per rank). Rank 0 runs the sampler; the
other ranks wait in `MPIPool.wait` and evaluate the points rank 0 sends them. Rank 0
evaluates a share of the points itself, so all N ranks compute.

A worker that raises does not hang the run: it returns the error with its traceback, rank 0
collects every answer of that round (so the protocol stays in step), raises `WorkerError`,
and `close` releases the workers. `map_tasks` runs independent jobs (ensembles, scan points)
one per rank.

Needs ``mpi4py`` and an MPI runtime (``pip install 'globalfit[mpi]'``; Debian:
``apt-get install openmpi-bin libopenmpi-dev``).
"""
from __future__ import annotations

import traceback
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

_TAG_TASK, _TAG_RESULT = 11, 12
_STOP = "stop"


class WorkerError(RuntimeError):
    """A worker rank raised while evaluating; the message carries its traceback."""


def _comm(comm=None):
    if comm is not None:
        return comm
    try:
        from mpi4py import MPI
    except ImportError as error:
        raise ImportError("--pool mpi needs mpi4py and an MPI runtime "
                          "(pip install 'globalfit[mpi]')") from error
    return MPI.COMM_WORLD


def _evaluate(function, items) -> tuple[str, Any]:
    try:
        batch = getattr(function, "evaluate_batch", None)   # a Posterior: all points as one batch
        if batch is not None:
            return "ok", batch(items) if items else []
        return "ok", [function(item) for item in items]
    except Exception:  # report everything to rank 0 rather than dying silently
        return "error", traceback.format_exc()


class MPIPool:
    """A pool over MPI ranks with the posterior preloaded on every rank.

    Parameters
    ----------
    posterior : object, optional
        The log-posterior each rank built itself; calls of ``map`` with this function
        (or emcee's wrapper of it) ship only the points.
    comm : MPI communicator, optional
        Defaults to ``MPI.COMM_WORLD``.
    """

    def __init__(self, posterior=None, comm=None):
        self.comm = _comm(comm)
        self.rank = self.comm.Get_rank()
        self.size = self.comm.Get_size()
        self.posterior = posterior
        self._closed = False

    def is_master(self) -> bool:
        return self.rank == 0

    # --- worker side -----------------------------------------------------------------
    def wait(self) -> None:
        """Worker loop: evaluate what rank 0 sends until it says stop."""
        if self.is_master():
            raise RuntimeError("MPIPool.wait is for worker ranks (rank > 0)")
        while True:
            message = self.comm.recv(source=0, tag=_TAG_TASK)
            if message == _STOP:
                return
            function, items = message
            function = self.posterior if function is None else function
            before = Counter(getattr(self.posterior, "failure_counts", {}))
            status, payload = _evaluate(function, items)
            after = Counter(getattr(self.posterior, "failure_counts", {}))
            self.comm.send((status, payload, dict(after - before)), dest=0, tag=_TAG_RESULT)

    # --- master side -----------------------------------------------------------------
    def _is_our_posterior(self, function: Callable) -> bool:
        target = getattr(function, "f", function)
        no_extra = not getattr(function, "args", None) and not getattr(function, "kwargs", None)
        return self.posterior is not None and target is self.posterior and no_extra

    def map(self, function: Callable, iterable: Iterable) -> list[Any]:
        """``[function(x) for x in iterable]`` in order, spread over all ranks."""
        if not self.is_master():
            raise RuntimeError("MPIPool.map is for rank 0; workers call wait()")
        items = list(iterable)
        chunks = [list(c) for c in np.array_split(np.arange(len(items)), self.size)]
        shipped = None if self._is_our_posterior(function) else function
        local_function = self.posterior if shipped is None else function
        for worker in range(1, self.size):
            self.comm.send((shipped, [items[i] for i in chunks[worker]]), dest=worker, tag=_TAG_TASK)
        results: list[Any] = [None] * len(items)
        errors = []
        status, payload = _evaluate(local_function, [items[i] for i in chunks[0]])
        answers = {0: (status, payload, {})}
        for worker in range(1, self.size):
            answers[worker] = self.comm.recv(source=worker, tag=_TAG_RESULT)
        for rank, (status, payload, failures) in answers.items():
            if status == "error":
                errors.append(f"rank {rank}:\n{payload}")
                continue
            for index, value in zip(chunks[rank], payload):
                results[index] = value
            if failures and hasattr(self.posterior, "failure_counts"):
                self.posterior.failure_counts.update(failures)
        if errors:
            raise WorkerError("evaluation failed on " + "\n".join(errors))
        return results

    def close(self) -> None:
        """Release the worker ranks (rank 0 only; idempotent)."""
        if self.is_master() and not self._closed:
            for worker in range(1, self.size):
                self.comm.send(_STOP, dest=worker, tag=_TAG_TASK)
            self._closed = True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def map_tasks(function: Callable[[Any], Any], tasks: list, comm=None) -> list[Any] | None:
    """Independent tasks (ensembles, scan points), round-robin over ranks.

    Every rank calls this with the same ``tasks``; rank ``r`` runs tasks ``r, r + N, ...``.
    Rank 0 returns all results in order; other ranks return None. A task that raises
    makes rank 0 raise `WorkerError` after every rank has finished (no hang).
    """
    comm = _comm(comm)
    rank, size = comm.Get_rank(), comm.Get_size()
    mine = {}
    for index in range(rank, len(tasks), size):
        status, payload = _evaluate(function, [tasks[index]])
        mine[index] = (status, payload[0] if status == "ok" else payload)
    gathered = comm.gather(mine, root=0)
    if rank != 0:
        return None
    merged = {k: v for part in gathered for k, v in part.items()}
    errors = [f"task {i}:\n{v}" for i, (s, v) in sorted(merged.items()) if s == "error"]
    if errors:
        raise WorkerError("tasks failed:\n" + "\n".join(errors))
    return [merged[i][1] for i in range(len(tasks))]
