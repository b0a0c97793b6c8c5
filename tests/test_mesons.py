"""Meson decays: M -> l nu (Z') physics and the `mesons` likelihood."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate

from globalfit.couplings import STANDARD_MODEL, Couplings
from globalfit.likelihood import Point
from globalfit.models.lfv import LFVNSI
from globalfit.physics import meson_decays as md
from globalfit.physics.constants import (
    CHARGED_KAON_MASS_GEV as M_K,
)
from globalfit.physics.constants import (
    CHARGED_PION_LIFETIME_S,
)
from globalfit.physics.constants import (
    CHARGED_PION_MASS_GEV as M_PI,
)
from globalfit.physics.constants import (
    ELECTRON_MASS_GEV as M_E,
)
from globalfit.physics.constants import (
    MUON_MASS_GEV as M_MU,
)
from likelihoods.mesons import MesonDecayLikelihood

HBAR_GEV_S = 6.582119569e-25


# --- an independent check of the squared amplitude with explicit Dirac matrices -------------
def _dirac_matrices():
    i2, z2 = np.eye(2), np.zeros((2, 2))
    sigma = [np.array([[0, 1], [1, 0]]), np.array([[0, -1j], [1j, 0]]), np.array([[1, 0], [0, -1]])]
    gamma = [np.block([[i2, z2], [z2, -i2]]).astype(complex)]
    gamma += [np.block([[z2, s], [-s, z2]]).astype(complex) for s in sigma]
    gamma5 = 1j * gamma[0] @ gamma[1] @ gamma[2] @ gamma[3]
    return gamma, gamma5


GAMMA, GAMMA5 = _dirac_matrices()
METRIC = np.diag([1.0, -1.0, -1.0, -1.0])


def _slash(p):
    return sum(METRIC[m, m] * p[m] * GAMMA[m] for m in range(4))


def _momenta(s, t, big, m, mu):
    """Four-momenta (p_l, p_nu, k) in the meson rest frame for Dalitz point (s, t)."""
    e_l = (big**2 + m**2 - s) / (2 * big)
    u = big**2 + m**2 + mu**2 - s - t
    e_nu = (big**2 - u) / (2 * big)
    e_k = big - e_l - e_nu
    p_l3 = math.sqrt(e_l**2 - m**2)
    p_nu3 = e_nu
    # angle between l and nu from t = m^2 + 2 (E_l E_nu - p_l p_nu cos)
    cos = (m**2 + 2 * e_l * e_nu - t) / (2 * p_l3 * p_nu3)
    p_l = np.array([e_l, 0, 0, p_l3])
    p_nu = np.array([e_nu, p_nu3 * math.sqrt(1 - cos**2), 0, p_nu3 * cos])
    k = np.array([big, 0, 0, 0]) - p_l - p_nu
    assert abs(k[0] - e_k) < 1e-12
    return p_l, p_nu, k


def _trace_amplitude(s, t, big, m, mu):
    """sum|M|^2 / (G_F^2 f^2 V^2 g^2) from u(p_nu) eps* P_L q/q^2 P (1 - g5) v(p_l)."""
    p_l, p_nu, k = _momenta(s, t, big, m, mu)
    q = p_nu + k
    p_meson = p_l + q
    p_left = 0.5 * (np.eye(4) - GAMMA5)
    chain_tail = _slash(q) / (q @ METRIC @ q) @ _slash(p_meson) @ (np.eye(4) - GAMMA5)
    gamma0 = GAMMA[0]
    total = 0.0
    polarisation = -METRIC + np.outer(METRIC @ k, METRIC @ k) / mu**2
    upper = [GAMMA[r] @ p_left @ chain_tail for r in range(4)]
    bar = [gamma0 @ g.conj().T @ gamma0 for g in upper]
    for r in range(4):
        for c in range(4):
            if polarisation[r, c] == 0:
                continue
            trace = np.trace(_slash(p_nu) @ upper[r] @ (_slash(p_l) - m * np.eye(4)) @ bar[c])
            total += polarisation[r, c] * trace.real
    return 0.5 * total  # |C|^2 = G_F^2 f^2 V^2 g^2 / 2


@pytest.mark.parametrize("meson, lepton, mzp", [(M_K, M_MU, 0.05), (M_PI, M_E, 0.02),
                                               (M_K, M_E, 0.3)])
def test_squared_amplitude_matches_dirac_traces(meson, lepton, mzp):
    rng = np.random.default_rng(1)
    for _ in range(5):
        s = rng.uniform(mzp**2, (meson - lepton) ** 2)
        t_min, t_max = md.dalitz_t_limits(s, meson, lepton, mzp)
        t = rng.uniform(t_min, t_max)
        expected = _trace_amplitude(s, t, meson, lepton, mzp)
        got = md.reduced_squared_amplitude(s, t, meson, lepton, mzp)
        assert got == pytest.approx(expected, rel=1e-9)
        assert got > 0


# --- two-body normalisation ----------------------------------------------------------------
def test_two_body_pion_lifetime():
    """Tree level with f_pi = 130.2 MeV, |V_ud| = 0.97373 (FLAG / PDG, FROM MEMORY):
    the pi -> mu nu width is within 4% of 1/tau_pi (radiative corrections are a few %)."""
    width = md.two_body_width(M_PI, M_MU, 0.1302, 0.97373)
    assert width * CHARGED_PION_LIFETIME_S / HBAR_GEV_S == pytest.approx(1.0, abs=0.04)


@pytest.mark.parametrize("meson, sm", [(M_PI, 1.2352e-4), (M_K, 2.477e-5)])
def test_tree_level_ratios_within_radiative_corrections(meson, sm):
    tree = md.tree_level_ratio(meson, M_E, M_MU)
    assert tree == pytest.approx((M_E / M_MU) ** 2 * ((meson**2 - M_E**2) / (meson**2 - M_MU**2)) ** 2)
    assert 0.0 < tree / sm - 1.0 < 0.04  # radiative corrections lower R_M by 3.6-3.8%


def test_heavy_lepton_width_limits():
    assert md.heavy_lepton_width(M_K, M_MU, 1e-9, 0.3) == pytest.approx(
        0.3 * md.two_body_width(M_K, M_MU), rel=1e-9)
    assert md.heavy_lepton_width(M_K, M_MU, M_K - M_MU, 0.3) == 0.0
    # no helicity suppression once m_N >> m_e
    assert md.heavy_lepton_width(M_K, M_E, 0.3, 1.0) > 1e4 * md.two_body_width(M_K, M_E)


# --- three-body -----------------------------------------------------------------------------
def test_three_body_against_two_dimensional_quadrature():
    meson, lepton, mzp = M_K, M_MU, 0.05

    def integrand(t, s):
        return md.reduced_squared_amplitude(s, t, meson, lepton, mzp)

    value, _ = integrate.dblquad(
        integrand, mzp**2, (meson - lepton) ** 2,
        lambda s: md.dalitz_t_limits(s, meson, lepton, mzp)[0],
        lambda s: md.dalitz_t_limits(s, meson, lepton, mzp)[1], epsrel=1e-9)
    expected = value / ((2 * math.pi) ** 3 * 32 * meson**3)
    reduced = md.three_body_width(meson, lepton, mzp) / md.FERMI_CONSTANT_GEV2**2
    assert reduced == pytest.approx(expected, rel=1e-7)


def test_three_body_quadrature_converged():
    for mzp in (1e-3, 0.05):
        coarse = md.three_body_width(M_K, M_MU, mzp, nodes=64)
        fine = md.three_body_width(M_K, M_MU, mzp, nodes=1024)
        assert coarse == pytest.approx(fine, rel=1e-8)


def test_massless_lepton_limit():
    """m_l -> 0, m_Z' << m_M: G_F^2 f^2 V^2 g^2 m_M^5 / (3072 pi^3 m_Z'^2); the transverse
    part adds 4 m_Z'^2 / m_M^2."""
    mzp = 1e-3
    ratio = md.three_body_width(M_K, 1e-9, mzp) / md.massless_limit_width(M_K, mzp)
    assert ratio == pytest.approx(1.0, abs=2e-5)


