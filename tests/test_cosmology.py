"""Cosmology of a light Z': thermalisation, entropy transfer, the m_Z' boundary."""
from __future__ import annotations

import numpy as np
import pytest

from globalfit.couplings import Couplings
from globalfit.likelihood import Point
from likelihoods.cosmology import (
    CosmologyLikelihood,
    boson_entropy_fraction,
    neff_with_thermal_zprime,
    thermalisation_ratio,
)


def zprime(g, mzp_gev):
    return Couplings(g_nu=np.diag([0.0, g, g]), mzp_gev=mzp_gev)


def test_entropy_fraction_limits():
    assert boson_entropy_fraction(0.0) == pytest.approx(1.0, rel=1e-10)
    # non-relativistic limit (Boltzmann statistics, exact up to e^{-2x}):
    # s = g m^3 K_3(m/T) / (2 pi^2), so s/s0 = 45 x^3 K_3(x) / (4 pi^4)
    from scipy.special import kn

    for x in (15.0, 30.0):
        assert boson_entropy_fraction(x) == pytest.approx(45 * x**3 * kn(3, x) / (4 * np.pi**4), rel=1e-5)


def test_light_thermal_zprime_adds_its_entropy_to_neutrinos():
    # massless limit: N_eff = N_SM ((5.25 + 3) / 5.25)^{4/3}
    assert neff_with_thermal_zprime(1e-9, 2e-3, 3.044) == pytest.approx(3.044 * (8.25 / 5.25) ** (4 / 3), rel=1e-6)
    assert neff_with_thermal_zprime(0.2, 2e-3, 3.044) == pytest.approx(3.044, rel=1e-12)


def test_thermalisation_criterion_scales_with_coupling_squared():
    r1 = thermalisation_ratio(zprime(1e-9, 1e-3))
    r2 = thermalisation_ratio(zprime(2e-9, 1e-3))
    assert r2 == pytest.approx(4 * r1)
    # couplings near 1e-9 at 1 MeV are at the edge of equilibrium (Huang et al. bound g < 6e-10
    # there, from BBN): ratio O(1-100)
    assert 1.0 < r1 < 100.0
    assert thermalisation_ratio(Couplings()) == 0.0


def test_boundary_mode():
    lk = CosmologyLikelihood()
    assert lk.loglike(Point({}, zprime(1e-5, 3e-3))) == -np.inf
    assert lk.loglike(Point({}, zprime(1e-5, 10e-3))) == 0.0
    assert lk.loglike(Point({}, zprime(1e-13, 3e-3))) == 0.0  # never thermalised
    assert lk.loglike(Point({})) == 0.0


def test_neff_mode_is_gaussian_and_falls_with_mass():
    lk = CosmologyLikelihood(mode="neff")
    chi2 = [lk.chi2(Point({}, zprime(1e-5, m))) for m in (3e-3, 10e-3, 30e-3)]
    assert chi2[0] > chi2[1] > chi2[2]
    assert lk.chi2(Point({})) == pytest.approx(((3.044 - 2.99) / 0.17) ** 2)
    with pytest.raises(ValueError, match="mode"):
        CosmologyLikelihood(mode="bbn")
