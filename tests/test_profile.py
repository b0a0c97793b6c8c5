"""Profile likelihood on analytic chi^2 surfaces with known profiles and intervals."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize, stats
from scipy.optimize._numdiff import approx_derivative  # scipy's finite differences, to compare with

from globalfit.regions import Comparison, Region
from globalfit.samplers.minimize import (
    FINITE_DIFFERENCE_STEP,
    _forward_difference_steps,
    _unit_scaling,
    best_fit,
    minimize_chi2,
    posterior_chi2,
)
from globalfit.samplers.profile import profile_1d
from globalfit.samplers.region_profiles import profile_regions
from globalfit.samplers.starts import chain_starts, latin_hypercube_starts, start_unit_cube_map
from globalfit.statistics import (
    CL90_1DOF,
    THREE_SIGMA_1DOF,
    allowed_intervals,
    format_intervals,
    merge_intervals,
)

MEAN = np.array([1.0, -2.0, 0.5])
SIGMA = np.array([0.5, 2.0, 0.1])
CORRELATION = np.array([[1.0, 0.6, -0.3], [0.6, 1.0, 0.2], [-0.3, 0.2, 1.0]])
COVARIANCE = CORRELATION * np.outer(SIGMA, SIGMA)
INVERSE = np.linalg.inv(COVARIANCE)
BOUNDS = np.array([[-5.0, 5.0], [-30.0, 30.0], [-1.0, 2.0]])  # wide enough for every profile point
CHI2_OFFSET = 3.7


def gaussian_chi2(theta):
    delta = np.asarray(theta) - MEAN
    return CHI2_OFFSET + delta @ INVERSE @ delta


def test_levels_are_the_one_dof_quantiles():
    assert pytest.approx(2.7055, abs=1e-4) == CL90_1DOF
    assert math.sqrt(CL90_1DOF) == pytest.approx(stats.norm.ppf(0.95), rel=1e-12)  # 1.645
    assert THREE_SIGMA_1DOF == 9.0


@pytest.mark.parametrize("method", ["l-bfgs-b", "nelder-mead", "powell", "migrad"])
def test_correlated_gaussian_profile_gives_the_analytic_intervals(method):
    if method == "migrad":
        pytest.importorskip("iminuit")
    profiles = profile_regions(gaussian_chi2, ["a", "b", "c"], BOUNDS, "a", n_grid=21,
                               n_starts=3, method=method)
    profile = profiles["all"]
    assert profile.chi2_min == pytest.approx(CHI2_OFFSET, abs=1e-5)
    # the profile of a Gaussian is a parabola in x with the marginal width sigma_a
    expected = ((profile.grid - MEAN[0]) / SIGMA[0]) ** 2
    assert np.allclose(profile.delta_chi2, expected, atol=2e-4)
    z90 = stats.norm.ppf(0.95)
    ((low, high),) = profile.intervals(CL90_1DOF)
    assert low == pytest.approx(MEAN[0] - z90 * SIGMA[0], abs=2e-4)
    assert high == pytest.approx(MEAN[0] + z90 * SIGMA[0], abs=2e-4)
    ((low3, high3),) = profile.intervals(THREE_SIGMA_1DOF)
    assert (low3, high3) == pytest.approx((MEAN[0] - 3 * SIGMA[0], MEAN[0] + 3 * SIGMA[0]),
                                          abs=2e-4)


def test_refined_endpoints_match_the_analytic_ones_on_a_coarse_grid():
    profile = profile_regions(gaussian_chi2, ["a", "b", "c"], BOUNDS, "b", n_grid=7)["all"]
    ((low, high),) = profile.intervals(CL90_1DOF, refine=True)
    half = math.sqrt(CL90_1DOF) * SIGMA[1]
    assert (low, high) == pytest.approx((MEAN[1] - half, MEAN[1] + half), abs=1e-5)


def test_sqrt_interpolation_is_exact_for_a_parabola_even_on_a_coarse_grid():
    grid = np.linspace(-3.0, 5.0, 5)
    delta = ((grid - 0.7) / 1.3) ** 2
    ((low, high),) = allowed_intervals(grid, delta, CL90_1DOF)
    assert (low, high) == pytest.approx((0.7 - 1.3 * 1.6448536, 0.7 + 1.3 * 1.6448536), rel=1e-6)


def test_intervals_at_the_grid_edge_and_around_excluded_points():
    grid = np.arange(6.0)
    delta = np.array([0.0, 1.0, 4.0, np.inf, 1.0, 0.5])
    intervals = allowed_intervals(grid, delta, CL90_1DOF)
    assert intervals[0][0] == 0.0  # cut by the range, not the data
    assert 1.0 < intervals[0][1] < 2.0
    assert intervals[1] == (4.0, 5.0)  # the region starts at 4: its edge is an endpoint
    assert allowed_intervals(grid, delta + 10.0, CL90_1DOF) == []


def bimodal_chi2(theta):
    """Two separated Gaussian valleys: x ~ 1 (chi2 0) and x ~ -1 (chi2 1), with y shifting."""
    x, y = theta
    right = ((x - 1.0) / 0.2) ** 2 + (y / 1.0) ** 2
    left = ((x + 1.0) / 0.3) ** 2 + ((y - 2.0) / 0.5) ** 2 + 1.0
    return float(np.minimum(right, left))


def analytic_bimodal_profile(x):
    return np.minimum(((x - 1.0) / 0.2) ** 2, ((x + 1.0) / 0.3) ** 2 + 1.0)


def test_bimodal_profile_has_two_disjoint_intervals_and_regional_minima():
    left = Region("LEFT", "x < 0", ((Comparison("x", "<", 0.0),),))
    right = left.complement("RIGHT_SIDE")
    bounds = np.array([[-3.0, 3.0], [-5.0, 5.0]])
    profiles = profile_regions(bimodal_chi2, ["x", "y"], bounds, "x", [right, left], n_grid=61)
    assert set(profiles) == {"RIGHT-SIDE", "LEFT", "RIGHT-SIDE+LEFT"}
    union = profiles["RIGHT-SIDE+LEFT"]
    assert union.chi2_min == pytest.approx(0.0, abs=1e-6)
    assert np.allclose(union.chi2, analytic_bimodal_profile(union.grid), atol=1e-4)
    assert profiles["LEFT"].minimum_chi2 == pytest.approx(1.0, abs=1e-5)  # own minimum
    assert profiles["RIGHT-SIDE"].minimum_chi2 == pytest.approx(0.0, abs=1e-6)
    half_left, half_right = math.sqrt(CL90_1DOF - 1.0) * 0.3, math.sqrt(CL90_1DOF) * 0.2
    expected = [(-1.0 - half_left, -1.0 + half_left), (1.0 - half_right, 1.0 + half_right)]
    found = union.intervals(CL90_1DOF, refine=True)
    assert len(found) == 2
    assert np.allclose(found, expected, atol=1e-4)
    assert format_intervals(found).count("] + [") == 1
    ((low, high),) = profiles["LEFT"].intervals(CL90_1DOF, refine=True)
    assert (low, high) == pytest.approx(expected[0], abs=1e-4)


def hidden_valley_chi2(theta):
    """A wide valley at x ~ 1 and a narrow deeper one at (x, y) ~ (-1, 3).

    Along x = -1 a minimisation in y started near y = 0 stays in the wide valley
    (chi2 = 1) and never sees the deeper one (chi2 = -3): only a start in that valley finds it.
    """
    x, y = theta
    wide = ((x - 1.0) / 2.0) ** 2 + (y / 0.3) ** 2
    narrow = ((x + 1.0) / 0.3) ** 2 + ((y - 3.0) / 0.3) ** 2 - 3.0
    return float(np.minimum(wide, narrow))


def test_profile_seeds_from_every_local_minimum_find_a_hidden_valley():
    bounds = np.array([[-3.0, 3.0], [-5.0, 5.0]])
    grid = np.linspace(-3.0, 3.0, 31)
    expected = np.minimum(((grid - 1.0) / 2.0) ** 2, ((grid + 1.0) / 0.3) ** 2 - 3.0)
    trapped = profile_1d(hidden_valley_chi2, 0, grid, bounds, seeds=[np.array([1.0, 0.0])])
    assert trapped.chi2[15 - 5] > expected[15 - 5] + 3.0  # the trap is real at x = -1
    profile = profile_regions(hidden_valley_chi2, ["x", "y"], bounds, "x", grid=grid,
                              n_starts=16)["all"]
    assert profile.chi2_min == pytest.approx(-3.0, abs=1e-6)
    x = profile.grid  # the grid plus the best-fit values
    expected = np.minimum(((x - 1.0) / 2.0) ** 2, ((x + 1.0) / 0.3) ** 2 - 3.0)
    assert np.allclose(profile.chi2, expected, atol=1e-4)


def test_multistart_best_fit_finds_the_global_minimum_of_a_multimodal_function():
    def rastrigin(theta):
        theta = np.asarray(theta) - 0.3
        return float(10 * theta.size + np.sum(theta**2 - 10 * np.cos(2 * np.pi * theta)))

    bounds = np.tile([-2.0, 2.0], (3, 1))
    result = best_fit(rastrigin, bounds, n_starts=60, seed=3)
    assert result.chi2_min == pytest.approx(0.0, abs=1e-6)
    assert np.allclose(result.theta, 0.3, atol=1e-4)
    assert len(result.minima) > 1  # other local minima are kept as profile seeds


def test_minimum_on_a_hard_bound_and_nan_regions():
    def chi2(theta):
        x, y = theta
        if y > 1.5:
            return math.nan  # the likelihood is undefined there
        return (x - 2.5) ** 2 + (y - 1.0) ** 2

    result = minimize_chi2(chi2, np.array([0.0, 0.0]), np.array([[-1.0, 2.0], [-2.0, 2.0]]))
    assert result.theta == pytest.approx([2.0, 1.0], abs=1e-5)
    assert result.chi2 == pytest.approx(0.25, abs=1e-8)


class StandInPosterior:
    names = ["a", "b", "c"]
    bounds = BOUNDS

    def log_likelihood(self, theta):
        chi2 = gaussian_chi2(theta)
        return -0.5 * chi2, {"gauss": chi2}

    def log_prior(self, theta):  # must not enter the profile
        return -1e3 * float(theta[0] ** 2)


def test_posterior_objective_uses_the_likelihood_only():
    chi2 = posterior_chi2(StandInPosterior())
    assert chi2(MEAN) == pytest.approx(CHI2_OFFSET)
    result = best_fit(chi2, BOUNDS, n_starts=2)
    assert result.theta == pytest.approx(MEAN, abs=1e-4)


def test_pull_terms_add_the_prior_of_a_nuisance_parameter():
    class GaussianPrior:
        def log_prob(self, x):
            return -0.5 * ((x - 0.0) / 0.05) ** 2

    posterior = StandInPosterior()
    posterior.parameters = [None, None, type("P", (), {"prior": GaussianPrior()})()]
    chi2 = posterior_chi2(posterior, pull_terms=["c"])
    assert chi2(MEAN) - gaussian_chi2(MEAN) == pytest.approx((0.5 / 0.05) ** 2)
    with pytest.raises(ValueError, match="pull_terms: 'd' is not sampled"):
        posterior_chi2(posterior, pull_terms=["d"])


def test_lbfgsb_gradient_steps_are_scipys():
    """The batched forward differences take scipy's own steps (also turned back or shortened
    at the bounds): the gradient equals scipy's ``approx_derivative`` bit for bit."""
    lower, upper = np.array([0.0, 0.0, -np.inf, 0.0]), np.array([1.0, 1.0, np.inf, 5e-9])
    function = lambda z: float(np.sum(np.sin(3.0 * z) * np.arange(1, 5)))  # noqa: E731
    for z in (np.array([0.3, 1.0, -2.0, 2e-9]), np.array([1.0 - 5e-9, 0.0, 1e9, 0.0])):
        h = _forward_difference_steps(z, lower, upper)
        ours = np.array([(function(z + h[i] * np.eye(4)[i]) - function(z)) / ((z[i] + h[i]) - z[i]) for i in range(4)])
        theirs = approx_derivative(function, z, method="2-point", abs_step=FINITE_DIFFERENCE_STEP,
                                            bounds=(lower, upper))
        np.testing.assert_array_equal(ours, theirs)


