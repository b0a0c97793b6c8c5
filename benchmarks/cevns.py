"""Speed of the CEvNS likelihoods (goal: < 0.5 ms per point for all data sets together).

Run: ``OMP_NUM_THREADS=1 python benchmarks/cevns.py [--release-root ../shared/data]``.
Timings on a shared machine are noisy; the ratios against the reference path (the same
likelihoods evaluated with ``rates_on_grid``, i.e. ``Couplings.eps(f, Q^2)`` at every recoil
node) are the figures to compare between runs.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from globalfit.couplings import Couplings
from likelihoods.coherent import CoherentCsI2017, CoherentCsI2021, CoherentLAr2020
from likelihoods.conus import ConusLikelihood


def random_couplings(rng, mzp_gev):
    m = rng.normal(scale=0.2, size=(3, 3)) + 1j * rng.normal(scale=0.05, size=(3, 3))
    m = 0.5 * (m + m.conj().T)
    return Couplings(eps0={"u": m, "d": 0.7 * m}, mzp_gev=mzp_gev)


class _GridPath(Couplings):
    """Same numbers, but ``eps`` is overridden: the predictor takes the generic path."""

    def eps(self, fermion, q2_gev2=0.0):
        return super().eps(fermion, q2_gev2)


def per_point_ms(likelihoods, points, repeat=3) -> float:
    best = np.inf
    for _ in range(repeat):
        start = time.perf_counter()
        for c in points:
            for lk in likelihoods:
                lk.chi2_couplings(c)
        best = min(best, (time.perf_counter() - start) / len(points))
    return best * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=300)
    parser.add_argument("--release-root", help="folder with the COHERENT releases")
    args = parser.parse_args()
    rng = np.random.default_rng(1)

    start = time.perf_counter()
    likelihoods = [CoherentCsI2017(), CoherentCsI2021(), CoherentLAr2020(), ConusLikelihood()]
    print(f"set-up of the 4 default CEvNS likelihoods: {time.perf_counter() - start:.2f} s")

    cases = {
        "SM": [Couplings()] * args.points,
        "contact NSI (random 3x3 eps^u, eps^d)": [random_couplings(rng, None)
                                                  for _ in range(args.points)],
        "light Z' 30 MeV (cached structure kernels)": [random_couplings(rng, 0.03)
                                                       for _ in range(args.points)],
        "light Z', new m_Z' every point (cache miss)": [
            random_couplings(rng, float(m)) for m in np.geomspace(1e-3, 1.0, args.points)],
    }
    reference_points = [
        _GridPath(eps0=c.eps0, mzp_gev=c.mzp_gev) for c in cases["light Z' 30 MeV (cached structure kernels)"]
    ]
    reference = per_point_ms(likelihoods, reference_points[: max(args.points // 5, 20)], repeat=1)
    print(f"reference (recoil-grid path, eps(f, Q^2) at every node): {reference:.3f} ms / point")
    print(f"{'case':48s} {'ms/point':>10s} {'x faster than reference':>24s} {'goal 0.5 ms':>12s}")
    for label, points in cases.items():
        ms = per_point_ms(likelihoods, points)
        print(f"{label:48s} {ms:10.3f} {reference / ms:24.1f} {'ok' if ms < 0.5 else 'MISSED':>12s}")
    # agreement of the two paths
    c = cases["light Z' 30 MeV (cached structure kernels)"][0]
    g = _GridPath(eps0=c.eps0, mzp_gev=c.mzp_gev)
    diff = max(abs(lk.chi2_couplings(c) - lk.chi2_couplings(g)) for lk in likelihoods)
    print(f"max |chi2(fast) - chi2(reference)| = {diff:.2e}")

    if args.release_root:
        from pathlib import Path

        root = Path(args.release_root)
        release = [cls(release_path=str(root / cls.dataset))
                   for cls in (CoherentCsI2017, CoherentCsI2021, CoherentLAr2020)]
        ms = per_point_ms(release, cases["light Z' 30 MeV (cached structure kernels)"][:50], 1)
        print(f"release mode (3 COHERENT sets, nuisances profiled): {ms:.3f} ms / point")


if __name__ == "__main__":
    main()
