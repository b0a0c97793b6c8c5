"""Batched evaluation (issue #17): the solar flavour engine, the solar, Super-K IV spectrum and
KamLAND likelihoods and the posterior evaluate many points at once; each value must equal the
one-point path (to rounding: 1e-12 in probabilities, 1e-10 relative in chi^2), at random LMA and
LMA-Dark points with complex eps_N and at points outside the Earth-kernel tables (whose night
falls back to layered evolution point by point)."""
import numpy as np
import pytest

from globalfit.config import load_config
from globalfit.likelihood import Point
from globalfit.models.solar_nsi import SolarNSI
from globalfit.paths import CONFIG_DIR
from globalfit.physics.solar import SolarOscillation
from globalfit.physics.solar_flavour import SolarFlavourEngine
from globalfit.posterior import build_posterior
from likelihoods.kamland import KamLANDLikelihood
from likelihoods.shared_nuisances import FLUX_8B
from likelihoods.solar import SolarLikelihood
from likelihoods.superk_spectrum import SuperKSpectrumLikelihood

ANGLES = {"th13": np.radians(8.58), "th23": np.radians(42.2), "dcp": np.radians(232.0)}
RTOL_CHI2 = 1e-10


def _random_oscillations(rng, n):
    """Points across LMA and LMA-Dark (th12 20-75 deg) with complex up-quark NSI matrices."""
    out = []
    for _ in range(n):
        eps = np.zeros((3, 3), complex)
        eps[0, 0] = rng.uniform(-1.0, 1.2)
        eps[0, 1] = eps[1, 0] = rng.uniform(-0.3, 0.3)
        eps[0, 2] = rng.uniform(-0.2, 0.2) + 1j * rng.uniform(-0.2, 0.2)
        eps[2, 0] = np.conj(eps[0, 2])
        params = {"th12": np.radians(rng.uniform(20.0, 75.0)), "dm21": rng.uniform(3e-5, 1.2e-4), **ANGLES}
        out.append(SolarOscillation.from_parameters(params, {"u": eps}))
    return out


def test_engine_batch_equals_one_point_at_a_time():
    rng = np.random.default_rng(11)
    oscs = _random_oscillations(rng, 12)
    assert any(abs(o.eps_n_pe.imag) > 0.01 for o in oscs) and any(o.th12 > np.radians(45) for o in oscs)
    # Dm21 / 2E below the Earth-kernel tables: night from layered evolution (point by point)
    oscs.insert(5, SolarOscillation.from_parameters({"th12": np.radians(34.0), "dm21": 2.0e-6, **ANGLES}))
    engine = SolarFlavourEngine(night=True, cache_size=0)
    engine.request("8B", "8B", np.array([6.0, 9.0, 12.0]), {"superk": 36.43, "sno": 46.47})
    engine.request("pp", "pp", np.array([0.1, 0.3]))
    engine.request("7Be", "7Be", 0.862)
    assert not engine.regeneration.covers(np.array([6.0, 9.0, 12.0]), oscs[5].dm21_ev2)
    batch = engine.evaluate_batch(oscs)
    assert engine.forward_evaluations == len(oscs)
    for i, osc in enumerate(oscs):
        single = engine.evaluate(osc)
        for key in ("pp", "7Be"):
            np.testing.assert_allclose(batch.p_ee(key)[i], single.p_ee(key), rtol=0, atol=1e-12)
        for time in ("day", "night", "average"):
            for detector in ("superk", "sno"):
                np.testing.assert_allclose(batch.p_ee("8B", time, detector)[i], single.p_ee("8B", time, detector),
                                           rtol=0, atol=1e-12)
        np.testing.assert_allclose(batch.point(i).flavour("8B", "night", "sno"), single.flavour("8B", "night", "sno"),
                                   rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="detector: no night-time probabilities for 'kamioka'"):
        batch.p_ee("8B", "night", "kamioka")


def test_engine_keeps_the_last_batch():
    """Two likelihoods reading the same points cost one forward model."""
    engine = SolarFlavourEngine(night=True)
    engine.request("8B", "8B", np.array([8.0, 10.0]), {"superk": 36.43})
    oscs = _random_oscillations(np.random.default_rng(2), 4)
    first = engine.evaluate_batch(oscs)
    assert engine.evaluate_batch(list(oscs)) is first
    assert engine.forward_evaluations == 4


