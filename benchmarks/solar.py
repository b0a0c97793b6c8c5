"""Speed of one solar + KamLAND log-likelihood evaluation (issue #8 goal: < 1 ms per point).

Prints CPU milliseconds per point for the solar likelihood (with and without night-time
regeneration) and KamLAND (built-in summary and 2011 release spectrum), and each as a ratio to
a reference computed in the same run (one batched 3-flavour oscillation-engine call for 1000
energies), because wall-clock timings on a shared machine are noisy.

    OMP_NUM_THREADS=1 python benchmarks/solar.py [--release /path/to/shared/data]
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from globalfit.likelihood import Point
from globalfit.models.solar_nsi import SolarNSI
from globalfit.physics import oscillation
from likelihoods.kamland import KamLANDLikelihood
from likelihoods.solar import SolarLikelihood


def cpu_ms(function, repeats: int = 200) -> float:
    """Median CPU time of ``function()`` over 5 batches of ``repeats`` calls, ms per call."""
    function()
    batches = []
    for _ in range(5):
        start = time.process_time()
        for _ in range(repeats):
            function()
        batches.append((time.process_time() - start) / repeats * 1e3)
    return float(np.median(batches))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--release", default=None, help="folder holding kamland/ and reactors/")
    args = parser.parse_args()
    params = {"th12": np.radians(33.4), "th13": np.radians(8.58), "th23": np.radians(42.2), "dcp": np.radians(232),
              "dm21": 7.4e-5, "dm31": 2.507e-3, "eps_D": -0.14, "eps_N": -0.03}
    point = Point(params, SolarNSI(fermion="u").couplings(params))
    energies = np.linspace(1e-3, 1e-2, 1000)
    reference = cpu_ms(lambda: oscillation.probabilities(energies, 180.0, 2.7, params, kernel="numpy"),
                       repeats=20)   # the numpy kernel: the reference of the recorded ratios
    solar = SolarLikelihood()
    solar_day = SolarLikelihood(night=False)
    rows = [("solar (day + night)", lambda: solar.loglike(point)),
            ("solar (day only)", lambda: solar_day.loglike(point)),
            ("kamland (2008 summary)", lambda: KAMLAND_SUMMARY.loglike(point))]
    global KAMLAND_SUMMARY
    KAMLAND_SUMMARY = KamLANDLikelihood()
    if args.release:
        kamland = KamLANDLikelihood(release_path=f"{args.release}/kamland", reactors_path=f"{args.release}/reactors")
        rows.append(("kamland (2011 spectrum)", lambda: kamland.loglike(point)))
        rows.append(("solar + kamland spectrum", lambda: solar.loglike(point) + kamland.loglike(point)))
    print(f"reference: engine probabilities (numpy kernel), 1000 energies: {reference:.3f} ms CPU")
    print("| evaluation | CPU ms / point | ratio to reference |")
    print("|---|---|---|")
    for label, function in rows:
        ms = cpu_ms(function)
        print(f"| {label} | {ms:.3f} | {ms / reference:.2f} |")


KAMLAND_SUMMARY = None

if __name__ == "__main__":
    main()
