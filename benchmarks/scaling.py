"""Wall time of one fixed emcee run with 1 and 2 (or more) worker processes.

    python benchmarks/scaling.py [--card configs/default.yaml] [--walkers 16] [--steps 20]
                                 [--cores 1 2]

Runs the same card, seed, walkers and steps with each number of processes into a temporary
folder, checks that the chains are identical (the pool must not change results), and prints
the wall times, the time per posterior evaluation and the speed-up against one process.
Goal (issue #7): above 1.7x on 2 cores for a likelihood of about 1 ms.
Set OMP_NUM_THREADS=1 so that numpy does not compete with the worker processes.

The script first measures what the machine itself delivers: the same pure-Python CPU loop in
1 and N processes at once ("machine capacity"). The pool's speed-up is only meaningful
against that figure (a machine whose vCPUs share one physical core gives ~1x for anything).
"""
from __future__ import annotations

import argparse
import multiprocessing
import tempfile
import time
import warnings
from pathlib import Path

import emcee
import numpy as np

from globalfit.config import load_config
from globalfit.paths import CONFIG_DIR
from globalfit.posterior import build_posterior
from globalfit.samplers.emcee_sampler import ChainNotConvergedWarning, run_emcee


def timed_run(card: Path, walkers: int, steps: int, cores: int, folder: Path) -> tuple[float, np.ndarray]:
    config = load_config(card)
    config.sampler.update({"walkers": walkers, "steps": steps, "burn_in": 0, "seed": 12345})
    posterior = build_posterior(config)
    start = time.perf_counter()
    run_emcee(posterior, config, folder, cores=cores, progress=False)
    elapsed = time.perf_counter() - start
    chain = emcee.backends.HDFBackend(str(folder / "chain.h5"), read_only=True).get_chain()
    return elapsed, chain


def _cpu_loop(n: int) -> float:
    start = time.perf_counter()
    total = 0
    for i in range(n):
        total += i * i
    return time.perf_counter() - start


def machine_capacity(processes: int, n: int = 3_000_000) -> float:
    """Speed-up of ``processes`` copies of a CPU-bound loop run at once vs one after another."""
    start = time.perf_counter()
    for _ in range(processes):
        _cpu_loop(n)
    serial = time.perf_counter() - start
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        start = time.perf_counter()
        pool.map(_cpu_loop, [n] * processes)
        parallel = time.perf_counter() - start
    return serial / parallel


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--card", type=Path, default=CONFIG_DIR / "default.yaml")
    parser.add_argument("--walkers", type=int, default=16)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--cores", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    # short benchmark chains warn about their length: that warning only
    warnings.simplefilter("ignore", ChainNotConvergedWarning)
    evaluations = args.walkers * (args.steps + 1)
    print(f"card {args.card}: {args.walkers} walkers x {args.steps} steps "
          f"({evaluations} posterior evaluations)")
    for cores in args.cores[1:]:
        print(f"machine capacity with {cores} processes (pure CPU loop): "
              f"{machine_capacity(cores):.2f}x")
    with tempfile.TemporaryDirectory() as tmp:
        times, chains = {}, {}
        for cores in args.cores:
            times[cores], chains[cores] = timed_run(args.card, args.walkers, args.steps, cores,
                                                    Path(tmp) / f"cores{cores}")
        reference = args.cores[0]
        for cores in args.cores:
            same = np.array_equal(chains[cores], chains[reference])
            print(f"  {cores} process(es): {times[cores]:7.2f} s  "
                  f"{1e3 * times[cores] / evaluations:6.2f} ms/evaluation  "
                  f"speed-up {times[reference] / times[cores]:4.2f}x  identical chain: {same}")


if __name__ == "__main__":
    main()