def test_finite_difference_points_are_evaluated_in_one_batch():
    """L-BFGS-B asks for chi2 and gradient together: the point and its forward differences
    reach the chi2 function's ``batch`` in one call, and the path is that of scipy's own
    finite-difference L-BFGS-B."""
    sizes = []

    def chi2(theta):
        return gaussian_chi2(theta)

    def batch(thetas):
        sizes.append(len(thetas))
        return np.array([gaussian_chi2(theta) for theta in thetas])

    chi2.batch = batch
    batched = minimize_chi2(chi2, np.zeros(3), BOUNDS, fixed={0: 0.3})
    assert sizes and set(sizes) == {3}  # the point and two free parameters
    offset, scale = _unit_scaling(np.zeros(2), BOUNDS[1:])
    scipy_own = optimize.minimize(lambda z: gaussian_chi2(np.r_[0.3, offset + scale * z]), -offset / scale,
                                  method="L-BFGS-B", bounds=(BOUNDS[1:] - offset[:, None]) / scale[:, None], tol=1e-8,
                                  options={"maxiter": 20000})
    np.testing.assert_array_equal(batched.theta[1:], np.clip(offset + scale * scipy_own.x, *BOUNDS[1:].T))
    assert batched.calls == scipy_own.nfev and batched.chi2 == scipy_own.fun


