"""Priors and units: normalisation, moments, inverse CDFs, conversions, spec errors."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

from globalfit.params import (
    Fixed,
    Gaussian,
    LogUniform,
    Parameter,
    Uniform,
    check_unit_compatible,
    parameter_from_spec,
    unit_factor,
)

PRIORS = [
    Uniform(-1.5, 4.0),
    LogUniform(1e-3, 1.0),
    Gaussian(1.0, 0.04),
    Gaussian(0.3, 0.5, 0.0, 2.0),           # truncated on both sides
    Gaussian(-2.0, 1.0, low=-1.0),           # mean outside: only the tail is left
]


def scipy_twin(prior):
    """The same distribution from scipy.stats (an independent implementation)."""
    if isinstance(prior, Uniform):
        return stats.uniform(prior.low, prior.high - prior.low)
    if isinstance(prior, LogUniform):
        return stats.loguniform(prior.low, prior.high)
    a = (prior.low - prior.mean) / prior.sigma
    b = (prior.high - prior.mean) / prior.sigma
    return stats.truncnorm(a, b, loc=prior.mean, scale=prior.sigma)


@pytest.mark.parametrize("prior", PRIORS, ids=repr)
def test_prior_density_is_normalised(prior):
    low, high = prior.bounds
    total, error = integrate.quad(lambda x: math.exp(prior.log_prob(x)), low, high,
                                  points=None if not np.isfinite(low + high) else [low, high],
                                  limit=200)
    assert total == pytest.approx(1.0, abs=1e-7)


@pytest.mark.parametrize("prior", PRIORS, ids=repr)
def test_prior_log_prob_matches_scipy(prior):
    twin = scipy_twin(prior)
    x = twin.ppf(np.linspace(0.01, 0.99, 25))
    np.testing.assert_allclose(prior.log_prob(x), twin.logpdf(x), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("prior", PRIORS, ids=repr)
def test_from_unit_cube_is_the_inverse_cdf(prior):
    u = np.linspace(0.001, 0.999, 101)
    np.testing.assert_allclose(scipy_twin(prior).cdf(prior.from_unit_cube(u)), u, atol=1e-9)


@pytest.mark.parametrize("prior", PRIORS, ids=repr)
def test_sample_moments(prior):
    n = 200_000
    draws = prior.sample(np.random.default_rng(11), n)
    twin = scipy_twin(prior)
    mean, std = twin.mean(), twin.std()
    assert abs(draws.mean() - mean) < 5 * std / math.sqrt(n)
    # variance of the sample variance ~ (mu4 - sigma^4) / n; 5 sigma with kurtosis <= 9
    assert draws.std() == pytest.approx(std, rel=5 * math.sqrt(8 / n))
    low, high = prior.bounds
    assert draws.min() >= low and draws.max() <= high


def test_outside_support_has_zero_density():
    assert Uniform(0, 1).log_prob(1.5) == -np.inf
    assert LogUniform(1, 10).log_prob(0.5) == -np.inf
    assert Gaussian(0, 1, -1, 1).log_prob(-1.01) == -np.inf
    assert Fixed(2.0).log_prob(2.0) == 0.0 and Fixed(2.0).log_prob(2.1) == -np.inf


@given(st.floats(0.0, 1.0))
@settings(max_examples=200, deadline=None)
def test_unit_cube_maps_inside_bounds_monotonically(u):
    for prior in PRIORS:
        x = float(prior.from_unit_cube(u))
        low, high = prior.bounds
        assert low <= x <= high
        assert float(prior.from_unit_cube(min(u + 1e-3, 1.0))) >= x


def test_invalid_priors_raise():
    with pytest.raises(ValueError, match="min < max"):
        Uniform(1.0, 1.0)
    with pytest.raises(ValueError, match="0 < min"):
        LogUniform(0.0, 1.0)
    with pytest.raises(ValueError, match="sigma > 0"):
        Gaussian(0.0, -1.0)
    with pytest.raises(ValueError, match="no mass"):
        Gaussian(0.0, 1.0, 50.0, 51.0)


# --- units --------------------------------------------------------------------------------
@pytest.mark.parametrize("unit, factor", [("rad", 1.0), ("deg", math.pi / 180), ("eV2", 1.0),
                                          ("GeV", 1.0), ("MeV", 1e-3), ("keV", 1e-6),
                                          ("eV", 1e-9), ("none", 1.0), (None, 1.0)])
def test_unit_factors(unit, factor):
    assert unit_factor(unit) == pytest.approx(factor, rel=1e-15)


def test_unknown_and_incompatible_units():
    with pytest.raises(ValueError, match=r"unit 'Mev'; did you mean 'MeV'"):
        unit_factor("Mev", "parameters.mzp.unit")
    with pytest.raises(ValueError, match=r"parameters.mzp.unit: unit 'deg' is not a unit of energy"):
        check_unit_compatible("deg", "GeV", "parameters.mzp.unit")
    check_unit_compatible("MeV", "GeV", "x")  # same dimension: fine


def test_parameter_converts_prior_and_values():
    p = parameter_from_spec("th12", {"prior": "uniform", "min": 30, "max": 36, "unit": "deg"},
                            internal_unit="rad")
    assert p.prior.bounds == pytest.approx((math.radians(30), math.radians(36)))
    assert float(p.to_internal(33.41)) == pytest.approx(math.radians(33.41))
    assert float(p.from_internal(p.to_internal(33.41))) == pytest.approx(33.41, rel=1e-14)
    m = parameter_from_spec("mzp", {"prior": "log-uniform", "min": 10, "max": 500, "unit": "MeV"},
                            internal_unit="GeV")
    assert m.prior.bounds == pytest.approx((0.01, 0.5))
    # density in internal units: log-uniform is scale free up to the constant ln(max/min)
    assert float(m.prior.log_prob(0.1)) == pytest.approx(-math.log(0.1) - math.log(math.log(50)))
    fixed = parameter_from_spec("dm21", 7.41e-5, internal_unit="eV2")
    assert fixed.fixed and fixed.prior.value == 7.41e-5


def test_parameter_spec_round_trip():
    spec = {"prior": "gaussian", "mean": 33.41, "sigma": 0.75, "min": 25, "max": 45,
            "unit": "deg", "latex": r"\theta_{12}", "start": 33.0}
    p = parameter_from_spec("th12", spec, internal_unit="rad")
    again = parameter_from_spec("th12", p.to_spec(), internal_unit="rad")
    assert again.prior.mean == pytest.approx(p.prior.mean, rel=1e-14)
    assert again.prior.bounds == pytest.approx(p.prior.bounds, rel=1e-14)
    assert again.start == pytest.approx(p.start)
    assert isinstance(p, Parameter) and p.label == r"\theta_{12}\ [\mathrm{deg}]"


@pytest.mark.parametrize("spec, message", [
    ({"prior": "unifrom", "min": 0, "max": 1}, r"parameters.x.prior: unknown prior 'unifrom'; did you mean 'uniform'"),
    ({"prior": "uniform", "min": 2, "max": 1}, r"parameters.x.min: min \(2\) must be smaller than max \(1\)"),
    ({"prior": "gaussian", "mean": 0, "sigma": -0.1}, r"parameters.x.sigma: sigma must be positive, got -0.1"),
    ({"prior": "log-uniform", "min": 0, "max": 1}, r"parameters.x.min: log-uniform prior needs min > 0"),
    ({"prior": "uniform", "min": 0}, r"parameters.x: prior 'uniform' needs 'min' and 'max' \(missing: max\)"),
    ({"value": 1, "prior": "uniform"}, r"parameters.x: a fixed parameter \('value'\) takes no prior"),
    ({"prior": "uniform", "min": 0, "max": 1, "sigm": 1},
     r"parameters.x.sigm: unknown key 'sigm'; did you mean 'sigma'"),
    ({"prior": "uniform", "min": "a", "max": 1}, r"parameters.x.min: expected a number, got 'a'"),
    ({"prior": "uniform", "min": 0, "max": 1, "start": 5}, r"parameters.x.start: 5 lies outside the prior range"),
])
def test_spec_errors_name_the_key(spec, message):
    with pytest.raises(ValueError, match=message):
        parameter_from_spec("x", spec)
