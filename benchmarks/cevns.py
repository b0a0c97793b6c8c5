"""Speed of the CEvNS likelihoods (goal: < 0.5 ms per point for all data sets together).

Run: ``OMP_NUM_THREADS=1 python benchmarks/cevns.py [--release-root ../shared/data]``.
Timings on a shared machine are noisy; the ratios against the reference path (the same
likelihoods evaluated with ``rates_on_grid``, i.e. ``Couplings.eps(f, Q^2)`` at every recoil
node) are the figures to compare between runs.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from timing import cpu_ms

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
        release_benchmark(Path(args.release_root), rng, repeat=3)


def small_nsi(rng, scale: float) -> Couplings:
    m = rng.normal(scale=scale, size=(3, 3)) + 1j * rng.normal(scale=scale / 4, size=(3, 3))
    m = 0.5 * (m + m.conj().T)
    return Couplings(eps0={"u": m, "d": 0.7 * m})


def release_benchmark(root: Path, rng, repeat: int = 3) -> None:
    """Release mode of the three COHERENT sets: nuisances profiled by Newton (default)
    beside the L-BFGS-B profile used before (same process, alternating), per point."""
    import likelihoods.coherent as coherent

    release = [cls(release_path=str(root / cls.dataset))
               for cls in (CoherentCsI2017, CoherentCsI2021, CoherentLAr2020)]
    cases = {"SM": [Couplings()] * 10,
             "NSI |eps| ~ 0.05 (random complex eps^u, eps^d = 0.7 eps^u)":
                 [small_nsi(rng, 0.05) for _ in range(20)],
             "NSI |eps| ~ 0.2": [small_nsi(rng, 0.2) for _ in range(20)]}
    newton = coherent.profile_on_off
    print("\nrelease mode, 3 COHERENT sets together (CsI 2017, CsI 2021, LAr 2020), CPU ms / point, "
          f"min / median of {repeat}")
    print(f"{'points':62s} {'Newton':>15s} {'L-BFGS-B (before)':>18s} {'ratio':>6s} {'max|dchi2|':>11s}")
    for label, points in cases.items():
        times = {"newton": [], "lbfgsb": []}
        values = {}
        for _ in range(repeat):
            for name, profile in (("newton", newton), ("lbfgsb", coherent.profile_on_off_lbfgsb)):
                coherent.profile_on_off = profile
                start = time.process_time()
                values[name] = [sum(lk.chi2_couplings(c) for lk in release) for c in points]
                times[name].append((time.process_time() - start) / len(points) * 1e3)
        coherent.profile_on_off = newton
        best = {k: min(v) for k, v in times.items()}
        median = {k: float(np.median(v)) for k, v in times.items()}
        diff = np.max(np.abs(np.subtract(values["newton"], values["lbfgsb"])))
        print(f"{label[:62]:62s} {best['newton']:6.2f} / {median['newton']:6.2f} "
              f"{best['lbfgsb']:8.2f} / {median['lbfgsb']:6.2f} {best['lbfgsb'] / best['newton']:6.1f} "
              f"{diff:11.1e}")
    per = {lk.name: cpu_ms(lambda lk=lk: lk.chi2_couplings(Couplings()), batches=repeat, per_batch=10)[0]
           for lk in release}
    print("per data set at the SM (ms): " + ", ".join(f"{k} {v:.2f}" for k, v in per.items()))


if __name__ == "__main__":
    main()
