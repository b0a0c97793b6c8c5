"""Physics tests of globalfit.physics.cevns, form_factors, nuclei and sns."""
from __future__ import annotations

import numpy as np
import pytest

from globalfit.couplings import Couplings
from globalfit.physics import cevns, form_factors, nuclei, sns
from globalfit.physics.constants import FERMI_CONSTANT_GEV2, GEV2_TO_CM2, MEV

CS = nuclei.element("Cs")[0]
AR40 = nuclei.element("Ar")[-1]


def _diag(value, flavour=0):
    m = np.zeros((3, 3))
    m[flavour, flavour] = value
    return m


def test_zero_recoil_limit_is_textbook_weak_charge():
    s2 = 0.2387
    g_p, g_n = cevns.weak_nucleon_couplings(s2, radiative=False)
    q_w = CS.n - (1.0 - 4.0 * s2) * CS.z
    expected = FERMI_CONSTANT_GEV2**2 * CS.mass_gev * q_w**2 / (4.0 * np.pi) * GEV2_TO_CM2
    value = cevns.differential_cross_section(30 * MEV, 1e-12, CS, "nu_mu", g_p=g_p, g_n=g_n)
    assert value == pytest.approx(expected, rel=1e-8)


def test_radiative_couplings_values():
    assert pytest.approx(0.0304, abs=3e-4) == cevns.sm_nucleon_couplings()[0]
    assert pytest.approx(-0.5122, abs=3e-4) == cevns.sm_nucleon_couplings()[1]


def test_cross_section_vanishes_at_max_recoil():
    energy = 30 * MEV
    t_max = cevns.max_recoil_gev(energy, CS.mass_gev)
    assert cevns.differential_cross_section(energy, t_max * (1 + 1e-9), CS, "nu_e") == 0.0
    assert cevns.differential_cross_section(energy, t_max * 0.5, CS, "nu_e") > 0.0


@pytest.mark.parametrize("q_gev", [0.0, 1e-6])
def test_form_factors_are_one_at_zero_momentum(q_gev):
    assert form_factors.helm(q_gev, 4.8) == pytest.approx(1.0, abs=1e-9)
    assert form_factors.klein_nystrand(q_gev, 133) == pytest.approx(1.0, abs=1e-9)


def test_form_factor_falls_with_momentum():
    q = np.linspace(0.0, 0.1, 50)
    assert np.all(np.diff(form_factors.helm(q, 4.8)) < 0)


def test_helm_rejects_tiny_radius():
    with pytest.raises(ValueError, match="rms_radius_fm"):
        form_factors.helm(0.01, 1.0)


def test_michel_spectra_are_normalised_and_prompt_line_energy():
    energies, weights = sns.delayed_energy_grid(200)
    assert np.sum(weights * sns.michel_nue_pdf(energies)) == pytest.approx(1.0, rel=1e-10)
    assert np.sum(weights * sns.michel_numubar_pdf(energies)) == pytest.approx(1.0, rel=1e-10)
    assert pytest.approx(29.79, abs=0.01) == sns.PROMPT_ENERGY_GEV / MEV


def test_timing_fractions_follow_lifetimes():
    fractions = sns.time_bin_fractions([-1.0, 1.5, 40.0], pot_mean_ns=0.0, pot_sigma_ns=1.0)
    assert fractions["prompt"].sum() == pytest.approx(1.0, abs=1e-3)
    # delayed: after the pulse the tail is exp(-t / tau_mu)
    assert fractions["delayed"][1] == pytest.approx(np.exp(-1.5 / sns.MUON_LIFETIME_US), rel=2e-2)


def test_sns_fluence_matches_inputs():
    exposure = sns.SNSExposure(1.76e23, 0.08, 19.3)
    assert exposure.fluence_per_flavour_cm2 == pytest.approx(3.0e14, rel=0.01)


def test_nuclear_masses_and_targets():
    assert CS.mass_gev == pytest.approx(123.8, rel=1e-3)
    targets = nuclei.target_isotopes({"Ar": 1}, 24.4)
    assert sum(c for _, c in targets) == pytest.approx(3.68e26, rel=0.01)


def test_nsi_cancellation_direction_gives_sm_charge():
    """eps^u, eps^d with Z(2u + d) + N(u + 2d) = -2 Q_SM flips the sign of the charge: Q^2 = SM."""
    q_sm = CS.z * cevns.sm_nucleon_couplings()[0] + CS.n * cevns.sm_nucleon_couplings()[1]
    eps_u = 0.3
    eps_d = (-2.0 * q_sm - (2 * CS.z + CS.n) * eps_u) / (CS.z + 2 * CS.n)
    c = Couplings(eps0={"u": _diag(eps_u), "d": _diag(eps_d)})
    assert cevns.weak_charge_squared(CS, "nu_e", c) == pytest.approx(q_sm**2, rel=1e-12)
    assert cevns.weak_charge_squared(CS, "nu_mu", c) == pytest.approx(q_sm**2, rel=1e-12)


