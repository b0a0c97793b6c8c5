"""Heavy-neutral-lepton physics and the LHCb B- -> pi+ mu- mu- likelihood (lhcb_lnv)."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate

from globalfit.config import load_config
from globalfit.likelihood import Point
from globalfit.models.lfv import LFVNSI
from globalfit.physics import heavy_neutral_leptons as hnl
from globalfit.physics.constants import FERMI_CONSTANT_GEV2, MUON_MASS_GEV
from likelihoods.lhcb_lnv import LHCbLNV

# Reference widths from an independent implementation of the same formulas (1805.08567):
# mhostert/Heavy-Neutrino-Limits, src/HNLimits/Bosonic_CC/decay_functions.py at commit
# 8bcc041948b1e459af4bab9264f2ca1f710bb3fb, run with its own inputs (G_F = 1.16e-5 GeV^-2,
# sin^2 theta_W = 0.23, |U_mu| = 1); the call and its printed value are in each row.
HOSTERT_G_F = 1.16e-5
HOSTERT_REFERENCE = [
    # GammaPl(0.13, 0.13957, 0.9737, 1.5, 0.105) = Gamma(N -> mu- pi+)
    (lambda: hnl.lepton_pseudoscalar_width(1.5, 0.105, 0.13957, 0.13, 0.9737, 1.0),
     1.401495314882e-13),
    # GammaPl(0.156, 0.493, 0.2243, 2.5, 0.105) = Gamma(N -> mu- K+)
    (lambda: hnl.lepton_pseudoscalar_width(2.5, 0.105, 0.493, 0.156, 0.2243, 1.0),
     4.703624484326e-14),
    # GammaPnu(0.13, 0.13498, 1.5, 0, 1, 0) = Gamma(N -> nu pi0)
    (lambda: hnl.neutrino_pseudoscalar_width(1.5, 0.13498, 0.13, 1.0), 7.511289333078e-14),
    # GammaVl(0.17, 0.775, 0.9737, 1.5, 0.105) = Gamma(N -> mu- rho+)
    (lambda: hnl.lepton_vector_width(1.5, 0.105, 0.775, 0.17, 0.9737, 1.0), 3.332599862020e-13),
    # GammaVnu(0.17, 0.775, 0.54, 1.5, 0, 1, 0) = Gamma(N -> nu rho0)
    (lambda: hnl.neutrino_vector_width(1.5, 0.775, 0.17, 0.54, 1.0), 5.224437552481e-14),
    # GammaPNl(0.19, 5.279, 0.00382, 2.0, 0.105) = Gamma(B- -> mu- N)
    (lambda: hnl.pseudoscalar_to_lepton_hnl_width(5.279, 0.19, 0.00382, 0.105, 2.0, 1.0),
     4.383973708160e-17),
    # Gammavmumu(1.5, 0, 1, 0) = Gamma(N -> nu_mu mu+ mu-), neutral + charged current
    (lambda: hnl.neutral_current_width(1.5, 1.0, 0.105, *hnl.neutral_current_coefficients(
        -1.0, True, 0.23)), 9.400138808226e-14),
    # Gammavee(1.5, 0, 1, 0) = Gamma(N -> nu_mu e+ e-), neutral current only
    (lambda: hnl.neutral_current_width(1.5, 1.0, 5.11e-4, *hnl.neutral_current_coefficients(
        -1.0, False, 0.23)), 2.159240724141e-14),
    # Gammavmumep(1.5, 0, 1, 0) = Gamma(N -> mu- e+ nu_e), electron massless there
    (lambda: hnl.charged_current_width(1.5, 1.0, (0.0, 0.0, 0.105)), 1.651760007560e-13),
]


@pytest.mark.parametrize("width, reference", HOSTERT_REFERENCE)
def test_channel_widths_agree_with_an_independent_implementation(width, reference):
    assert width() * (HOSTERT_G_F / FERMI_CONSTANT_GEV2) ** 2 == pytest.approx(reference,
                                                                                 rel=1e-9)


def test_three_body_phase_space_limits():
    assert hnl.charged_current_phase_space(0.0, 0.0, 0.0) == pytest.approx(1.0, rel=1e-9)
    x = 0.3  # one massive final state: the muon-decay function 1 - 8x^2 + 8x^6 - x^8 - 24x^4 ln x
    closed = 1 - 8 * x**2 + 8 * x**6 - x**8 - 24 * x**4 * math.log(x)
    assert hnl.charged_current_phase_space(0.0, 0.0, x) == pytest.approx(closed, rel=1e-9)
    assert hnl.charged_current_phase_space(0.5, 0.3, 0.3) == 0.0


def test_production_reduces_to_the_standard_model_leptonic_width_for_a_massless_state():
    m_b, f_b, quarks = hnl.charged_pseudoscalars()["B"]
    standard = (FERMI_CONSTANT_GEV2**2 * f_b**2 * hnl.ckm()[quarks] ** 2 * m_b * MUON_MASS_GEV**2
                / (8 * math.pi) * (1 - MUON_MASS_GEV**2 / m_b**2) ** 2)
    assert hnl.meson_to_lepton_hnl_width("B", MUON_MASS_GEV, 1e-7, 0.3) == pytest.approx(
        0.3 * standard, rel=1e-6)
    assert hnl.meson_to_lepton_hnl_width("B", MUON_MASS_GEV, 5.2, 1.0) == 0.0


def test_total_width_is_linear_in_the_mixing_and_majorana_is_twice_dirac():
    for mass in (0.4, 1.5, 4.0):
        small, large = (hnl.total_width(mass, (0, u, 0)) for u in (1e-6, 1e-3))
        assert large == pytest.approx(1e3 * small, rel=1e-12)
        assert hnl.total_width(mass, (0, 1e-4, 0), majorana=False) == pytest.approx(
            hnl.total_width(mass, (0, 1e-4, 0)) / 2, rel=1e-12)


@pytest.mark.parametrize("ratio, window", [(0.1, 3.0), (1.0, 0.5), (7.0, 2.0), (30.0, 8.0)])
def test_lnv_fraction_is_the_integral_of_the_oscillating_decay_distribution(ratio, window):
    width = 1.0e-12  # GeV: lifetime 0.66 ps
    splitting = ratio * width
    end = window / hnl.HBAR_GEV_PS if np.isfinite(window) else np.inf
    numeric = integrate.quad(
        lambda t: 0.5 * width * math.exp(-width * t) * (1 - math.cos(splitting * t)), 0, end,
        limit=500)[0]
    assert hnl.lnv_fraction(splitting, width, window) == pytest.approx(numeric, rel=1e-7)


def test_lnv_fraction_limits():
    width = 2.0e-15
    assert hnl.lnv_fraction(0.0, width) == 0.0
    assert hnl.lnv_fraction(width, width) == pytest.approx(0.25, rel=1e-12)
    ratio = 3.7  # Delta M^2 / (2 (Gamma^2 + Delta M^2)) for T -> infinity
    assert hnl.lnv_fraction(ratio * width, width) == pytest.approx(
        ratio**2 / (2 * (1 + ratio**2)), rel=1e-12)
    assert hnl.lnv_fraction(1e6 * width, width) == pytest.approx(0.5, rel=1e-9)
    # single Majorana: half of the decays within T violate lepton number
    t_ps = 50.0
    decayed = -math.expm1(-width * t_ps / hnl.HBAR_GEV_PS)
    assert hnl.lnv_fraction(1e6 * width, width, t_ps) == pytest.approx(decayed / 2, rel=1e-5)


# --- the likelihood --------------------------------------------------------------------
MODEL = LFVNSI(flavours="emu")


def couplings(mass_gev, sin_beta, splitting_gev, sin_alpha=0.0):
    return MODEL.couplings({"m_n1": mass_gev, "m_n2": mass_gev, "sin_beta": sin_beta,
                            "sin_alpha": sin_alpha, "delta_m_n": splitting_gev})


def single_majorana_branching_fraction(mass_gev, usq_mu, t_ps, b_lifetime_ps=1.638):
    """One Majorana HNL of mixing |U_mu|^2, written directly from the physics functions."""
    width = hnl.total_width(mass_gev, (0.0, usq_mu, 0.0))
    production = hnl.meson_to_lepton_hnl_width("B", MUON_MASS_GEV, mass_gev, usq_mu)
    one_mode = hnl.hnl_to_lepton_pion_width(mass_gev, MUON_MASS_GEV, usq_mu) / width
    decayed = -math.expm1(-width * t_ps / hnl.HBAR_GEV_PS)
    return production * b_lifetime_ps / hnl.HBAR_GEV_PS * one_mode * decayed


@pytest.fixture(scope="module")
def likelihood():
    return LHCbLNV(limit="lhcb_2011", prompt_proper_time_ps=1.0)


@pytest.mark.parametrize("mass", [0.5, 1.0, 2.5, 4.5])
def test_exact_dirac_pair_gives_zero_rate(likelihood, mass):
    c = couplings(mass, 0.05, 0.0, sin_alpha=0.02)
    assert likelihood.branching_fraction(c) == 0.0
    assert likelihood.loglike(Point({}, couplings=c)) == 0.0


@pytest.mark.parametrize("mass", [0.5, 1.5, 3.0, 4.5])
def test_well_split_pair_is_two_independent_majorana_states(likelihood, mass):
    """Delta M >> Gamma: two Majorana states of mixing |U|^2 / 2 each (each with half the
    width of one state of mixing |U|^2, so a prompt window sees fewer decays); with an
    unlimited window the sum is one Majorana HNL of the full mixing."""
    sin_beta = 0.03
    c = couplings(mass, sin_beta, 1.0e-6)  # Gamma < 1e-12 GeV here
    two_states = 2 * single_majorana_branching_fraction(mass, sin_beta**2 / 2, 1.0)
    assert likelihood.branching_fraction(c) == pytest.approx(two_states, rel=1e-6)
    unlimited = LHCbLNV(limit="lhcb_2011", prompt_proper_time_ps=1.0e12)
    assert unlimited.branching_fraction(c) == pytest.approx(
        single_majorana_branching_fraction(mass, sin_beta**2, 1.0e12), rel=1e-6)


def test_splitting_turns_the_signal_on_as_delta_m_over_gamma(likelihood):
    mass, sin_beta = 3.0, 0.03
    width = hnl.total_width(mass, (0.0, sin_beta**2 / 2, 0.0))
    splittings = width * np.array([0.0, 0.1, 0.3, 1.0, 3.0, 10.0, 1e4])
    rates = [likelihood.branching_fraction(couplings(mass, sin_beta, s)) for s in splittings]
    assert rates[0] == 0.0 and all(np.diff(rates) > 0)
    full = rates[-1]
    # LHCb's window (1 ps) is short against the lifetime here, so the early-time
    # oscillation (1 - cos(dM t)) sets the fraction, not dM^2 / (Gamma^2 + dM^2)
    window = 1.0 / hnl.HBAR_GEV_PS
    for s, rate in zip(splittings[1:4], rates[1:4], strict=True):
        early = 1 - math.sin(s * window) / (s * window)  # (1/T) int_0^T (1 - cos) dt
        assert rate / full == pytest.approx(early, rel=0.02)


def test_loglike_is_the_half_gaussian_limit(likelihood):
    c = couplings(2.0, 0.2, 1.0e-3)
    predicted = likelihood.branching_fraction(c)
    assert predicted > 0
    chi2 = -2 * likelihood.loglike(Point({}, couplings=c))
    assert chi2 == pytest.approx(1.959964**2 * (predicted / 5.8e-8) ** 2, rel=1e-5)


def test_options_and_refusals():
    with pytest.raises(ValueError, match="prompt_proper_time_ps: required"):
        LHCbLNV(limit="lhcb_2011")
    with pytest.raises(ValueError, match="limit: required"):
        LHCbLNV(prompt_proper_time_ps=1.0)
    with pytest.raises(ValueError, match="not reached"):
        LHCbLNV(limit="lhcb_2014", prompt_proper_time_ps=1.0)
    lk = LHCbLNV(limit="lhcb_2011", prompt_proper_time_ps=1.0)
    unequal = MODEL.couplings({"m_n1": 1.0, "m_n2": 1.2, "sin_beta": 0.01, "delta_m_n": 0.0})
    with pytest.raises(ValueError, match="m_n1 = 1.0 GeV and m_n2 = 1.2 GeV differ"):
        lk.branching_fraction(unequal)


def _card(parameters):
    return {
        "name": "lnv_test", "model": {"name": "lfv_nsi", "options": {"flavours": "emu"}},
        "parameters": parameters,
        "likelihoods": {"lhcb_lnv": {"limit": "lhcb_2011", "prompt_proper_time_ps": 1.0}},
        "sampler": {"name": "emcee", "walkers": 8, "steps": 10, "burn_in": 0, "seed": 1},
    }


def test_a_card_without_the_splitting_is_refused_naming_the_key():
    base = {"sin_beta": {"prior": "uniform", "min": 0.0, "max": 0.1},
            "m_n1": {"value": 2.0, "unit": "GeV"}, "m_n2": {"value": 2.0, "unit": "GeV"}}
    with pytest.raises(Exception, match="delta_m_n"):
        load_config(_card(base)).validate()
    load_config(_card({**base, "delta_m_n": {"value": 0.0, "unit": "GeV"}})).validate()
