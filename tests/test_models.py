"""Model layer: parameters -> Couplings (physics.md sections 0 and 9)."""
from __future__ import annotations

import importlib
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from globalfit.models import BUILTIN
from globalfit.models.effective import EffectiveNSI, StandardOscillations, eps_from_mediator
from globalfit.models.kinetic_mixing import KineticMixing
from globalfit.models.lfv import LFVNSI, LFVNSILog
from globalfit.models.lma_dark import LMADarkX
from globalfit.models.neutrinophilic import Neutrinophilic
from globalfit.models.psi_mixing import PsiMixing
from globalfit.models.u1 import BMinusLeptonU1, LeptonBaryonU1
from globalfit.physics.constants import FERMI_CONSTANT_GEV2, MEV

MINE = [name for name in BUILTIN if name != "solar_nsi"]


def _load(name):
    module, _, attribute = BUILTIN[name].partition(":")
    return getattr(importlib.import_module(module), attribute)


@pytest.mark.parametrize("name", MINE)
def test_registered_models_declare_parameters(name):
    cls = _load(name)
    model = cls()
    assert model.name == name
    for pname, spec in model.parameters.items():
        assert {"default", "unit", "latex"} <= set(spec), pname
        if "min" in spec:
            assert spec["min"] <= spec["default"] <= spec["max"], pname
    defaults = {p: s["default"] for p, s in model.parameters.items()}
    couplings = model.couplings(defaults)
    for f in ("e", "u", "d"):
        eps = couplings.eps(f)
        np.testing.assert_allclose(eps, eps.conj().T, atol=1e-15)
    derived = model.derived(defaults)
    assert not set(derived) & set(model.parameters), "derived names must not shadow parameters"
    assert all(np.isfinite(v) for v in derived.values())


def test_standard_has_no_nsi():
    assert not StandardOscillations().couplings({}).has_nsi


# --- general convention ---------------------------------------------------------------------
def test_eps_from_mediator_convention():
    g_nu = np.diag([1.0, 0.0, 0.0])
    eps = eps_from_mediator(1e-5, g_nu, 0.01)
    expected = 1e-5 / (2 * math.sqrt(2) * FERMI_CONSTANT_GEV2 * 1e-4)
    assert eps[0, 0].real == pytest.approx(expected, rel=1e-12)
    with pytest.raises(ValueError, match="mzp_gev"):
        eps_from_mediator(1.0, g_nu, 0.0)


def test_light_mediator_q2_suppression():
    model = LeptonBaryonU1()
    params = {"g_prime": 4e-5, "mzp": 10 * MEV}
    couplings = model.couplings(params)
    eps0 = couplings.eps("u", 0.0)[1, 1]
    q2 = np.array([0.0, (10 * MEV) ** 2, 100 * (10 * MEV) ** 2])
    eps_q2 = couplings.eps("u", q2)[:, 1, 1]
    np.testing.assert_allclose(eps_q2 / eps0, [1.0, 0.5, 1.0 / 101.0], rtol=1e-12)


# --- effective NSI ---------------------------------------------------------------------------
def test_effective_nsi_parameters_and_hermiticity():
    model = EffectiveNSI()
    assert len(model.parameters) == 27
    params = {"eps_u_emu_re": 0.1, "eps_u_emu_im": -0.2, "eps_d_ee": 0.3, "eps_d_mumu": 0.1}
    couplings = model.couplings(params)
    eps_u = couplings.eps("u")
    assert eps_u[0, 1] == pytest.approx(0.1 - 0.2j)
    assert eps_u[1, 0] == pytest.approx(0.1 + 0.2j)
    derived = model.derived(params)
    assert derived["eps_d_ee_minus_mumu"] == pytest.approx(0.2)
    assert derived["eps_u_emu_abs"] == pytest.approx(math.hypot(0.1, 0.2))
    # Earth: eps = (2 + 1.05) eps^u + (1 + 2.1) eps^d
    assert derived["eps_earth_ee_minus_mumu"] == pytest.approx(3.1 * 0.2)
    assert derived["eps_earth_emu_abs"] == pytest.approx(3.05 * math.hypot(0.1, 0.2))
    assert couplings.mzp_gev is None
    np.testing.assert_allclose(couplings.eps("u", 100.0), eps_u)  # contact: no Q^2 dependence