def test_longitudinal_scaling_with_mzp():
    """Gamma ~ 1/m_Z'^2 for m_Z' << m_M; enhancement over M -> e nu is
    g^2 m_M^4 / (384 pi^2 m_e^2 m_Z'^2) (the Bakhti-Farzan m_M^4/(m_e^2 m_Z'^2))."""
    w1 = md.three_body_width(M_K, M_E, 1e-3)
    w2 = md.three_body_width(M_K, M_E, 2e-3)
    assert w1 / w2 == pytest.approx(4.0, rel=1e-3)
    ratio = md.three_body_over_two_body(M_K, M_E, 1e-3)
    assert ratio == pytest.approx(M_K**4 / (384 * math.pi**2 * M_E**2 * 1e-6), rel=2e-3)
    assert 1e7 < ratio < 1e8


def test_three_body_threshold_and_window():
    assert md.three_body_width(M_PI, M_MU, M_PI - M_MU + 1e-6) == 0.0
    full = md.three_body_width(M_K, M_E, 0.01)
    cut = md.three_body_width(M_K, M_E, 0.01, s_max_gev2=0.013)
    assert 0 < cut < full
    assert md.three_body_width(M_K, M_E, 0.2, s_max_gev2=0.013) == 0.0
    with pytest.raises(ValueError, match="mzp_gev"):
        md.three_body_width(M_K, M_E, 0.0)


