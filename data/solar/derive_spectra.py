"""Derive the compact 8B spectrum parameters of ``spectra.yaml`` from the Winter et al. table.

    python data/solar/derive_spectra.py /path/to/shared/data/solar/8B_shape_Winter_et_al.csv

Fits ``E^a (Q - E)^b exp(-c E)`` (normalised) to the tabulated shape weighted by its errors.
"""
import sys

import numpy as np
from scipy.optimize import least_squares


def main(path):
    energy, shape, error = np.loadtxt(path, delimiter=",", comments="#").T
    norm = np.trapezoid(shape, energy)
    target, sigma = shape / norm, error / norm + 1e-4
    used = shape > 0

    def model(p):
        s = np.where(energy < p[3],
                     energy ** p[0] * np.clip(p[3] - energy, 0, None) ** p[1] * np.exp(-p[2] * energy), 0)
        return s / np.trapezoid(s, energy)

    fit = least_squares(lambda p: (model(p) - target)[used] / sigma[used], [2, 2, 0, 16.5]).x
    print(f"8B: {{a: {fit[0]:.6g}, b: {fit[1]:.6g}, c: {fit[2]:.6g}, q: {fit[3]:.6g}}}")
    print("max deviation / peak:", np.abs(model(fit) - target).max() / target.max())


if __name__ == "__main__":
    main(sys.argv[1])
