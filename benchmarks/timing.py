"""CPU timing shared by the benchmark scripts (run as ``python benchmarks/NAME.py``)."""
from __future__ import annotations

import time

import numpy as np


def cpu_ms(function, batches: int = 7, per_batch: int = 100) -> tuple[float, float]:
    """(min, median) CPU milliseconds per call of ``function()`` over ``batches`` batches of
    ``per_batch`` calls, after one warm-up call (process time: the other core's load does
    not count)."""
    function()
    times = []
    for _ in range(batches):
        start = time.process_time()
        for _ in range(per_batch):
            function()
        times.append((time.process_time() - start) / per_batch * 1e3)
    return float(np.min(times)), float(np.median(times))
