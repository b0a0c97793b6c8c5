"""Per-point time of solar + KamLAND + Super-K spectrum, with one shared solar forward model
(issue #17 item 3) beside the same likelihoods with a separate solar engine each (as before),
and beside a shared engine with 24 production nodes per source instead of the default
`DAY_NODES` (256 since issue #20 item 4).

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
from globalfit.physics.solar import DAY_NODES, SolarSurvival
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
    few_nodes = SolarFlavourEngine(night=True)
    few_nodes.survival = SolarSurvival(few_nodes.solar_model, n_nodes=24)
    for key, request in solar.engine.requests.items():
        few_nodes.request(key, request.source, request.energy_mev, dict(request.detectors))
    solar_24, superk_24 = SolarLikelihood(), SuperKSpectrumLikelihood(release_path=f"{args.release}/superk")
    solar_24.engine = superk_24.engine = few_nodes
    cycle = itertools.cycle(points())
    rows = {
        "solar + kamland spectrum + SK-IV spectrum, one shared solar engine":
            lambda p: solar.loglike(p) + kamland.loglike(p) + superk.loglike(p),
        "solar + kamland spectrum + SK-IV spectrum, separate solar engines (before)":
            lambda p: solar.loglike(p) + kamland.loglike(p) + separate.loglike(p),
        "solar alone": solar.loglike,
        f"solar + kamland spectrum + SK-IV spectrum, one shared engine, 24 nodes (default {DAY_NODES})":
            lambda p: solar_24.loglike(p) + kamland.loglike(p) + superk_24.loglike(p),
        f"solar alone, 24 nodes (default {DAY_NODES})": solar_24.loglike,
    }
    print("| evaluation (one thread, CPU ms per point) | min | median |")
    print("|---|---|---|")
    results = {}
    for label, function in rows.items():
        results[label] = cpu_ms(lambda f=function: f(next(cycle)))
        print(f"| {label} | {results[label][0]:.3f} | {results[label][1]:.3f} |")
    shared, before, alone, shared_24, alone_24 = results.values()
    print(f"separate / shared: {before[0] / shared[0]:.2f} (min), {before[1] / shared[1]:.2f} (median)")
    print(f"{DAY_NODES} / 24 nodes: {shared[0] / shared_24[0]:.2f} (min), {shared[1] / shared_24[1]:.2f} (median) "
          f"with KamLAND and SK-IV; solar alone {alone[0] / alone_24[0]:.2f}, {alone[1] / alone_24[1]:.2f}")


if __name__ == "__main__":
    main()
