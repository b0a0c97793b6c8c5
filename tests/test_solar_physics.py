"""Solar two-state physics: adiabatic vs numerical evolution, limits, symmetries, regeneration."""
import numpy as np
import pytest

from globalfit.physics import oscillation
from globalfit.physics.solar import (
    SolarOscillation,
    SolarSurvival,
    charged_current_potential_ev,
    effective_nsi,
    nadir_exposure,
    night_p_eff,
    p2e_earth,
    p_eff_adiabatic,
    p_eff_numerical,
)
from globalfit.physics.solar_model import SOURCES, SolarModel

LMA = SolarOscillation.with_fermion(np.radians(33.4), np.radians(8.6), 7.4e-5)
LMA_DARK = SolarOscillation.with_fermion(np.radians(90 - 33.4), np.radians(8.6), 7.4e-5, eps_d=0.45, eps_n=-0.03)


@pytest.fixture(scope="module")
def compact():
    return SolarModel.compact()


@pytest.mark.parametrize("osc", [LMA, LMA_DARK], ids=["LMA", "LMA-Dark"])
@pytest.mark.parametrize("radius", [0.05, 0.12])
def test_adiabatic_agrees_with_numerical_evolution(compact, osc, radius):
    """Issue #8: |P_adiabatic - P_numerical| < 1e-3 over 0.1-20 MeV (we find < 2e-4 with
    60000 jittered slices) for LMA and LMA-Dark, at production radii typical of 8B and pp."""
    energy = np.geomspace(0.1, 20.0, 14)
    density = compact.electron_density_function()
    y_n = lambda x: np.interp(x, compact.radius, compact.neutron_fraction)  # noqa: E731
    numerical = p_eff_numerical(energy, radius, density, y_n, osc, steps=60000)
    adiabatic = p_eff_adiabatic(energy, charged_current_potential_ev(density(radius)), y_n(radius), osc)
    np.testing.assert_allclose(adiabatic, numerical, atol=1e-3)


def test_limits_of_p_eff(compact):
    survival = SolarSurvival(compact)
    th12 = LMA.th12
    low = survival.day_p_eff("pp", np.array([1e-3]), LMA)[0]
    assert low == pytest.approx(1 - 0.5 * np.sin(2 * th12) ** 2, abs=1e-3)  # vacuum averaged
    high = survival.day_p_eff("8B", np.array([1e4]), LMA)[0]
    assert high == pytest.approx(np.sin(th12) ** 2, abs=1e-3)  # full adiabatic conversion


def test_lma_dark_degeneracy_in_the_sun(compact):
    """th12 -> pi/2 - th12 with eps_D -> c13^2 - eps_D (electron NSI, V_f = V_CC) and eps_N
    unchanged sends A -> -A, |B| -> |B|: the day P_eff is unchanged (the LMA-Dark degeneracy)."""
    survival = SolarSurvival(compact)
    c13sq = np.cos(LMA.th13) ** 2
    a = SolarOscillation.with_fermion(LMA.th12, LMA.th13, LMA.dm21_ev2, eps_d=0.1, eps_n=0.05, fermion="e")
    b = SolarOscillation.with_fermion(np.pi / 2 - LMA.th12, LMA.th13, LMA.dm21_ev2, eps_d=-0.1 + c13sq,
                                      eps_n=0.05, fermion="e")
    energy = np.geomspace(0.2, 15, 9)
    np.testing.assert_allclose(survival.day_p_eff("8B", energy, a), survival.day_p_eff("8B", energy, b), atol=1e-12)


def test_effective_nsi_diagonal_and_offdiagonal():
    th13, th23, dcp = np.radians(8.6), np.radians(45), 0.0
    eps = np.diag([0.3, 0.0, 0.0]).astype(complex)
    eps_d, eps_n = effective_nsi(eps, th13, th23, dcp)
    assert eps_d == pytest.approx(-0.5 * np.cos(th13) ** 2 * 0.3)
    assert eps_n == pytest.approx(0.0)
    eps = np.zeros((3, 3), complex)
    eps[0, 1] = eps[1, 0] = 0.1
    _, eps_n = effective_nsi(eps, 0.0, th23, dcp)
    assert eps_n == pytest.approx(np.cos(th23) * 0.1)