# --- Z' also coupled to the charged lepton (general amplitude) -------------------------------
def test_general_amplitude_reduces_to_neutrino_line():
    for meson, lepton, mzp in ((M_K, M_MU, 0.05), (M_PI, M_E, 0.01)):
        general = md.general_three_body_width(meson, lepton, mzp, 1.0, 0.0)
        assert general == pytest.approx(md.three_body_width(meson, lepton, mzp), rel=2e-4)
    s, t = 0.05, 0.02
    assert md.general_squared_amplitude([s], [t], M_K, M_MU, 0.05, 1.0, 0.0)[0] == pytest.approx(
        md.reduced_squared_amplitude(s, t, M_K, M_MU, 0.05), rel=1e-10)


def test_ward_identity_for_conserved_lepton_current():
    """g_nu = g_l: the Z' couples to a conserved current, so sum_spins |k.M|^2 = 0."""
    gamma, _ = md._dirac_matrices()
    s = np.array([0.03, 0.08, 0.14])
    t_min, t_max = md.dalitz_t_limits(s, M_K, M_MU, 0.05)
    p_l, p_nu, k = md.dalitz_momenta(s, 0.3 * t_min + 0.7 * t_max, M_K, M_MU, 0.05)
    for g_lepton, vanishes in ((1.0, True), (0.0, False)):
        current = md.emission_current(p_l, p_nu, k, M_MU, 1.0, g_lepton)
        k_current = np.einsum("nr,nrij->nij", k @ md._METRIC, current)
        k_bar = gamma[0] @ np.conj(np.swapaxes(k_current, -1, -2)) @ gamma[0]
        spin_sum = np.trace(md._slash(p_nu) @ k_current @ (md._slash(p_l) - M_MU * np.eye(4))
                            @ k_bar, axis1=-2, axis2=-1).real
        if vanishes:
            assert np.all(np.abs(spin_sum) < 1e-14)
        else:
            assert np.all(spin_sum > 1e-3)


def test_conserved_current_has_no_longitudinal_enhancement():
    same = [md.general_three_body_width(M_K, M_MU, m, 1.0, 1.0) for m in (0.01, 0.02)]
    nu_only = [md.three_body_width(M_K, M_MU, m) for m in (0.01, 0.02)]
    assert nu_only[0] / nu_only[1] == pytest.approx(4.0, rel=0.05)
    assert same[0] / same[1] < 2.0          # only the soft logarithm remains
    assert same[0] < 0.05 * nu_only[0]
    # quadratic form in the couplings
    assert md.general_three_body_width(M_K, M_MU, 0.02, 2.0, 2.0) == pytest.approx(4 * same[1], rel=1e-10)


