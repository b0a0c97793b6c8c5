"""Non-unitarity likelihood: exactly-2-sigma points, flavour sums, model wiring."""
from __future__ import annotations

import numpy as np
import pytest

from globalfit.couplings import Couplings
from globalfit.likelihood import Point
from likelihoods.unitarity import UnitarityLikelihood, kappa_squared

BOUNDS = {"e": 2.5e-3, "mu": 4.4e-4, "tau": 5.6e-3}


def with_kappa(kappa):
    return Couplings(hnl_masses_gev=(10.0,), hnl_mixing=np.asarray(kappa, complex).reshape(3, 1))


@pytest.fixture(scope="module")
def unitarity():
    return UnitarityLikelihood()


@pytest.mark.parametrize("index, flavour", [(0, "e"), (1, "mu"), (2, "tau")])
def test_exactly_two_sigma_gives_delta_chi2_four(unitarity, index, flavour):
    kappa = np.zeros(3, complex)
    kappa[index] = np.sqrt(BOUNDS[flavour]) * np.exp(0.7j)
    assert unitarity.chi2(Point({}, with_kappa(kappa))) == pytest.approx(4.0, rel=1e-12)


def test_no_heavy_leptons_no_penalty(unitarity):
    assert unitarity.chi2(Point({})) == 0.0


def test_several_heavy_leptons_add_per_flavour(unitarity):
    mixing = np.zeros((3, 2))
    mixing[1, 0] = mixing[1, 1] = np.sqrt(BOUNDS["mu"] / 2)
    c = Couplings(hnl_masses_gev=(1.0, 2.0), hnl_mixing=mixing)
    assert kappa_squared(c)[1] == pytest.approx(BOUNDS["mu"])
    assert unitarity.chi2(Point({}, c)) == pytest.approx(4.0)


def test_psi_mixing_model_point(unitarity):
    from globalfit.models.psi_mixing import PsiMixing

    params = {"g_prime": 1e-5, "kappa_e": 0.05, "kappa_mu": 0.0, "kappa_tau": 0.0, "mzp": 0.01}
    chi2 = unitarity.chi2(Point(params, PsiMixing().couplings(params)))
    assert chi2 == pytest.approx((0.05**2 / (BOUNDS["e"] / 2)) ** 2)
