"""Per-point time of solar + KamLAND + Super-K spectrum, with one shared solar forward model
(issue #17 item 3) beside the same likelihoods with a separate solar engine each (as before).

Each call is a new parameter point (th12, Dm21 cycled over 2000 distinct values, so the
engine's cache never answers a repeated point); both rows are timed in the same process,
one thread, 7 batches of 100 points: min and median CPU ms per point.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/solar_forward_model.py --release ../shared/data
"""
from __future__ import annotations

import argparse
import itertools

import numpy as np
from timing import cpu_ms

from globalfit.likelihood import Point
from globalfit.models.solar_nsi import SolarNSI
from globalfit.physics.solar_flavour import B8_GRID_MEV, SolarFlavourEngine
from likelihoods.kamland import KamLANDLikelihood
from likelihoods.solar import SolarLikelihood
from likelihoods.superk_spectrum import SuperKSpectrumLikelihood


def points(n: int = 2000) -> list[Point]:
    rng = np.random.default_rng(1)
    model = SolarNSI(fermion="u")
    out = []
    for th12, dm21 in zip(rng.uniform(31.0, 36.0, n), rng.uniform(6.5e-5, 8.5e-5, n)):
        params = {"th12": np.radians(th12), "th13": np.radians(8.58), "th23": np.radians(42.2),
                  "dcp": np.radians(232.0), "dm21": dm21, "dm31": 2.507e-3, "eps_D": -0.14, "eps_N": -0.03}
        out.append(Point(params, model.couplings(params)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--release", required=True, help="folder holding kamland/, reactors/ and superk/")
    args = parser.parse_args()
    solar = SolarLikelihood()
    kamland = KamLANDLikelihood(release_path=f"{args.release}/kamland", reactors_path=f"{args.release}/reactors")
    superk = SuperKSpectrumLikelihood(release_path=f"{args.release}/superk")
    assert superk.engine is solar.engine
    separate = SuperKSpectrumLikelihood(release_path=f"{args.release}/superk")
    separate.engine = SolarFlavourEngine(night=True)
    separate.engine.request("8B", "8B", B8_GRID_MEV, dict(superk.engine.requests["8B"].detectors))
    cycle = itertools.cycle(points())
    rows = {
        "solar + kamland spectrum + SK-IV spectrum, one shared solar engine":
            lambda p: solar.loglike(p) + kamland.loglike(p) + superk.loglike(p),
        "solar + kamland spectrum + SK-IV spectrum, separate solar engines (before)":
            lambda p: solar.loglike(p) + kamland.loglike(p) + separate.loglike(p),
        "solar alone": solar.loglike,
    }
    print("| evaluation (one thread, CPU ms per point) | min | median |")
    print("|---|---|---|")
    results = {}
    for label, function in rows.items():
        results[label] = cpu_ms(lambda f=function: f(next(cycle)))
        print(f"| {label} | {results[label][0]:.3f} | {results[label][1]:.3f} |")
    shared, before = list(results.values())[:2]
    print(f"separate / shared: {before[0] / shared[0]:.2f} (min), {before[1] / shared[1]:.2f} (median)")


if __name__ == "__main__":
    main()