def test_general_width_quadrature_converged():
    for args in ((M_K, M_MU, 0.01, 1.0, 0.5), (M_K, M_E, 0.001, 1.0, 1.0)):
        coarse = md.general_three_body_width(*args)
        fine = md.general_three_body_width(*args, s_nodes=256, t_nodes=128)
        assert coarse == pytest.approx(fine, rel=3e-4)


# --- the likelihood -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def mesons():
    return MesonDecayLikelihood()


def test_standard_model_point(mesons):
    table = mesons.observables(Point({}, STANDARD_MODEL)).set_index("observable")
    assert table.loc["R_pi", "predicted"] == pytest.approx(1.2352e-4)
    assert table.loc["R_pi", "delta_chi2"] == pytest.approx((0.0008 / math.hypot(0.0030, 0.0001)) ** 2)
    assert table.loc["R_K", "delta_chi2"] == pytest.approx((0.011 / math.hypot(0.010, 0.001)) ** 2)
    assert table.loc["BR(K -> mu nu Z'(inv))", "predicted"] == 0.0


def test_heavy_lepton_mixing_rescales_ratio(mesons):
    u_e2 = 4e-3
    mixing = np.zeros((3, 2))
    mixing[0, 0] = math.sqrt(u_e2)
    couplings = Couplings(hnl_masses_gev=(1.0, 1.0), hnl_mixing=mixing)
    r_k = mesons.predicted_ratio(couplings, "r_k")
    assert r_k == pytest.approx(2.477e-5 * (1 - u_e2), rel=1e-12)


def test_lfv_model_zprime_and_windows():
    model = LFVNSI()
    params = {"g_psi": 1.0, "sin_alpha": 0.01, "sin_beta": 0.01, "g_q": 1e-4, "mzp": 0.2}
    couplings = model.couplings(params)
    windows = MesonDecayLikelihood().predicted_ratio(couplings, "r_k")
    full = MesonDecayLikelihood(acceptance="full").predicted_ratio(couplings, "r_k")
    assert windows == pytest.approx(2.477e-5, rel=1e-12)  # m_Z'^2 = 0.04 GeV^2 outside window
    assert full > windows


def test_e949_saturation_gives_2p71():
    """The coupling that saturates BR(K -> mu nu Z') = 2.4e-6 gives Delta chi^2 = 2.71."""
    mzp = 0.02
    per_g2 = 0.6356 * md.three_body_over_two_body(M_K, M_MU, mzp)
    g_sat = math.sqrt(2.4e-6 / per_g2)
    g_nu = np.zeros((3, 3))
    g_nu[0, 1] = g_nu[1, 0] = g_sat
    lk = MesonDecayLikelihood(include=["k_mu_nu_nu_nubar"])
    chi2 = -2 * lk.loglike(Point({}, Couplings(g_nu=g_nu, mzp_gev=mzp)))
    assert chi2 == pytest.approx(2.7055, rel=0.01)


def test_u1_model_uses_lepton_line():
    """U(1) with a_mu = -3/2: muon and nu_mu carry the same charge, so K -> mu nu Z' loses its
    longitudinal enhancement compared with a neutrino-only coupling of the same size."""
    from globalfit.models.u1 import LeptonBaryonU1
    params = {"g_prime": 1e-3, "a_e": 0.0, "a_mu": -1.5, "a_tau": -1.5, "mzp": 0.01}
    couplings = LeptonBaryonU1().couplings(params)
    lk = MesonDecayLikelihood()
    with_lepton = lk.k_mu_zprime_branching_ratio(couplings)
    g_nu = np.zeros((3, 3))
    g_nu[1, 1] = couplings.g_nu[1, 1].real
    nu_only = lk.k_mu_zprime_branching_ratio(Couplings(g_nu=g_nu, mzp_gev=0.01))
    assert 0 < with_lepton < 0.05 * nu_only


def test_option_validation():
    with pytest.raises(ValueError, match="include"):
        MesonDecayLikelihood(include=["r_d"])
    with pytest.raises(ValueError, match="acceptance"):
        MesonDecayLikelihood(acceptance="some")
    with pytest.raises(ValueError, match="unknown option"):
        MesonDecayLikelihood(futur=True)
