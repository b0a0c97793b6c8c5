"""Posterior: parameter vector, prior + likelihood sums, blobs, failure guard, pickling."""
from __future__ import annotations

import math
import pickle

import numpy as np
import pytest

from globalfit.config import ConfigError, load_config
from globalfit.posterior import build_posterior

MEAN, SIGMA, RHO = np.array([0.3, -0.2]), np.array([0.1, 0.2]), 0.5


def make_card(likelihoods=None, **parameters):
    params = {"eps_ee": {"prior": "uniform", "min": -2, "max": 2},
              "eps_mumu": {"prior": "uniform", "min": -2, "max": 2},
              "th12": {"prior": "gaussian", "mean": 33.41, "sigma": 0.75, "unit": "deg"}}
    params.update(parameters)
    return {"name": "post", "model": "plugins:DiagonalNSIModel", "parameters": params,
            "likelihoods": likelihoods or {"plugins:GaussianLikelihood": {}},
            "sampler": {"walkers": 16, "steps": 10, "burn_in": 0, "seed": 1}}


def gaussian_chi2(x):
    cov = np.outer(SIGMA, SIGMA) * np.array([[1, RHO], [RHO, 1]])
    r = np.asarray(x) - MEAN
    return float(r @ np.linalg.solve(cov, r))


@pytest.fixture
def posterior():
    return build_posterior(load_config(make_card()))


def test_names_bounds_and_fixed(posterior):
    assert posterior.names == ["th12", "eps_ee", "eps_mumu"]
    assert [p.name for p in posterior.parameters] == posterior.names
    assert posterior.bounds.shape == (3, 2)
    np.testing.assert_array_equal(posterior.bounds[1:], [[-2, 2], [-2, 2]])
    assert posterior.bounds[0].tolist() == [-np.inf, np.inf]
    assert posterior.fixed["dm21"] == 7.41e-5 and posterior.fixed["mzp"] == 1.0


def test_log_prior_is_the_sum_of_normalised_priors(posterior):
    theta = [math.radians(33.0), 0.1, -0.5]
    sigma_rad = math.radians(0.75)
    expected = (-0.5 * ((theta[0] - math.radians(33.41)) / sigma_rad) ** 2
                - math.log(sigma_rad * math.sqrt(2 * math.pi)) - 2 * math.log(4.0))
    assert posterior.log_prior(theta) == pytest.approx(expected, rel=1e-12)
    assert posterior.log_prior([0.5, 2.5, 0.0]) == -math.inf


def test_log_likelihood_and_blob_are_analytic(posterior):
    theta = [0.58, 0.25, 0.1]
    log_like, chi2 = posterior.log_likelihood(theta)
    assert chi2 == {"gauss": pytest.approx(gaussian_chi2([0.25, 0.1]), rel=1e-12)}
    assert log_like == pytest.approx(-0.5 * chi2["gauss"], rel=1e-12)
    result = posterior(theta)
    assert posterior.blob_names == ["chi2.gauss", "chi2.total", "derived.eps_ee_minus_mumu"]
    assert result[0] == pytest.approx(posterior.log_prior(theta) + log_like, rel=1e-12)
    assert result[1:] == pytest.approx((chi2["gauss"], chi2["gauss"], 0.15), rel=1e-12)
    outside = posterior([0.58, 3.0, 0.0])
    assert outside[0] == -math.inf and all(math.isnan(v) for v in outside[1:])


def test_point_holds_every_parameter_and_the_couplings(posterior):
    point = posterior.point([0.58, 0.25, 0.1])
    assert set(point.params) == {"th12", "th13", "th23", "dcp", "dm21", "dm31", "eps_ee",
                                 "eps_mumu", "mzp"}
    assert point["th13"] == pytest.approx(math.radians(8.58))
    np.testing.assert_allclose(np.diag(point.couplings.eps("e", 0.0)).real, [0.25, 0.1, 0.0])
    # light-mediator factor of the model: m^2 / (m^2 + Q^2) with m = 1 GeV
    assert point.couplings.eps("e", 1.0)[0, 0].real == pytest.approx(0.125)


def test_nuisance_joins_the_parameters_with_its_declared_prior():
    post = build_posterior(load_config(make_card({"plugins:ShiftedGaussianLikelihood": {}})))
    assert post.names[-1] == "shifted.shift"
    assert (post.parameters[-1].prior.mean, post.parameters[-1].prior.sigma) == (0.0, 1.0)
    # shift moves the measured eps_ee: chi2 at (eps_ee = mean + shift) equals chi2 at the mean
    assert post.log_likelihood([0.58, 0.8, -0.2, 0.5])[0] == pytest.approx(0.0, abs=1e-12)