def test_effective_nsi_fermion_restriction_and_chiral():
    only_u = EffectiveNSI(fermions=["u"])
    assert all(p.startswith("eps_u_") for p in only_u.parameters)
    assert len(only_u.parameters) == 9
    chiral = EffectiveNSI(fermions=["u", "d"], chiral=True)
    assert "eps_uL_ee" in chiral.parameters and "eps_dR_mutau_im" in chiral.parameters
    couplings = chiral.couplings({"eps_uL_ee": 0.2, "eps_uR_ee": -0.05})
    assert couplings.eps("u")[0, 0] == pytest.approx(0.15)
    assert couplings.eps_chiral("u", "R")[0, 0] == pytest.approx(-0.05)
    with pytest.raises(ValueError, match="fermions"):
        EffectiveNSI(fermions=["s"])
    with pytest.raises(ValueError, match="chiral"):
        EffectiveNSI(chiral="yes")
    with pytest.raises(ValueError, match="unknown option"):
        EffectiveNSI(fermion=["u"])


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(-5, 5), min_size=27, max_size=27))
def test_effective_nsi_always_hermitian(values):
    model = EffectiveNSI()
    params = dict(zip(model.parameters, values))
    couplings = model.couplings(params)
    matter = couplings.eps_matter(1.05)
    np.testing.assert_allclose(matter, matter.conj().T, atol=1e-12)


# --- the talk's numerical statements (physics.md section 9) ---------------------------------
def test_psi_mixing_talk_number():
    """eps_ab = 1 for g' = 1e-5, g' a_psi = 1, conj(kappa_a) kappa_b = 1e-3, m_Z' = 10 MeV."""
    kappa = math.sqrt(1e-3)
    params = {"g_prime": 1e-5, "g_prime_a_psi": 1.0, "kappa_e": kappa, "kappa_mu": kappa,
              "mzp": 10 * MEV}
    eps_u = PsiMixing().couplings(params).eps("u")
    assert abs(eps_u[0, 1]) == pytest.approx(1.0, rel=0.02)  # formula gives 1.011
    assert PsiMixing().couplings(params).eps("d")[0, 1] == pytest.approx(eps_u[0, 1])


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(-0.1, 0.1), min_size=3, max_size=3),
       st.lists(st.floats(-math.pi, math.pi), min_size=2, max_size=2))
def test_psi_mixing_rank_one(kappas, phases):
    params = {"g_prime": 1e-5, "kappa_e": kappas[0], "kappa_mu": kappas[1],
              "kappa_tau": kappas[2], "phase_mu": phases[0], "phase_tau": phases[1]}
    couplings = PsiMixing().couplings(params)
    eps = couplings.eps("u")
    for a in range(3):
        for b in range(3):
            assert eps[a, a].real * eps[b, b].real == pytest.approx(
                abs(eps[a, b]) ** 2, rel=1e-9, abs=1e-300)
    assert couplings.g_fermion.get("e", 0.0) == 0.0  # charged leptons do not couple


def test_lfv_talk_number():
    """(g_nu)_ab = 1e-3 g_psi, m_Z' = 500 MeV g_psi: eps^q_ab = 0.12 (g_q/1e-3)/g_psi."""
    for g_psi in (0.1, 1.0):
        for g_q in (1e-3, 3e-4):
            params = {"g_psi": g_psi, "sin_alpha": math.sqrt(1e-3), "sin_beta": math.sqrt(1e-3),
                      "g_q": g_q, "mzp": 0.5 * g_psi}
            couplings = LFVNSI().couplings(params)
            assert couplings.g_nu[0, 1].real == pytest.approx(1e-3 * g_psi)
            expected = 0.12 * (g_q / 1e-3) / g_psi
            assert couplings.eps("u")[0, 1].real == pytest.approx(expected, rel=0.02)
            assert couplings.eps("u")[0, 0] == 0 and couplings.eps("d")[1, 1] == 0


def test_lfv_mzp_from_vev_and_hnl():
    model = LFVNSI(mzp_from_vev=True, flavours="mutau")
    assert "v_phi" in model.parameters and "mzp" not in model.parameters
    assert not set(model.derived({})) & set(model.parameters)
    params = {"g_psi": 0.2, "v_phi": 3.0, "sin_alpha": 0.03, "sin_beta": 0.02, "g_q": 1e-4,
              "m_n1": 0.8, "m_n2": 2.0}
    couplings = model.couplings(params)
    assert couplings.mzp_gev == pytest.approx(0.2 * 3.0 / math.sqrt(2))
    assert couplings.extras["v_phi_gev"] == pytest.approx(3.0)
    assert couplings.extras["yukawa_n2"] == pytest.approx(2.0 / 3.0)
    assert couplings.hnl_masses_gev == (0.8, 2.0)
    assert couplings.hnl_mixing[1, 0] == 0.03 and couplings.hnl_mixing[2, 1] == 0.02
    assert couplings.g_nu[1, 2] == pytest.approx(0.2 * 0.03 * 0.02)
    assert couplings.g_nu[0, 1] == 0
    with pytest.raises(ValueError, match="flavours"):
        LFVNSI(flavours="ee")


