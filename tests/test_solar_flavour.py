"""Flavour composition of solar neutrinos at the Earth (globalfit.physics.solar_flavour):
limits against the PMNS matrix of the three-flavour engine, unitarity, the night-time split
against exact layered evolution, the kernel-table fallback, and one forward model per point
however many likelihoods read it."""
import numpy as np
import pytest

from globalfit.physics.oscillation import pmns_matrix
from globalfit.physics.solar import SolarOscillation
from globalfit.physics.solar_flavour import B8_GRID_MEV, SolarFlavourEngine, flavour_at_earth

SK_LATITUDE, SNO_LATITUDE = 36.43, 46.47
ANGLES = {"th13": np.radians(8.58), "th23": np.radians(42.2), "dcp": np.radians(232.0)}
LMA = SolarOscillation.from_parameters({"th12": np.radians(33.4), "dm21": 7.4e-5, **ANGLES})
LMA_DARK = SolarOscillation.from_parameters(
    {"th12": np.radians(56.0), "dm21": 7.4e-5, **ANGLES},
    {"u": np.array([[0.8, -0.03, 0.0], [-0.03, 0.0, 0.0], [0.0, 0.0, 0.0]])})


@pytest.fixture(scope="module")
def engine():
    engine = SolarFlavourEngine(night=True)
    engine.request("8B", "8B", B8_GRID_MEV, {"superk": SK_LATITUDE, "sno": SNO_LATITUDE})
    engine.request("pp", "pp", np.array([1.0e-6, 0.2]))
    return engine


def _incoherent(osc, mass_probabilities):
    """``sum_i P_i |U_ai|^2`` with the PMNS matrix of `globalfit.physics.oscillation`."""
    u = pmns_matrix(osc.th12, osc.th13, osc.th23, osc.dcp)
    return np.abs(u) ** 2 @ np.asarray(mass_probabilities)


def test_vacuum_limit_is_the_averaged_pmns_formula(engine):
    """Far below the MSW resonance (pp at 1 eV: V / (Dm21 / 2E) ~ 4e-7) the state is the vacuum mixture
    ``P_i = |U_ei|^2``: ``P(nu_e -> nu_a) = sum_i |U_ei|^2 |U_ai|^2`` to 1e-6."""
    p = engine.evaluate(LMA).flavour("pp")[:, 0]
    u = pmns_matrix(LMA.th12, LMA.th13, LMA.th23, LMA.dcp)
    np.testing.assert_allclose(p, _incoherent(LMA, np.abs(u[0]) ** 2), atol=1e-6)


def test_adiabatic_limit_is_pure_nu2():
    """Far above resonance with standard matter (8B at 1 TeV) the neutrino leaves the Sun as
    nu_2: ``P(nu_e -> nu_a) = c13^2 |U_a2|^2 + s13^2 |U_a3|^2`` to 1e-6."""
    p = flavour_at_earth(LMA, "8B", [1.0e6])["day"][:, 0]
    expected = _incoherent(LMA, [0.0, np.cos(LMA.th13) ** 2, np.sin(LMA.th13) ** 2])
    np.testing.assert_allclose(p, expected, atol=1e-6)


@pytest.mark.parametrize("osc", [LMA, LMA_DARK], ids=["LMA", "LMA-Dark"])
def test_unitarity_and_p_ee(engine, osc):
    """Rows sum to one day, night and on average (1e-12), every entry in [0, 1]; the e row is
    ``c13^4 P_eff + s13^4`` (the survival probability the likelihoods use)."""
    evaluation = engine.evaluate(osc)
    for time, detector in (("day", None), ("night", "superk"), ("night", "sno"), ("average", "superk")):
        p = evaluation.flavour("8B", time, detector)
        np.testing.assert_allclose(p.sum(axis=0), 1.0, atol=1e-12)
        assert np.all((p >= 0) & (p <= 1))
        np.testing.assert_allclose(p[0], evaluation.p_ee("8B", time, detector), atol=1e-14)


