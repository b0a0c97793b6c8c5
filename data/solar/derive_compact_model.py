"""Derive the compact built-in solar model (``compact_solar_model.yaml``) from B16-GS98 / B23-GS98.

Run once by a developer with the public tables at hand; the fitted numbers (not the tables)
go into ``compact_solar_model.yaml``:

    python data/solar/derive_compact_model.py /path/to/shared/data/solar > data/solar/compact_solar_model.yaml

* electron density: ``ln(n_e/N_A) = sum_k c_k x^k`` (k <= 5), least squares on the B16-GS98
  table (0 < x < 0.5, ``nudistr_b16_gs98.dat``, Vinyoles et al. 2017); beyond x = 0.5 the
  Bahcall slope ``exp(-10.54 x)`` continued from the fit's value at 0.5;
* hydrogen mass fraction: ``X(x) = X_out - (X_out - X_c) exp(-(x/x_0)^p)`` fitted to the B23-GS98
  structure (Herrera & Serenelli 2023), giving ``Y_n = (1 - X) / (1 + X)`` (H and He only);
* production distributions: ``dphi/dx = N x^a exp(-(x/b)^c)``, least squares on B16-GS98;
  13N (CN cycle in equilibrium in the core plus the 12C-burning shell near x = 0.15) is a
  sum of two such terms with weights ``w`` and ``1 - w``.
"""
import sys

import numpy as np
from scipy.optimize import least_squares

SOURCES = ("pp", "pep", "hep", "7Be", "8B", "13N", "15O", "17F")


def main(folder):
    b16 = np.loadtxt(f"{folder}/nudistr_b16_gs98.dat", comments="#")
    x, log_ne = b16[:, 0], b16[:, 2] * np.log(10.0)
    density = np.polynomial.polynomial.polyfit(x, log_ne, 5)
    b23 = np.genfromtxt(f"{folder}/b23_GS98_structure.csv", delimiter=",", skip_header=3)
    xr, hydrogen = b23[:, 0], b23[:, 3]

    def x_model(p, r):
        return p[0] - (p[0] - p[1]) * np.exp(-(r / p[2]) ** p[3])

    hfit = least_squares(lambda p: x_model(p, xr) - hydrogen, [0.72, 0.35, 0.15, 2.0]).x
    print("provenance:")
    print("  source: fit to B16-GS98 (Vinyoles et al., ApJ 835 (2017) 202, arXiv:1611.09867; "
          "table nudistr_b16_gs98.dat)")
    print("    and B23-GS98 structure (Herrera & Serenelli 2023, doi:10.5281/zenodo.10174170) for X(r)")
    print("  where: data/solar/derive_compact_model.py (least-squares fits; the tables are not in the repository)")
    print("  status: DERIVED")
    print("electron_density_log_polynomial: [" + ", ".join(f"{c:.6g}" for c in density) + "]")
    print("outer_slope: 10.54   # Bahcall exponential slope beyond x = 0.5 (VERIFIED-3P, inputs.md 1b)")
    print("hydrogen_fraction: {{x_outer: {:.5g}, x_centre: {:.5g}, x0: {:.5g}, power: {:.5g}}}"
          .format(*hfit))
    print("production:   # dphi/dx = N x^a exp(-(x/b)^c); N from normalisation")
    for k, name in enumerate(SOURCES):
        y = b16[:, 4 + k]

        def model(p):
            shape = x ** p[0] * np.exp(-(x / p[1]) ** p[2])
            return shape / np.trapezoid(shape, x)

        fit = least_squares(lambda p, y=y: (model(p) - y) / y.max(), [2.0, 0.1, 2.0],
                            bounds=([0.5, 0.01, 0.5], [6.0, 0.5, 6.0])).x
        if name != "13N":
            print(f"  '{name}': {{a: {fit[0]:.5g}, b: {fit[1]:.5g}, c: {fit[2]:.5g}}}")
            continue

        def model2(p):
            return p[6] * model(p[:3]) + (1 - p[6]) * model(p[3:6])

        fit = least_squares(lambda p, y=y: (model2(p) - y) / y.max(), [2.0, 0.05, 2.0, 2.0, 0.15, 4.0, 0.7],
                            bounds=([0.5, 0.01, 0.5, 0.5, 0.05, 0.5, 0.0], [6.0, 0.5, 6.0, 12.0, 0.5, 12.0, 1.0])).x
        print(f"  '{name}': {{a: {fit[0]:.5g}, b: {fit[1]:.5g}, c: {fit[2]:.5g}, "
              f"a2: {fit[3]:.5g}, b2: {fit[4]:.5g}, c2: {fit[5]:.5g}, w: {fit[6]:.5g}}}")


if __name__ == "__main__":
    main(sys.argv[1])