def _points(rng, n):
    """Points of the LMA / LMA-D card's prior (th12 20-75 deg, eps_D^u, eps_N^u; Dm21 3e-5-1e-4, inside
    SK's A_DN table)."""
    model = SolarNSI(fermion="u")
    points = []
    for _ in range(n):
        params = {"th12": np.radians(rng.uniform(20.0, 75.0)), "dm21": rng.uniform(3e-5, 1.0e-4),
                  "dm31": 2.507e-3, "eps_D": rng.uniform(-1.0, 1.2), "eps_N": rng.uniform(-0.8, 0.8), **ANGLES}
        points.append(Point(params, model.couplings(params)))
    # the LMA-Dark best fit of Esteban et al. 2018 (up quarks) and its LMA mirror
    for th12, eps_d in ((57.0, -0.96), (33.0, 0.0)):
        params = {"th12": np.radians(th12), "dm21": 7.4e-5, "dm31": 2.507e-3, "eps_D": eps_d, "eps_N": -0.1,
                  **ANGLES}
        points.append(Point(params, model.couplings(params)))
    return points


@pytest.fixture(scope="module")
def release_likelihoods(shared_data):
    return {"solar": SolarLikelihood(sno_release="sno", superk_adn_release="superk"),
            "superk_iv_spectrum": SuperKSpectrumLikelihood(release="superk"),
            "kamland": KamLANDLikelihood(release="kamland", reactors_release="reactors")}


@pytest.mark.parametrize("name", ["solar", "superk_iv_spectrum", "kamland"])
def test_likelihood_batch_equals_the_loop(release_likelihoods, name):
    likelihood = release_likelihoods[name]
    points = _points(np.random.default_rng(7), 30)
    batch = likelihood.loglike_batch(points)
    loop = np.array([likelihood.loglike(point) for point in points])
    assert batch.shape == (len(points),)
    np.testing.assert_allclose(batch, loop, rtol=RTOL_CHI2, atol=1e-10)
    # a batch's values do not depend on the other points in it
    np.testing.assert_allclose(likelihood.loglike_batch(points[::-1][:7])[::-1], loop[-7:], rtol=RTOL_CHI2)


def test_kamland_vectorised_newton_equals_the_scalar_one(release_likelihoods):
    """Points with the same quadrature go through the vectorised Newton profile, a lone point
    through the scalar one: same scales and chi^2."""
    lk = release_likelihoods["kamland"]
    points = [p for p in _points(np.random.default_rng(3), 40)
              if lk.spectrum.quadrature_nodes(p["dm21"]) == lk.spectrum.quadrature_nodes(7.4e-5)]
    assert len(points) > 5
    templates = np.stack([lk.templates(p)[:, lk.mask] for p in points])
    products = templates[:, [0, 0, 0, 1, 1, 2]] * templates[:, [0, 1, 2, 1, 2, 2]]
    theta, chi2 = lk._newton_profile_batch(templates, products, 8, 1e-12)
    for i in range(len(points)):
        theta_one, chi2_one = lk._newton_profile(templates[i], products[i], 8, 1e-12)
        np.testing.assert_allclose(theta[i], theta_one, rtol=0, atol=1e-12)
        assert chi2[i] == pytest.approx(chi2_one, rel=RTOL_CHI2)


def test_posterior_batch_equals_one_point_per_call(shared_data):
    """The LMA / LMA-D card (solar + SK-IV spectrum + KamLAND releases) through the posterior."""
    posterior = build_posterior(load_config(CONFIG_DIR / "lma_vs_lmad_u.yaml"))
    rng = np.random.default_rng(5)
    thetas = np.column_stack([p.prior.sample(rng, 25) for p in posterior.parameters])
    log_like, chi2 = posterior.log_likelihood_batch(thetas)
    for i, theta in enumerate(thetas):
        one, parts = posterior.log_likelihood(theta)
        assert log_like[i] == pytest.approx(one, rel=RTOL_CHI2)
        np.testing.assert_allclose(chi2[i], list(parts.values()), rtol=RTOL_CHI2)


def test_solar_batch_with_the_shared_8b_flux(release_likelihoods):
    """With ``shared.flux_8b`` (a card with the xenon CEvNS likelihoods) the 8B normalisation is
    the point's, not profiled: batch and loop agree, and a batch mixing both kinds is refused."""
    solar = release_likelihoods["solar"]
    rng = np.random.default_rng(9)
    points = [Point({**p.params, FLUX_8B: rng.uniform(0.8, 1.2)}, p.couplings) for p in _points(rng, 12)]
    loop = np.array([solar.loglike(point) for point in points])
    np.testing.assert_allclose(solar.loglike_batch(points), loop, rtol=RTOL_CHI2)
    profiled = np.array([solar.loglike(Point({k: v for k, v in p.params.items() if k != FLUX_8B}, p.couplings))
                         for p in points])
    assert np.all(profiled >= loop - 1e-9)  # profiling the flux can only lower the chi^2
    with pytest.raises(ValueError, match="set at some points of the batch but not at others"):
        solar.loglike_batch([points[0], Point({k: v for k, v in points[1].params.items() if k != FLUX_8B},
                                              points[1].couplings)])
