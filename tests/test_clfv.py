"""Charged LFV: loop vertex, l -> l' Z', mu -> e conversion, and the `clfv` likelihood."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate

from globalfit.couplings import STANDARD_MODEL
from globalfit.likelihood import Point
from globalfit.models.lfv import LFVNSI
from globalfit.models.neutrinophilic import Neutrinophilic
from globalfit.physics import clfv
from globalfit.physics.constants import FERMI_CONSTANT_GEV2 as G_F
from globalfit.physics.constants import MUON_MASS_GEV as M_MU
from globalfit.physics.constants import W_MASS_GEV
from likelihoods.clfv import CLFVLikelihood

GOLD = clfv.Nucleus("Au", 0.0974, 0.146, 1.307e7)


def test_loop_vertex_is_g2_over_16pi2_mw2():
    g2_su2 = 4 * math.sqrt(2) * G_F * W_MASS_GEV**2  # g^2 = 8 m_W^2 G_F / sqrt2
    expected = 1e-3 * g2_su2 / (16 * math.pi**2) * (0.7 / W_MASS_GEV) ** 2
    assert clfv.loop_vertex(1e-3, 0.7) == pytest.approx(expected, rel=1e-12)
    assert clfv.effective_heavy_mass_gev((1.0, 4.0)) == pytest.approx(2.0)
    assert clfv.effective_heavy_mass_gev(()) is None


def test_talk_conversion_normalisation():
    """R = 5e-15 (g_nu/1e-3)^2 (g_q/1e-4)^2 (m_psi/GeV)^4 (the talk) within a factor 2."""
    for mzp in (1e-3, 0.01):
        rate = clfv.mu_e_conversion_rate_talk(1e-3, 1e-4, 1.0, mzp)
        assert 0.5 < rate / 5e-15 < 2.0
    # scaling of the stated normalisation
    ratio = clfv.mu_e_conversion_rate_talk(2e-3, 3e-4, 2.0, 1e-3) / clfv.mu_e_conversion_rate_talk(
        1e-3, 1e-4, 1.0, 1e-3)
    assert ratio == pytest.approx(4 * 9 * 16, rel=1e-12)


def test_nuclear_conversion_structure():
    vertex = clfv.loop_vertex(1e-3, 1.0)
    base = clfv.mu_e_conversion_rate(vertex, 1e-4, 1e-4, 1e-3, GOLD)
    # quadratic in vertex and quark coupling
    assert clfv.mu_e_conversion_rate(2 * vertex, 1e-4, 1e-4, 1e-3, GOLD) == pytest.approx(4 * base)
    assert clfv.mu_e_conversion_rate(vertex, 3e-4, 3e-4, 1e-3, GOLD) == pytest.approx(9 * base)
    # isospin: u only vs baryon-like (u = d)
    up_only = clfv.mu_e_conversion_rate(vertex, 1e-4, 0.0, 1e-3, GOLD)
    expected = ((2 * 0.0974 + 0.146) / (3 * (0.0974 + 0.146))) ** 2
    assert up_only / base == pytest.approx(expected, rel=1e-12)
    # Q^2 = m_mu^2 propagator: heavy Z' decouples like m_Z'^-4
    heavy = [clfv.mu_e_conversion_rate(vertex, 1e-4, 1e-4, m, GOLD) for m in (10.0, 20.0)]
    assert heavy[0] / heavy[1] == pytest.approx(16.0, rel=1e-3)
    # contact-operator check: g_LV(u) = g_LV(d) = 1 gives R = 2 G_F^2 m_mu^5 (3 (Vp + Vn))^2 / Gamma_capt
    coefficient = G_F / math.sqrt(2) * (1e-3**2 + M_MU**2)  # vertex * g_q giving g_LV = 1
    unit = clfv.mu_e_conversion_rate(coefficient, 1.0, 1.0, 1e-3, GOLD)
    expected_unit = 2 * G_F**2 * M_MU**5 * (3 * (0.0974 + 0.146)) ** 2 / GOLD.capture_rate_gev
    assert unit == pytest.approx(expected_unit, rel=1e-12)
    assert 150 < unit < 300  # coherent conversion ~ 2e2 |g_LV|^2 in gold


def _width_by_traces(parent, mzp):
    """Gamma(l_a -> l_b Z') for a unit left-handed coupling, massless daughter, written
    directly as the polarisation-sum contraction in dot products:
    |M|^2 = 2 p_a.p_b + 4 (k.p_a)(k.p_b)/m^2 (spin-averaged x 2)."""
    pa_pb = (parent**2 - mzp**2) / 2
    k_pa = (parent**2 + mzp**2) / 2
    k_pb = (parent**2 - mzp**2) / 2
    averaged = 0.5 * (2 * pa_pb + 4 * k_pa * k_pb / mzp**2)
    momentum = (parent**2 - mzp**2) / (2 * parent)
    return momentum / (8 * math.pi * parent**2) * averaged


@pytest.mark.parametrize("mzp", [1e-3, 0.03, 0.1])
def test_lepton_to_zprime_width(mzp):
    assert clfv.lepton_to_zprime_width(M_MU, 1.0, mzp) == pytest.approx(
        _width_by_traces(M_MU, mzp), rel=1e-12)


def test_lepton_to_zprime_longitudinal_scaling_and_threshold():
    w1, w2 = (clfv.lepton_to_zprime_width(1.77686, 1e-9, m) for m in (1e-3, 2e-3))
    assert w1 / w2 == pytest.approx(4.0, rel=1e-5)
    assert clfv.lepton_to_zprime_width(M_MU, 1e-9, 0.2) == 0.0


def test_upper_limit_chi2_half_gaussian():
    assert clfv.upper_limit_chi2(7e-13, 7e-13, 0.9) == pytest.approx(2.7055, rel=1e-4)
    assert clfv.upper_limit_chi2(0.0, 7e-13) == 0.0
    sigma = 7e-13 / clfv.limit_z_score(0.9)
    mass, _ = integrate.quad(lambda x: 2 * math.exp(-0.5 * (x / sigma) ** 2)
                             / (math.sqrt(2 * math.pi) * sigma), 0, 7e-13)
    assert mass == pytest.approx(0.9, rel=1e-8)
    with pytest.raises(ValueError):
        clfv.upper_limit_chi2(1.0, -1.0)


# --- the likelihood -------------------------------------------------------------------------
def _lfv_point(g_nu_emu, mzp=0.2, g_q=1e-4, m_n=1.0):
    model = LFVNSI()
    params = {"g_psi": 1.0, "sin_alpha": math.sqrt(g_nu_emu), "sin_beta": math.sqrt(g_nu_emu),
              "g_q": g_q, "mzp": mzp, "m_n1": m_n, "m_n2": m_n}
    return Point(params, model.couplings(params))


def test_sindrum_saturation_gives_2p71():
    """Analytic coupling saturating R(Au) = 7e-13 (m_Z' = 200 MeV > m_mu: no mu -> e Z')."""
    g_q, m_psi, mzp = 1e-4, 1.0, 0.2
    # R = 2 G_F^2 m_mu^5 [3 (Vp + Vn) (sqrt2/G_F) v g_q / (m_Z'^2 + m_mu^2)]^2 / Gamma_capt,
    # v = g_nu sqrt2 G_F m_psi^2 / (4 pi^2)  =>  R = K g_nu^2
    v_per_g = math.sqrt(2) * G_F * m_psi**2 / (4 * math.pi**2)
    amplitude_per_g = 3 * (0.0974 + 0.146) * math.sqrt(2) / G_F * v_per_g * g_q / (mzp**2 + M_MU**2)
    k = 2 * G_F**2 * M_MU**5 * amplitude_per_g**2 / (1.307e7 * 6.582119569e-25)
    g_sat = math.sqrt(7e-13 / k)
    lk = CLFVLikelihood()
    point = _lfv_point(g_sat, mzp=mzp, g_q=g_q, m_n=m_psi)
    table = lk.observables(point).set_index("observable")
    assert table.loc["R(mu -> e, Au)", "predicted"] == pytest.approx(7e-13, rel=1e-6)
    assert -2 * lk.loglike(point) == pytest.approx(2.71, rel=0.01)


def test_talk_benchmark_is_excluded_by_mu_to_e_zprime():
    """At the talk's benchmark with m_Z' = 10 MeV the loop vertex makes mu -> e Z' (TWIST)
    and the conversion rate far exceed their limits."""
    table = CLFVLikelihood().observables(_lfv_point(1e-3, mzp=0.01)).set_index("observable")
    assert table.loc["BR(mu -> e Z')", "delta_chi2"] > 100
    assert table.loc["R(mu -> e, Au)", "predicted"] > 7e-13


def test_no_signal_without_heavy_leptons_or_new_physics():
    lk = CLFVLikelihood()
    assert lk.loglike(Point({}, STANDARD_MODEL)) == 0.0
    model = Neutrinophilic()
    params = {"g_b": 1e-3, "g_nu_emu_re": 1e-3, "mzp": 0.01}
    assert lk.loglike(Point(params, model.couplings(params))) == 0.0


def test_future_and_options():
    future = CLFVLikelihood(future=True)
    assert future.nucleus.name == "Al" and future.conversion_limit["limit"] == pytest.approx(6.9e-17)
    point = _lfv_point(1e-6)
    assert future.loglike(point) < CLFVLikelihood().loglike(point)
    talk = CLFVLikelihood(conversion="talk")
    ratio = CLFVLikelihood().conversion_rate(point.couplings) / talk.conversion_rate(point.couplings)
    assert 1e4 < ratio < 2e4  # the two conversion formulas (docs/likelihoods/clfv.md)
    assert CLFVLikelihood(tau_limits="argus1995").decay_limits["tau_mu"][0]["limit"] == 5e-3
    for bad in ({"future": "comet"}, {"conversion": "exact"}, {"tau_limits": "belle"},
                {"loop_factor": -1.0}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            CLFVLikelihood(**bad)


def test_tau_channels_and_observables_columns():
    model = LFVNSI(flavours="mutau")
    params = {"g_psi": 1.0, "sin_alpha": 0.03, "sin_beta": 0.03, "g_q": 1e-4, "mzp": 0.5}
    lk = CLFVLikelihood()
    table = lk.observables(Point(params, model.couplings(params)))
    assert {"observable", "predicted", "measured", "uncertainty"} <= set(table.columns)
    rows = table.set_index("observable")
    assert rows.loc["BR(tau -> mu Z')", "predicted"] > 0
    assert rows.loc["BR(tau -> e Z')", "predicted"] == 0
    assert rows.loc["R(mu -> e, Au)", "predicted"] == 0
    assert np.isclose(-2 * lk.loglike(Point(params, model.couplings(params))),
                      rows["delta_chi2"].sum())
