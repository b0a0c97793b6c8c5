"""Speed of the T2K + NOvA log-likelihood (batched), with NSI (eps_emu, eps_etau complex).

Goal (issue #5): both experiments together under 1 ms per parameter point, batched. The reference in
the same run is one direct engine call (``globalfit.physics.oscillation.probabilities``) on the same
points and energy grid, so the ratio is meaningful on a shared, noisy machine.

Run: ``OMP_NUM_THREADS=1 python benchmarks/long_baseline.py``
"""
from __future__ import annotations

import time

import numpy as np

from globalfit.couplings import Couplings
from globalfit.likelihood import Point
from globalfit.physics.oscillation import probabilities
from likelihoods.long_baseline import DUNE, T2K, NOvA, nsi_matrix


def _points(lk, batch: int, rng) -> tuple[dict, np.ndarray]:
    base = lk.best_fit_params()
    params = {k: np.full(batch, v) for k, v in base.items()}
    params["dcp"] = rng.uniform(0.0, 2 * np.pi, batch)
    params["th23"] = np.arcsin(np.sqrt(rng.uniform(0.4, 0.62, batch)))
    eps = np.stack([nsi_matrix(emu=rng.uniform(0, 0.3) * np.exp(1j * rng.uniform(0, 6.3)),
                               etau=rng.uniform(0, 0.3) * np.exp(1j * rng.uniform(0, 6.3)))
                    for _ in range(batch)])
    return params, eps


def _best_time(function, repeats: int = 5) -> float:
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    rng = np.random.default_rng(7)
    for mode in ("profiled", "sampled"):
        t2k, nova = T2K(nuisances=mode), NOvA(nuisances=mode)
        for batch in (1, 100, 1000):
            params, eps = _points(t2k, batch, rng)
            # (the lambdas are timed at once, inside this iteration)
            both = _best_time(lambda: t2k.loglike_arrays(params, eps)  # noqa: B023
                              + nova.loglike_arrays(params, eps))  # noqa: B023
            engine = _best_time(lambda: probabilities(t2k.energy_gev, 295.0, 2.6,  # noqa: B023
                                                      {k: v[:, None] for k, v in params.items()},  # noqa: B023
                                                      eps[:, None]))  # noqa: B023
            print(f"nuisances={mode:8s} batch={batch:5d}: T2K+NOvA {1e3 * both / batch:8.4f} ms/point "
                  f"(goal < 1 ms) = {both / engine:5.2f} x one engine call on the same points")
    t2k, nova = T2K(), NOvA()
    point = Point(t2k.best_fit_params(), Couplings(eps0={"e": nsi_matrix(emu=0.1j)}))
    single = _best_time(lambda: t2k.loglike(point) + nova.loglike(point))
    print(f"single-point loglike(point), T2K+NOvA: {1e3 * single:.2f} ms (unbatched; Python overhead)")
    dune = DUNE(nuisances="profiled")
    params, eps = _points(t2k, 1000, rng)
    per_point = _best_time(lambda: dune.loglike_arrays(params, eps)) / 1000
    print(f"DUNE (4 binned samples, 18 bins each), batch 1000: {1e3 * per_point:.4f} ms/point")
    s = dune.samples["numu_fhc"]
    unoscillated = s.scale * s.model.true_weights[0].sum() / dune.card["efficiency"]["mu"] / 3.5
    print(f"DUNE unoscillated nu_mu CC per year at 40 kt, 1.1e21 POT (no efficiency): {unoscillated:.3g}")


if __name__ == "__main__":
    main()
