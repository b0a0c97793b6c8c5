"""Posterior points sampled per second by `run_emcee`, beside the unbatched reference.

    OMP_NUM_THREADS=1 python benchmarks/sampling.py [--card configs/default.yaml]
        [--walkers 32] [--steps 30] [--repeat 3]

Same card, seed, walkers and steps, in one process, the two runs taking turns:

* reference: ``emcee.EnsembleSampler`` called directly as globalfit did before issue #17,
  one posterior point per call (``vectorize=False``) and emcee's own ``HDFBackend``
  (the file opened and closed about five times per step);
* globalfit: `globalfit.samplers.emcee_sampler.run_emcee` (walkers of a half-step as one
  batch through ``Posterior.evaluate_batch``, ``vectorize=True``; steps buffered and
  written at checkpoints).

Both chains must be identical (the script checks it). Prints CPU seconds (this process;
the machine is shared) and walker-points per CPU second, min and median over the
repeats, and their ratio.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
import warnings
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import emcee  # noqa: E402
import numpy as np  # noqa: E402

from globalfit.config import load_config  # noqa: E402
from globalfit.paths import CONFIG_DIR  # noqa: E402
from globalfit.posterior import build_posterior  # noqa: E402
from globalfit.samplers.emcee_sampler import (  # noqa: E402
    ChainNotConvergedWarning,
    blob_dtype,
    initial_state,
    run_emcee,
    seed_streams,
)


def reference_run(posterior, config, folder: Path) -> np.ndarray:
    """One point per call and emcee's HDFBackend (globalfit's sampling loop before #17)."""
    settings = config.sampler
    walkers, steps = int(settings["walkers"]), int(settings["steps"])
    backend = emcee.backends.HDFBackend(str(folder / "chain.h5"), name="mcmc")
    backend.reset(walkers, posterior.ndim)
    sampler = emcee.EnsembleSampler(walkers, posterior.ndim, posterior, backend=backend,
                                    blobs_dtype=blob_dtype(posterior))
    start_rng, move_random = seed_streams(settings["seed"])
    state = initial_state(posterior, walkers, start_rng,
                          lambda post, coords: [post(theta) for theta in coords])
    state.random_state = move_random.get_state()
    sampler.run_mcmc(state, steps, progress=False)
    return backend.get_chain()


def globalfit_run(posterior, config, folder: Path) -> np.ndarray:
    run_emcee(posterior, config, folder, progress=False)
    return emcee.backends.HDFBackend(str(folder / "chain.h5"), read_only=True).get_chain()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--card", type=Path, default=CONFIG_DIR / "default.yaml")
    parser.add_argument("--walkers", type=int, default=32)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    # short benchmark chains warn about their length: that warning only
    warnings.simplefilter("ignore", ChainNotConvergedWarning)
    config = load_config(args.card)
    config.sampler.update({"walkers": args.walkers, "steps": args.steps, "burn_in": 0, "seed": 2024})
    config.sampler.pop("ensembles_per_region", None)
    posterior = build_posterior(config)
    points = args.walkers * (args.steps + 1)
    runs = {"reference (one point per call, emcee HDFBackend)": reference_run,
            "globalfit run_emcee (batched, buffered chain)": globalfit_run}
    seconds: dict[str, list[float]] = {name: [] for name in runs}
    chains = {}
    with tempfile.TemporaryDirectory() as tmp:
        for repeat in range(args.repeat + 1):           # round 0 warms caches up, not counted
            for k, (name, function) in enumerate(runs.items()):
                folder = Path(tmp) / f"{k}_{repeat}"
                folder.mkdir()
                start = time.process_time()
                chains[name] = function(posterior, config, folder)
                if repeat:
                    seconds[name].append(time.process_time() - start)
    reference, batched = (chains[name] for name in runs)
    print(f"card {args.card}: {args.walkers} walkers x {args.steps} steps ({points} points), "
          f"{args.repeat} repeats after a warm-up, CPU time of this process")
    print(f"{'run':52s} {'min s':>7s} {'median s':>9s} {'points/s (best)':>16s}")
    for name in runs:
        best, median = min(seconds[name]), float(np.median(seconds[name]))
        print(f"{name:52s} {best:7.2f} {median:9.2f} {points / best:16.0f}")
    first, second = (seconds[name] for name in runs)
    print(f"speed-up (points/s, globalfit / reference): min-based {min(first) / min(second):.2f}x, "
          f"median-based {np.median(first) / np.median(second):.2f}x")
    print(f"identical chains: {np.array_equal(reference, batched)}")


if __name__ == "__main__":
    main()
