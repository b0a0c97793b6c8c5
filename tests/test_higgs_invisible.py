"""H -> nu N invisible width and the BR(H -> inv) likelihood."""
from __future__ import annotations

import numpy as np
import pytest

from globalfit.couplings import Couplings
from globalfit.likelihood import Point
from globalfit.physics.constants import HIGGS_MASS_GEV, HIGGS_VEV_GEV
from likelihoods.higgs_invisible import HiggsInvisibleLikelihood, invisible_width_gev


def one_hnl(m_dirac_gev, m_n_gev=1.0, flavour=0):
    mixing = np.zeros((3, 1))
    mixing[flavour, 0] = m_dirac_gev / m_n_gev
    return Couplings(hnl_masses_gev=(m_n_gev,), hnl_mixing=mixing)


def test_width_formula_light_n():
    # Gamma = m_D^2 m_h / (8 pi v^2) for m_N << m_h: 1 GeV Dirac mass gives 82 keV
    width = invisible_width_gev(one_hnl(1.0, 1e-3))
    assert width == pytest.approx(HIGGS_MASS_GEV / (8 * np.pi * HIGGS_VEV_GEV**2), rel=1e-9)
    assert width == pytest.approx(8.2e-5, rel=0.01)


def test_phase_space_closes_at_higgs_mass():
    assert invisible_width_gev(one_hnl(1.0, 130.0)) == 0.0
    ratio = invisible_width_gev(one_hnl(1.0, 62.6)) / invisible_width_gev(one_hnl(1.0, 1e-3))
    assert ratio == pytest.approx((1 - 0.25) ** 2, rel=1e-3)


def test_limit_on_yukawa_vev():
    # BR = 0.2 at Delta chi^2 = 3.84: the Dirac mass Y<H> reaching it is ~3.5 GeV (Gamma_SM = 4.1 MeV)
    lk = HiggsInvisibleLikelihood()
    m_d = np.sqrt(0.25 * 4.1e-3 * 8 * np.pi * HIGGS_VEV_GEV**2 / HIGGS_MASS_GEV)
    assert lk.branching_ratio(one_hnl(m_d, 1e-3)) == pytest.approx(0.2, rel=1e-9)
    assert lk.chi2(Point({}, one_hnl(m_d, 1e-3))) == pytest.approx(3.841458820694124, rel=1e-9)
    assert 3.3 < m_d < 3.7
    assert lk.chi2(Point({}, one_hnl(2.0, 1e-3))) < 3.84  # the talk's 2 GeV is allowed here


def test_no_hnl_no_penalty_and_option_check():
    assert HiggsInvisibleLikelihood().chi2(Point({})) == 0.0
    with pytest.raises(ValueError, match="br_upper"):
        HiggsInvisibleLikelihood(br_upper=1.5)
