"""Speed of one IceCube DeepCore 3-year log-likelihood evaluation (issue #16 goal: <= 10 ms
per point on one core).

Prints CPU milliseconds per point for ``deepcore_3y`` (standard oscillations and complex
NSI; nuisances profiled from their nominal values) and its parts (oscillogram, sparse
product, nuisance profile), each also as a ratio to the reference of
``benchmarks/solar.py`` measured in the same process (one batched 3-flavour engine call
for 1000 energies), because timings on the shared machine drift with its load.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/atmospheric.py \\
        --release ../shared/data/deepcore_3y [--energy-nodes 60 --coszen-nodes 41]
"""
from __future__ import annotations

import argparse

import numpy as np
from timing import cpu_ms

from globalfit.couplings import Couplings
from globalfit.likelihood import Point
from globalfit.physics import oscillation
from likelihoods.deepcore_3y import COSZEN_NODES, ENERGY_NODES, DeepCore3y


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--release", required=True, help="folder of IceCube's highstats_nuosc_3y release")
    parser.add_argument("--energy-nodes", type=int, default=ENERGY_NODES)
    parser.add_argument("--coszen-nodes", type=int, default=COSZEN_NODES)
    args = parser.parse_args()
    params = {"th12": np.radians(33.48), "th13": np.radians(8.5), "th23": np.radians(46.3), "dcp": 0.0,
              "dm21": 7.5e-5, "dm31": 2.43e-3}
    eps = np.array([[0.0, 0.02 - 0.01j, 0.03j], [0.02 + 0.01j, 0.0, 0.005], [-0.03j, 0.005, 0.01]])
    standard = Point(params)
    nsi = Point(params, Couplings(eps0={"u": eps}))
    deepcore = DeepCore3y(release_path=args.release, energy_nodes=args.energy_nodes,
                          coszen_nodes=args.coszen_nodes)
    forward = deepcore.forward
    templates = deepcore.templates(standard)
    x = np.ascontiguousarray(forward.oscillogram.probabilities(params)[:, :2]).ravel()
    energies = np.linspace(1e-3, 1e-2, 1000)
    reference = cpu_ms(lambda: oscillation.probabilities(energies, 180.0, 2.7, params),
                       batches=5, per_batch=20)
    rows = [("deepcore_3y loglike, standard", lambda: deepcore.loglike(standard)),
            ("deepcore_3y loglike, complex NSI", lambda: deepcore.loglike(nsi)),
            ("  oscillogram (nu + nubar)", lambda: forward.oscillogram.probabilities(params)),
            ("  sparse product", lambda: forward.matrix @ x),
            ("  nuisance profile (from nominal)",
             lambda: deepcore.nuisance_model.profile(templates, tolerance=1e-10))]
    print(f"grid: {forward.node_energy_gev.size} energies x {forward.node_coszen.size} cos(zenith); "
          f"{forward.oscillogram.layer_evaluations} energy x layer products per neutrino type; "
          f"{forward.matrix.nnz} matrix entries")
    print(f"reference: engine probabilities, 1000 energies: {reference[0]:.3f} ms CPU (min), "
          f"{reference[1]:.3f} (median)")
    print("| evaluation | CPU ms / point, min | median | ratio to reference (min) |")
    print("|---|---|---|---|")
    for label, function in rows:
        best, median = cpu_ms(function, batches=5, per_batch=5)
        print(f"| {label} | {best:.2f} | {median:.2f} | {best / reference[0]:.1f} |")


if __name__ == "__main__":
    main()
