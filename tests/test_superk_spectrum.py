"""Super-Kamiokande IV 8B recoil-spectrum shape likelihood (likelihoods/superk_spectrum.py).

Physics checks against the SK-IV 2970-day release in ``../shared/data/superk`` (skipped where
absent): no-oscillation limit of the forward model, chi^2 at the standard LMA point, the
oscillated/unoscillated ratio beside SK's measured data/MC, shape-only invariance, the sign of
the energy-scale systematic, and the response of the spectrum to dm21 and to solar NSI.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from globalfit.likelihood import Point
from globalfit.models.solar_nsi import SolarNSI
from likelihoods.superk_spectrum import RELEASE_FILE, SYSTEMATICS, SuperKSpectrumLikelihood


def make_point(th12_deg=33.4, dm21=7.4e-5, eps_d=0.0, eps_n=0.0) -> Point:
    params = {"th12": np.radians(th12_deg), "th13": np.radians(8.58), "th23": np.radians(42.2),
              "dcp": np.radians(232.0), "dm21": dm21, "dm31": 2.507e-3, "eps_D": eps_d, "eps_N": eps_n}
    return Point(params, SolarNSI(fermion="u").couplings(params))


@pytest.fixture(scope="module")
def release(shared_data):
    return shared_data / "superk"


@pytest.fixture(scope="module")
def superk(release):
    return SuperKSpectrumLikelihood(release_path=str(release))


# --- options and loader ----------------------------------------------------------------------
def test_release_path_is_required():
    with pytest.raises(ValueError, match="release_path"):
        SuperKSpectrumLikelihood()


def test_missing_release_file_is_reported(tmp_path):
    with pytest.raises(ValueError, match=RELEASE_FILE):
        SuperKSpectrumLikelihood(release_path=str(tmp_path))


def test_use_other_than_shape_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="use"):
        SuperKSpectrumLikelihood(release_path=str(tmp_path), use="rate")


def test_csv_without_night_rows_is_rejected(tmp_path, release):
    table = pd.read_csv(release / RELEASE_FILE, comment="#")
    table[table["zenith"] == "day"].to_csv(tmp_path / RELEASE_FILE, index=False)
    with pytest.raises(ValueError, match="night"):
        SuperKSpectrumLikelihood(release_path=str(tmp_path))


def test_day_night_merge(superk, release):
    table = pd.read_csv(release / RELEASE_FILE, comment="#")
    assert len(superk.measured) == 23 == len(table) // 2
    day = table[table["zenith"] == "day"]["rate"].to_numpy()
    night = table[table["zenith"] == "night"]["rate"].to_numpy()
    np.testing.assert_allclose(superk.measured, 0.5 * (day + night))


# --- forward model -----------------------------------------------------------------------------
def test_no_oscillation_reproduces_sk_monte_carlo(superk, monkeypatch):
    """With P_ee = 1 the calibrated prediction is SK's unoscillated MC, bin by bin."""
    monkeypatch.setattr(superk, "survival", lambda point: np.ones_like(superk.neutrino_mev))
    b8, hep, _ = superk.components(make_point())
    np.testing.assert_allclose(b8, superk.mc_b8, rtol=1e-12)
    np.testing.assert_allclose(hep, superk.mc_hep, rtol=1e-12)


def test_pure_numu_ratio_is_the_cross_section_ratio(superk, monkeypatch):
    """P_ee = 0: the ratio is the folded sigma(nu_mu e)/sigma(nu_e e). It lies between the
    large-y limit g_L(mu)^2 / g_L(e)^2 (0.130) and the y -> 0 limit
    (g_L(mu)^2 + g_R^2) / (g_L(e)^2 + g_R^2) (0.215), and falls with recoil energy because
    higher recoils come from larger y = T/E, where the g_R^2 (1 - y)^2 term dies out."""
    from globalfit.physics.neutrino_electron import chiral_couplings

    gl_e, g_r = chiral_couplings("e")
    gl_mu, _ = chiral_couplings("mu")
    monkeypatch.setattr(superk, "survival", lambda point: np.zeros_like(superk.neutrino_mev))
    ratio = superk.components(make_point())[0] / superk.mc_b8
    assert np.all(ratio > gl_mu**2 / gl_e**2)
    assert np.all(ratio < (gl_mu**2 + g_r**2) / (gl_e**2 + g_r**2))
    assert np.all(np.diff(ratio) < 0)


def test_oscillated_ratio_at_standard_point(superk):
    """Predicted 8B rate / unoscillated MC in 5-15 MeV: 0.40-0.47 (SK measures data/MC ~0.44,
    i.e. Phi_ES = 2.31e6 against the MC's 5.25e6); with the fitted 8B normalisation the
    prediction matches the measured data/MC ratio of that range to 2 %."""
    result = superk.fit(make_point())
    energy = superk.bins["E_lo"].to_numpy()
    window = (energy >= 4.99) & (energy < 14.49)
    ratio = result["unoscillated_ratio"][window]
    assert 0.40 < ratio.mean() < 0.47
    measured_ratio = superk.measured[window].sum() / (superk.mc_b8 + superk.mc_hep)[window].sum()
    predicted_ratio = result["predicted"][window].sum() / (superk.mc_b8 + superk.mc_hep)[window].sum()
    assert abs(predicted_ratio / measured_ratio - 1) < 0.02
    assert 0.9 < result["norm"] < 1.15      # 8B flux in units of 5.25e6: SNO NC 5.25 +- 0.2


