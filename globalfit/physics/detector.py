"""Detector response building blocks: energy resolution, photo-electron statistics, quenching.

General pieces that several likelihoods fold their true-energy predictions with; each
likelihood keeps its own detector numbers (resolution coefficients, quenching constants) in
its data card.

* `gaussian_interval_probability`: probability that a Gaussian lands in ``[lower, upper]``
  (broadcasts), the resolution kernel of Super-Kamiokande and KamLAND;
* `gaussian_bin_matrix`, `gamma_bin_matrix`: the same for contiguous bin edges, for a
  Gaussian or a gamma-distributed reconstructed quantity (CEvNS detectors);
* `poisson_matrix`: photo-electron counting statistics;
* `lindhard_quenching`: ionisation yield of nuclear recoils (germanium, CONUS).
"""
from __future__ import annotations

import numpy as np
from scipy.special import gammainc, gammaln, ndtr


def gaussian_interval_probability(lower, upper, mean, sigma) -> np.ndarray:
    """``P(lower < X < upper)`` for ``X ~ N(mean, sigma)``; all arguments broadcast.

    Parameters
    ----------
    lower, upper : array_like
        Interval ends (same unit as ``mean``).
    mean, sigma : array_like
        Centre and width of the Gaussian (``sigma > 0``).
    """
    mean = np.asarray(mean, dtype=float)
    sigma = np.asarray(sigma, dtype=float)
    return ndtr((np.asarray(upper, dtype=float) - mean) / sigma) - ndtr((np.asarray(lower, dtype=float) - mean) / sigma)


def gaussian_bin_matrix(mean, sigma, edges) -> np.ndarray:
    """Probability that a Gaussian (``mean``, ``sigma``) falls in each bin of ``edges``.

    Returns shape ``mean.shape + (len(edges) - 1,)``; ``sigma`` is floored at 1e-12.
    """
    mean = np.asarray(mean, dtype=float)[..., None]
    sigma = np.maximum(np.asarray(sigma, dtype=float), 1e-12)[..., None]
    cdf = ndtr((np.asarray(edges, dtype=float) - mean) / sigma)
    return np.diff(cdf, axis=-1)


def gamma_bin_matrix(shape, scale, edges) -> np.ndarray:
    """Probability that a gamma variate (``shape``, ``scale``) falls in each bin of ``edges``."""
    shape = np.maximum(np.asarray(shape, dtype=float), 1e-9)[..., None]
    scale = np.maximum(np.asarray(scale, dtype=float), 1e-12)[..., None]
    cdf = gammainc(shape, np.maximum(np.asarray(edges, dtype=float), 0.0) / scale)
    return np.diff(cdf, axis=-1)


def poisson_matrix(mean, n_max: int) -> np.ndarray:
    """``P(n | mean)`` for ``n = 0..n_max``; shape ``mean.shape + (n_max + 1,)``."""
    mean = np.maximum(np.asarray(mean, dtype=float), 1e-12)[..., None]
    counts = np.arange(n_max + 1)
    return np.exp(counts * np.log(mean) - mean - gammaln(counts + 1.0))


def lindhard_quenching(recoil_kev, z: int, k: float) -> np.ndarray:
    """Lindhard ionisation yield ``k g / (1 + k g)``, ``g = 3 e^0.15 + 0.7 e^0.6 + e``,
    ``e = 11.5 Z^(-7/3) T[keV]`` (J. Lindhard et al., Mat. Fys. Medd. 33 (1963) 10)."""
    eps = 11.5 * z ** (-7.0 / 3.0) * np.maximum(np.asarray(recoil_kev, dtype=float), 0.0)
    g = 3.0 * eps**0.15 + 0.7 * eps**0.6 + eps
    return k * g / (1.0 + k * g)