def test_mu_tau_split_depends_on_th23_and_dcp(engine):
    """The nu_mu / nu_tau split follows th23 (maximal mixing and dcp = 90 deg: equal shares, the
    interference term ~ cos dcp vanishes) and dcp (the split changes sign with cos dcp)."""
    maximal = SolarOscillation.from_parameters({"th12": np.radians(33.4), "dm21": 7.4e-5, "th13": np.radians(8.58),
                                                "th23": np.pi / 4, "dcp": np.pi / 2})
    p = engine.evaluate(maximal).flavour("8B")
    np.testing.assert_allclose(p[1], p[2], atol=1e-12)
    split = {}
    for dcp in (0.0, np.pi):
        osc = SolarOscillation.from_parameters({"th12": np.radians(33.4), "dm21": 7.4e-5, "th13": np.radians(8.58),
                                                "th23": np.pi / 4, "dcp": dcp})
        p = engine.evaluate(osc).flavour("8B")
        split[dcp] = p[1] - p[2]
    np.testing.assert_allclose(split[0.0], -split[np.pi], atol=1e-12)
    assert np.all(np.abs(split[0.0]) > 0.01)


@pytest.mark.parametrize("osc", [LMA, LMA_DARK], ids=["LMA", "LMA-Dark"])
def test_night_flavour_split_matches_exact_evolution(engine, osc):
    """Night-time P(nu_e -> nu_a) at SK from the second-order kernels vs exact layered
    evolution (40 nadir bins, 100 km steps, averaged the same way in energy): measured
    6e-5 (LMA) and 8e-4 (LMA-Dark, complex coherence of the NSI point); tolerance 2e-3,
    against a night-day difference of 0.02-0.06."""
    energies = B8_GRID_MEV[::8]
    exact = SolarFlavourEngine(night="exact")
    exact.request("8B", "8B", energies, {"superk": SK_LATITUDE})
    fast = engine.evaluate(osc).flavour("8B", "night", "superk")[:, ::8]
    reference = exact.evaluate(osc)
    np.testing.assert_allclose(fast, reference.flavour("8B", "night", "superk"), atol=2e-3)
    assert np.abs(reference.flavour("8B", "night", "superk") - reference.flavour("8B")).max() > 0.015


def test_night_outside_kernel_tables_falls_back_to_exact(engine):
    """Dm21 = 1e-3 eV^2 lies outside the kernel tables: the exact evolution is used (no error)
    and the regeneration there is small (|P_2e - s12^2| < 0.01)."""
    osc = SolarOscillation(np.radians(33.4), np.radians(8.58), 1.0e-3)
    assert not engine.regeneration.covers(B8_GRID_MEV, osc.dm21_ev2)
    night = engine.evaluate(osc).night["8B"]
    assert set(night) == {"superk", "sno"}
    assert np.all(np.abs(night["superk"][0] - np.sin(osc.th12) ** 2) < 0.01)


def test_requests_and_options_are_checked():
    engine = SolarFlavourEngine(night=False)
    engine.request("a", "8B", [10.0])
    assert engine.request("a", "8B", [10.0]) == "a"
    with pytest.raises(ValueError, match="request 'a'"):
        engine.request("a", "hep", [10.0])
    with pytest.raises(ValueError, match="night=False"):
        engine.request("b", "8B", [10.0], {"superk": SK_LATITUDE})
    with pytest.raises(ValueError, match="source"):
        engine.request("c", "8Li", [1.0])
    with pytest.raises(ValueError, match="night"):
        SolarFlavourEngine(night="sometimes")
    with pytest.raises(ValueError, match="th23 and dcp"):
        engine.evaluate(SolarOscillation(np.radians(33.4), np.radians(8.58), 7.4e-5)).flavour("a")


def test_missing_parameter_is_named():
    with pytest.raises(KeyError, match="likelihood kamland.*'th23'"):
        SolarOscillation.from_parameters({"th12": 0.58, "th13": 0.15, "dcp": 0.0, "dm21": 7.4e-5},
                                         reader="likelihood kamland")


def test_cache_runs_the_forward_model_once_per_point(engine):
    before = engine.forward_evaluations
    osc = SolarOscillation.from_parameters({"th12": np.radians(34.0), "dm21": 6.9e-5, **ANGLES})
    first = engine.evaluate(osc)
    assert engine.evaluate(osc) is first
    assert engine.forward_evaluations == before + 1