def test_energy_scale_shift_raises_high_bins(superk):
    """A +0.48 % energy scale moves events up a falling spectrum: fractional shift positive
    above ~7 MeV and growing with energy."""
    _, _, shifts = superk.components(make_point())
    scale = shifts[SYSTEMATICS.index("energy_scale")]
    high = superk.bins["E_lo"].to_numpy() > 7.0
    assert np.all(scale[high] > 0)
    assert np.all(np.diff(scale[high][:-2]) > 0)
    assert np.all(np.abs(shifts) < 0.2)


def test_shape_only_invariance(tmp_path, release, superk):
    """Doubling SK's 8B MC column changes only the fitted normalisation (halved), not chi^2."""
    table = pd.read_csv(release / RELEASE_FILE, comment="#")
    table["mc_b8"] *= 2.0
    table.to_csv(tmp_path / RELEASE_FILE, index=False)
    doubled = SuperKSpectrumLikelihood(release_path=str(tmp_path))
    point = make_point()
    a, b = superk.fit(point), doubled.fit(point)
    assert b["chi2"] == pytest.approx(a["chi2"], rel=1e-9)
    assert b["norm"] == pytest.approx(0.5 * a["norm"], rel=1e-9)


# --- chi^2 and physics response ------------------------------------------------------------------
def test_standard_point_fits_well(superk):
    """LMA (th12 33.4 deg, dm21 7.4e-5): chi^2 = 9.3 for 23 bins - 1 free normalisation
    (SK: data consistent with LMA). Bound: chi^2/ndf < 1.0; pulls of the correlated
    systematics below 1 sigma."""
    result = superk.fit(make_point())
    ndf = len(superk.measured) - 1
    assert result["chi2"] / ndf < 1.0
    assert np.all(np.abs(result["pulls"]) < 1.0)
    assert superk.loglike(make_point()) == pytest.approx(-0.5 * result["chi2"])


def test_dm21_away_from_lma_is_disfavoured(superk):
    """dm21 = 2e-5 (strong Earth regeneration, night P_ee rising with energy) and 1.5e-4
    (MSW-vacuum transition moved up: a steeper low-energy upturn) fit worse than 7.4e-5."""
    standard = superk.chi2(make_point())
    assert superk.chi2(make_point(dm21=2e-5)) > standard + 1.0
    assert superk.chi2(make_point(dm21=1.5e-4)) > standard
    steep = superk.fit(make_point(dm21=1.5e-4))["unoscillated_ratio"]
    base = superk.fit(make_point())["unoscillated_ratio"]
    assert steep[0] / steep[13] > base[0] / base[13]


def test_nsi_flattens_the_upturn(superk):
    """eps_ee - eps_mumu = +0.3 (up quarks; eps_D = -0.49 x 0.3) suppresses the rise of the
    predicted ratio towards low energy: lowest bin / 10 MeV bin closer to 1 than at eps = 0."""
    c13 = np.cos(np.radians(8.58))
    nsi = superk.fit(make_point(eps_d=-0.5 * c13**2 * 0.3))["unoscillated_ratio"]
    standard = superk.fit(make_point())["unoscillated_ratio"]
    tilt_nsi, tilt_standard = nsi[0] / nsi[13] - 1, standard[0] / standard[13] - 1
    assert 0 < tilt_nsi < 0.75 * tilt_standard


def test_observables_table(superk):
    table = superk.observables(make_point())
    assert list(table.columns) == ["observable", "predicted", "measured", "uncertainty"]
    assert len(table) == 23 + 1 + len(SYSTEMATICS)
    assert all(path.is_file() for path in superk.data_files())
    assert superk.approximations()


def test_one_solar_forward_model_per_point_with_both_solar_likelihoods(release):
    """A card with `solar` and `superk_iv_spectrum` runs the solar forward model (day plan
    and night regeneration) once per point: both read one shared, cached engine."""
    from globalfit.config import load_config
    from globalfit.posterior import build_posterior

    card = {"name": "shared_solar", "model": {"name": "standard"},
            "parameters": {"th12": {"prior": "uniform", "min": 30.0, "max": 36.0, "unit": "deg"},
                           "dm21": {"prior": "uniform", "min": 6.0e-5, "max": 9.0e-5, "unit": "eV2"}},
            "likelihoods": {"solar": {}, "superk_iv_spectrum": {"release_path": str(release)}},
            "sampler": {"name": "emcee", "walkers": 8, "steps": 10, "burn_in": 2, "seed": 1}}
    posterior = build_posterior(load_config(card))
    solar, superk = posterior.likelihoods["solar"], posterior.likelihoods["superk_iv_spectrum"]
    assert solar.engine is superk.engine
    engine = solar.engine
    before = engine.forward_evaluations
    thetas = [[np.radians(th12), dm21] for th12, dm21 in ((33.0, 7.3e-5), (34.0, 7.6e-5), (32.5, 6.9e-5))]
    for theta in thetas:
        total, chi2 = posterior.log_likelihood(theta)
        assert np.isfinite(total) and set(chi2) == {"solar", "superk_iv_spectrum"}
    assert engine.forward_evaluations == before + len(thetas)