def test_u1_talk_number():
    """a_e = 0, a_mu = a_tau = -3/2, g' = 4e-5, m_Z' = 10 MeV: eps_ee - eps_mumu ~ 0.24."""
    model = LeptonBaryonU1()
    params = {"g_prime": 4e-5, "a_e": 0.0, "a_mu": -1.5, "a_tau": -1.5, "mzp": 10 * MEV}
    derived = model.derived(params)
    assert derived["eps_u_ee_minus_mumu"] == pytest.approx(0.2425, rel=0.01)
    assert derived["eps_u_tautau_minus_mumu"] == pytest.approx(0.0, abs=1e-15)
    assert derived["anomaly_su2"] == 0.0
    # scaling g' ~ m_Z': eps unchanged when both double
    params2 = dict(params, g_prime=8e-5, mzp=20 * MEV)
    assert model.derived(params2)["eps_u_ee_minus_mumu"] == pytest.approx(
        derived["eps_u_ee_minus_mumu"], rel=1e-12)
    couplings = model.couplings(params)
    assert couplings.g_fermion["mu"] == pytest.approx(-6e-5)
    assert couplings.g_fermion["u"] == pytest.approx(4e-5 / 3)


def test_b_minus_l_universal_has_no_oscillation_effect():
    model = BMinusLeptonU1()
    params = {"g_b": 1e-4, "mzp": 0.05}
    derived = model.derived(params)
    assert derived["a_tau"] == 1.0
    assert derived["eps_u_ee_minus_mumu"] == pytest.approx(0.0, abs=1e-15)
    couplings = model.couplings(params)
    expected = -(1e-4) ** 2 / (6 * math.sqrt(2) * FERMI_CONSTANT_GEV2 * 0.05**2)
    assert couplings.eps("u")[1, 1].real == pytest.approx(expected, rel=1e-12)
    assert couplings.eps("e")[0, 0].real == pytest.approx(-3 * expected, rel=1e-12)


def test_kinetic_mixing_cancels_in_neutral_matter():
    model = KineticMixing()
    params = {"delta": 1e-4, "g_nu_ee": 1e-3, "g_nu_mumu": -2e-3, "g_nu_emu_re": 5e-4,
              "g_nu_mutau_im": 3e-4, "mzp": 0.02}
    couplings = model.couplings(params)
    eps_p = 2 * couplings.eps("u") + couplings.eps("d")
    assert abs(eps_p[0, 0]) > 1e-3
    np.testing.assert_allclose(eps_p, -couplings.eps("e"), atol=1e-15)
    for y_n in (0.0, 0.5, 1.05, 2.0):
        np.testing.assert_allclose(couplings.eps_matter(y_n), 0.0, atol=1e-14)
    assert couplings.g_fermion["u"] / couplings.g_fermion["e"] == pytest.approx(-2 / 3)


def test_neutrinophilic_normalisation():
    params = {"g_b": 3e-5, "g_nu_mumu": 1e-4, "g_nu_etau_im": 2e-5, "mzp": 0.01}
    couplings = Neutrinophilic().couplings(params)
    norm = 6 * math.sqrt(2) * FERMI_CONSTANT_GEV2 * 0.01**2
    assert couplings.eps("u")[1, 1].real == pytest.approx(3e-5 * 1e-4 / norm, rel=1e-12)
    assert couplings.eps("d")[2, 0] == pytest.approx(-1j * 3e-5 * 2e-5 / norm, rel=1e-12)


def test_neutrinophilic_talk_normalisation_factor_six():
    """The talk's eps = g_B g_nu / (sqrt2 G_F m^2) is 6x ours; its g_B is our g_b / 6."""
    g_b, g_nu, mzp = 1e-4, 1e-4, 0.01
    ours = Neutrinophilic().couplings({"g_b": g_b, "g_nu_ee": g_nu, "mzp": mzp}).eps("u")[0, 0].real

    def talk(g_b_talk):
        return g_b_talk * g_nu / (math.sqrt(2) * FERMI_CONSTANT_GEV2 * mzp**2)

    assert talk(g_b) / ours == pytest.approx(6.0, rel=1e-12)
    assert talk(g_b / 6.0) == pytest.approx(ours, rel=1e-12)