def test_off_diagonal_adds_incoherently():
    m = np.zeros((3, 3), dtype=complex)
    m[0, 1] = 0.1j
    m[1, 0] = -0.1j
    c = Couplings(eps0={"u": m})
    q_sm = CS.z * cevns.sm_nucleon_couplings()[0] + CS.n * cevns.sm_nucleon_couplings()[1]
    extra = ((2 * CS.z + CS.n) * 0.1) ** 2
    for flavour in ("nu_e", "nu_mu"):
        assert cevns.weak_charge_squared(CS, flavour, c) == pytest.approx(q_sm**2 + extra)
    assert cevns.weak_charge_squared(CS, "nu_tau", c) == pytest.approx(q_sm**2)


def _predictor(recoil_points=300):
    exposure = sns.SNSExposure(1e23, 0.08, 20.0)
    energies, weights = sns.delayed_energy_grid(100)
    flu = exposure.fluence_per_flavour_cm2
    sources = [
        cevns.Source("nu_mu", "nu_mu", [sns.PROMPT_ENERGY_GEV], [flu]),
        cevns.Source("nu_e", "nu_e", energies, flu * weights * sns.michel_nue_pdf(energies)),
    ]
    edges_kev = np.array([2.0, 10.0, 20.0, 60.0])

    def response(recoil, isotope):
        t_kev = recoil * 1e6
        return np.stack([(t_kev >= lo) & (t_kev < hi) for lo, hi in zip(edges_kev[:-1],
                                                                        edges_kev[1:])], 1)

    targets = nuclei.target_isotopes({"Cs": 1, "I": 1}, 10.0)
    return cevns.CEvNSPredictor(targets, sources, response, recoil_points=recoil_points)


def test_predictor_matches_direct_integration():
    # a sharp-edged test response: the midpoint rule is then first order in the step
    pred = _predictor(recoil_points=4000)
    rates = pred.rates()
    iso, count = CS, nuclei.target_isotopes({"Cs": 1, "I": 1}, 10.0)[0][1]
    t = np.linspace(2e-6, 10e-6, 4001)
    flu = sns.SNSExposure(1e23, 0.08, 20.0).fluence_per_flavour_cm2
    direct = np.trapezoid(cevns.differential_cross_section(sns.PROMPT_ENERGY_GEV, t, iso, "nu_mu"),
                          t) * flu * count
    iodine = nuclei.element("I")[0]
    direct += np.trapezoid(cevns.differential_cross_section(sns.PROMPT_ENERGY_GEV, t, iodine,
                                                            "nu_mu"), t) * flu * count
    assert rates[0, 0] == pytest.approx(direct, rel=1e-3)


@pytest.mark.parametrize("mzp_gev", [None, 0.005, 0.05, 1.0])
def test_fast_structure_path_equals_grid_path(mzp_gev):
    pred = _predictor()
    m = np.array([[0.3, 0.05 + 0.02j, 0.0], [0.05 - 0.02j, -0.2, 0.1], [0.0, 0.1, 0.0]])
    c = Couplings(eps0={"u": m, "d": 0.5 * m}, mzp_gev=mzp_gev)
    np.testing.assert_allclose(pred.rates(c), pred.rates_on_grid(c), rtol=1e-10)


def test_heavy_mediator_limit_is_contact():
    pred = _predictor()
    eps = {"u": _diag(0.2), "d": _diag(-0.1, 1)}
    contact = pred.rates(Couplings(eps0=eps))
    heavy = pred.rates(Couplings(eps0=eps, mzp_gev=1.0e4))
    np.testing.assert_allclose(heavy, contact, rtol=1e-6)
    light = pred.rates(Couplings(eps0=eps, mzp_gev=1.0e-4))
    np.testing.assert_allclose(light, pred.rates(), rtol=2e-3)  # very light: NSI switched off


def test_structure_cache_is_bounded():
    pred = _predictor()
    for m in np.geomspace(0.001, 1, 10):
        pred.structure_kernels(m)
    assert len(pred._cache) <= 4


def test_bad_flavour_raises():
    with pytest.raises(ValueError, match="flavour"):
        cevns.weak_charge_squared(CS, "nu_x")


def test_charge_coupled_model_acts_on_protons_only():
    """Kinetic mixing: eps^n = eps^u + 2 eps^d = 0, so Q_a = Z (g_p + eps^p_aa) + N g_n."""
    km = pytest.importorskip("globalfit.models.kinetic_mixing")
    model = km.KineticMixing()
    c = model.couplings({"delta": 1e-4, "g_nu_ee": 1e-3, "g_nu_mumu": 0.0, "mzp": 0.02})
    eps_p, eps_n = cevns.nucleon_nsi(c, 0.0)
    np.testing.assert_allclose(eps_n, 0.0, atol=1e-15)
    g_p, g_n = cevns.sm_nucleon_couplings()
    expected = (CS.z * (g_p + eps_p[0, 0].real) + CS.n * g_n) ** 2
    assert cevns.weak_charge_squared(CS, "nu_e", c) == pytest.approx(expected, rel=1e-12)
    assert eps_p[0, 0].real != 0.0
