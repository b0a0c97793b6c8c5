"""Speed of one IceCube DeepCore 3-year log-likelihood evaluation (issue #16 goal: <= 10 ms
per point on one core).

Prints CPU milliseconds per point for ``deepcore_3y`` (standard oscillations and complex
NSI; nuisances profiled from their nominal values; every call a new parameter point) and
its parts (oscillogram, sparse product, nuisance profile), beside the solar likelihood
(day + night, the first row of ``benchmarks/solar.py``), each also as a ratio to the
reference of ``benchmarks/solar.py`` measured in the same process (one batched
3-flavour engine call for 1000 energies), because timings on the shared machine drift
with its load. Min and median over 7 batches of 5 calls, one thread.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/atmospheric.py \\
        --release ../shared/data/deepcore_3y [--energy-nodes 60 --coszen-nodes 41] [--against-engine]

``--against-engine`` also prints the profiled chi^2 at a few points with the oscillogram
replaced by the engine's layered `evolution_operator` applied to every path on its own
(the route of the oscillogram before it shared eigensystems among directions).
"""
from __future__ import annotations

import argparse
import itertools

import numpy as np
from timing import cpu_ms

from globalfit.couplings import Couplings
from globalfit.likelihood import Point
from globalfit.models.solar_nsi import SolarNSI
from globalfit.physics import oscillation
from globalfit.physics.atmospheric import path_layers
from globalfit.physics.oscillation import evolution_operator
from likelihoods.deepcore_3y import (
    COSZEN_NODES,
    DETECTOR_DEPTH_KM,
    ENERGY_NODES,
    N_BINS,
    PRODUCTION_HEIGHT_KM,
    DeepCore3y,
)
from likelihoods.solar import SolarLikelihood


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--release", required=True, help="folder of IceCube's highstats_nuosc_3y release")
    parser.add_argument("--energy-nodes", type=int, default=ENERGY_NODES)
    parser.add_argument("--coszen-nodes", type=int, default=COSZEN_NODES)
    parser.add_argument("--against-engine", action="store_true",
                        help="also compare chi^2 with the per-path layered engine at a few points")
    args = parser.parse_args()
    params = {"th12": np.radians(33.48), "th13": np.radians(8.5), "th23": np.radians(46.3), "dcp": 0.0,
              "dm21": 7.5e-5, "dm31": 2.43e-3}
    eps = np.array([[0.0, 0.02 - 0.01j, 0.03j], [0.02 + 0.01j, 0.0, 0.005], [-0.03j, 0.005, 0.01]])
    dm31_values = np.linspace(2.3e-3, 2.6e-3, 101)           # a new parameter point every call
    standard = itertools.cycle([Point(dict(params, dm31=v)) for v in dm31_values])
    nsi = itertools.cycle([Point(dict(params, dm31=v), Couplings(eps0={"u": eps})) for v in dm31_values])
    deepcore = DeepCore3y(release_path=args.release, energy_nodes=args.energy_nodes,
                          coszen_nodes=args.coszen_nodes)
    forward = deepcore.forward
    templates = deepcore.templates(next(standard))
    x = np.ascontiguousarray(forward.oscillogram.probabilities(params)[:, :2]).ravel()
    solar_params = {"th12": np.radians(33.4), "th13": np.radians(8.58), "th23": np.radians(42.2),
                    "dcp": np.radians(232), "dm21": 7.4e-5, "dm31": 2.507e-3, "eps_D": -0.14, "eps_N": -0.03}
    solar_points = itertools.cycle([Point(dict(solar_params, th12=v), SolarNSI(fermion="u").couplings(solar_params))
                                    for v in np.radians(np.linspace(32.0, 35.0, 101))])
    solar = SolarLikelihood()
    energies = np.linspace(1e-3, 1e-2, 1000)
    reference = cpu_ms(lambda: oscillation.probabilities(energies, 180.0, 2.7, params, kernel="numpy"),
                       batches=7, per_batch=20)
    rows = [("deepcore_3y loglike, standard", lambda: deepcore.loglike(next(standard))),
            ("deepcore_3y loglike, complex NSI", lambda: deepcore.loglike(next(nsi))),
            ("  oscillogram (nu + nubar)", lambda: forward.oscillogram.probabilities(next(standard).oscillation())),
            ("  sparse product", lambda: forward.matrix @ x),
            ("  nuisance profile (from nominal)",
             lambda: deepcore.nuisance_model.profile(templates, tolerance=1e-10)),
            ("solar loglike (day + night; benchmarks/solar.py)", lambda: solar.loglike(next(solar_points)))]
    print(f"grid: {forward.node_energy_gev.size} energies x {forward.node_coszen.size} cos(zenith); "
          f"{forward.oscillogram.layer_evaluations} energy x piece steps per neutrino type; "
          f"{forward.matrix.nnz} matrix entries")
    print(f"reference: engine probabilities (numpy kernel), 1000 energies: {reference[0]:.3f} ms CPU (min), "
          f"{reference[1]:.3f} (median)")
    print("| evaluation | CPU ms / point, min | median | ratio to reference (min) |")
    print("|---|---|---|---|")
    for label, function in rows:
        best, median = cpu_ms(function, batches=7, per_batch=5)
        print(f"| {label} | {best:.2f} | {median:.2f} | {best / reference[0]:.1f} |")
    if args.against_engine:
        against_engine(deepcore, params, eps)