def test_posterior_objective_batch_equals_its_points():
    class BatchedStandIn(StandInPosterior):
        def log_likelihood_batch(self, thetas):
            chi2 = np.array([gaussian_chi2(theta) for theta in thetas])
            return -0.5 * chi2, chi2[:, None]

    chi2 = posterior_chi2(BatchedStandIn())
    thetas = np.random.default_rng(1).normal(MEAN, SIGMA, (5, 3))
    np.testing.assert_allclose(chi2.batch(thetas), [chi2(theta) for theta in thetas], rtol=1e-14)
    assert not hasattr(posterior_chi2(StandInPosterior()), "batch")


def test_chain_starts_are_the_best_distinct_samples():
    samples = np.array([[0.0, 0.0], [1.0, 1.0], [1.0, 1.0], [2.0, 2.0]])
    log_prob = np.array([-5.0, -1.0, -1.0, -np.inf])
    assert chain_starts(samples, log_prob, n=2).tolist() == [[1.0, 1.0], [0.0, 0.0]]


def test_merge_intervals_is_the_union():
    assert merge_intervals([(3.0, 4.0), (0.0, 1.0), (1.0, 2.0)]) == [(0.0, 2.0), (3.0, 4.0)]
    assert merge_intervals([(0.0, 2.0), (0.5, 1.0)]) == [(0.0, 2.0)]
    assert merge_intervals([(0.0, 1.0), (1.0 + 1e-12, 2.0)], tolerance=1e-9) == [(0.0, 2.0)]
    assert merge_intervals([]) == []