def test_lma_dark_x():
    for x in (-1.0, 0.0, 2.5):
        model = LMADarkX()
        couplings = model.couplings({"x": x, "mzp": 0.01})
        eps_u = couplings.eps("u")
        assert eps_u[0, 0].real == pytest.approx(x / 4 - 0.5)
        assert eps_u[1, 1].real == pytest.approx(x / 4)
        np.testing.assert_allclose(couplings.eps("d"), eps_u)
        np.testing.assert_allclose(np.diag(couplings.eps_matter(1.0 / 3.0)).real, [x - 2, x, x])
        # split into g_q and g_nu reproduces eps by the general convention
        np.testing.assert_allclose(eps_from_mediator(1e-4, couplings.g_nu, 0.01), eps_u)
        earth = LMADarkX(reference_neutron_fraction=1.05).couplings({"x": x}).eps_matter(1.05)
        np.testing.assert_allclose(np.diag(earth).real, [x - 2, x, x], atol=1e-12)
        lma = LMADarkX(solution="lma").couplings({"x": x}).eps_matter(1.0 / 3.0)
        np.testing.assert_allclose(np.diag(lma).real, [x, x, x], atol=1e-12)
    with pytest.raises(ValueError, match="solution"):
        LMADarkX(solution="dark2")


def test_lfv_log_variant_matches_linear_model():
    log_params = {"g_psi": 0.5, "log10_sin_alpha": -1.5, "log10_sin_beta": -2.0,
                  "log10_g_q": -3.5, "log10_mzp": -0.7, "m_n1": 0.8, "m_n2": 2.0}
    linear = {"g_psi": 0.5, "sin_alpha": 10**-1.5, "sin_beta": 1e-2, "g_q": 10**-3.5,
              "mzp": 10**-0.7, "m_n1": 0.8, "m_n2": 2.0}
    log_model, model = LFVNSILog(flavours="etau"), LFVNSI(flavours="etau")
    a, b = log_model.couplings(log_params), model.couplings(linear)
    np.testing.assert_allclose(a.g_nu, b.g_nu, rtol=1e-12)
    np.testing.assert_allclose(a.eps("u"), b.eps("u"), rtol=1e-12)
    assert a.mzp_gev == pytest.approx(b.mzp_gev) and a.hnl_masses_gev == b.hnl_masses_gev
    np.testing.assert_allclose(a.hnl_mixing, b.hnl_mixing, rtol=1e-12)
    derived = log_model.derived(log_params)
    assert derived["mzp"] == pytest.approx(10**-0.7)
    assert not set(derived) & set(log_model.parameters)
    with pytest.raises(ValueError, match="unknown option"):
        LFVNSILog(mzp_from_vev=True)


def test_nsi_matrix_model_derived_and_degenerate_image():
    from globalfit.models.full_matrix import FullMatrixNSI
    from globalfit.physics.oscillation import probabilities
    from globalfit.physics.solar import effective_nsi

    model = FullMatrixNSI(fermion="u")
    assert len(model.parameters) == 8
    params = dict(th12=0.59, th13=0.149, th23=0.86, dcp=3.9, dm21=7.4e-5, dm31=2.5e-3,
                  eps_ee_minus_mumu=0.3, eps_tautau_minus_mumu=-0.05, eps_emu_re=-0.04, eps_emu_im=0.02,
                  eps_etau_re=0.1, eps_etau_im=-0.07, eps_mutau_re=0.01, eps_mutau_im=0.005)
    eps = model.couplings(params).eps0["u"]
    assert eps[1, 1] == 0 and eps[0, 2] == complex(0.1, -0.07) and eps[2, 0] == complex(0.1, 0.07)
    eps_d, eps_n = effective_nsi(eps, params["th13"], params["th23"], params["dcp"])
    derived = model.derived(params)
    assert derived["eps_D"] == eps_d and derived["eps_N_im"] == eps_n.imag
    image = model.degenerate_image(params)
    assert image["th12"] == pytest.approx(np.pi / 2 - 0.59)
    assert image["eps_ee_minus_mumu"] == pytest.approx(-0.3 - 2 / 3.05)
    energy = np.geomspace(0.5, 80.0, 40)
    osc = [k for k in ("th12", "th13", "th23", "dcp", "dm21", "dm31")]
    for antineutrino in (False, True):
        for point in ((params, image),):
            p = [probabilities(energy, 6000.0, 4.5, {k: x[k] for k in osc},
                               model.couplings(x).eps_matter(), antineutrino=antineutrino) for x in point]
            assert np.abs(p[0] - p[1]).max() < 1e-10