def test_failures_give_minus_inf_and_are_counted():
    likelihoods = {"plugins:GaussianLikelihood": {},
                   "plugins:FlakyLikelihood": {"nan_above": 1.0, "inf_below": -1.0,
                                               "raise_low": 0.5, "raise_high": 0.6}}
    post = build_posterior(load_config(make_card(likelihoods)))
    th12 = 0.58
    assert math.isfinite(post([th12, 0.0, 0.0])[0])
    for eps_ee in (1.5, 1.7, -1.5, 0.55):
        result = post([th12, eps_ee, 0.0])
        assert result[0] == -math.inf
    assert post([th12, 0.55, 0.0])[1:3] == (pytest.approx(gaussian_chi2([0.55, 0.0])), math.inf)
    assert dict(post.failure_counts) == {
        "flaky: NaN": 2, "flaky: +inf": 1,
        "flaky: FloatingPointError: overflow in test double": 2,
    }


@pytest.mark.parametrize("flaky", ["plugins:FlakyLikelihood", "plugins:FlakyBatchLikelihood"])
def test_batch_evaluation_equals_point_by_point_with_the_same_failures(flaky):
    """evaluate_batch = [posterior(theta)] (values, blobs, failure counts); a batch call
    that raises is repeated point by point, so only the failing points are lost."""
    options = {"nan_above": 1.0, "inf_below": -1.0, "raise_low": 0.5, "raise_high": 0.6}
    likelihoods = {"plugins:GaussianLikelihood": {}, flaky: options}
    batch_post = build_posterior(load_config(make_card(likelihoods)))
    single_post = build_posterior(load_config(make_card(likelihoods)))
    rng = np.random.default_rng(4)
    thetas = np.column_stack([rng.normal(0.58, 0.02, 40), rng.uniform(-2.5, 2.5, 40), rng.uniform(-2, 2, 40)])
    thetas[:3, 1] = (0.55, 1.5, -1.5)       # raise, NaN, +inf
    batch = np.array(batch_post.evaluate_batch(thetas))
    single = np.array([single_post(theta) for theta in thetas])
    np.testing.assert_array_equal(batch, single)
    assert dict(batch_post.failure_counts) == dict(single_post.failure_counts)
    name = "flaky_batch" if "Batch" in flaky else "flaky"
    assert batch_post.failure_counts[f"{name}: FloatingPointError: overflow in test double"] >= 1
    assert sum(batch_post.calls.values()) == sum(single_post.calls.values())
    if "Batch" in flaky:
        assert batch_post.likelihoods["flaky_batch"].batch_calls == 1
        clean = thetas[np.abs(thetas[:, 1] - 0.55) > 0.06]
        before = batch_post.likelihoods["flaky_batch"].batch_calls
        np.testing.assert_array_equal(np.array(batch_post.evaluate_batch(clean)),
                                      np.array([single_post(theta) for theta in clean]))
        assert batch_post.likelihoods["flaky_batch"].batch_calls == before + 1


def test_model_errors_are_guarded(posterior, monkeypatch):
    def broken(params):
        raise ValueError("eps0['e']: must be Hermitian")

    monkeypatch.setattr(posterior.model, "couplings", broken)
    result = posterior([0.58, 0.1, 0.1])
    assert result[0] == -math.inf and result[2] == math.inf  # chi2.total
    assert dict(posterior.failure_counts) == {"model: ValueError: eps0['e']: must be Hermitian": 1}


def test_posterior_is_picklable(posterior):
    clone = pickle.loads(pickle.dumps(posterior))
    theta = [0.6, 0.2, 0.0]
    assert clone(theta) == posterior(theta)
    assert clone.names == posterior.names


def test_likelihood_options_are_passed_and_checked():
    post = build_posterior(load_config(make_card({"plugins:GaussianLikelihood": {"mean": [0, 0]}})))
    assert post.log_likelihood([0.58, 0.0, 0.0])[0] == 0.0
    with pytest.raises(ConfigError, match=r"likelihoods.plugins:GaussianLikelihood: "
                                          r"likelihoods.gauss.sigma: must be positive"):
        build_posterior(load_config(make_card({"plugins:GaussianLikelihood": {"sigma": [0, 1]}})))


def test_prior_transform_maps_the_unit_cube_onto_the_priors(posterior):
    from scipy import stats

    u = np.random.default_rng(3).uniform(size=(20000, 3))
    theta = posterior.prior_transform(u)
    assert theta.shape == (20000, 3)
    # th12: N(33.41 deg, 0.75 deg); eps_ee, eps_mumu: U(-2, 2) -- Kolmogorov-Smirnov
    assert stats.kstest(np.degrees(theta[:, 0]), stats.norm(33.41, 0.75).cdf).pvalue > 1e-3
    assert stats.kstest(theta[:, 1], stats.uniform(-2, 4).cdf).pvalue > 1e-3
    assert np.isfinite([posterior.log_prior(t) for t in theta[:100]]).all()
    np.testing.assert_allclose(posterior.prior_transform([0.5, 0.5, 0.5]),
                               [math.radians(33.41), 0.0, 0.0], atol=1e-12)


def test_test_double_reports_observables(posterior):
    table = posterior.likelihoods["gauss"].observables(posterior.point([0.58, 0.25, 0.1]))
    assert list(table.columns) == ["observable", "predicted", "measured", "uncertainty"]
    np.testing.assert_allclose(table["predicted"], [0.25, 0.1])
    np.testing.assert_allclose(table["uncertainty"], SIGMA)
