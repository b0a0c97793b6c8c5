"""Local parallelism: a process pool that evaluates a `Posterior` on many points.

emcee calls ``pool.map(log_prob_fn, walkers)`` once per half-ensemble. `PosteriorPool`
sends the posterior to each worker process once (at start-up), then ships only the
parameter vectors: the points are cut into one contiguous chunk per worker and the results
come back in order, so a chain run with a pool is identical to a serial one with the same
seed (all random numbers are drawn in the parent). Each worker also reports the failures
(NaN / inf / errors) it met and the time spent per likelihood, and they are added to the
parent posterior's counters, so the end-of-run report is complete.

Workers ignore SIGINT: Ctrl-C is handled by the parent, which finishes the current step
and stops (see `globalfit.samplers.emcee_sampler`). Where ``threadpoolctl`` is installed,
each worker limits BLAS/OpenMP to one thread, so N workers use N cores.
"""
from __future__ import annotations

import multiprocessing
import signal
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

_WORKER_POSTERIOR = None
_WORKER_THREAD_LIMIT = None


def _init_worker(posterior) -> None:
    global _WORKER_POSTERIOR, _WORKER_THREAD_LIMIT
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _WORKER_POSTERIOR = posterior
    try:  # one BLAS/OpenMP thread per worker: the workers are the parallelism
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    _WORKER_THREAD_LIMIT = threadpool_limits(limits=1)


def _evaluate_chunk(thetas: list) -> tuple[list, dict[str, dict]]:
    """Evaluate in a worker; also return what this chunk added to the statistics counters
    (failures, calls, seconds per likelihood) so the parent can add it to its own."""
    posterior = _WORKER_POSTERIOR
    before = {key: Counter(counter) for key, counter in posterior.statistics().items()}
    results = posterior.evaluate_batch(thetas)
    after = posterior.statistics()
    return results, {key: dict(after[key] - before[key]) for key in before}


class PosteriorPool:
    """A ``multiprocessing`` pool with the posterior preloaded in every worker.

    Parameters
    ----------
    posterior : Posterior
        Sent to each worker once (pickled where the start method needs it).
    cores : int
        Number of worker processes (>= 1).
    start_method : str, optional
        ``"fork"`` (default where available) or ``"spawn"``.

    Use as a context manager, or call `close`.
    """

    def __init__(self, posterior, cores: int, start_method: str | None = None):
        if int(cores) < 1:
            raise ValueError(f"cores: expected a positive integer, got {cores!r}")
        if start_method is None:
            methods = multiprocessing.get_all_start_methods()
            start_method = "fork" if "fork" in methods else "spawn"
        context = multiprocessing.get_context(start_method)
        self.posterior = posterior
        self.cores = int(cores)
        self._pool = context.Pool(self.cores, initializer=_init_worker, initargs=(posterior,))

    def _is_our_posterior(self, function: Callable) -> bool:
        # emcee wraps the log-probability in a _FunctionWrapper(f, args, kwargs)
        target = getattr(function, "f", function)
        no_extra = not getattr(function, "args", None) and not getattr(function, "kwargs", None)
        return target is self.posterior and no_extra

    def map(self, function: Callable, iterable: Iterable) -> list[Any]:
        """``[function(x) for x in iterable]``, in order, computed by the workers."""
        items = list(iterable)
        if not self._is_our_posterior(function):
            return self._pool.map(function, items)
        if not items:
            return []
        chunks = [list(chunk) for chunk in np.array_split(np.arange(len(items)), self.cores)
                  if len(chunk)]
        payload = [[items[i] for i in chunk] for chunk in chunks]
        results = []
        statistics = self.posterior.statistics()
        for values, added in self._pool.map(_evaluate_chunk, payload):
            results.extend(values)
            for key, counts in added.items():
                statistics[key].update(counts)
        return results

    def close(self) -> None:
        """Stop the workers after their current task."""
        self._pool.close()
        self._pool.join()

    def terminate(self) -> None:
        """Stop the workers now."""
        self._pool.terminate()
        self._pool.join()

    def __enter__(self):
        return self

    def __exit__(self, kind, value, traceback):
        if kind is None:
            self.close()
        else:
            self.terminate()
        return False


_TASK: Callable[[int], Any] | None = None


def _run_task(index: int):
    return _TASK(index)


def ordered_map(function: Callable[[Any], Any], items: list, cores: int = 1,
                progress: str | None = None) -> list:
    """``[function(item) for item in items]``, on up to ``cores`` forked processes.

    ``function`` may be a closure (the workers are forked, so it is inherited, not
    pickled); its results must be picklable. Results come back in the order of ``items``;
    ``progress`` labels a bar over the items (`globalfit.progress`).
    """
    from globalfit.progress import progress_bar

    global _TASK
    items = list(items)
    if int(cores) != cores or cores < 1:
        raise ValueError(f"--cores: need a positive integer, got {cores!r}")
    out = []
    with progress_bar(len(items), progress, unit="task") as bar:
        if cores == 1 or len(items) <= 1:
            for item in items:
                out.append(function(item))
                bar.update()
            return out
        _TASK = lambda index: function(items[index])  # noqa: E731
        try:
            context = multiprocessing.get_context("fork")
            with context.Pool(min(int(cores), len(items))) as pool:
                for result in pool.imap(_run_task, range(len(items))):
                    out.append(result)
                    bar.update()
        finally:
            _TASK = None
    return out
