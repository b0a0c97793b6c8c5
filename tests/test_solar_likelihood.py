"""Solar likelihood: SSM rates, LMA fit quality, NSI, options."""
import numpy as np
import pytest

from globalfit.likelihood import Point
from globalfit.physics.solar import SolarOscillation
from likelihoods.solar import OBSERVABLES, SolarLikelihood


@pytest.fixture(scope="module")
def solar():
    return SolarLikelihood()


def _point(th12_deg=33.4, dm21=7.4e-5, th13_deg=8.6, couplings=None):
    params = {"th12": np.radians(th12_deg), "th13": np.radians(th13_deg), "th23": np.radians(45.0), "dcp": 0.0,
              "dm21": dm21, "dm31": 2.5e-3}
    return Point(params, couplings) if couplings is not None else Point(params)


def test_unoscillated_ssm_rates(solar):
    """No oscillation (th12 = th13 = 0 with Dm21 large enough that no MSW resonance occurs;
    the adiabatic formula does not apply to vanishing mixing): B16-GS98 predicts Ga ~ 127 SNU
    and Cl ~ 8.0 SNU (Vinyoles et al. 2017; FROM MEMORY), within 5 %."""
    a, b = solar.design(SolarOscillation(0.0, 0.0, 1.0))
    rates = a @ np.ones(a.shape[1]) + b
    assert rates[OBSERVABLES.index("gallium_snu")] == pytest.approx(127.0, rel=0.05)
    assert rates[OBSERVABLES.index("chlorine_snu")] == pytest.approx(8.0, rel=0.05)
    # SNO NC and SK day-night are oscillation-independent / vanish without oscillation
    assert rates[OBSERVABLES.index("superk_adn")] == pytest.approx(0.0, abs=1e-12)


def test_lma_describes_the_data(solar):
    obs = solar.observables(_point())
    chi2 = solar.chi2(_point())
    assert chi2 < 25.0  # 15 data points
    predicted = dict(zip(obs.observable, obs.predicted))
    assert predicted["borexino_7be"] == pytest.approx(48.3, abs=3.0)
    assert predicted["gallium_snu"] == pytest.approx(66.1, abs=6.0)
    assert -0.03 < predicted["superk_adn"] < -0.01  # SK expectation -1.7 % at Dm21 = 7.5e-5
    assert predicted["flux_norm_8B"] == pytest.approx(0.96, abs=0.06)  # NC 5.25 vs B16 5.46


def test_no_oscillation_and_small_angle_excluded(solar):
    best = solar.chi2(_point())
    assert solar.chi2(_point(th12_deg=0.0, th13_deg=0.0, dm21=1.0)) - best > 100
    assert solar.chi2(_point(th12_deg=10.0)) - best > 25


def test_solar_prefers_low_dm21(solar):
    """Solar data alone prefer Dm21 around 5-6e-5 (the known solar-KamLAND tension)."""
    grid = np.array([3.0, 4.0, 5.0, 6.0, 7.4, 9.0, 11.0]) * 1e-5
    chi2 = [solar.chi2(_point(dm21=dm)) for dm in grid]
    assert 4e-5 <= grid[int(np.argmin(chi2))] <= 7.4e-5


def test_lma_dark_is_a_solution_with_up_quark_nsi(solar):
    """With th12 > 45 deg and eps_D^u ~ +0.45 the fit is as good as LMA within a few units
    (the LMA-Dark solution); without NSI the dark octant is excluded."""
    from globalfit.models.solar_nsi import SolarNSI

    model = SolarNSI(fermion="u")
    params = {"th12": np.radians(90 - 33.4), "th13": np.radians(8.6), "th23": np.radians(45.0), "dcp": 0.0,
              "dm21": 7.4e-5, "eps_D": 0.45, "eps_N": -0.03}
    dark = solar.chi2(Point(params, model.couplings(params)))
    no_nsi_dark = solar.chi2(_point(th12_deg=90 - 33.4))
    assert dark - solar.chi2(_point()) < 10
    assert no_nsi_dark - dark > 25