def test_unbounded_parameters_start_from_their_prior():
    """A Gaussian nuisance prior without bounds: starts come from its inverse CDF."""
    from scipy import special

    bounds = np.array([[-1.0, 2.0], [-np.inf, np.inf]])
    with pytest.raises(ValueError, match="infinite bounds"):
        best_fit(lambda t: float(np.sum(t**2)), bounds, n_starts=3)

    class Prior:
        def __init__(self, low=None, high=None, mean=None, sigma=None):
            self.low, self.high, self.mean, self.sigma = low, high, mean, sigma

        def from_unit_cube(self, u):
            if self.sigma is not None:
                return self.mean + self.sigma * special.ndtri(u)
            return self.low + (self.high - self.low) * u

    parameters = [type("P", (), {"prior": Prior(-1.0, 2.0)})(),
                  type("P", (), {"prior": Prior(mean=1.0, sigma=0.05)})()]
    unit_cube = start_unit_cube_map(parameters)
    starts = latin_hypercube_starts(bounds, 200, seed=1, from_unit_cube=unit_cube)
    assert np.all((starts[:, 0] >= -1) & (starts[:, 0] <= 2))
    assert np.std(starts[:, 1]) == pytest.approx(0.05, rel=0.1)
    result = best_fit(lambda t: float((t[0] - 0.5) ** 2 + ((t[1] - 1.2) / 0.1) ** 2), bounds,
                      n_starts=3, from_unit_cube=unit_cube)
    assert result.theta == pytest.approx([0.5, 1.2], abs=1e-4)
    profile = profile_regions(lambda t: float((t[0] - 0.5) ** 2 + ((t[1] - 1.2) / 0.1) ** 2),
                              ["a", "b"], bounds, "a", n_grid=11, n_starts=3,
                              from_unit_cube=unit_cube)["all"]
    assert np.allclose(profile.delta_chi2, (profile.grid - 0.5) ** 2, atol=1e-6)


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0.0, 20.0), min_size=2, max_size=40),
       st.floats(0.5, 10.0))