def engine_probabilities(deepcore: DeepCore3y, params: dict, eps) -> np.ndarray:
    """The oscillogram's ``P[t, a, b, i, j]`` from `evolution_operator`, one call per path
    and neutrino type."""
    forward = deepcore.forward
    out = np.empty((2, 3, 3, forward.node_energy_gev.size, forward.node_coszen.size))
    for j, cz in enumerate(forward.node_coszen):
        pieces = path_layers(float(cz), deepcore.release.earth, DETECTOR_DEPTH_KM, PRODUCTION_HEIGHT_KM)
        for t, antineutrino in enumerate((False, True)):
            s = evolution_operator(forward.node_energy_gev, pieces, params, eps, antineutrino=antineutrino)
            out[t, :, :, :, j] = np.moveaxis(np.abs(s) ** 2, 0, -1).swapaxes(0, 1)     # [a, b] = |S_ba|^2
    return out


def against_engine(deepcore: DeepCore3y, params: dict, eps: np.ndarray) -> None:
    """Profiled chi^2 with the oscillogram and with the per-path engine at a few points."""
    large = np.array([[0.3, 0.1 - 0.05j, -0.08 + 0.1j], [0.1 + 0.05j, -0.02, 0.03 + 0.02j],
                      [-0.08 - 0.1j, 0.03 - 0.02j, 0.05]])
    points = {"standard, benchmark point": Point(params),
              "standard, dm31 2.6e-3, th23 40 deg, dcp 1.2":
                  Point(dict(params, dm31=2.6e-3, th23=np.radians(40.0), dcp=1.2)),
              "standard, inverted ordering": Point(dict(params, dm31=-2.35e-3)),
              "complex eps^u of the benchmark": Point(params, Couplings(eps0={"u": eps})),
              "large complex eps^u": Point(params, Couplings(eps0={"u": large})),
              "large complex eps^d, dcp 4": Point(dict(params, dcp=4.0), Couplings(eps0={"d": large}))}
    print("| point | chi2, oscillogram | chi2, per-path engine | difference |")
    print("|---|---|---|---|")
    worst = 0.0
    for label, point in points.items():
        chi2 = deepcore.profile(point)[0]
        couplings = point.couplings
        x = np.ascontiguousarray(engine_probabilities(deepcore, point.oscillation(),
                                                      couplings.eps_matter() if couplings.has_nsi else None)[:, :2])
        templates = (deepcore.forward.matrix @ x.ravel()).reshape(5, 4, N_BINS)
        reference = deepcore.nuisance_model.profile(templates, tolerance=1e-10)[0]
        worst = max(worst, abs(chi2 - reference))
        print(f"| {label} | {chi2:.9f} | {reference:.9f} | {chi2 - reference:+.1e} |")
    print(f"largest |difference|: {worst:.1e}")


if __name__ == "__main__":
    main()
