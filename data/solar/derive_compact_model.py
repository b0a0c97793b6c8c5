"""Derive the compact built-in solar model (``compact_solar_model.yaml``) from B16-GS98 / B23-GS98.

Run once by a developer with the public tables at hand; the derived numbers (not the tables)
go into ``compact_solar_model.yaml``:

    python data/solar/derive_compact_model.py /path/to/shared/data/solar > data/solar/compact_solar_model.yaml

* electron density: ``ln(n_e/N_A) = sum_k c_k T_k(4x - 1)`` (Chebyshev, k <= 13), least squares
  on the B16-GS98 table (0 < x <= 0.5, ``nudistr_b16_gs98.dat``, Vinyoles et al. 2017; the
  table gives log10(n_e/N_A) to 3 decimals, +-0.12 %, and the fit stays within 0.14 %);
  beyond x = 0.5 the Bahcall slope ``exp(-10.54 x)`` continued from the fit's value at 0.5;
* hydrogen mass fraction: ``X(x) = X_out - (X_out - X_c) exp(-(x/x_0)^p)`` fitted to the B23-GS98
  structure (Herrera & Serenelli 2023), giving ``Y_n = (1 - X) / (1 + X)`` (H and He only);
* production distributions: for each source the radius ``r(u_k)`` below which a fraction
  ``u_k = (1 - cos(pi k / 128)) / 2`` (k = 0..128, Chebyshev-Lobatto levels, dense in the
  tails) of its neutrinos is produced, from the B16-GS98 cumulative distribution (linear
  between the table's zone edges); `globalfit.physics.solar_model` rebuilds the cumulative
  distribution as the monotone (PCHIP) interpolant through ``(r(u_k), u_k)``.
"""
import sys

import numpy as np
from numpy.polynomial import chebyshev

SOURCES = ("pp", "pep", "hep", "7Be", "8B", "13N", "15O", "17F")
DENSITY_DEGREE = 13
N_LEVELS = 129


def production_levels(n_levels: int = N_LEVELS) -> np.ndarray:
    """Chebyshev-Lobatto cumulative levels ``u_k``; the same formula as in globalfit.physics.solar_model."""
    return 0.5 * (1.0 - np.cos(np.pi * np.arange(n_levels) / (n_levels - 1)))


def main(folder):
    b16 = np.loadtxt(f"{folder}/nudistr_b16_gs98.dat", comments="#")
    x, log_ne = b16[:, 0], b16[:, 2] * np.log(10.0)
    density = chebyshev.chebfit(4.0 * x - 1.0, log_ne, DENSITY_DEGREE)
    residual = np.exp(chebyshev.chebval(4.0 * x - 1.0, density) - log_ne) - 1.0
    b23 = np.genfromtxt(f"{folder}/b23_GS98_structure.csv", delimiter=",", skip_header=3)
    xr, hydrogen = b23[:, 0], b23[:, 3]

    def x_model(p, r):
        return p[0] - (p[0] - p[1]) * np.exp(-(r / p[2]) ** p[3])

    from scipy.optimize import least_squares

    hfit = least_squares(lambda p: x_model(p, xr) - hydrogen, [0.72, 0.35, 0.15, 2.0]).x
    print("provenance:")
    print("  quantities:   # status of every number by dotted key (schema: globalfit/inputs.py)")
    print('    "*": {status: DERIVED, where: "fits to and quantiles of the B16-GS98 and B23-GS98 releases, '
          'data/solar/derive_compact_model.py"}')
    print('    outer_slope: {status: VERIFIED-3P, where: "Bahcall exponential slope beyond x = 0.5, inputs.md 1b"}')
    print("  source: B16-GS98 (Vinyoles et al., ApJ 835 (2017) 202, arXiv:1611.09867; table nudistr_b16_gs98.dat)")
    print("    and B23-GS98 structure (Herrera & Serenelli 2023, doi:10.5281/zenodo.10174170) for X(r)")
    print("  where: data/solar/derive_compact_model.py (least-squares fits and quantiles; the tables are not "
          "in the repository)")
    print("  status: DERIVED")
    print(f"# ln(n_e/N_A) = sum_k c_k T_k(4x - 1) for 0 <= x <= 0.5 (largest deviation from the table "
          f"{abs(residual).max():.2%})")
    print("electron_density_log_chebyshev: [" + ", ".join(f"{c:.10g}" for c in density) + "]")
    print("outer_slope: 10.54   # Bahcall exponential slope beyond x = 0.5 (VERIFIED-3P, inputs.md 1b)")
    print("hydrogen_fraction: {{x_outer: {:.5g}, x_centre: {:.5g}, x0: {:.5g}, power: {:.5g}}}"
          .format(*hfit))
    print(f"# radius r(u_k) (units of R_sun) enclosing the fraction u_k = (1 - cos(pi k / {N_LEVELS - 1})) / 2 "
          f"of each source's production, k = 0..{N_LEVELS - 1}")
    print("production_quantile_radii:")
    levels = production_levels()
    edges = np.concatenate([[0.0], x + 0.5 * (x[1] - x[0])])
    for k, name in enumerate(SOURCES):
        y = b16[:, 4 + k]
        cumulative = np.concatenate([[0.0], np.cumsum(y) / y.sum()])
        rising = np.concatenate([[True], np.diff(cumulative) > 0])
        radii = np.interp(levels, cumulative[rising], edges[rising])
        print(f"  '{name}': [" + ", ".join(f"{r:.6g}" for r in radii) + "]")


if __name__ == "__main__":
    main(sys.argv[1])