def test_sno_table_option(shared_data):
    with_table = SolarLikelihood(sno_table=shared_data / "sno" / "sno_sensitivity.csv")
    builtin = SolarLikelihood()
    c_table = with_table.sno_c_projector @ np.full(len(with_table.e8), 0.3)
    np.testing.assert_allclose(c_table, [0.3, 0, 0], atol=1e-12)  # a constant P_ee is fitted exactly
    assert with_table.chi2(_point()) == pytest.approx(builtin.chi2(_point()), abs=3.0)


def test_full_solar_model_option(shared_data):
    full = SolarLikelihood(solar_model=shared_data / "solar" / "nudistr_b16_gs98.dat")
    builtin = SolarLikelihood()
    assert full.chi2(_point()) == pytest.approx(builtin.chi2(_point()), abs=0.5)


def test_options_validation():
    with pytest.raises(ValueError, match="exclude"):
        SolarLikelihood(exclude=["nonsense"])
    with pytest.raises(ValueError, match="unknown option"):
        SolarLikelihood(solar_modle="x")
    without_night = SolarLikelihood(night=False)
    a, b = without_night.design(SolarOscillation(0.58, 0.15, 7.4e-5))
    assert b[OBSERVABLES.index("superk_adn")] == 0.0


def test_night_option_values():
    with pytest.raises(ValueError, match="likelihoods.solar.night"):
        SolarLikelihood(night="fast")


@pytest.mark.parametrize("osc", [SolarOscillation.with_fermion(np.radians(33.4), np.radians(8.58), 7.4e-5),
                                 SolarOscillation.with_fermion(np.radians(56.0), np.radians(8.58), 7.4e-5, 0.4, -0.03,
                                                               "u")],
                         ids=["LMA", "LMA-Dark"])
def test_default_night_matches_exact_evolution(solar, osc):
    """Perturbative kernels (default) vs layered evolution (night: exact; 40 bins, 100 km,
    0.02 MeV): measured A_DN and SNO a0 within 0.4 %, chi^2 within 0.012; tolerances 2 % and 0.05."""
    exact = SolarLikelihood(night="exact")
    _, b_fast = solar.design(osc)
    _, b_exact = exact.design(osc)
    for name in ("superk_adn", "sno_a0"):
        i = OBSERVABLES.index(name)
        assert b_fast[i] == pytest.approx(b_exact[i], rel=0.02)
    assert solar.profiled_fluxes(osc)[1] == pytest.approx(exact.profiled_fluxes(osc)[1], abs=0.05)


def test_superk_adn_table_option(shared_data, tmp_path):
    """With SK's amplitude-fit table the A_DN measurement follows Dm21: at 6.1e-5 eV^2 it is
    SK I-IV's quoted -2.86 +- 0.85 (stat) +- 0.32 (syst) % (to the digitisation, 0.02 %);
    outside the table the point is an error naming the range; a bad file is rejected."""
    table = shared_data / "superk" / "sk1to4_adn_vs_dm2_truncated.csv"
    solar = SolarLikelihood(superk_adn_table=str(table))
    measured, covariance, _ = solar.measurement(SolarOscillation(np.radians(33.4), np.radians(8.58), 6.1e-5))
    assert measured[-1] == pytest.approx(-0.0286, abs=2e-4)
    assert np.sqrt(covariance[-1, -1]) == pytest.approx(0.01 * np.hypot(0.85, 0.32), abs=2e-4)
    assert np.isfinite(solar.loglike(_point(dm21=7.5e-5)))
    with pytest.raises(ValueError, match="outside the table"):
        solar.loglike(_point(dm21=1.5e-4))
    bad = tmp_path / "adn.csv"
    bad.write_text("dm2_21,adn\n1,2\n")
    with pytest.raises(ValueError, match="superk_adn_table"):
        SolarLikelihood(superk_adn_table=str(bad))