def test_solar_model_compact_matches_b16_table(compact, shared_data):
    """Default compact model vs the full B16-GS98 table: mean production radii within 3 %,
    n_e within 3 % over 0.02 < x < 0.45, and P_ee of every source within 2e-3."""
    table = SolarModel.from_table(shared_data / "solar" / "nudistr_b16_gs98.dat")
    for source in SOURCES:
        assert compact.mean_radius(source) == pytest.approx(table.mean_radius(source), rel=0.03)
    x = np.linspace(0.02, 0.45, 30)
    np.testing.assert_allclose(compact.electron_density_function()(x), table.electron_density_function()(x), rtol=0.03)
    energy = np.geomspace(0.2, 16, 12)
    for osc in (LMA, LMA_DARK):
        for source in SOURCES:
            np.testing.assert_allclose(SolarSurvival(compact).day_p_eff(source, energy, osc),
                                       SolarSurvival(table).day_p_eff(source, energy, osc), atol=2e-3)


def test_bs05_table_reader(shared_data):
    model = SolarModel.from_table(shared_data / "solar" / "bs2005agsopflux.csv")
    assert model.mean_radius("8B") == pytest.approx(0.051, abs=0.002)
    assert model.mean_radius("pp") == pytest.approx(0.117, abs=0.003)


def test_neutron_fraction_range(compact):
    assert 0.4 < compact.neutron_fraction[0] < 0.55  # core, X ~ 0.35
    assert 0.14 < compact.neutron_fraction[-1] < 0.2  # X ~ 0.71


def test_exposure_is_normalised_and_latitude_dependent():
    cos_sk, w_sk, night = nadir_exposure(36.4)
    assert w_sk.sum() == pytest.approx(1.0)
    assert night == pytest.approx(0.5, abs=0.01)
    # the core (cos(nadir) > 0.84) is seen only from latitudes below 23.4 + 33 deg
    cos_hi, w_hi, _ = nadir_exposure(80.0)
    assert w_hi[cos_hi > 0.84].sum() == 0
    assert w_sk[cos_sk > 0.84].sum() > 0


def test_regeneration_against_three_flavour_engine(nufit_no):
    """P_2e from the two-state evolution equals the three-flavour engine's
    sum_i |U_ei|^2-weighted result for nu_2 through a PREM path (th13 = 0: exact)."""
    from globalfit.physics.matter import earth_layers

    p = dict(nufit_no, th13=0.0)
    osc = SolarOscillation(p["th12"], 0.0, p["dm21"])
    energy = np.array([5.0, 10.0])
    layers = earth_layers(float(np.arccos(0.92)), max_step_km=300.0)
    s = oscillation.evolution_operator(energy * 1e-3, layers, p)
    u = oscillation.pmns_matrix(p["th12"], 0.0, p["th23"], p["dcp"])
    amplitude_e = (s @ u[:, 1])[..., 0]
    length, density, y_e = np.array(layers).T
    two_state = p2e_earth(energy, length, density * y_e, (1 - y_e) / y_e, osc)
    np.testing.assert_allclose(two_state, np.abs(amplitude_e) ** 2, atol=1e-3)


def test_night_formula_limits():
    assert night_p_eff(0.3, np.sin(0.6) ** 2, 0.6) == pytest.approx(0.3)  # no regeneration
    p2e = np.sin(0.6) ** 2 + 0.01
    assert night_p_eff(0.3, p2e, 0.6) > 0.3  # regeneration raises nu_e at night (P_D < 1/2)


def test_quantile_nodes_match_full_production_grid(compact):
    full = SolarSurvival(compact, n_nodes=None)
    nodes = SolarSurvival(compact)
    energy = np.geomspace(0.1, 20, 25)
    for osc in (LMA, LMA_DARK):
        for source in SOURCES:
            np.testing.assert_allclose(nodes.day_p_eff(source, energy, osc), full.day_p_eff(source, energy, osc),
                                       atol=5e-4)


def test_day_plan_equals_the_per_source_adiabatic_average(compact):
    """`SolarSurvival.plan` (one flat evaluation of all requests, real arithmetic) gives the
    same production-averaged P_eff as `day_p_eff` per source, also with complex eps_N."""
    survival = SolarSurvival(compact)
    requests = {"8B": ("8B", np.linspace(3.0, 16.0, 27)), "pp": ("pp", np.linspace(0.05, 0.42, 9)),
                "7Be": ("7Be", 0.862), "hep": ("hep", np.array([10.0, 18.0]))}
    plan = survival.plan(requests)
    complex_n = SolarOscillation.with_fermion(np.radians(56.0), np.radians(8.6), 6e-5, 0.4, 0.1 - 0.2j, "d")
    for osc in (LMA, LMA_DARK, complex_n):
        values = plan.p_eff(osc)
        for key, (source, energy) in requests.items():
            np.testing.assert_allclose(values[key], survival.day_p_eff(source, np.atleast_1d(energy), osc),
                                       rtol=0, atol=1e-13)
    with pytest.raises(ValueError, match="source"):
        survival.plan({"x": ("8Li", [1.0])})
