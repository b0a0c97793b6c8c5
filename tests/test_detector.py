"""Detector response building blocks (globalfit.physics.detector): normalisation, moments and
known values of the resolution, counting and quenching functions."""
import numpy as np
import pytest
from scipy.special import erf

from globalfit.physics.detector import (
    gamma_bin_matrix,
    gaussian_bin_matrix,
    gaussian_interval_probability,
    lindhard_quenching,
    poisson_matrix,
)


def test_gaussian_interval_known_values_and_broadcasting():
    """+-1 sigma holds erf(1/sqrt 2) = 0.6827, the whole line 1; broadcasting over centres."""
    assert gaussian_interval_probability(-1.0, 1.0, 0.0, 1.0) == pytest.approx(erf(1 / np.sqrt(2)), abs=1e-14)
    assert gaussian_interval_probability(-np.inf, np.inf, 3.0, 0.5) == pytest.approx(1.0, abs=1e-15)
    lower, upper = np.array([[0.0], [1.0]]), np.array([[1.0], [2.0]])
    p = gaussian_interval_probability(lower, upper, np.linspace(0, 2, 5), 0.3)
    assert p.shape == (2, 5)
    np.testing.assert_allclose(p[0, 0], p[1, -1], atol=1e-15)  # mirror symmetry about 1


def test_gaussian_bin_matrix_equals_intervals_and_sums_to_coverage():
    edges = np.linspace(-2.0, 4.0, 13)
    mean, sigma = np.array([0.0, 1.0, 2.5]), np.array([0.4, 0.8, 1.2])
    matrix = gaussian_bin_matrix(mean, sigma, edges)
    intervals = gaussian_interval_probability(edges[:-1], edges[1:], mean[:, None], sigma[:, None])
    np.testing.assert_allclose(matrix, intervals, atol=1e-15)
    coverage = gaussian_interval_probability(edges[0], edges[-1], mean, sigma)
    np.testing.assert_allclose(matrix.sum(axis=1), coverage, atol=1e-14)


def test_poisson_matrix_normalisation_and_mean():
    mean = np.array([0.5, 3.0, 12.0])
    p = poisson_matrix(mean, 80)
    np.testing.assert_allclose(p.sum(axis=-1), 1.0, atol=1e-12)
    np.testing.assert_allclose(p @ np.arange(81), mean, rtol=1e-10)
    assert p[0, 0] == pytest.approx(np.exp(-0.5), rel=1e-14)


def test_gamma_bin_matrix_mean_is_shape_times_scale():
    edges = np.linspace(0.0, 200.0, 20001)
    centres = 0.5 * (edges[1:] + edges[:-1])
    p = gamma_bin_matrix(np.array([2.0, 5.0]), np.array([3.0, 1.5]), edges)
    np.testing.assert_allclose(p.sum(axis=-1), 1.0, atol=1e-10)
    np.testing.assert_allclose(p @ centres, [6.0, 7.5], rtol=1e-4)


def test_lindhard_limits():
    # k g / (1 + k g) -> 0 at zero recoil and grows with energy; Ge at 1 keV about 0.16-0.2
    y = lindhard_quenching(np.array([1e-9, 1.0, 10.0]), 32, 0.162)
    assert y[0] < 0.01
    assert 0.14 < y[1] < 0.21
    assert y[2] > y[1]