def test_allowed_intervals_contain_exactly_the_points_below_the_level(values, level):
    grid = np.arange(len(values), dtype=float)
    delta = np.asarray(values)
    intervals = allowed_intervals(grid, delta, level)
    inside = np.array([any(lo <= x <= hi for lo, hi in intervals) for x in grid])
    assert np.all(inside[delta < level])
    strictly_inside = np.array([any(lo < x < hi for lo, hi in intervals) for x in grid])
    assert not np.any(strictly_inside[delta > level])
    assert all(lo <= hi for lo, hi in intervals)
    assert all(a[1] <= b[0] for a, b in zip(intervals, intervals[1:]))  # sorted, may touch


def test_badly_scaled_internal_units_still_reach_the_minimum():
    """dm21 ~ 7.5e-5 eV^2 beside a coupling ~ 1: the minimisers work in [0, 1] units."""
    def chi2(theta):  # correlated (rho = 0.8): raw-unit L-BFGS-B stops at chi2 ~ 5e-5
        a, b = (theta[0] - 7.5e-5) / 0.2e-5, (theta[1] - 0.3) / 0.1
        return (a - 0.8 * b) ** 2 / (1 - 0.64) + b**2

    bounds = np.array([[4e-5, 10e-5], [-1.0, 1.0]])
    for method in ("l-bfgs-b", "nelder-mead", "powell"):
        result = minimize_chi2(chi2, np.array([5e-5, -0.5]), bounds, method)
        assert result.chi2 == pytest.approx(0.0, abs=1e-6), method
        assert result.theta == pytest.approx([7.5e-5, 0.3], rel=1e-4), method


@pytest.mark.slow
def test_solar_kamland_lma_dark_mirror_degeneracy():
    """Real likelihoods: solar + KamLAND with solar NSI have an LMA and an LMA-D minimum.

    The NSI degeneracy (th12 -> pi/2 - th12 with the matter potential's sign flipped by
    eps_D; LMA-D, see Coloma, Gonzalez-Garcia, Maltoni, Schwetz, PRD 96 (2017) 115007,
    arXiv:1708.02899, inputs.md VERIFIED) makes the two minima nearly equally good for
    data without an independent NSI constraint: the region fits must find both, at mirror
    th12 (within 2 deg) and within Delta chi2 = 2 of each other. KamLAND sees only
    sin^2(2 th12); the Sun's varying neutron fraction breaks the degeneracy slightly.
    """
    from globalfit.config import load_config
    from globalfit.posterior import build_posterior
    from globalfit.regions import parse_regions
    from globalfit.samplers.region_profiles import fit_regions
    from globalfit.samplers.starts import start_unit_cube_map

    card = {"name": "lmad_check", "model": {"name": "solar_nsi", "options": {"fermion": "u"}},
            "parameters": {"th12": {"prior": "uniform", "min": 20, "max": 70, "unit": "deg"},
                           "dm21": {"prior": "uniform", "min": 4e-5, "max": 10e-5, "unit": "eV2"},
                           "eps_D": {"prior": "uniform", "min": -1.0, "max": 1.0},
                           "eps_N": {"prior": "uniform", "min": -1.0, "max": 1.0}},
            "likelihoods": {"solar": {}, "kamland": {}},
            "regions": {"LMA": "th12 < 45 deg", "LMA_D": "th12 >= 45 deg"}}
    config = load_config(card)
    posterior = build_posterior(config)
    chi2 = posterior_chi2(posterior)
    unit_cube = start_unit_cube_map(posterior.parameters)
    best = best_fit(chi2, posterior.bounds, n_starts=6, from_unit_cube=unit_cube)
    regions = parse_regions(config.regions, posterior.parameters)
    fits = fit_regions(chi2, posterior.names, posterior.bounds, regions, best, n_starts=6,
                       from_unit_cube=unit_cube)
    (lma,), (dark,) = fits["LMA"], fits["LMA-D"]
    th12_lma, th12_dark = np.degrees(lma.theta[0]), np.degrees(dark.theta[0])
    assert 30.0 < th12_lma < 37.0 and 53.0 < th12_dark < 60.0
    assert th12_dark == pytest.approx(90.0 - th12_lma, abs=2.0)
    assert abs(dark.chi2_min - lma.chi2_min) < 2.0
    assert min(lma.chi2_min, dark.chi2_min) == pytest.approx(best.chi2_min, abs=1e-3)


