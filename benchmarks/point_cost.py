"""CPU time of one posterior evaluation of a run card, beside a reference in the same run.

    OMP_NUM_THREADS=1 GLOBALFIT_DATA=../shared/data python benchmarks/point_cost.py \\
        --card configs/lma_vs_lmad_u.yaml [--points 200] [--repeat 5]

Draws ``--points`` points from the card's priors (seeded), evaluates them with
``Posterior.log_likelihood`` (one point per call, as a serial sampler does) and with
``Posterior.log_likelihood_batch`` in batches of ``--batch`` points (as emcee's vectorised
half-steps and the profile engine's finite-difference gradients do), and prints CPU
milliseconds per point of both, min and median over ``--repeat`` rounds, each
likelihood's share (``Posterior.timing``) and, as the reference measured in the same
rounds, one call of the oscillation engine for 1000 energies (``probabilities``).
"""
from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

from globalfit.config import load_config  # noqa: E402
from globalfit.paths import CONFIG_DIR  # noqa: E402
from globalfit.physics import oscillation  # noqa: E402
from globalfit.posterior import build_posterior  # noqa: E402

REFERENCE_PARAMS = {"th12": 0.5831, "th13": 0.1497, "th23": 0.7365, "dcp": 4.05, "dm21": 7.41e-5,
                    "dm31": 2.507e-3}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--card", type=Path, default=CONFIG_DIR / "default.yaml")
    parser.add_argument("--points", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--batch", type=int, default=16, help="points per log_likelihood_batch call")
    args = parser.parse_args(argv)
    posterior = build_posterior(load_config(args.card))
    rng = np.random.default_rng(args.seed)
    thetas = np.column_stack([p.prior.sample(rng, args.points) for p in posterior.parameters])
    energies = np.linspace(1e-3, 1e-2, 1000)
    per_point, batched, reference = [], [], []
    for _ in range(args.repeat + 1):                      # round 0 warms caches up
        start = time.process_time()
        for _ in range(20):
            oscillation.probabilities(energies, 180.0, 2.7, REFERENCE_PARAMS, kernel="numpy")   # recorded reference
        reference.append((time.process_time() - start) / 20 * 1e3)
        posterior.seconds.clear()
        posterior.calls.clear()
        start = time.process_time()
        for theta in thetas:
            posterior.log_likelihood(theta)
        per_point.append((time.process_time() - start) / len(thetas) * 1e3)
        start = time.process_time()
        for first in range(0, len(thetas), args.batch):
            posterior.log_likelihood_batch(thetas[first:first + args.batch])
        batched.append((time.process_time() - start) / len(thetas) * 1e3)
    per_point, batched, reference = per_point[1:], batched[1:], reference[1:]
    print(f"card {args.card}: {args.points} prior points, {args.repeat} rounds, CPU ms per point")
    print(f"posterior.log_likelihood: min {min(per_point):.3f}, median {np.median(per_point):.3f} ms")
    print(f"posterior.log_likelihood_batch, {args.batch} points per call: min {min(batched):.3f}, "
          f"median {np.median(batched):.3f} ms (one point per call / batched: {min(per_point) / min(batched):.2f})")
    print(f"reference, engine probabilities(kernel=\"numpy\") at 1000 energies: min {min(reference):.3f}, "
          f"median {np.median(reference):.3f} ms (ratio of the minima "
          f"{min(per_point) / min(reference):.2f})")
    for name, timing in posterior.timing().items():
        print(f"  {name}: {timing['ms_per_call']:.3f} ms per point (wall, last round, both ways)")


if __name__ == "__main__":
    main()
