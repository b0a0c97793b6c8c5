"""Derive ``radiochemical.yaml``: spectrum-averaged 37Cl and 71Ga cross sections per source,
and the cross-section-weighted 8B and hep spectra on 0.5 MeV bins (energy-dependent P_ee).

    python data/solar/derive_radiochemical.py /path/to/shared/data/solar > data/solar/radiochemical.yaml

Inputs: Bahcall's cross-section tables (37Cl: PRC 54 (1996) 411; 71Ga: PRC 56 (1997) 3391) as
tabulated in the user's folder (``xsec_cl37.csv``, ``xsec_ga71.csv``), and the built-in
spectra of ``globalfit.physics.solar_spectra``. Interpolation is linear in E.
"""
import sys

import numpy as np

from globalfit.physics import solar_spectra as ss

SOURCES = ("pp", "pep", "hep", "7Be", "8B", "13N", "15O", "17F")


def averaged(energy, sigma, source):
    if source in ss.LINES:
        return sum(b * np.interp(e, energy, sigma, left=0.0) for e, b in ss.lines(source))
    grid = np.linspace(0, ss.endpoint_mev(source), 20001)
    phi = ss.spectrum(source, grid)
    return np.trapezoid(phi * np.interp(grid, energy, sigma, left=0.0, right=sigma[-1]), grid)


def binned_response(energy, sigma, source, edges):
    grid = np.linspace(0, ss.endpoint_mev(source), 20001)
    rate = ss.spectrum(source, grid) * np.interp(grid, energy, sigma, left=0.0, right=sigma[-1])
    cumulative = np.concatenate([[0], np.cumsum(0.5 * (rate[1:] + rate[:-1]) * np.diff(grid))])
    per_bin = np.diff(np.interp(edges, grid, cumulative))
    return per_bin / per_bin.sum()


def main(folder):
    tables = {
        "chlorine": np.genfromtxt(f"{folder}/xsec_cl37.csv", delimiter=",", comments="#", skip_header=6)[:, :2],
        "gallium": np.genfromtxt(f"{folder}/xsec_ga71.csv", delimiter=",", comments="#", skip_header=3)[:, :2],
    }
    edges = np.arange(0.0, 19.0, 0.5)
    print("provenance:")
    print("  source: spectrum averages of Bahcall's 37Cl (PRC 54 (1996) 411) and 71Ga (PRC 56 (1997) 3391)")
    print("    cross-section tables with the built-in spectra (data/solar/spectra.yaml)")
    print("  where: data/solar/derive_radiochemical.py")
    print("  status: DERIVED")
    print("units: 1e-46 cm^2 (averages); responses are fractions of the rate per 0.5 MeV bin")
    print("bin_edges_mev: [" + ", ".join(f"{e:g}" for e in edges) + "]")
    for name, table in tables.items():
        energy, sigma = table[:, 0], table[:, 1]
        print(f"{name}:")
        print("  averaged_cross_section:")
        for source in SOURCES:
            print(f"    '{source}': {averaged(energy, sigma, source):.5g}")
        for source in ("8B", "hep"):
            response = binned_response(energy, sigma, source, edges)
            print(f"  response_{source}: [" + ", ".join(f"{v:.4g}" for v in response) + "]")


if __name__ == "__main__":
    main(sys.argv[1])