def test_profile_of_a_derived_quantity_is_the_analytic_one():
    """g = a + 2 b of the correlated Gaussian: its profile is a parabola with the
    variance of g, sigma_g^2 = w^T C w, centred on w . mean (constrained minimisation)."""
    weights = np.array([1.0, 2.0, 0.0])
    derived = lambda theta: float(weights @ theta)  # noqa: E731
    centre, sigma = weights @ MEAN, math.sqrt(weights @ COVARIANCE @ weights)
    grid = np.linspace(centre - 4 * sigma, centre + 4 * sigma, 17)
    profile = profile_regions(gaussian_chi2, ["a", "b", "c"], BOUNDS, "g", grid=grid, n_starts=3,
                              derived=derived)["all"]
    inside = np.isfinite(profile.chi2)
    assert np.allclose(profile.delta_chi2[inside], ((profile.grid[inside] - centre) / sigma) ** 2, atol=1e-4)
    ((low, high),) = profile.intervals(CL90_1DOF, refine=True)
    half = math.sqrt(CL90_1DOF) * sigma
    assert (low, high) == pytest.approx((centre - half, centre + half), abs=1e-3)
    for value, theta in zip(profile.grid[inside], profile.theta[inside]):
        assert derived(theta) == pytest.approx(value, abs=1e-6)


def test_derived_values_outside_the_bounds_are_excluded():
    """g = a is bounded by a's bounds [-5, 5]: beyond them no point lies on the surface."""
    profile = profile_regions(gaussian_chi2, ["a", "b", "c"], BOUNDS, "g", grid=np.array([0.5, 1.0, 6.0]),
                              n_starts=2, derived=lambda theta: float(theta[0]))["all"]
    assert np.isfinite(profile.chi2[:-1]).all() and profile.chi2[-1] == math.inf
    with pytest.raises(ValueError, match="needs a grid"):
        profile_regions(gaussian_chi2, ["a", "b", "c"], BOUNDS, "g", derived=lambda theta: theta[0])


def test_outward_sweep_gives_the_analytic_profile_with_fewer_minimisations():
    grid = np.linspace(-1.0, 3.0, 21)
    seeds = [MEAN.copy(), np.array([-4.0, 20.0, 1.5])]  # the minimum and a far start
    both = profile_1d(gaussian_chi2, 0, grid, BOUNDS, seeds)
    outward = profile_1d(gaussian_chi2, 0, grid, BOUNDS, seeds, sweep="outward")
    expected = CHI2_OFFSET + ((grid - MEAN[0]) / SIGMA[0]) ** 2
    assert np.allclose(outward.chi2, expected, atol=2e-4)
    assert np.allclose(both.chi2, expected, atol=2e-4)
    assert outward.calls < 0.6 * both.calls


def test_outward_sweep_keeps_a_separated_valley_from_its_seed():
    bounds = np.array([[-3.0, 3.0], [-5.0, 5.0]])
    grid = np.linspace(-3.0, 3.0, 31)
    expected = np.minimum(((grid - 1.0) / 2.0) ** 2, ((grid + 1.0) / 0.3) ** 2 - 3.0)
    trapped = profile_1d(hidden_valley_chi2, 0, grid, bounds, [np.array([1.0, 0.0])],
                         sweep="outward")
    assert trapped.chi2[10] > expected[10] + 3.0  # without a seed in it, the valley is missed
    # a seed in each valley: each valley is followed across the whole grid from its seed,
    # so every point gets the lower one (the narrow valley lies inside the wide one)
    seeds = [np.array([1.0, 0.0]), np.array([-1.0, 3.0])]
    profile = profile_1d(hidden_valley_chi2, 0, grid, bounds, seeds, sweep="outward")
    assert np.allclose(profile.chi2, expected, atol=1e-4)
    with pytest.raises(ValueError, match="sweep"):
        profile_1d(hidden_valley_chi2, 0, grid, bounds, seeds, sweep="inward")
